// Package serve is the tutorial for a room, over SSH (cse-workshop serve):
// each attendee, known by their SSH key (else by their user name), gets
// their own workshop folder and their own demo AWS account, in the room
// folder, and comes back to where they were when they reconnect; the
// facilitator watches and leads the room from the room view (room.go,
// roomview.go).
//
// Only the tutorial is served: no shell, no command, no port forwarding,
// no SFTP or SCP. Only the demo backend is served: the server's AWS
// credentials are never lent.
//
// Output rules: the server logs one line per event to its log (connect,
// disconnect, refusal, panic), never a key or an answer; an attendee sees
// the tutorial, or one screen that says why not and what to do.
package serve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	"charm.land/wish/v2/logging"
	wishrecover "charm.land/wish/v2/recover"
	gossh "golang.org/x/crypto/ssh"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// DefaultListen is where the room listens unless told otherwise: this
// machine only. A LAN address must be asked for.
const DefaultListen = "127.0.0.1:2222"

// The room folder's layout.
const (
	hostKeyFile  = "host_ed25519"
	attendeesDir = "attendees"
)

// Options configure a room.
type Options struct {
	// Dir is the room folder: the host key and the attendees' workshops.
	Dir string
	// Passcode, when set, is asked by keyboard-interactive the first time
	// an attendee connects; a key that got in once is not asked again.
	Passcode string
	// MaxSessions is how many attendees may be connected at once; 0 is
	// no limit.
	MaxSessions int
	// IdleTimeout ends a session when no key was pressed for that long;
	// 0 never does.
	IdleTimeout time.Duration
	// FacilitatorKeys get the room view instead of the tutorial.
	FacilitatorKeys []gossh.PublicKey

	// What each attendee's tutorial and demo get.
	Fast      bool
	Theme     string
	Delivery  fakeaws.DeliveryDelay
	AuditWait *time.Duration // step 5's wait; nil keeps the default
	Clock     clock.Clock    // nil: real time

	// Log receives the server's log lines; nil discards them.
	Log *log.Logger

	// testHookSession, when set, runs at the start of each attendee's
	// session (tests make it panic).
	testHookSession func(name string)
}

// Server is a room served over SSH.
type Server struct {
	opts Options
	ssh  *ssh.Server
	room *Room
	log  *log.Logger
	// admitted are the keys (by attendee ID) that gave the passcode.
	admitted    sync.Map
	fingerprint string

	// The listener Serve was given, closed by Shutdown and Close: the SSH
	// server closes only those its Serve has taken on, so a stop that came
	// before that goroutine had run would leave it accepting for ever.
	lnMu    sync.Mutex
	ln      net.Listener
	stopped bool
}

// New prepares a room in opts.Dir: the folder (0700) and the host key,
// made once and reused so that attendees never see it change.
func New(opts Options) (*Server, error) {
	if opts.Dir == "" {
		return nil, errors.New("serve: no room folder")
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, attendeesDir), 0o700); err != nil {
		return nil, fmt.Errorf("create room folder: %w", err)
	}
	signer, err := loadOrMakeHostKey(filepath.Join(opts.Dir, hostKeyFile))
	if err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	s := &Server{opts: opts, log: opts.Log, fingerprint: gossh.FingerprintSHA256(signer.PublicKey())}
	if s.log == nil {
		s.log = log.New(io.Discard, "", 0)
	}
	s.room = newRoom(opts, s.log)
	srv, err := wish.NewServer(
		wish.WithMiddleware(
			wishrecover.MiddlewareWithLogger(s.log,
				s.sessionMiddleware,
				activeterm.Middleware(),
				refuseCommands,
			),
			logging.MiddlewareWithLogger(s.log),
		),
		func(srv *ssh.Server) error {
			srv.AddHostKey(signer)
			srv.ServerConfigCallback = s.authConfig
			// Port forwarding, agent forwarding and subsystems (SFTP)
			// stay refused: the server has no handler for them.
			srv.HandshakeTimeout = 30 * time.Second
			return nil
		},
	)
	if err != nil {
		return nil, fmt.Errorf("start ssh server: %w", err)
	}
	s.ssh = srv
	return s, nil
}

// Room is the room the server serves.
func (s *Server) Room() *Room { return s.room }

// Serve answers connections on ln until Close, or until the facilitator
// ends the room.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.stopped {
		s.lnMu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.lnMu.Unlock()
	go func() {
		<-s.room.Ended()
		// The goodbye screens are shown; the sessions end by themselves.
		s.room.waitEmpty(goodbyeGrace + 2*time.Second)
		s.Close()
	}()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown ends the room for everyone with a goodbye, waits for the
// sessions to save and close (until ctx is done), and stops the server.
func (s *Server) Shutdown(ctx context.Context, goodbye string) error {
	s.room.End(goodbye)
	done := make(chan struct{})
	go func() {
		s.room.waitEmpty(goodbyeGrace + 2*time.Second)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return s.Close()
}

// Close stops the server at once: connections are closed, and each
// session's tutorial stops its step and saves.
func (s *Server) Close() error {
	err := s.ssh.Close()
	s.lnMu.Lock()
	s.stopped = true
	if s.ln != nil {
		s.ln.Close() // closed already if the SSH server had taken it on
	}
	s.lnMu.Unlock()
	return err
}

// Extensions of the SSH permissions, set at authentication.
const (
	extAttendee = "cse-workshop/attendee" // the attendee's ID
	extRole     = "cse-workshop/role"     // "facilitator" for the room view
)

// authConfig accepts any public key (it names the attendee) and, when
// there is no key, the user name; with a passcode, a new attendee must
// also answer it by keyboard-interactive.
func (s *Server) authConfig(ssh.Context) *gossh.ServerConfig {
	cfg := &gossh.ServerConfig{}
	cfg.PublicKeyCallback = func(conn gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
		perms := &gossh.Permissions{Extensions: map[string]string{extAttendee: keyID(key)}}
		if s.isFacilitator(key) {
			perms.Extensions[extRole] = "facilitator"
			return perms, nil
		}
		if _, ok := s.admitted.Load(keyID(key)); ok || s.opts.Passcode == "" || s.known(keyID(key)) {
			return perms, nil
		}
		return nil, &gossh.PartialSuccessError{Next: gossh.ServerAuthCallbacks{
			KeyboardInteractiveCallback: func(conn gossh.ConnMetadata, client gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
				if !s.askPasscode(conn, client) {
					return nil, errors.New("wrong passcode")
				}
				s.admitted.Store(keyID(key), true)
				return perms, nil
			},
		}}
	}
	cfg.KeyboardInteractiveCallback = func(conn gossh.ConnMetadata, client gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
		id := userID(conn.User())
		if s.opts.Passcode != "" && !s.known(id) && !s.askPasscode(conn, client) {
			return nil, errors.New("wrong passcode")
		}
		return &gossh.Permissions{Extensions: map[string]string{extAttendee: id}}, nil
	}
	return cfg
}

// askPasscode asks for the room's passcode and reports whether it was
// given.
func (s *Server) askPasscode(conn gossh.ConnMetadata, client gossh.KeyboardInteractiveChallenge) bool {
	answers, err := client(conn.User(), "cse-workshop: this room asks for a passcode (once).", []string{"Room passcode: "}, []bool{false})
	if err != nil || len(answers) != 1 {
		return false
	}
	ok := subtle.ConstantTimeCompare([]byte(strings.TrimSpace(answers[0])), []byte(s.opts.Passcode)) == 1
	if !ok {
		s.log.Printf("refused %s from %s: wrong passcode", conn.User(), conn.RemoteAddr())
	}
	return ok
}

// known reports whether an attendee has a workshop folder in the room: they
// got in before.
func (s *Server) known(id string) bool {
	_, err := os.Stat(filepath.Join(s.opts.Dir, attendeesDir, id))
	return err == nil
}

func (s *Server) isFacilitator(key gossh.PublicKey) bool {
	for _, k := range s.opts.FacilitatorKeys {
		if ssh.KeysEqual(k, key) {
			return true
		}
	}
	return false
}

// refuseCommands refuses what is not the tutorial: a command (exec, and
// so SCP) or a subsystem (SFTP), with an error and exit status 1.
func refuseCommands(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if sess.RawCommand() != "" || sess.Subsystem() != "" {
			fmt.Fprintln(sess.Stderr(), "error: this server runs the cse-workshop tutorial only: no commands, no file copies")
			fmt.Fprintf(sess.Stderr(), "hint: connect without a command: ssh -p PORT %s@HOST\n", sess.User())
			_ = sess.Exit(1)
			return
		}
		next(sess)
	}
}

// sessionMiddleware runs the session: the room view for the facilitator,
// the tutorial for an attendee. A panic ends this session only: it is
// logged, and the attendee is told.
func (s *Server) sessionMiddleware(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Printf("panic in the session of %s: %v\n%s", sess.User(), r, debug.Stack())
				fmt.Fprint(sess, "\r\n\x1b[0merror: something went wrong on the server, and this session ended. Your progress is kept: connect again to go on.\r\n")
				_ = sess.Exit(1)
			}
		}()
		perms := sess.Permissions().Extensions
		if perms[extRole] == "facilitator" {
			s.serveRoomView(sess)
		} else {
			s.serveAttendee(sess, perms[extAttendee])
		}
		next(sess)
	}
}

// keyID names the attendee of an SSH public key: a folder name derived
// from the key's SHA-256 fingerprint.
func keyID(key gossh.PublicKey) string {
	sum := sha256.Sum256(key.Marshal())
	return "key-" + hex.EncodeToString(sum[:10])
}

// userID names the attendee of a user name, when there is no key: the
// name with anything but letters, digits, '-' and '_' replaced, so that it
// is a folder name of its own and never a path.
func userID(user string) string {
	var b strings.Builder
	for _, r := range user {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	name := b.String()
	if name == "" {
		name = "anonymous"
	}
	// The escaped characters make names collide ("a.b", "a b"): a hash of
	// the name as given keeps them apart.
	sum := sha256.Sum256([]byte(user))
	return "user-" + name + "-" + hex.EncodeToString(sum[:3])
}

// accountID is the demo AWS account of an attendee: twelve digits derived
// from the attendee's ID, so that each attendee has their own and gets it
// back when they reconnect.
func accountID(id string) string {
	sum := sha256.Sum256([]byte("cse-workshop demo account\x00" + id))
	n := binary.BigEndian.Uint64(sum[:8])%900_000_000_000 + 100_000_000_000
	return fmt.Sprintf("%012d", n)
}

// loadOrMakeHostKey reads the room's host key, making it (ed25519, 0600)
// the first time.
func loadOrMakeHostKey(path string) (gossh.Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = makeHostKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, nil
}

func makeHostKey(path string) ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "cse-workshop room")
	if err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(block)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, err
	}
	return b, nil
}

// ParseAuthorizedKeys reads the keys of an authorized_keys (or .pub) file.
func ParseAuthorizedKeys(b []byte) ([]gossh.PublicKey, error) {
	var keys []gossh.PublicKey
	for len(strings.TrimSpace(string(b))) > 0 {
		key, _, _, rest, err := gossh.ParseAuthorizedKey(b)
		if err != nil {
			return nil, err
		}
		keys = append(keys, key)
		b = rest
	}
	if len(keys) == 0 {
		return nil, errors.New("no public key in it")
	}
	return keys, nil
}

// SSHCommands are the lines attendees type to connect to a room listening
// on addr: one per address of this machine when it listens on all of them.
func SSHCommands(addr net.Addr) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	var hosts []string
	if tcp.IP.IsUnspecified() {
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsLinkLocalMulticast() {
				continue
			}
			if tcp.IP.To4() != nil && ipn.IP.To4() == nil {
				continue
			}
			hosts = append(hosts, ipn.IP.String())
		}
	} else {
		hosts = []string{tcp.IP.String()}
	}
	var lines []string
	for _, h := range hosts {
		if tcp.Port == 22 {
			lines = append(lines, "ssh "+h)
		} else {
			lines = append(lines, fmt.Sprintf("ssh -p %d %s", tcp.Port, h))
		}
	}
	return lines
}

// HostKeyFingerprint is the SHA-256 fingerprint of the room's host key, as
// ssh shows it on first connection.
func (s *Server) HostKeyFingerprint() string { return s.fingerprint }
