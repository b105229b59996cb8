package steps_test

import (
	"context"
	"path/filepath"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/steps"
)

// openWithFake opens the workshop like open, and returns as well the demo's
// fake AWS, for tests that inject faults into it.
func (s *setup) openWithFake() (*steps.Workshop, *fakeaws.Server) {
	s.t.Helper()
	fake, err := fakeaws.New(fakeaws.Options{
		StateFile: filepath.Join(s.dir, filepath.FromSlash(awsclient.StateFileName)),
		Clock:     s.clock,
		Delivery:  s.delivery,
	})
	if err != nil {
		s.t.Fatalf("fakeaws.New: %v", err)
	}
	clients, err := awsclient.New(context.Background(), awsclient.Options{Fake: fake, Clock: s.clock})
	if err != nil {
		s.t.Fatalf("awsclient.New: %v", err)
	}
	s.t.Cleanup(func() { clients.Close() })
	w, err := steps.Open(steps.Options{Dir: s.dir, Clients: clients, Clock: s.clock, Fast: s.fast, Confirm: s.confirm})
	if err != nil {
		s.t.Fatalf("Open(%s): %v", s.dir, err)
	}
	return w, fake
}
