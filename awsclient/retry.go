package awsclient

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"cse-workshop/internal/clock"
)

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
