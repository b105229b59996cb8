package steps_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// step5 runs steps 1 and 2 on a manual clock with the given delivery delay,
// then starts step 5 in the background. The returned channel gets its
// error.
func step5(t *testing.T, ctx context.Context, delivery time.Duration, fast bool) (*clock.Fake, *steps.Workshop, *lines, <-chan error) {
	t.Helper()
	fc := clock.NewFake(start)
	s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.DeliveryDelay{Min: delivery, Max: delivery}, fast: fast}
	s.mustRun(1, 2)
	w := s.open()
	l := &lines{}
	errc := make(chan error, 1)
	go func() { errc <- steps.Run(ctx, w, 5, l) }()
	return fc, w, l, errc
}

// drive advances the manual clock a second at a time whenever step 5 waits,
// until it returns.
func drive(t *testing.T, fc *clock.Fake, errc <-chan error) error {
	t.Helper()
	done := make(chan struct{})
	var err error
	go func() { err = <-errc; close(done) }()
	for whenWaiting(fc, done, func() { fc.Advance(time.Second) }) {
	}
	return err
}

func TestStep5FindsTheRecordAfterDelivery(t *testing.T) {
	const delivery = 3 * time.Minute
	fc, w, l, errc := step5(t, context.Background(), delivery, false)
	if err := drive(t, fc, errc); err != nil {
		t.Fatalf("step 5 = %v, want success (advice %+v)", err, steps.Explain(err))
	}
	var polls, notYet int
	var rec *steps.RecordDetail
	for _, line := range l.list() {
		switch d := line.Detail.(type) {
		case *steps.PollDetail:
			polls++
			if strings.Contains(line.Text, "not delivered yet") {
				notYet++
				if line.Time.Sub(start) >= delivery {
					t.Errorf("%q at %s, after the record was delivered", line.Text, line.Time.Sub(start))
				}
			}
		case *steps.RecordDetail:
			rec = d
		}
	}
	if notYet == 0 {
		t.Errorf("step 5 lines = %q, want some \"not delivered yet\" before the record arrives", l.texts())
	}
	if rec == nil {
		t.Fatalf("step 5 lines = %q, want a RecordDetail", l.texts())
	}
	// Looks come every 5 seconds from the end of the 2-minute wait, so the
	// record is found at the first look at or after its delivery; the demo
	// says when that delivery was, apart from when step 5 looked.
	if got := rec.VisibleAt.Sub(rec.EventTime); got != delivery {
		t.Errorf("record visible %s after the call, want the demo's delivery delay %s", got, delivery)
	}
	if found := rec.FoundAt.Sub(start); found < delivery || found >= delivery+5*time.Second {
		t.Errorf("record found +%s, want at the first look after %s", found, delivery)
	}
	if rec.NotSeenAt.IsZero() || !rec.NotSeenAt.Before(rec.VisibleAt) || rec.FoundAt.Sub(rec.NotSeenAt) > 5*time.Second {
		t.Errorf("last look without the record at +%s, found at +%s; want the look just before", rec.NotSeenAt.Sub(start), rec.FoundAt.Sub(start))
	}
	if got, want := rec.Visible(), "3m after the call"; got != want {
		t.Errorf("Visible() = %q, want %q", got, want)
	}
	if !slices.ContainsFunc(l.texts(), func(s string) bool { return strings.Contains(s, "became visible in event history 3m after the call") }) {
		t.Errorf("step 5 lines = %q, want one that says when the record became visible", l.texts())
	}
	if rec.KeyARN != w.State.KeyARN || rec.EncryptionContext["whatfor"] != "usecase-3-cse" || rec.EventName != "GenerateDataKey" {
		t.Errorf("record = %+v, want GenerateDataKey of %s with the workshop's context", rec, w.State.KeyARN)
	}
	// The SDK's aws-crypto-public-key is logged beside the workshop's pair,
	// and a line says what it is.
	if rec.EncryptionContext[steps.PublicKeyContextKey] == "" || len(rec.EncryptionContext) != 2 {
		t.Errorf("record encryption context = %v, want whatfor and %s", rec.EncryptionContext, steps.PublicKeyContextKey)
	}
	if !slices.ContainsFunc(l.texts(), func(s string) bool {
		return strings.Contains(s, steps.PublicKeyContextKey) && strings.Contains(s, "signature")
	}) {
		t.Errorf("step 5 lines = %q, want one that explains %s", l.texts(), steps.PublicKeyContextKey)
	}
	if !strings.Contains(rec.JSON, "\n  \"") || !strings.Contains(rec.JSON, "usecase-3-cse") {
		t.Errorf("record JSON is not the indented CloudTrail event:\n%s", rec.JSON)
	}
	if got := l.successes(); len(got) != 1 || got[0] != "GenerateDataKey API Called" {
		t.Errorf("step 5 success lines = %q, want GenerateDataKey API Called", got)
	}
	// The countdown ticks about once a second.
	var waits int
	for _, line := range l.list() {
		if _, ok := line.Detail.(*steps.WaitDetail); ok {
			waits++
		}
	}
	if waits < 100 || waits > 125 {
		t.Errorf("step 5 sent %d countdown updates in a 2-minute wait, want about 120", waits)
	}
}

func TestStep5CheckNow(t *testing.T) {
	fc, w, l, errc := step5(t, context.Background(), 90*time.Second, false)
	done := make(chan struct{})
	var err error
	go func() { err = <-errc; close(done) }()
	// After 10 seconds of the wait, check now.
	for i := 0; i < 10; i++ {
		whenWaiting(fc, done, func() { fc.Advance(time.Second) })
	}
	whenWaiting(fc, done, func() { w.CheckNow <- struct{}{} })
	for whenWaiting(fc, done, func() { fc.Advance(time.Second) }) {
	}
	if err != nil {
		t.Fatalf("step 5 = %v, want success", err)
	}
	var first *steps.Line
	for _, line := range l.list() {
		if _, ok := line.Detail.(*steps.PollDetail); ok {
			first = &line
			break
		}
	}
	if first == nil || first.Time.Sub(start) > 15*time.Second {
		t.Errorf("first look after check now = %+v, want one within seconds of the press", first)
	}
	// The countdown ends where the press cut it, not at a full wait.
	var last *steps.WaitDetail
	for _, line := range l.list() {
		if d, ok := line.Detail.(*steps.WaitDetail); ok {
			last = d
		}
	}
	if last == nil || !last.CheckedEarly || last.Remaining < 100*time.Second {
		t.Errorf("last countdown after check now = %+v, want it cut short with about 1m50s left", last)
	}
}

func TestStep5CancelDuringWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fc, _, l, errc := step5(t, ctx, time.Minute, false)
	done := make(chan struct{})
	whenWaiting(fc, done, cancel)
	err := <-errc // never advancing the clock: only the cancellation can end the wait
	if !errors.Is(err, context.Canceled) {
		t.Errorf("step 5 cancelled mid-wait = %v, want context.Canceled", err)
	}
	if got := l.successes(); len(got) != 0 {
		t.Errorf("cancelled step 5 reported %q", got)
	}
}

func TestStep5GivesUp(t *testing.T) {
	fc, _, _, errc := step5(t, context.Background(), 10*time.Hour, true)
	err := drive(t, fc, errc)
	if err == nil {
		t.Fatal("step 5 with a record that never arrives = success, want error")
	}
	a := steps.Explain(err)
	// The hint is read on the tutorial's screen too, where a command
	// line is the wrong advice (the screen offers its retry key).
	if !strings.Contains(a.Hint, "run step 5 again later") || strings.Contains(a.Hint, "cse-workshop") {
		t.Errorf("advice = %+v, want it to say to run step 5 again later, without a command line", a)
	}
	if elapsed := fc.Now().Sub(start); elapsed > 2*time.Minute {
		t.Errorf("fast step 5 gave up after %s, want about a minute", elapsed)
	}
}

// TestStep5BacksOffWhenThrottled: step 5 looks less often whichever
// throttling code CloudTrail answers with, the same codes the SDK retries.
func TestStep5BacksOffWhenThrottled(t *testing.T) {
	for _, code := range []string{"ThrottlingException", "RequestThrottledException"} {
		fc := clock.NewFake(start)
		s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.DeliveryDelay{Min: 10 * time.Second, Max: 10 * time.Second}, fast: true}
		s.mustRun(1, 2)
		w, fake := s.openWithFake()
		// More throttling answers than the SDK retries, so step 5 sees some.
		fake.InjectFault(fakeaws.Fault{Service: "cloudtrail", Operation: "LookupEvents", Status: 400, Code: code, Message: "Slow down", Times: 8})
		l := &lines{}
		errc := make(chan error, 1)
		go func() { errc <- steps.Run(context.Background(), w, 5, l) }()
		if err := drive(t, fc, errc); err != nil {
			t.Fatalf("step 5 throttled with %s = %v, want success", code, err)
		}
		if !l.contains("throttling") {
			t.Errorf("step 5 throttled with %s: lines = %q, want a throttling line", code, l.texts())
		}
	}
}

// TestStep5FastResumeFindsASlowRecord: step 2 ran without --fast (the demo's
// realistic delivery delay), step 5 runs later with --fast in a new process;
// it finds the record instead of waiting out the realistic delay.
func TestStep5FastResumeFindsASlowRecord(t *testing.T) {
	fc := clock.NewFake(start)
	s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.RealisticDelivery}
	s.mustRun(1, 2)
	s.delivery, s.fast = fakeaws.FastDelivery, true
	w := s.open()
	l := &lines{}
	errc := make(chan error, 1)
	go func() { errc <- steps.Run(context.Background(), w, 5, l) }()
	if err := drive(t, fc, errc); err != nil {
		t.Fatalf("step 5 --fast after a realistic step 2 = %v, want success", err)
	}
	if elapsed := fc.Now().Sub(start); elapsed > fakeaws.RealisticDelivery.Min {
		t.Errorf("step 5 --fast took %s, want less than the realistic delay's minimum %s", elapsed, fakeaws.RealisticDelivery.Min)
	}
}

// TestStep5FastAgainstRealAWSKeepsThePollRate: with --fast against real
// AWS, step 5 still looks no more than once every 5 seconds (CloudTrail's
// LookupEvents allows 2 a second per account, shared with everything else).
func TestStep5FastAgainstRealAWSKeepsThePollRate(t *testing.T) {
	fc := clock.NewFake(start)
	const delivery = 40 * time.Second
	s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.DeliveryDelay{Min: delivery, Max: delivery}, fast: true}
	s.mustRun(1, 2)
	w := s.open()
	w.Clients.Live = true // as --aws would: the timings are what is tested
	l := &lines{}
	errc := make(chan error, 1)
	go func() { errc <- steps.Run(context.Background(), w, 5, l) }()
	if err := drive(t, fc, errc); err != nil {
		t.Fatalf("step 5 = %v, want success", err)
	}
	var last time.Time
	polls := 0
	for _, line := range l.list() {
		if _, ok := line.Detail.(*steps.PollDetail); !ok {
			continue
		}
		polls++
		if !last.IsZero() && line.Time.Sub(last) < 5*time.Second {
			t.Errorf("polls %s apart against real AWS with --fast, want at least 5s", line.Time.Sub(last))
		}
		last = line.Time
	}
	if polls < 2 {
		t.Errorf("%d polls, want several before a %s delivery", polls, delivery)
	}
}

// TestStep5NoZeroSecondWait: when less than a second of the wait is left,
// step 5 looks at once instead of announcing "waiting 0s".
func TestStep5NoZeroSecondWait(t *testing.T) {
	fc := clock.NewFake(start)
	s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.DeliveryDelay{Min: time.Second, Max: time.Second}, fast: true}
	s.mustRun(1, 2)
	fc.Advance(5*time.Second - 400*time.Millisecond) // --fast waits 5s after the call
	w := s.open()
	l := &lines{}
	errc := make(chan error, 1)
	go func() { errc <- steps.Run(context.Background(), w, 5, l) }()
	if err := drive(t, fc, errc); err != nil {
		t.Fatalf("step 5 = %v, want success", err)
	}
	for _, text := range l.texts() {
		if strings.HasPrefix(text, "waiting 0s") {
			t.Errorf("step 5 said %q", text)
		}
	}
	if !l.contains("looking for its record in CloudTrail now") {
		t.Errorf("step 5 lines = %q, want it to look at once", l.texts())
	}
}

// A facilitator's --wait sets step 5's wait before its first look, whatever
// --fast says; 0 looks at once.
func TestStep5WaitsAsLongAsAsked(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		fast bool
	}{{30 * time.Second, false}, {30 * time.Second, true}, {0, false}} {
		t.Run(fmt.Sprintf("wait %s fast %v", tc.wait, tc.fast), func(t *testing.T) {
			fc := clock.NewFake(start)
			wait := tc.wait
			s := &setup{t: t, dir: t.TempDir(), clock: fc, delivery: fakeaws.DeliveryDelay{Min: time.Second, Max: time.Second}, fast: tc.fast, auditWait: &wait}
			s.mustRun(1, 2)
			w := s.open()
			l := &lines{}
			errc := make(chan error, 1)
			go func() { errc <- steps.Run(context.Background(), w, 5, l) }()
			if err := drive(t, fc, errc); err != nil {
				t.Fatalf("step 5 = %v", err)
			}
			var firstLook time.Time
			var total time.Duration
			for _, line := range l.list() {
				switch d := line.Detail.(type) {
				case *steps.WaitDetail:
					total = d.Total
				case *steps.PollDetail, *steps.RecordDetail:
					if firstLook.IsZero() {
						firstLook = line.Time
					}
				}
			}
			if tc.wait > 0 && total != tc.wait {
				t.Errorf("countdown total = %s, want %s", total, tc.wait)
			}
			if got := firstLook.Sub(start); got < tc.wait || got > tc.wait+2*time.Second {
				t.Errorf("first look at +%s, want about +%s (lines %q)", got, tc.wait, l.texts())
			}
		})
	}
}

// Without a backend that says (real AWS), the looks bound when the record
// became visible: after the last look that missed it, by the first that
// found it.
func TestRecordVisibleIsBoundedByTheLooks(t *testing.T) {
	call := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		rec  steps.RecordDetail
		want string
	}{
		{steps.RecordDetail{EventTime: call, VisibleAt: call.Add(40 * time.Second), FoundAt: call.Add(2 * time.Minute)}, "40s after the call"},
		{steps.RecordDetail{EventTime: call, NotSeenAt: call.Add(2 * time.Minute), FoundAt: call.Add(125 * time.Second)}, "between 2m and 2m5s after the call"},
		{steps.RecordDetail{EventTime: call, FoundAt: call.Add(2 * time.Minute)}, "at most 2m after the call"},
		// A look before the call (a clock behind AWS's) bounds nothing.
		{steps.RecordDetail{EventTime: call, NotSeenAt: call.Add(-time.Second), FoundAt: call.Add(2 * time.Minute)}, "at most 2m after the call"},
	}
	for _, tt := range tests {
		if got := tt.rec.Visible(); got != tt.want {
			t.Errorf("Visible() of %+v = %q, want %q", tt.rec, got, tt.want)
		}
	}
}
