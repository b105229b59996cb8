package fakeaws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"cse-workshop/awsclient/fakeaws"
)

func TestFaults(t *testing.T) {
	ctx := context.Background()
	type call struct {
		name string
		do   func(*clients) error
	}
	createKey := call{"kms CreateKey", func(c *clients) error {
		_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{})
		return err
	}}
	listKeys := call{"kms ListKeys", func(c *clients) error {
		_, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{})
		return err
	}}
	lookup := call{"cloudtrail LookupEvents", func(c *clients) error {
		_, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		return err
	}}
	identity := call{"sts GetCallerIdentity", func(c *clients) error {
		_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}}

	tests := []struct {
		fault      fakeaws.Fault
		call       call
		wantCode   string
		wantStatus int
		wantInMsg  string
	}{
		{fakeaws.ThrottlingFault("kms", "CreateKey"), createKey, "ThrottlingException", 400, "Rate exceeded"},
		{fakeaws.ThrottlingFault("sts", ""), identity, "Throttling", 400, "Rate exceeded"},
		{fakeaws.InternalErrorFault("kms", ""), createKey, "KMSInternalException", 500, ""},
		{fakeaws.InternalErrorFault("cloudtrail", "LookupEvents"), lookup, "InternalFailure", 500, ""},
		{fakeaws.InternalErrorFault("", ""), identity, "InternalFailure", 500, ""},
		{fakeaws.AccessDeniedFault("kms", "CreateKey"), createKey, "AccessDeniedException", 400,
			"User: arn:aws:iam::111122223333:user/workshop-learner is not authorized to perform: kms:CreateKey on resource: * because no identity-based policy allows the kms:CreateKey action"},
		{fakeaws.AccessDeniedFault("cloudtrail", "LookupEvents"), lookup, "AccessDeniedException", 400, "cloudtrail:LookupEvents"},
		{fakeaws.ExpiredTokenFault(), createKey, "ExpiredTokenException", 400, "The security token included in the request is expired"},
		{fakeaws.ExpiredTokenFault(), identity, "ExpiredToken", 400, "expired"},
		{fakeaws.InvalidTokenFault(), listKeys, "UnrecognizedClientException", 400, "The security token included in the request is invalid."},
		{fakeaws.InvalidTokenFault(), identity, "InvalidClientTokenId", 403, "The security token included in the request is invalid."},
		{fakeaws.InvalidTokenFault(), lookup, "UnrecognizedClientException", 400, "invalid"},
		{fakeaws.Fault{Service: "kms", Operation: "ListKeys", Status: 503, Code: "ServiceUnavailableException", Message: "down"}, listKeys, "ServiceUnavailableException", 503, "down"},
	}
	for _, tt := range tests {
		c := newClients(t, fakeaws.Options{})
		c.srv.InjectFault(tt.fault)
		err := tt.call.do(c)
		var apiErr smithy.APIError
		var respErr *smithyhttp.ResponseError
		if !errors.As(err, &apiErr) || !errors.As(err, &respErr) {
			t.Errorf("%s with %+v = %v, want an API error", tt.call.name, tt.fault, err)
			continue
		}
		if apiErr.ErrorCode() != tt.wantCode || respErr.HTTPStatusCode() != tt.wantStatus || !strings.Contains(apiErr.ErrorMessage(), tt.wantInMsg) {
			t.Errorf("%s with %+v = %d %s %q, want %d %s with %q", tt.call.name, tt.fault,
				respErr.HTTPStatusCode(), apiErr.ErrorCode(), apiErr.ErrorMessage(), tt.wantStatus, tt.wantCode, tt.wantInMsg)
		}
	}
}

func TestFaultMatchingAndTimes(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	f := fakeaws.ThrottlingFault("kms", "GenerateDataKey")
	f.Times = 2
	c.srv.InjectFault(f)

	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}); err != nil {
		t.Errorf("DescribeKey with a GenerateDataKey fault = %v, want success", err)
	}
	if _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity with a kms fault = %v, want success", err)
	}
	gen := func() error {
		_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, KeySpec: types.DataKeySpecAes256})
		return err
	}
	for i := range 2 {
		if err := gen(); errorCode(err) != "ThrottlingException" {
			t.Errorf("GenerateDataKey #%d with Times 2 = %v, want ThrottlingException", i+1, err)
		}
	}
	if err := gen(); err != nil {
		t.Errorf("GenerateDataKey #3 with Times 2 = %v, want success", err)
	}

	c.srv.InjectFault(fakeaws.InternalErrorFault("", ""))
	if err := gen(); errorCode(err) != "KMSInternalException" {
		t.Errorf("GenerateDataKey with an unlimited fault = %v, want KMSInternalException", err)
	}
	c.srv.ClearFaults()
	if err := gen(); err != nil {
		t.Errorf("GenerateDataKey after ClearFaults = %v, want success", err)
	}
}

// A request waits out a latency fault on the server's clock, and gives up
// when its context ends.
func TestLatencyFault(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	c.srv.InjectFault(fakeaws.LatencyFault("sts", "GetCallerIdentity", 10*time.Second))

	done := make(chan error, 1)
	go func() {
		_, err := c.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		done <- err
	}()
	for c.clock.Waiters() == 0 {
		time.Sleep(time.Millisecond) // until the request waits on the fake clock
	}
	select {
	case err := <-done:
		t.Fatalf("GetCallerIdentity returned %v before its latency passed", err)
	default:
	}
	c.clock.Advance(10 * time.Second)
	if err := <-done; err != nil {
		t.Errorf("GetCallerIdentity after its latency = %v, want success", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		done <- err
	}()
	for c.clock.Waiters() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("GetCallerIdentity cancelled during its latency = %v, want context.Canceled", err)
	}
}

// A failed call that a fault caused is in the audit trail too.
func TestFaultedKMSCallIsRecorded(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	c.srv.InjectFault(fakeaws.AccessDeniedFault("kms", "CreateKey"))
	if _, err := c.kms.CreateKey(context.Background(), &kms.CreateKeyInput{}); err == nil {
		t.Fatalf("CreateKey with an AccessDenied fault succeeded")
	}
	c.clock.Advance(testDelivery.Max)
	out := c.lookup(t, byName("CreateKey"))
	if len(out.Events) != 1 {
		t.Fatalf("LookupEvents(CreateKey) = %d events, want 1", len(out.Events))
	}
	if r := parseRecord(t, out.Events[0]); r.ErrorCode != "AccessDeniedException" || !strings.Contains(r.ErrorMessage, "kms:CreateKey") {
		t.Errorf("record errorCode, errorMessage = %q, %q; want AccessDeniedException naming kms:CreateKey", r.ErrorCode, r.ErrorMessage)
	}
}
