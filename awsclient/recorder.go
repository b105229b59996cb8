package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// Call is one AWS request as the SDK made it.
type Call struct {
	Service   string // "KMS", "CloudTrail", "STS"
	Operation string // "GenerateDataKey"
	Start     time.Time
	Duration  time.Duration // the whole operation, retries and waits included
	Attempts  int           // requests sent; more than 1 when the SDK retried
	RequestID string        // AWS request ID of the last attempt, when known
	Err       error         // nil on success
	// Expected says why a failure was expected ("the alias is free"), for
	// a call made with a context from Expect that failed as foreseen; ""
	// otherwise.
	Expected string
	// Request and Response are the bodies of the last attempt, for a
	// person to read: indented JSON, with the data key's plaintext and any
	// other secret replaced by its size ("<32 bytes, not shown>") and
	// ciphertext shortened. "" when there was none.
	Request, Response string
	// External is a call the tutorial did not make: the learner's own AWS
	// CLI (or any client) through Clients.Endpoint. UserAgent names that
	// client and its version ("aws-cli/2.17.0"), from its User-Agent.
	External  bool
	UserAgent string
}

// Outcome is "OK", the AWS error code ("NotFoundException"), or a short word
// for failures that never got an AWS answer: "canceled", "timeout",
// "no credentials", "unknown host", "network error", "error".
func (c Call) Outcome() string {
	return outcome(c.Err)
}

func outcome(err error) string {
	var apiErr smithy.APIError
	var credErr *credentialsError
	var dnsErr *net.DNSError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case err == nil:
		return "OK"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &credErr):
		return "no credentials"
	case errors.As(err, &apiErr):
		return apiErr.ErrorCode()
	case errors.As(err, &dnsErr):
		return "unknown host"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &opErr), errors.Is(err, syscall.ECONNREFUSED):
		return "network error"
	}
	return "error"
}

// Action is the IAM action of the call: "kms:GenerateDataKey".
func (c Call) Action() string {
	return iamAction(c.Service, c.Operation)
}

// iamAction names the IAM action of an operation of a service (by its SDK
// service ID: "KMS", "CloudTrail", "STS").
func iamAction(service, operation string) string {
	return strings.ToLower(service) + ":" + operation
}

// Recorder keeps every call, in the order they finished. It is safe for
// concurrent use; the zero value is ready.
type Recorder struct {
	clock clock.Clock // nil means real time

	mu    sync.Mutex
	calls []Call
	subs  []func(Call)
}

// Calls returns a copy of the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Subscribe calls fn for every later call, from the goroutine that made the
// call, after the call is recorded. fn must not block for long: the SDK call
// it reports returns only after fn does.
func (r *Recorder) Subscribe(fn func(Call)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs = append(r.subs, fn)
}

// Operations returns the IAM actions of the calls the clients made so far
// ("kms:CreateKey"), failed ones included, each once, sorted; the external
// calls are not the workshop's and are left out.
func (r *Recorder) Operations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ops []string
	for _, c := range r.calls {
		if !c.External {
			ops = append(ops, c.Action())
		}
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

func (r *Recorder) now() time.Time {
	if r.clock == nil {
		return time.Now()
	}
	return r.clock.Now()
}

func (r *Recorder) add(c Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	subs := slices.Clone(r.subs)
	r.mu.Unlock()
	for _, fn := range subs {
		fn(c)
	}
}

// addMiddleware returns the API option that records every operation of a
// client. Errors leave the operation wrapped in a *callError, which adds the
// endpoint host and, for the live backend, src, so that Explain can name the
// host and the profile.
func (r *Recorder) addMiddleware(src *credentialSource) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		// First in the initialize step, so the recorded time covers
		// validation, credentials, signing, every attempt and the waits
		// between them.
		if err := stack.Initialize.Add(&recordCall{rec: r, src: src}, middleware.Before); err != nil {
			return err
		}
		if err := stack.Deserialize.Add(captureBodies{}, middleware.After); err != nil {
			return err
		}
		return stack.Finalize.Add(noteHost{}, middleware.After)
	}
}

// operation is what the middlewares learn about one operation as it runs.
type operation struct {
	attempts atomic.Int32 // counted by clockRetryer (the demo's retryer)
	mu       sync.Mutex
	host     string // endpoint host of the last attempt
	// request and response are the bodies of the last attempt, as sent
	// and received: secrets in clear, never kept beyond the operation.
	request, response []byte
}

type operationKey struct{}

func operationOf(ctx context.Context) *operation {
	op, _ := ctx.Value(operationKey{}).(*operation)
	return op
}

// noteHost remembers the endpoint host of each attempt, for advice about
// failures that carry no URL (a deadline, for one).
type noteHost struct{}

func (noteHost) ID() string { return "cse-workshop/NoteHost" }

func (noteHost) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
		if op := operationOf(ctx); op != nil {
			op.mu.Lock()
			op.host = req.URL.Host
			op.mu.Unlock()
		}
	}
	return next.HandleFinalize(ctx, in)
}

type recordCall struct {
	rec *Recorder
	src *credentialSource
}

func (*recordCall) ID() string { return "cse-workshop/RecordCall" }

func (m *recordCall) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	out middleware.InitializeOutput, md middleware.Metadata, err error,
) {
	op := new(operation)
	ctx = context.WithValue(ctx, operationKey{}, op)
	start := m.rec.now()
	out, md, err = next.HandleInitialize(ctx, in)
	end := m.rec.now()

	op.mu.Lock()
	if err != nil {
		err = &callError{src: m.src, host: op.host, err: err}
	}
	call := Call{
		Service:   middleware.GetServiceID(ctx),
		Operation: middleware.GetOperationName(ctx),
		Start:     start,
		Duration:  end.Sub(start),
		Attempts:  int(op.attempts.Load()),
		Err:       err,
		Request:   showBody(op.request),
		Response:  showBody(op.response),
	}
	op.mu.Unlock()
	if e, ok := ctx.Value(expectKey{}).(expectation); ok && call.Outcome() == e.code {
		call.Expected = e.why
	}
	if results, ok := retry.GetAttemptResults(md); ok {
		call.Attempts = len(results.Results)
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		call.RequestID = id
	}
	m.rec.add(call)
	return out, md, err
}

type expectKey struct{}

// expectation is a failure a caller foresees.
type expectation struct{ code, why string }

// Expect returns a context whose calls are expected to fail with the AWS
// error code: such a failure is recorded with why (Call.Expected), so that
// it is not shown as a fault. The call's error is returned as ever.
func Expect(ctx context.Context, code, why string) context.Context {
	return context.WithValue(ctx, expectKey{}, expectation{code: code, why: why})
}

// addServed records a call that came to the demo backend over its
// endpoint.
func (r *Recorder) addServed(s fakeaws.ServedCall) {
	c := Call{
		Service:   s.Service,
		Operation: s.Operation,
		Start:     s.Start,
		Duration:  s.Duration,
		Attempts:  1,
		RequestID: s.RequestID,
		Request:   showBody(s.Request),
		Response:  showBody(s.Response),
		External:  true,
		UserAgent: clientName(s.UserAgent),
	}
	if c.Service == "" {
		c.Service = "AWS"
	}
	if c.Operation == "" {
		c.Operation = "(unknown)"
	}
	if s.ErrorCode != "" {
		c.Err = &smithy.GenericAPIError{Code: s.ErrorCode, Message: fmt.Sprintf("HTTP %d", s.Status)}
	}
	r.add(c)
}

// clientName is the first product of a User-Agent: "aws-cli/2.17.0".
func clientName(userAgent string) string {
	name, _, _ := strings.Cut(strings.TrimSpace(userAgent), " ")
	if name == "" {
		return "unknown client"
	}
	return name
}
