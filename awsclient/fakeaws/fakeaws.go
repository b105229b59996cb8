// Package fakeaws is an offline stand-in for the few AWS services the
// workshop uses: KMS and CloudTrail (AWS JSON 1.1) and STS (query protocol).
// It is an http.Handler that the real AWS SDK reaches either in process,
// through RoundTripper, or over a loopback socket (cse-workshop mock-aws).
//
// CONTRACT STUB: the exported API below is what other packages build on.
// The implementation replaces the bodies.
package fakeaws

import (
	"context"
	"net"
	"net/http"
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
	// after every request that changes state: mode 0600, its folder 0700.
	StateFile string
}

// Server is the fake AWS. It is safe for concurrent use.
type Server struct{}

// New returns a server, loading opts.StateFile if it exists.
func New(opts Options) (*Server, error) { return &Server{}, nil }

// ServeHTTP answers one AWS request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented", http.StatusNotImplemented)
}

// RoundTripper returns a transport that hands requests straight to the
// server, with no socket.
func (s *Server) RoundTripper() http.RoundTripper { return nil }

// Save writes the state to opts.StateFile (no-op without one).
func (s *Server) Save() error { return nil }

// Fault is a failure the server returns instead of answering, for tests and
// demos of error handling. Empty Service or Operation match any.
type Fault struct {
	Service   string        // "kms", "cloudtrail", "sts"
	Operation string        // e.g. "GenerateDataKey"
	Latency   time.Duration // added before answering (on the server's clock)
	Status    int           // HTTP status; 0 means no error, only latency
	Code      string        // the __type / XML Code, e.g. "ThrottlingException"
	Message   string
	Times     int // how many requests it affects; 0 means all
}

// InjectFault adds a fault; ClearFaults removes them all.
func (s *Server) InjectFault(f Fault) {}
func (s *Server) ClearFaults()       {}

// Serve answers requests on ln until ctx is done.
func Serve(ctx context.Context, ln net.Listener, s *Server) error { return nil }
