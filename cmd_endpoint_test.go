package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"cse-workshop/tui"
)

// tutorialEndpoint starts the tutorial with args, without a terminal, and
// returns the endpoint its clients had, whether something listened there
// while it ran, and whether something still listens after it ended.
func tutorialEndpoint(t *testing.T, args ...string) (endpoint string, during, after bool) {
	t.Helper()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	var out, errOut bytes.Buffer
	a := &app{stdin: devNull, stdout: &out, stderr: &errOut, clock: autoClock()}
	a.showTutorial = func(_ context.Context, opts tui.Options) error {
		endpoint = opts.Workshop.Clients.Endpoint
		during = listens(endpoint)
		return nil
	}
	if code := a.main(append(args, "--dir", t.TempDir())); code != exitOK {
		t.Fatalf("tutorial %v: exit %d, stderr %q", args, code, errOut.String())
	}
	return endpoint, during, listens(endpoint)
}

// listens reports whether something accepts connections at an endpoint
// URL ("http://127.0.0.1:PORT").
func listens(endpoint string) bool {
	host, ok := strings.CutPrefix(endpoint, "http://")
	if !ok {
		return false
	}
	conn, err := net.Dial("tcp", host)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func TestTutorialServesTheDemoOnLoopback(t *testing.T) {
	endpoint, during, after := tutorialEndpoint(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || !during {
		t.Errorf("tutorial's endpoint %q, listening %v; want http://127.0.0.1:PORT, listening", endpoint, during)
	}
	if after {
		t.Errorf("%s still listens after the tutorial ended", endpoint)
	}
}

func TestNoEndpointFlag(t *testing.T) {
	endpoint, _, _ := tutorialEndpoint(t, "--no-endpoint")
	if endpoint != "" {
		t.Errorf("with --no-endpoint, the tutorial's endpoint = %q, want none", endpoint)
	}
}
