package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"cse-workshop/awsclient/fakeaws"
)

// testRoom is a room served on a free loopback port for one test; it
// stops when the test ends.
type testRoom struct {
	t    testing.TB
	srv  *Server
	addr string
	logs *syncBuffer
}

// startRoom serves a room with opts (Dir defaults to a temporary folder),
// fast waits and an audit trail that shows calls at once.
func startRoom(t testing.TB, opts Options) *testRoom {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	opts.Fast = true
	opts.Theme = "plain"
	if opts.Delivery == (fakeaws.DeliveryDelay{}) {
		opts.Delivery = fakeaws.DeliveryDelay{Min: time.Nanosecond, Max: time.Nanosecond}
	}
	if opts.AuditWait == nil {
		wait := 300 * time.Millisecond
		opts.AuditWait = &wait
	}
	logs := &syncBuffer{}
	opts.Log = log.New(logs, "", 0)
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		// Each session saves and lets its folder go after the
		// connection closed.
		srv.room.waitEmpty(10 * time.Second)
	})
	return &testRoom{t: t, srv: srv, addr: ln.Addr().String(), logs: logs}
}

// newKey is a fresh SSH key for an attendee.
func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dial connects as user with the given authentication methods.
func (r *testRoom) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", r.addr, &gossh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	})
}

// terminal is an attendee's terminal: a pty session on an SSH connection,
// the keys typed and everything the server drew.
type terminal struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	keys   io.WriteCloser
	out    *syncBuffer
	ended  chan error
}

// connect opens the tutorial's terminal as user with key (nil: no key).
func (r *testRoom) connect(user string, key gossh.Signer) *terminal {
	r.t.Helper()
	var auth []gossh.AuthMethod
	if key != nil {
		auth = append(auth, gossh.PublicKeys(key))
	}
	auth = append(auth, gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil }))
	client, err := r.dial(user, auth...)
	if err != nil {
		r.t.Fatalf("connect as %s: %v", user, err)
	}
	term, err := openTerminal(r.t, client, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return term
}

// openTerminal starts a shell with a 120x40 pty on client, with env.
func openTerminal(t testing.TB, client *gossh.Client, env map[string]string) (*terminal, error) {
	sess, err := client.NewSession()
	if err != nil {
		client.Close()
		return nil, err
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			client.Close()
			return nil, err
		}
	}
	if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		client.Close()
		return nil, err
	}
	keys, err := sess.StdinPipe()
	if err != nil {
		client.Close()
		return nil, err
	}
	out := &syncBuffer{}
	sess.Stdout = out
	sess.Stderr = out
	if err := sess.Shell(); err != nil {
		client.Close()
		return nil, err
	}
	term := &terminal{t: t, client: client, sess: sess, keys: keys, out: out, ended: make(chan error, 1)}
	go func() { term.ended <- sess.Wait() }()
	t.Cleanup(func() { client.Close() })
	return term, nil
}

// press types keys.
func (term *terminal) press(keys ...string) {
	term.t.Helper()
	for _, k := range keys {
		if _, err := io.WriteString(term.keys, k); err != nil {
			term.t.Fatalf("type %q: %v", k, err)
		}
	}
}

// text is everything drawn so far, without escape sequences.
func (term *terminal) text() string { return ansi.Strip(term.out.String()) }

// waitText waits until the screen has shown want.
func (term *terminal) waitText(want string) {
	term.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(term.text(), want) {
		if time.Now().After(deadline) {
			term.t.Fatalf("the terminal never showed %q; it showed:\n%s", want, tail(term.text(), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEnd waits for the server to close the session.
func (term *terminal) waitEnd() {
	term.t.Helper()
	select {
	case <-term.ended:
	case <-time.After(30 * time.Second):
		term.t.Fatalf("the session did not end; it showed:\n%s", tail(term.text(), 3000))
	}
}

func (term *terminal) close() { term.client.Close() }

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitFor waits until the room's status of user satisfies cond.
func (r *testRoom) waitFor(user, what string, cond func(AttendeeStatus) bool) AttendeeStatus {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		for _, a := range r.srv.room.Attendees() {
			if a.Name == user && cond(a) {
				return a
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s never reached: %s; room: %+v\nlog:\n%s", user, what, r.srv.room.Attendees(), r.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ = context.Background
