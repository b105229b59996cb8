package awsclient

import (
	"context"
	"fmt"
	"net"

	"cse-workshop/awsclient/fakeaws"
)

// The demo's endpoint: the demo backend, also served on loopback while the
// tutorial runs, so that the learner's own AWS CLI sees the same simulated
// account (its keys, its aliases, its CloudTrail event history).

// CLIAccessKeyID and CLISecretAccessKey are the dummy credentials the
// learner's AWS CLI signs with: the fake accepts any, and CloudTrail
// records this key ID for the CLI's calls.
const (
	CLIAccessKeyID     = "x"
	CLISecretAccessKey = "x"
)

// CLIExports are the shell lines that point the AWS CLI (v1 or v2) or any
// AWS SDK at a fake AWS served at endpoint for region: where it is, dummy
// credentials, and the region, which both AWS_REGION (the SDKs, AWS CLI
// v2) and AWS_DEFAULT_REGION (AWS CLI v1) name. Each line fits in 80
// columns for any region.
func CLIExports(endpoint, region string) []string {
	return []string{
		"export AWS_ENDPOINT_URL=" + endpoint,
		"export AWS_ACCESS_KEY_ID=" + CLIAccessKeyID + " AWS_SECRET_ACCESS_KEY=" + CLISecretAccessKey,
		"export AWS_REGION=" + region + " AWS_DEFAULT_REGION=" + region,
	}
}

// serveEndpoint serves the demo backend on a free loopback port until
// Close or until ctx is done. Only loopback: the fake accepts any
// credentials.
func (c *Clients) serveEndpoint(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("serve the demo for your AWS CLI: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A stop returns nil; a failing listener only ends what the
		// learner's CLI can reach, never the tutorial.
		fakeaws.Serve(ctx, ln, c.fake, fakeaws.ServeOptions{OnCall: c.Calls.addServed})
	}()
	c.Endpoint = "http://" + ln.Addr().String()
	c.stopEndpoint = func() {
		cancel()
		<-done
	}
	return nil
}
