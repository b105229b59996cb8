// Package fakeaws is an offline stand-in for the few AWS services the
// workshop uses: KMS and CloudTrail (AWS JSON 1.1) and STS (query protocol).
// It is an http.Handler that the real AWS SDK reaches either in process,
// through RoundTripper, or over a loopback socket (cse-workshop mock-aws).
//
// It speaks the real wire protocols and answers with the real exception
// names, so that code written against it behaves the same against AWS:
// requests are routed by X-Amz-Target (TrentService.* is KMS,
// CloudTrail_20131101.* is CloudTrail) or, failing that, by the query
// protocol's Action form field (STS). Signatures are not checked; the access
// key ID is read from the Authorization header only to be logged.
//
// Every KMS call, failed ones too, is written to a simulated CloudTrail event
// history that LookupEvents serves once each event's delivery delay has
// passed. Time comes from an injected clock, so tests never sleep.
//
// What it leaves out or does differently from AWS is listed in docs/fidelity.md.
package fakeaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"cse-workshop/internal/clock"
)

// Defaults of the simulated account.
const (
	DefaultAccountID = "111122223333"
	DefaultRegion    = "us-east-1"
	// DemoAccessKeyID and DemoSecretAccessKey are the static credentials the
	// demo backend signs with; the fake accepts any credentials.
	DemoAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	DemoSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// DemoUserName and DemoUserID name the one IAM user of the simulated
	// account, whoever signs the request.
	DemoUserName = "workshop-learner"
	DemoUserID   = "AIDACKCEVSQ6C2EXAMPLE"
)

// DeliveryDelay is how long a CloudTrail event takes to become visible to
// LookupEvents: each event's delay is drawn uniformly from [Min, Max].
type DeliveryDelay struct {
	Min, Max time.Duration
}

// RealisticDelivery is the default: tens of seconds to a few minutes.
var RealisticDelivery = DeliveryDelay{Min: 20 * time.Second, Max: 3 * time.Minute}

// FastDelivery is what --fast uses.
var FastDelivery = DeliveryDelay{Min: 1 * time.Second, Max: 3 * time.Second}

// Options configure a Server. The zero value is usable.
type Options struct {
	AccountID string        // DefaultAccountID when empty
	Region    string        // DefaultRegion when empty
	Clock     clock.Clock   // clock.Real{} when nil
	Delivery  DeliveryDelay // RealisticDelivery when zero
	// StateFile, when set, is loaded by New (if it exists) and rewritten
	// after every request that changes a key or alias: mode 0600, its
	// folder 0700. The CloudTrail events go to an event log beside it (its
	// name with ".json" replaced by ".events.jsonl"), one line appended
	// per call. Any number of servers, in this process or others, may
	// share one state file: each request locks the file (through a lock
	// file beside it, StateFile+".lock") and works on its latest saved
	// state.
	StateFile string
	// SkipSync rewrites the state file and the event log (when it is
	// compacted) without waiting for the disk: the rename into place is
	// still atomic, so a crash of the process loses nothing, but after a
	// power cut the file may be lost or damaged (New then refuses it, and
	// says so). A served room sets it: hundreds of simulated accounts,
	// each forcing every key change to disk, kept the server's cores
	// waiting on the disk while attendees waited for their screens.
	SkipSync bool
	// ErrorLog, when set, is told about requests that failed inside the
	// server (a panic). It never sees request bodies or key material.
	ErrorLog *log.Logger
	// Done, when set, ends every wait for another process's lock on the
	// state file once it is closed: New, or the request that waits, fails
	// at once with an error that wraps context.Canceled (a command's
	// context's Done, so that a Ctrl-C is not kept waiting).
	Done <-chan struct{}
}

// Server is the fake AWS. It is safe for concurrent use.
type Server struct {
	accountID string
	region    string
	clock     clock.Clock
	delivery  DeliveryDelay
	stateFile string
	skipSync  bool
	errorLog  *log.Logger

	mu    stateLock // guards everything below; with a state file, also locks the file
	st    *state
	seen  fileVersion // the state file as this server last read or wrote it
	stale bool        // the state in memory may not be the file's: read it at the next lock
	// keysChanged is set when a key or alias changed since the state file
	// was last written; pending are the events of the change under way,
	// numbered, not yet in the log.
	keysChanged bool
	pending     []*trailEvent
	log         eventLog    // the event log, as this server knows it
	index       eventIndex  // the events LookupEvents searches, once loaded
	lookup      tokenBucket // CloudTrail LookupEvents rate limit

	faultMu sync.Mutex // guards faults
	faults  []*activeFault

	// lockWait is how long a request waits for another process's lock on
	// the state file; createTemp makes the temporary file a save writes.
	// Tests change them.
	lockWait   time.Duration
	done       <-chan struct{} // Options.Done
	createTemp func(dir, pattern string) (*os.File, error)
	// failAppends, when set, makes each append to the event log write half
	// its bytes, then fail with it (tests set it).
	failAppends error
	// testHookLocked, when set, runs under the state lock before each
	// change (tests make it panic).
	testHookLocked func()
}

// New returns a server, loading opts.StateFile if it exists.
func New(opts Options) (*Server, error) {
	s := &Server{
		accountID:  opts.AccountID,
		region:     opts.Region,
		clock:      opts.Clock,
		delivery:   opts.Delivery,
		stateFile:  opts.StateFile,
		skipSync:   opts.SkipSync,
		errorLog:   opts.ErrorLog,
		st:         newState(),
		stale:      true,
		lockWait:   defaultLockWait,
		done:       opts.Done,
		createTemp: os.CreateTemp,
	}
	s.mu.server = s
	if s.accountID == "" {
		s.accountID = DefaultAccountID
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.delivery == (DeliveryDelay{}) {
		s.delivery = RealisticDelivery
	}
	if s.delivery.Max < s.delivery.Min {
		s.delivery.Max = s.delivery.Min
	}
	s.lookup = newTokenBucket(lookupEventsPerSecond, s.clock.Now())
	s.log = eventLog{size: -1, loaded: true}
	if s.stateFile == "" {
		if s.region == "" {
			s.region = DefaultRegion
		}
		s.st.Region = s.region
		return s, nil
	}
	// The first lock reads the file; without opts.Region, the server
	// serves the region the file's keys live in. The event log is read
	// once the events are needed.
	s.log = eventLog{path: eventLogPath(s.stateFile), size: -1}
	s.mu.Lock()
	err := s.mu.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// RegionMismatchError is New's error for a state file whose keys live in
// another region than Options.Region asks for: its ARNs cannot change region.
type RegionMismatchError struct {
	StateFile     string
	Saved, Wanted string
}

func (e *RegionMismatchError) Error() string {
	return fmt.Sprintf("the simulated AWS account in %s is in region %s, not %s", e.StateFile, e.Saved, e.Wanted)
}

// Region is the one region the server serves.
func (s *Server) Region() string { return s.region }

// maxRequestBytes bounds a request body; the largest real KMS request the
// workshop sends (Encrypt of 4 KiB, base64) is far below it.
const maxRequestBytes = 1 << 20

// ServeHTTP answers one AWS request.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) { s.answer(rw, r) }

// answer answers one AWS request and returns what it was: its service,
// operation and body, as far as they were read.
func (s *Server) answer(rw http.ResponseWriter, r *http.Request) (req *request) {
	requestID := newUUID()
	rw.Header().Set("x-amzn-RequestId", requestID)
	w := &answerWriter{ResponseWriter: rw}
	req = &request{http: r, id: requestID}
	defer func() {
		if p := recover(); p != nil {
			s.answerPanic(w, req, p)
		}
	}()

	if r.ContentLength > maxRequestBytes {
		writeJSONError(w, tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxRequestBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeJSONError(w, tooLarge)
		return
	case err != nil:
		writeJSONError(w, &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: "could not read request body"})
		return
	}
	req.body = body

	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, "TrentService."):
		req.service, req.operation = serviceKMS, strings.TrimPrefix(target, "TrentService.")
	case strings.Contains(target, "CloudTrail_20131101."):
		req.service, req.operation = serviceCloudTrail, target[strings.LastIndex(target, ".")+1:]
	case target == "":
		req.service = serviceSTS // its operation is in the form, read below
	}
	if region := req.signingRegion(); target != "" && region != "" && region != s.region {
		// A regional endpoint refuses requests signed for another region,
		// before anything is logged; this fake is one region's endpoint.
		writeJSONError(w, &apiError{Status: http.StatusBadRequest, Code: "InvalidSignatureException",
			Message: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. (This endpoint serves %s.)", region, s.region)})
		return
	}
	switch req.service {
	case serviceKMS:
		s.serveKMS(w, req)
	case serviceCloudTrail:
		s.serveCloudTrail(w, req)
	case serviceSTS:
		s.serveSTS(w, req)
	default:
		writeJSONError(w, unknownOperation("AWS", target))
	}
	return
}

// tooLarge is the answer to a request body over maxRequestBytes.
var tooLarge = &apiError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLargeException", Message: "Request body is too large"}

// answerWriter is the http.ResponseWriter a request is answered through. It
// remembers whether the answer has begun, so that a panic gets an error
// answer only when no other one was started.
type answerWriter struct {
	http.ResponseWriter
	started bool
}

func (w *answerWriter) WriteHeader(status int) {
	w.started = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *answerWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *answerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// answerPanic answers a request whose handler panicked as the service
// answers an internal failure, so that the client sees an AWS error and
// the server goes on serving; the locks were released on the way out. An
// answer already begun cannot be taken back: the connection is dropped.
func (s *Server) answerPanic(w *answerWriter, req *request, p any) {
	if s.errorLog != nil {
		// The panic's value only: a stack trace prints argument words,
		// which could be key material.
		s.errorLog.Printf("internal error answering %s %s (request %s): %v", req.service, req.operation, req.id, p)
	}
	if w.started {
		panic(http.ErrAbortHandler)
	}
	e := &apiError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: internalFailureMessage}
	switch req.service {
	case serviceKMS:
		e.Code = "KMSInternalException"
	case serviceSTS:
		writeSTSError(w, req, e)
		return
	}
	writeJSONError(w, e)
}

// writeStateError answers a request whose change could not be saved, or
// that found the state file unusable. In process, err itself goes back to
// the caller, as a transport's failure: the cause is this computer's file,
// not AWS, and it must read that way. Over a socket, the client gets the
// service's internal error with err as its message.
func writeStateError(w http.ResponseWriter, err error) {
	if aw, ok := w.(*answerWriter); ok {
		w = aw.ResponseWriter
	}
	if rec, ok := w.(*responseRecorder); ok {
		rec.fail(err)
		return
	}
	writeJSONError(w, &apiError{Status: http.StatusInternalServerError, Code: "KMSInternalException", Message: err.Error()})
}

// Service names as Fault.Service spells them.
const (
	serviceKMS        = "kms"
	serviceCloudTrail = "cloudtrail"
	serviceSTS        = "sts"
)

// request is one AWS call being answered.
type request struct {
	http      *http.Request
	body      []byte
	id        string // x-amzn-RequestId, also the CloudTrail requestID
	service   string
	operation string
}

// accessKeyID is the key ID named in the SigV4 Authorization header.
func (r *request) accessKeyID() string {
	auth := r.http.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(cred, "/")
	return id
}

// signingRegion is the region of the SigV4 credential scope
// (Credential=AKID/DATE/REGION/SERVICE/aws4_request), or "" without one.
func (r *request) signingRegion() string {
	_, cred, ok := strings.Cut(r.http.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[2]
}

// sourceIP is the caller's address as CloudTrail logs it.
func (r *request) sourceIP() string {
	host, _, err := net.SplitHostPort(r.http.RemoteAddr)
	if err != nil || host == "" {
		return "127.0.0.1"
	}
	return host
}

// apiError is an AWS error answer.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// wait blocks for d on the server's clock, or until ctx is done.
func (s *Server) wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-s.clock.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliveryDraw draws where in the delivery window one event lands: 0 is
// DeliveryDelay.Min, 1 is Max.
func deliveryDraw() float64 { return rand.Float64() }

// EventVisibleAt is when the CloudTrail event with this ID shows up (or
// showed up) in LookupEvents; false when the history holds no such event.
// Real CloudTrail tells nobody this: it is for a demo to show.
func (s *Server) EventVisibleAt(eventID string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loadEventsLocked() != nil {
		return time.Time{}, false
	}
	for _, e := range slices.Backward(s.index.events) {
		if e.ID == eventID {
			return s.visibleAt(e), true
		}
	}
	return time.Time{}, false
}

// visibleAt is when an event shows up in LookupEvents. The window is this
// server's, not the one in force when the call was made, so that a demo
// resumed with --fast (in a new process, say) does not wait out the
// realistic delay of a call made without it.
func (s *Server) visibleAt(e *trailEvent) time.Time {
	spread := s.delivery.Max - s.delivery.Min
	return e.Time.Add(s.delivery.Min + time.Duration(e.DeliveryDraw*float64(spread)))
}
