package awsclient

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"cse-workshop/internal/clock"
)

// throttleCodes are the error codes with which AWS services ask a client
// to slow down. This is the one list: the retryers of both backends retry
// them (retryThrottling) and Diagnose reads them as Throttled, which is how
// step 5 knows to look less often.
var throttleCodes = []string{
	"ThrottlingException", // KMS, CloudTrail
	"Throttling",          // STS and other query-protocol services
	"ThrottledException",
	"TooManyRequestsException",
	"RequestLimitExceeded",
	"RequestThrottled",
	"RequestThrottledException",
}

// isThrottle reports whether an AWS error code and message ask to slow
// down. Services without a modelled code for it say "Rate exceeded".
func isThrottle(code, msg string) bool {
	return slices.Contains(throttleCodes, code) || strings.Contains(msg, "Rate exceeded")
}

// retryThrottling returns r, retrying the throttleCodes as well.
func retryThrottling(r aws.Retryer) aws.Retryer {
	if r == nil {
		return nil
	}
	return retry.AddWithErrorCodes(r, throttleCodes...)
}

// clockRetryer is the SDK's standard retryer (same attempts, same backoff,
// same retry quota) whose waits between attempts run on the demo clock, so
// that a throttled demo call with a fake clock takes no real time.
//
// The SDK sleeps RetryDelay on the wall clock and gives RetryDelay no
// context; GetRetryToken, called just before, has one. So the wait happens
// in GetRetryToken and RetryDelay reports zero.
type clockRetryer struct {
	aws.RetryerV2
	clock clock.Clock
}

func (r *clockRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if op := operationOf(ctx); op != nil {
		op.attempts.Add(1)
	}
	return r.RetryerV2.GetAttemptToken(ctx)
}

func (r *clockRetryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	release, err := r.RetryerV2.GetRetryToken(ctx, opErr)
	if err != nil {
		return release, err
	}
	attempt := 1
	if op := operationOf(ctx); op != nil {
		attempt = max(int(op.attempts.Load()), 1)
	}
	delay, err := r.RetryerV2.RetryDelay(attempt, opErr)
	if err != nil {
		_ = release(nil) // nil hands the unused token back to the quota
		return nil, err
	}
	select {
	case <-r.clock.After(delay):
		return release, nil
	case <-ctx.Done():
		_ = release(nil)
		return nil, ctx.Err()
	}
}

func (r *clockRetryer) RetryDelay(int, error) (time.Duration, error) {
	return 0, nil
}
