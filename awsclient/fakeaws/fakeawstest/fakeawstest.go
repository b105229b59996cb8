// Package fakeawstest serves the fake AWS on a loopback socket for the
// duration of a test, as net/http/httptest does for handlers.
package fakeawstest

import (
	"context"
	"net"
	"testing"

	"cse-workshop/awsclient/fakeaws"
)

// Serve serves s on 127.0.0.1 until the test ends and returns its endpoint,
// "http://127.0.0.1:PORT". A Serve that fails, or does not stop cleanly,
// fails the test.
func Serve(t testing.TB, s *fakeaws.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on loopback: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fakeaws.Serve(ctx, ln, s, fakeaws.ServeOptions{}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve the fake AWS: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
