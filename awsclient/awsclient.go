// Package awsclient builds the AWS clients the workshop uses, for the demo
// backend (the in-process fake AWS) or for real AWS, records every call they
// make, and reads AWS errors: why a call failed (a Reason) and what
// happened, in words a person can act on (see explain.go for which advice
// belongs here and which the callers attach).
//
// Both backends get the same SDK clients; only the configuration differs. The
// demo configuration is built by hand, never loaded from the environment, so
// the demo needs no network and no credentials whatever AWS_* variables or
// ~/.aws files the user has. The live configuration is the SDK's default
// chain, so --profile, --region, AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL
// and SSO profiles behave as they do for the AWS CLI.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// StateFileName is where the demo backend keeps its state, relative to the
// workshop folder.
const StateFileName = ".cse-workshop/fake-aws.json"

// Options choose and configure the backend.
type Options struct {
	Live    bool   // real AWS (--aws) instead of the demo fake
	Profile string // --profile (live only)
	Region  string // --region; demo defaults to us-east-1
	// Dir is the workshop folder; the demo fake keeps its state there. When
	// empty, the demo state lives in memory only.
	Dir      string
	Delivery fakeaws.DeliveryDelay // demo audit-trail lag; zero means realistic
	// Clock is the demo clock; nil means real time. The demo fake, the call
	// recorder and the waits between retries all use it, so a test with a
	// fake clock never sleeps. With a manual fake clock, a retried call
	// waits until the clock is advanced.
	Clock clock.Clock
	// Fake, when set, is used as the demo backend instead of a new one.
	Fake *fakeaws.Server
	// ServeEndpoint (demo only) also serves the demo backend on a free
	// loopback port, Clients.Endpoint, for the learner's own AWS CLI, until
	// Close or until the context given to New is done. The calls that
	// come that way are recorded too, as External.
	ServeEndpoint bool
}

// Clients are the SDK clients for one backend.
type Clients struct {
	KMS        *kms.Client
	CloudTrail *cloudtrail.Client
	STS        *sts.Client
	Live       bool
	Region     string
	Calls      *Recorder
	// Endpoint is the loopback URL ("http://127.0.0.1:PORT") where the
	// demo backend also answers the learner's own AWS CLI, "" when it
	// does not (real AWS, or turned off).
	Endpoint string

	fake         *fakeaws.Server // the demo backend; nil for real AWS
	stopEndpoint func()          // stops serving Endpoint and waits; nil when not served
}

// Identity is who the clients act as (STS GetCallerIdentity).
type Identity struct {
	Account string // "111122223333"
	ARN     string // "arn:aws:iam::111122223333:user/alice"
	UserID  string // "AIDAEXAMPLE"
}

// ErrNoRegion is returned by New for the live backend when neither --region,
// AWS_REGION nor the profile names a region.
var ErrNoRegion = errors.New("no AWS region set")

// New builds the clients.
func New(ctx context.Context, opts Options) (*Clients, error) {
	if opts.Live {
		return newLive(ctx, opts)
	}
	return newDemo(ctx, opts)
}

func newDemo(ctx context.Context, opts Options) (*Clients, error) {
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	fake := opts.Fake
	if fake == nil {
		fo := fakeaws.Options{Delivery: opts.Delivery, Clock: clk, Done: ctx.Done()}
		if opts.Region != "" {
			fo.Region = opts.Region
		}
		if opts.Dir != "" {
			fo.StateFile = filepath.Join(opts.Dir, filepath.FromSlash(StateFileName))
		}
		var err error
		if fake, err = fakeaws.New(fo); err != nil {
			return nil, WithHint(fmt.Errorf("start demo backend: %w", err), DemoStateHint(err))
		}
	}
	// The fake serves one region; the clients must sign for it.
	region := fake.Region()

	rec := &Recorder{clock: clk}
	retryer := &clockRetryer{RetryerV2: retry.NewStandard(), clock: clk}
	// No LoadDefaultConfig: nothing from the environment may reach the demo
	// (no credential chain, no IMDS, no AWS_ENDPOINT_URL). The SDK resolves
	// the usual https://kms.<region>.amazonaws.com endpoints, which the
	// transport never dials.
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: fake.RoundTripper()},
		Retryer:     func() aws.Retryer { return retryer },
		APIOptions:  []func(*middleware.Stack) error{rec.addMiddleware(nil), addStateErrors},
	}
	c := newClients(cfg, rec)
	c.fake = fake
	if opts.ServeEndpoint {
		if err := c.serveEndpoint(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func newLive(ctx context.Context, opts Options) (*Clients, error) {
	// The SDK's own log lines (such as its IMDS fallback warning) would
	// print into the tutorial's screen or ahead of the advice that Explain
	// gives for the same failure.
	load := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	if opts.Profile != "" {
		load = append(load, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, ErrNoRegion
	}

	src := describeSource(cfg, opts.Profile)
	if cfg.Credentials != nil {
		cfg.Credentials = &taggedCredentials{inner: cfg.Credentials}
	}
	rec := &Recorder{clock: clock.Real{}}
	cfg.APIOptions = append(cfg.APIOptions, rec.addMiddleware(&src))
	c := newClients(cfg, rec)
	c.Live = true
	return c, nil
}

// describeSource finds the profile the live configuration came from, for
// advice such as `aws sso login --profile NAME`.
func describeSource(cfg aws.Config, flagProfile string) credentialSource {
	var src credentialSource
	for _, s := range cfg.ConfigSources {
		if sc, ok := s.(config.SharedConfig); ok {
			src.profile = sc.Profile
		}
	}
	// What the chain will use, not what the profile mentions: static keys
	// win over SSO settings in the same profile.
	if ps, ok := cfg.Credentials.(aws.CredentialProviderSource); ok {
		for _, s := range ps.ProviderSources() {
			switch s {
			case aws.CredentialSourceSSO, aws.CredentialSourceProfileSSO,
				aws.CredentialSourceSSOLegacy, aws.CredentialSourceProfileSSOLegacy:
				src.sso = true
			}
		}
	}
	switch {
	case flagProfile != "":
		src.profile = flagProfile
	case src.profile == "":
		src.profile = os.Getenv("AWS_PROFILE")
	}
	if src.profile == "" {
		src.profile = "default"
	}
	return src
}

func newClients(cfg aws.Config, rec *Recorder) *Clients {
	return &Clients{
		KMS:        kms.NewFromConfig(cfg, func(o *kms.Options) { o.Retryer = retryThrottling(o.Retryer) }),
		CloudTrail: cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Retryer = retryThrottling(o.Retryer) }),
		STS:        sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = retryThrottling(o.Retryer) }),
		Region:     cfg.Region,
		Calls:      rec,
	}
}

// DemoEventVisibleAt is when the demo backend made the CloudTrail event
// with this ID visible to LookupEvents. It is false for real AWS, which
// does not say, and for an event the demo does not hold.
func (c *Clients) DemoEventVisibleAt(eventID string) (time.Time, bool) {
	if c.fake == nil {
		return time.Time{}, false
	}
	return c.fake.EventVisibleAt(eventID)
}

// Close stops serving Endpoint, if it was served, and makes sure the demo
// backend's state file exists. The fake saves every change as it makes
// it, so there is nothing else left to save.
func (c *Clients) Close() error {
	if c.stopEndpoint != nil {
		c.stopEndpoint()
	}
	if c.fake == nil {
		return nil
	}
	if err := c.fake.Save(); err != nil {
		return WithHint(err, DemoStateHint(err))
	}
	return nil
}

// addStateErrors puts a failure of the demo's state file first in the error
// of the call it failed. The in-process fake returns it as its transport's
// error, which the SDK would report as a request it could not send, with
// the file's name and the cause at the end of a line about HTTP.
func addStateErrors(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DemoStateErrors", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		if stateErr := demoStateError(err); stateErr != nil {
			err = WithHint(stateErr, DemoStateHint(stateErr))
		}
		return out, md, err
	}), middleware.After)
}

// demoStateError is the failure of the demo's state file within err, or nil.
func demoStateError(err error) error {
	var file *fakeaws.StateFileError
	var region *fakeaws.RegionMismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &file):
		return file
	case errors.As(err, &region):
		return region
	}
	return nil
}

// Identity asks STS who the clients act as.
func (c *Clients) Identity(ctx context.Context) (Identity, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("get caller identity: %w", err)
	}
	return Identity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}, nil
}

// DemoStateHint says what to do when the demo's state file cannot be used:
// err is from fakeaws.New or from a call the demo backend could not save.
func DemoStateHint(err error) string {
	var region *fakeaws.RegionMismatchError
	if errors.As(err, &region) {
		return fmt.Sprintf("pass --region %s (or leave --region out) to go on with this folder, or choose another --dir for a workshop in %s", region.Saved, region.Wanted)
	}
	var file *fakeaws.StateFileError
	if !errors.As(err, &file) {
		return ""
	}
	folder := filepath.Dir(file.Path)
	switch {
	case errors.Is(err, fakeaws.ErrStateLocked):
		return fmt.Sprintf("another cse-workshop (a step, encrypt, decrypt or mock-aws) seems stuck while using %s: let it finish or stop it, then try again", folder)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("make %s readable and writable for you, or choose another --dir", folder)
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Sprintf("free some space on the disk that holds %s, or choose another --dir", folder)
	case errors.Is(err, syscall.EROFS):
		return fmt.Sprintf("%s is on a read-only file system: choose another --dir", folder)
	case file.Op == fakeaws.StateLock || file.Op == fakeaws.StateSave:
		return fmt.Sprintf("check that %s is a folder you can write to, or choose another --dir", folder)
	}
	return fmt.Sprintf("the demo's simulated AWS account is kept in %s; move that file away to start with an empty one (only simulated keys are lost)", file.Path)
}
