package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

// auditTimings are step 5's waits.
type auditTimings struct {
	wait            time.Duration // after the GenerateDataKey call, before the first look
	pollInterval    time.Duration // between looks
	maxPollInterval time.Duration // the cap when throttled
	giveUpAfter     time.Duration // of looking
}

var (
	// normalTimings follow the original workshop's two minutes and
	// CloudTrail's 2 requests per second for LookupEvents.
	normalTimings = auditTimings{wait: 2 * time.Minute, pollInterval: 5 * time.Second, maxPollInterval: time.Minute, giveUpAfter: 15 * time.Minute}
	fastTimings   = auditTimings{wait: 5 * time.Second, pollInterval: time.Second, maxPollInterval: 8 * time.Second, giveUpAfter: time.Minute}
)

func (w *Workshop) auditTimings() auditTimings {
	t := fastTimings
	switch {
	case !w.Fast:
		t = normalTimings
	case w.Live():
		// Real CloudTrail lags as much as it lags: --fast only shortens the
		// first wait, and the polls keep to the real service's pace.
		t = normalTimings
		t.wait = fastTimings.wait
	}
	if w.AuditWait != nil {
		t.wait = *w.AuditWait
	}
	return t
}

// Step 5 looks for events whose time is this close to the recorded
// GenerateDataKey time: the record carries the time AWS received the call,
// which differs from this computer's clock by the clock's skew and the
// call's duration. A bounded window keeps the number of pages small in an
// account that calls GenerateDataKey all the time.
const eventTimeWindow = 2 * time.Minute

// maxPagesPerLook bounds one look at the event history (50 events a page).
const maxPagesPerLook = 20

// runFindRecord is step 5.
func runFindRecord(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	t := w.auditTimings()
	callAt := w.State.GenerateDataKeyAt
	if callAt.IsZero() {
		return awsclient.WithHint(errors.New("the workshop has no record of when step 2 called GenerateDataKey"), "run step 2 again")
	}
	// A press of "check now" before this step started is stale.
	select {
	case <-w.CheckNow:
	default:
	}

	if err := waitForDelivery(ctx, w, p, callAt, t.wait); err != nil {
		return err
	}

	interval := t.pollInterval
	giveUpAt := w.Clock.Now().Add(t.giveUpAfter)
	var notSeenAt time.Time // the last look that did not find the record
	for attempt := 1; ; attempt++ {
		lookedAt := w.Clock.Now()
		rec, err := lookUp(ctx, w, callAt)
		switch {
		case err == nil && rec != nil:
			rec.FoundAt = lookedAt
			rec.NotSeenAt = notSeenAt
			if at, ok := w.Clients.DemoEventVisibleAt(rec.EventID); ok {
				rec.VisibleAt = at
			}
			p.line(LevelInfo, rec, "attempt %d: found the GenerateDataKey record (event %s): it became visible in event history %s; this look came %s after the call",
				attempt, rec.EventID, rec.Visible(), text.Duration(max(rec.FoundAt.Sub(rec.EventTime), 0)))
			if _, ok := rec.EncryptionContext[PublicKeyContextKey]; ok {
				p.info("its encryption context: the workshop's whatfor=%s, and %s, the public key of the message's signature, which the AWS Encryption SDK added so that KMS binds it to the data key",
					EncryptionContext()["whatfor"], PublicKeyContextKey)
			}
			p.success(5)
			return nil
		case err == nil:
			notSeenAt = lookedAt
			p.line(LevelInfo, &PollDetail{Attempt: attempt}, "attempt %d: not delivered yet", attempt)
		case throttled(err):
			interval = min(2*interval, t.maxPollInterval)
			p.line(LevelWarn, &PollDetail{Attempt: attempt}, "attempt %d: CloudTrail is throttling requests; next look in %s", attempt, text.Duration(interval))
		default:
			return fmt.Errorf("look up CloudTrail events: %w", err)
		}
		if !w.Clock.Now().Before(giveUpAt) {
			return awsclient.WithHint(
				fmt.Errorf("the GenerateDataKey record did not appear in CloudTrail event history within %s (%d attempts)", text.Duration(t.giveUpAfter), attempt),
				"event history can lag by several minutes; run step 5 again later")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.CheckNow:
		case <-w.Clock.After(interval):
		}
	}
}

// waitForDelivery waits until total has passed since the call, reporting
// the countdown about once a second, or until CheckNow.
func waitForDelivery(ctx context.Context, w *Workshop, p reporter, callAt time.Time, total time.Duration) error {
	until := callAt.Add(total)
	remaining := until.Sub(w.Clock.Now())
	if remaining < time.Second { // not worth a "waiting 0s" line
		p.info("GenerateDataKey was called %s ago: looking for its record in CloudTrail now", text.Duration(w.Clock.Now().Sub(callAt)))
		return nil
	}
	p.info("waiting %s for CloudTrail: an API call shows up in its event history only a while after it is made", text.Duration(remaining))
	for remaining > 0 {
		p.detail(&WaitDetail{Remaining: remaining, Total: total})
		// Tick on whole seconds of the remaining time, so a countdown
		// shows 1:59, 1:58, ...
		tick := remaining % time.Second
		if tick == 0 {
			tick = time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.CheckNow:
			p.line(LevelInfo, &WaitDetail{Remaining: remaining, Total: total, CheckedEarly: true},
				"checking now, %s before the wait is over", text.Duration(remaining))
			return nil
		case <-w.Clock.After(tick):
		}
		remaining = until.Sub(w.Clock.Now())
	}
	p.detail(&WaitDetail{Remaining: 0, Total: total})
	return nil
}

// Visible says when the record became visible in event history, after the
// call: exactly when the backend says (the demo), else as the looks bound
// it: "40s after the call", "between 1m0s and 1m5s after the call", "at
// most 2m5s after the call".
func (r *RecordDetail) Visible() string {
	since := func(t time.Time) string { return text.Duration(max(t.Sub(r.EventTime), 0)) }
	switch {
	case !r.VisibleAt.IsZero():
		return since(r.VisibleAt) + " after the call"
	case !r.NotSeenAt.IsZero() && r.NotSeenAt.After(r.EventTime):
		return fmt.Sprintf("between %s and %s after the call", since(r.NotSeenAt), since(r.FoundAt))
	}
	return fmt.Sprintf("at most %s after the call", since(r.FoundAt))
}

// throttled reports whether CloudTrail refused a request for its rate limit.
func throttled(err error) bool {
	p, _ := awsclient.Diagnose(err)
	return p.Reason == awsclient.Throttled
}

// trailRecord is the part of a CloudTrail record step 5 reads.
type trailRecord struct {
	RequestParameters *struct {
		EncryptionContext map[string]string `json:"encryptionContext"`
	} `json:"requestParameters"`
	Resources []struct {
		ARN string `json:"ARN"`
	} `json:"resources"`
}

// lookUp looks once in the event history for the GenerateDataKey record of
// step 2: the one with the workshop's encryption context and key whose time
// is closest to callAt. It returns nil when there is none yet.
func lookUp(ctx context.Context, w *Workshop, callAt time.Time) (*RecordDetail, error) {
	records, err := lookUpRecords(ctx, w, callAt.Add(-eventTimeWindow), callAt.Add(eventTimeWindow))
	if err != nil {
		return nil, err
	}
	var best *RecordDetail
	for _, rec := range records {
		if best == nil || distance(rec.EventTime, callAt) < distance(best.EventTime, callAt) {
			best = rec
		}
	}
	return best, nil
}

// lookUpRecords looks once in the event history for the GenerateDataKey
// records between from and to with the workshop's encryption context and
// key, in the order CloudTrail gives them.
func lookUpRecords(ctx context.Context, w *Workshop, from, to time.Time) ([]*RecordDetail, error) {
	// show:lookup-events begin
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{
			AttributeKey:   types.LookupAttributeKeyEventName,
			AttributeValue: aws.String("GenerateDataKey"),
		}},
		StartTime:  aws.Time(from),
		EndTime:    aws.Time(to),
		MaxResults: aws.Int32(50),
	}
	want := EncryptionContext()
	var records []*RecordDetail
	for range maxPagesPerLook {
		out, err := w.Clients.CloudTrail.LookupEvents(ctx, in)
		// show:lookup-events cut
		if err != nil {
			return nil, err
		}
		for _, e := range out.Events {
			if rec, ok := matchRecord(e, want, w.State.KeyARN); ok {
				records = append(records, rec)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return records, nil
}

// matchRecord returns the record of e if its encryption context holds every
// pair of want and it names keyARN among its resources. The logged context
// may hold more: the AWS Encryption SDK adds aws-crypto-public-key for a
// signed message.
func matchRecord(e types.Event, want map[string]string, keyARN string) (*RecordDetail, bool) {
	raw := aws.ToString(e.CloudTrailEvent)
	var rec trailRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || rec.RequestParameters == nil {
		return nil, false
	}
	// show:match-record begin
	if !containsPairs(rec.RequestParameters.EncryptionContext, want) {
		return nil, false
	}
	// show:match-record end
	names := make([]string, 0, len(rec.Resources)+len(e.Resources))
	for _, r := range rec.Resources {
		names = append(names, r.ARN)
	}
	for _, r := range e.Resources {
		names = append(names, aws.ToString(r.ResourceName))
	}
	if !slices.Contains(names, keyARN) {
		return nil, false
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(raw), "", "  "); err != nil {
		return nil, false
	}
	return &RecordDetail{
		EventID:           aws.ToString(e.EventId),
		EventName:         aws.ToString(e.EventName),
		EventTime:         aws.ToTime(e.EventTime),
		KeyARN:            keyARN,
		EncryptionContext: rec.RequestParameters.EncryptionContext,
		JSON:              indented.String(),
	}, true
}

// containsPairs reports whether every pair of want is in ec.
func containsPairs(ec, want map[string]string) bool {
	for k, v := range want {
		if got, ok := ec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func distance(a, b time.Time) time.Duration {
	return a.Sub(b).Abs()
}
