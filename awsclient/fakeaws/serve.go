package fakeaws

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ServeOptions bound what the clients of a server on a socket can hold of
// it. A zero field takes the default given beside it.
type ServeOptions struct {
	// ReadHeaderTimeout bounds the reading of a request's headers (10s),
	// ReadTimeout the reading of the whole request, body included (30s):
	// a client that trickles its request is cut off.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds the time from the end of a request's headers to
	// the end of its answer (60s): longer than a request can wait for the
	// state file's lock.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request (60s).
	IdleTimeout time.Duration
	// MaxConnections is how many connections may be open at once (128);
	// the ones beyond are closed as soon as they are accepted, so that no
	// client can use up the process's file descriptors.
	MaxConnections int
	// ShutdownTimeout is how long Serve lets requests in progress finish
	// once its context is done (3s); then it closes their connections.
	ShutdownTimeout time.Duration
	// ErrorLog, when set, is told about refused connections and about
	// requests cut off when stopping.
	ErrorLog *log.Logger
	// AnyHost makes Serve answer requests whatever host their Host header
	// names. Without it, Serve answers only requests addressed to a
	// loopback address (127.0.0.1, ::1) or localhost, with or without a
	// port, and refuses the others with 403: a web page whose domain name
	// is rebound to 127.0.0.1 (DNS rebinding) reaches the server from the
	// learner's browser, but its requests name the page's domain. Set it
	// only when ln is reachable from other computers (mock-aws
	// --allow-remote), whose clients name the server as they reach it.
	AnyHost bool
	// OnCall, when set, is told about every request answered over ln,
	// once its answer is written, from the goroutine that answered it; it
	// must not block for long. Requests that reach the server by other
	// ways (its RoundTripper) are not reported.
	OnCall func(ServedCall)
}

// ServedCall is one request a server answered over a socket.
type ServedCall struct {
	Service   string // the SDK's service ID: "KMS", "CloudTrail", "STS"; "" when unknown
	Operation string // "DescribeKey"; "" when the request named none
	Start     time.Time
	Duration  time.Duration // on the server's clock
	Status    int           // the HTTP status of the answer
	ErrorCode string        // "NotFoundException"; "" for a success
	RequestID string
	UserAgent string // the client's User-Agent header
	// Request and Response are the bodies as they went over the wire,
	// the response's cut at maxServedBody bytes. They hold key material
	// in clear (Plaintext): mask them before anything shows or keeps them.
	Request, Response []byte
}

// maxServedBody bounds the answer a ServedCall carries.
const maxServedBody = 256 << 10

func (o ServeOptions) withDefaults() ServeOptions {
	orDefault := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	orDefault(&o.ReadHeaderTimeout, 10*time.Second)
	orDefault(&o.ReadTimeout, 30*time.Second)
	orDefault(&o.WriteTimeout, 60*time.Second)
	orDefault(&o.IdleTimeout, 60*time.Second)
	orDefault(&o.ShutdownTimeout, 3*time.Second)
	if o.MaxConnections <= 0 {
		o.MaxConnections = 128
	}
	return o
}

// maxHeaderBytes bounds a request's headers; SigV4 headers take a few
// hundred bytes.
const maxHeaderBytes = 64 << 10

// Serve answers requests on ln until ctx is done. Then it stops accepting,
// lets the requests in progress finish for at most opts.ShutdownTimeout,
// closes the connections that are left and returns nil: a stop is never a
// failure, even with a client that stalls.
func Serve(ctx context.Context, ln net.Listener, s *Server, opts ServeOptions) error {
	opts = opts.withDefaults()
	var handler http.Handler = s
	if opts.OnCall != nil {
		handler = observed{s: s, onCall: opts.OnCall}
	}
	if !opts.AnyHost {
		handler = &loopbackHostsOnly{next: handler, errorLog: opts.ErrorLog}
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		ReadTimeout:       opts.ReadTimeout,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          opts.ErrorLog,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	if srv.ErrorLog == nil {
		// net/http would print to the standard logger: to stderr, in the
		// middle of the program's own output.
		srv.ErrorLog = log.New(io.Discard, "", 0)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newLimitListener(ln, opts.MaxConnections, opts.ErrorLog)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve fake aws: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		if opts.ErrorLog != nil {
			opts.ErrorLog.Printf("closing the connections of requests still in progress after %v", opts.ShutdownTimeout)
		}
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve fake aws: %w", err)
	}
	return nil
}

// loopbackHostsOnly refuses, with 403, the requests whose Host is not a
// loopback address or localhost; refused requests are not reported to
// OnCall, since no AWS operation was called.
type loopbackHostsOnly struct {
	next     http.Handler
	errorLog *log.Logger

	mu     sync.Mutex
	logged map[string]bool // hosts already logged, at most maxLoggedHosts
}

// maxLoggedHosts bounds how many refused hosts are logged: a page that
// keeps trying must not fill the log.
const maxLoggedHosts = 16

func (h *loopbackHostsOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if loopbackHost(r.Host) {
		h.next.ServeHTTP(w, r)
		return
	}
	h.logRefusal(r.Host)
	endpoint := "http://127.0.0.1"
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		endpoint = "http://" + addr.String()
	}
	e := &apiError{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: fmt.Sprintf(
		"This offline fake of AWS (cse-workshop) answers only requests addressed to 127.0.0.1, ::1 or localhost, not to %q: "+
			"a web page may be trying to reach it through a domain name rebound to this computer. Point your AWS client at %s.",
		r.Host, endpoint)}
	req := &request{http: r, id: newUUID()}
	w.Header().Set("x-amzn-RequestId", req.id)
	if r.Header.Get("X-Amz-Target") == "" {
		// The query protocol (STS) answers in XML.
		e.Code = "AccessDenied"
		writeSTSError(w, req, e)
		return
	}
	writeJSONError(w, e)
}

func (h *loopbackHostsOnly) logRefusal(host string) {
	if h.errorLog == nil {
		return
	}
	h.mu.Lock()
	first := !h.logged[host] && len(h.logged) < maxLoggedHosts
	if first {
		if h.logged == nil {
			h.logged = map[string]bool{}
		}
		h.logged[host] = true
	}
	h.mu.Unlock()
	if first {
		h.errorLog.Printf("refused requests for host %q, which is not this computer's loopback: a web page trying to reach the fake through DNS rebinding?", host)
	}
}

// loopbackHost reports whether a Host header names a loopback address or
// localhost, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// limitListener keeps at most cap(slots) of its connections open: it
// closes, as soon as it accepts it, any connection beyond. A client gets a
// closed connection, which AWS SDKs retry, rather than a server that stops
// accepting altogether.
type limitListener struct {
	net.Listener
	slots    chan struct{}
	errorLog *log.Logger
	refusing atomic.Bool // a refusal was logged and no connection accepted since
}

func newLimitListener(ln net.Listener, max int, errorLog *log.Logger) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), errorLog: errorLog}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.refusing.Store(false)
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			// Logged before the close, so that whoever sees the close can
			// read why.
			if l.errorLog != nil && !l.refusing.Swap(true) {
				l.errorLog.Printf("refusing new connections: %d are open, the most this server keeps", cap(l.slots))
			}
			c.Close()
		}
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// observed is a server that reports every request it answers.
type observed struct {
	s      *Server
	onCall func(ServedCall)
}

func (o observed) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := o.s.clock.Now()
	w := &capturingWriter{ResponseWriter: rw}
	req := o.s.answer(w, r)
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	call := ServedCall{
		Service:   serviceIDs[req.service],
		Operation: req.operation,
		Start:     start,
		Duration:  o.s.clock.Now().Sub(start),
		Status:    status,
		RequestID: req.id,
		UserAgent: r.UserAgent(),
		Request:   req.body,
		Response:  w.body.Bytes(),
	}
	if status >= http.StatusBadRequest {
		call.ErrorCode = errorCode(call.Response)
	}
	o.onCall(call)
}

// serviceIDs are the SDK's service IDs of the services, by the names
// Fault.Service uses.
var serviceIDs = map[string]string{serviceKMS: "KMS", serviceCloudTrail: "CloudTrail", serviceSTS: "STS"}

// errorCode reads the exception name of an error answer: "__type" of AWS
// JSON, <Code> of the query protocol's XML.
func errorCode(body []byte) string {
	var jsonErr struct {
		Type string `json:"__type"`
	}
	if json.Unmarshal(body, &jsonErr) == nil && jsonErr.Type != "" {
		return jsonErr.Type[strings.LastIndex(jsonErr.Type, "#")+1:]
	}
	var xmlErr struct {
		Code string `xml:"Error>Code"`
	}
	if xml.Unmarshal(body, &xmlErr) == nil && xmlErr.Code != "" {
		return xmlErr.Code
	}
	return "error"
}

// capturingWriter keeps the status and the first maxServedBody bytes of
// an answer as it is written.
type capturingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *capturingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *capturingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if room := maxServedBody - w.body.Len(); room > 0 {
		w.body.Write(p[:min(len(p), room)])
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *capturingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
