package fakeaws_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient/fakeaws"
)

// TestRequestsSignedForAnotherRegion: like a regional AWS endpoint, the fake
// refuses KMS and CloudTrail requests signed for a region it does not
// serve, and logs nothing of them; its ARNs name only its own region.
func TestRequestsSignedForAnotherRegion(t *testing.T) {
	ctx := context.Background()
	c := newClients(t, fakeaws.Options{Region: "eu-west-1"})
	cfg := sdkConfig(c.srv)
	cfg.Region = "eu-west-1"
	home := kms.NewFromConfig(cfg)
	key, err := home.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey signed for the fake's region: %v", err)
	}
	if arn := aws.ToString(key.KeyMetadata.Arn); !strings.HasPrefix(arn, "arn:aws:kms:eu-west-1:") {
		t.Errorf("key ARN = %s, want one in eu-west-1", arn)
	}

	// c's clients sign for us-east-1.
	_, err = c.kms.ListKeys(ctx, &kms.ListKeysInput{})
	if code := errorCode(err); code != "InvalidSignatureException" || !strings.Contains(err.Error(), "not 'us-east-1'") {
		t.Errorf("ListKeys signed for us-east-1 = %v, want InvalidSignatureException naming us-east-1", err)
	}
	_, err = c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if code := errorCode(err); code != "InvalidSignatureException" {
		t.Errorf("LookupEvents signed for us-east-1 = %v, want InvalidSignatureException", err)
	}

	c.clock.Advance(fakeaws.RealisticDelivery.Max)
	events, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if err != nil {
		t.Fatalf("LookupEvents signed for the fake's region: %v", err)
	}
	for _, e := range events.Events {
		if aws.ToString(e.EventName) == "ListKeys" {
			t.Errorf("the refused ListKeys was logged: %s", aws.ToString(e.CloudTrailEvent))
		}
	}
	if len(events.Events) != 1 {
		t.Errorf("LookupEvents = %d events, want only the CreateKey", len(events.Events))
	}
}

// TestStateKeepsItsRegion: a state file remembers the region its keys live
// in. A server opened on it without a region serves that one; one asked for
// another region is refused, since the keys' ARNs cannot move.
func TestStateKeepsItsRegion(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	first, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := fakeaws.New(fakeaws.Options{StateFile: stateFile})
	if err != nil {
		t.Fatalf("New without a region on an eu-west-1 state file: %v", err)
	}
	if got := again.Region(); got != "eu-west-1" {
		t.Errorf("Region() = %s, want the saved eu-west-1", got)
	}
	_, err = fakeaws.New(fakeaws.Options{StateFile: stateFile, Region: "us-west-2"})
	var mismatch *fakeaws.RegionMismatchError
	if !errors.As(err, &mismatch) || mismatch.Saved != "eu-west-1" || mismatch.Wanted != "us-west-2" {
		t.Errorf("New(us-west-2) on an eu-west-1 state file = %v, want a RegionMismatchError", err)
	}
}
