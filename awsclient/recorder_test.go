package awsclient

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// summary is what the API pane shows of a call.
func summary(c Call) string {
	return fmt.Sprintf("%s %s %s", c.Service, c.Operation, c.Outcome())
}

func TestRecorderKeepsCallsInOrder(t *testing.T) {
	c := demoClients(t, Options{})
	var seen []string
	var mu sync.Mutex
	c.Calls.Subscribe(func(call Call) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, summary(call))
	})

	ctx := context.Background()
	if _, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity = %v", err)
	}
	if _, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)}); err == nil {
		t.Fatalf("DescribeKey(%s) before step 1 succeeded, want NotFoundException", workshopAlias)
	}
	arn := createKey(t, c)
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)}); err != nil {
		t.Fatalf("CreateAlias = %v", err)
	}
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)}); err == nil {
		t.Fatal("CreateAlias(taken) succeeded, want AlreadyExistsException")
	}
	if _, err := c.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("LookupEvents = %v", err)
	}

	want := []string{
		"STS GetCallerIdentity OK",
		"KMS DescribeKey NotFoundException",
		"KMS CreateKey OK",
		"KMS CreateAlias OK",
		"KMS CreateAlias AlreadyExistsException",
		"CloudTrail LookupEvents OK",
	}
	calls := c.Calls.Calls()
	var got []string
	for _, call := range calls {
		got = append(got, summary(call))
		if (call.Err != nil) != (call.Outcome() != "OK") {
			t.Errorf("%s: Err = %v but Outcome = %s", call.Operation, call.Err, call.Outcome())
		}
		if call.Attempts != 1 {
			t.Errorf("%s: Attempts = %d, want 1", call.Operation, call.Attempts)
		}
		if call.Start.IsZero() {
			t.Errorf("%s: Start not set", call.Operation)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Calls() (-want +got):\n%s", diff)
	}
	mu.Lock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("Subscribe saw (-want +got):\n%s", diff)
	}
	mu.Unlock()

	wantOps := []string{"cloudtrail:LookupEvents", "kms:CreateAlias", "kms:CreateKey", "kms:DescribeKey", "sts:GetCallerIdentity"}
	if diff := cmp.Diff(wantOps, c.Calls.Operations()); diff != "" {
		t.Errorf("Operations() (-want +got):\n%s", diff)
	}

	// Calls returns a copy: the caller may keep or change it.
	calls[0].Operation = "Changed"
	if got := c.Calls.Calls()[0].Operation; got != "GetCallerIdentity" {
		t.Errorf("after changing the copy, Calls()[0].Operation = %q, want GetCallerIdentity", got)
	}
}

func TestRecorderCountsRetriesAndWaits(t *testing.T) {
	c := demoClients(t, Options{})
	c.fake.InjectFault(fakeaws.Fault{
		Service: "kms", Operation: "ListAliases",
		Status: 400, Code: "ThrottlingException", Message: "Rate exceeded", Times: 2,
	})
	if _, err := c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{}); err != nil {
		t.Fatalf("ListAliases after 2 throttles = %v, want success on the third attempt", err)
	}
	call := c.Calls.Calls()[0]
	if call.Outcome() != "OK" || call.Attempts != 3 {
		t.Errorf("recorded %s with %d attempts, want OK with 3", call.Outcome(), call.Attempts)
	}
	if call.RequestID == "" {
		t.Errorf("recorded no request ID, want the fake's")
	}
}

func TestRecorderMeasuresOnDemoClock(t *testing.T) {
	c := demoClients(t, Options{})
	c.fake.InjectFault(fakeaws.Fault{Service: "sts", Latency: 3 * time.Second})
	if _, err := c.Identity(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := c.Calls.Calls()[0].Duration; d < 3*time.Second {
		t.Errorf("Duration with 3s injected latency = %v, want at least 3s", d)
	}
}

func TestRecorderConcurrentCalls(t *testing.T) {
	c := demoClients(t, Options{})
	var (
		mu   sync.Mutex
		seen int
	)
	c.Calls.Subscribe(func(Call) {
		mu.Lock()
		seen++
		mu.Unlock()
	})
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, _ = c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
		})
		wg.Go(func() { _ = c.Calls.Calls(); _ = c.Calls.Operations() })
	}
	wg.Wait()
	if got := len(c.Calls.Calls()); got != n {
		t.Errorf("recorded %d calls, want %d", got, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != n {
		t.Errorf("subscriber saw %d calls, want %d", seen, n)
	}
}

// TestRetryWaitIsCancellable: a retry waits on the demo clock; cancelling
// the context (Ctrl-C) ends the wait at once.
func TestRetryWaitIsCancellable(t *testing.T) {
	clk := clock.NewFake(testStart) // never advanced: the retry waits for ever
	c := demoClients(t, Options{Clock: clk})
	c.fake.InjectFault(fakeaws.Fault{Service: "kms", Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for clk.Waiters() == 0 {
			runtime.Gosched()
		}
		cancel()
	}()
	_, err := c.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
	if err == nil {
		t.Fatal("ListAliases(throttled, canceled) succeeded, want error")
	}
	if got := c.Calls.Calls()[0].Outcome(); got != "canceled" {
		t.Errorf("Outcome = %q, want canceled (%v)", got, err)
	}
	if a := Explain(err); !strings.Contains(a.What, "canceled") {
		t.Errorf("Explain(canceled during retry) = %q, want canceled", a.What)
	}
}
