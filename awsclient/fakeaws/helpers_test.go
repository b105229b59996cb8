package fakeaws_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// start is the fake clock's first reading in every test.
var start = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// clients are the real SDK clients, talking to one fake server in process.
type clients struct {
	srv   *fakeaws.Server
	clock *clock.Fake
	kms   *kms.Client
	trail *cloudtrail.Client
	sts   *sts.Client
}

// newClients starts a fake on a manual fake clock and builds SDK clients
// that never retry, so that every error the fake sends reaches the test.
func newClients(t *testing.T, opts fakeaws.Options) *clients {
	t.Helper()
	clk := clock.NewFake(start)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	srv, err := fakeaws.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	cfg := sdkConfig(srv)
	return &clients{
		srv:   srv,
		clock: clk,
		kms:   kms.NewFromConfig(cfg),
		trail: cloudtrail.NewFromConfig(cfg),
		sts:   sts.NewFromConfig(cfg),
	}
}

func sdkConfig(srv *fakeaws.Server) aws.Config {
	return aws.Config{
		Region:      fakeaws.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: srv.RoundTripper()},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// errorCode is the AWS error code of err, or "" when err is not an AWS error.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
