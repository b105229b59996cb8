package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// start is when the tests' fake clocks begin.
var start = time.Date(2026, 11, 27, 6, 28, 0, 0, time.UTC)

// originalLines are the success lines of the original workshop, in the
// order a full run prints them.
var originalLines = []string{
	"KMS Master Key with alias name kms_key_cse_usecase_3 successfully created",
	"Module run was successful !!",
	"Module run was successful !!",
	"GenerateDataKey API Called",
	"Cleanup Successful",
}

// setup is a workshop folder and the clock its processes share.
type setup struct {
	t        *testing.T
	dir      string
	clock    clock.Clock
	delivery fakeaws.DeliveryDelay
	fast     bool
	confirm  func(context.Context, string) bool
	// auditWait is step 5's wait, when set (--wait).
	auditWait *time.Duration
}

func newSetup(t *testing.T) *setup {
	return &setup{t: t, dir: t.TempDir(), clock: clock.NewAuto(start), delivery: fakeaws.FastDelivery, fast: true}
}

// open opens the workshop as a new process would: new clients whose fake
// AWS loads its state from the folder, and progress read from the folder.
// The workshop holds the folder until it is closed, at the latest when the
// test ends.
func (s *setup) open() *steps.Workshop {
	s.t.Helper()
	clients, err := awsclient.New(context.Background(), awsclient.Options{Dir: s.dir, Clock: s.clock, Delivery: s.delivery})
	if err != nil {
		s.t.Fatalf("awsclient.New: %v", err)
	}
	s.t.Cleanup(func() { clients.Close() })
	w, err := steps.Open(steps.Options{Dir: s.dir, Clients: clients, Clock: s.clock, Fast: s.fast, Confirm: s.confirm, AuditWait: s.auditWait})
	if err != nil {
		s.t.Fatalf("Open(%s): %v", s.dir, err)
	}
	s.t.Cleanup(func() { w.Close() })
	return w
}

// exit does what a process does with its workshop on its way out.
func (s *setup) exit(w *steps.Workshop) {
	s.t.Helper()
	if err := w.Clients.Close(); err != nil {
		s.t.Fatalf("close clients: %v", err)
	}
	if err := w.Close(); err != nil {
		s.t.Fatalf("close workshop: %v", err)
	}
}

// state returns the progress saved in the folder, as a new process reads it.
func (s *setup) state() steps.State {
	s.t.Helper()
	w := s.open()
	defer s.exit(w)
	return w.State
}

// run runs step n in a freshly opened workshop and returns its lines.
func (s *setup) run(n int) (*lines, error) {
	s.t.Helper()
	w := s.open()
	var l lines
	err := steps.Run(context.Background(), w, n, &l)
	s.exit(w)
	return &l, err
}

// mustRun runs steps in order, each in a new process, and fails the test
// if one fails.
func (s *setup) mustRun(ns ...int) {
	s.t.Helper()
	for _, n := range ns {
		if _, err := s.run(n); err != nil {
			s.t.Fatalf("step %d: %v (advice: %+v)", n, err, steps.Explain(err))
		}
	}
}

// lines records the status lines a step reports.
type lines struct {
	mu  sync.Mutex
	all []steps.Line
}

func (l *lines) Report(line steps.Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, line)
}

func (l *lines) list() []steps.Line {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]steps.Line(nil), l.all...)
}

// texts returns the texts of the lines that have one.
func (l *lines) texts() []string {
	var out []string
	for _, line := range l.list() {
		if line.Text != "" {
			out = append(out, line.Text)
		}
	}
	return out
}

// successes returns the texts of the success lines.
func (l *lines) successes() []string {
	var out []string
	for _, line := range l.list() {
		if line.Level == steps.LevelSuccess {
			out = append(out, line.Text)
		}
	}
	return out
}

// contains reports whether some line's text contains s.
func (l *lines) contains(s string) bool {
	for _, t := range l.texts() {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// visibleFiles lists the names in dir that do not start with a dot.
func visibleFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// kmsClient returns a KMS client of the workshop's fake, for arranging
// what a test needs behind the workshop's back.
func (s *setup) kmsClient() *kms.Client {
	s.t.Helper()
	clients, err := awsclient.New(context.Background(), awsclient.Options{Dir: s.dir, Clock: s.clock, Delivery: s.delivery})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { clients.Close() })
	return clients.KMS
}

// keyState returns the state of a key.
func keyState(t *testing.T, k *kms.Client, keyID string) types.KeyState {
	t.Helper()
	out, err := k.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		t.Fatalf("DescribeKey(%s): %v", keyID, err)
	}
	return out.KeyMetadata.KeyState
}

// keyCount returns how many keys the fake holds.
func keyCount(t *testing.T, k *kms.Client) int {
	t.Helper()
	out, err := k.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	return len(out.Keys)
}

// readFile reads a workshop file.
func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// whenWaiting calls fn once something waits on the manual clock, or returns
// false if done closes first.
func whenWaiting(fc *clock.Fake, done <-chan struct{}, fn func()) bool {
	for fc.Waiters() == 0 {
		select {
		case <-done:
			return false
		default:
		}
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
	fn()
	return true
}
