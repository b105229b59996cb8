// Package awsclient builds the AWS clients the workshop uses, for the demo
// backend (the in-process fake AWS) or for real AWS, records every call they
// make, and turns AWS errors into advice a person can act on.
//
// CONTRACT STUB: the exported API below is what other packages build on.
package awsclient

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// Options choose and configure the backend.
type Options struct {
	Live    bool   // real AWS (--aws) instead of the demo fake
	Profile string // --profile (live only)
	Region  string // --region; demo defaults to us-east-1
	// Dir is the workshop folder; the demo fake keeps its state there.
	Dir      string
	Delivery fakeaws.DeliveryDelay // demo audit-trail lag; zero means realistic
	Clock    clock.Clock           // demo clock; nil means real time
	// Fake, when set, is used as the demo backend instead of a new one.
	Fake *fakeaws.Server
}

// Clients are the SDK clients for one backend.
type Clients struct {
	KMS        *kms.Client
	CloudTrail *cloudtrail.Client
	STS        *sts.Client
	Live       bool
	Region     string
	Calls      *Recorder
	Fake       *fakeaws.Server // nil for real AWS
}

// New builds the clients.
func New(ctx context.Context, opts Options) (*Clients, error) { return &Clients{Calls: &Recorder{}}, nil }

// Close saves the demo backend's state.
func (c *Clients) Close() error { return nil }

// Call is one AWS request as the SDK made it.
type Call struct {
	Service   string // "KMS", "CloudTrail", "STS"
	Operation string // "GenerateDataKey"
	Start     time.Time
	Duration  time.Duration
	Err       error // nil on success
}

// Outcome is "OK" or the AWS error code ("NotFoundException").
func (c Call) Outcome() string { return "OK" }

// Recorder keeps every call, in order. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
	subs  []func(Call)
}

// Calls returns a copy of the calls so far.
func (r *Recorder) Calls() []Call { return nil }

// Subscribe calls fn (from the calling goroutine of the SDK) for every later call.
func (r *Recorder) Subscribe(fn func(Call)) {}

// Advice is what went wrong and what to do about it.
type Advice struct {
	What string // one line: "the security token has expired"
	Hint string // what to do: "run `aws sso login --profile dev` and try again"
}

// Explain turns an error from an AWS call into advice. Errors it does not
// recognise come back with What set to the error text and no Hint.
func Explain(err error) Advice { return Advice{What: err.Error()} }
