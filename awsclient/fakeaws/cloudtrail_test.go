package fakeaws_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient/fakeaws"
)

// testDelivery is the delivery delay of the CloudTrail tests: every event
// is visible between 30 seconds and 2 minutes after its call.
var testDelivery = fakeaws.DeliveryDelay{Min: 30 * time.Second, Max: 2 * time.Minute}

// lookup calls LookupEvents a second after the previous call, so that the
// rate limit never interferes.
func (c *clients) lookup(t *testing.T, in *cloudtrail.LookupEventsInput) *cloudtrail.LookupEventsOutput {
	t.Helper()
	c.clock.Advance(time.Second)
	out, err := c.trail.LookupEvents(context.Background(), in)
	if err != nil {
		t.Fatalf("LookupEvents: %v", err)
	}
	return out
}

func byName(name string) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}}
}

// record is the part of a CloudTrail record the tests read.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
	} `json:"userIdentity"`
	EventTime         string          `json:"eventTime"`
	EventSource       string          `json:"eventSource"`
	EventName         string          `json:"eventName"`
	AWSRegion         string          `json:"awsRegion"`
	UserAgent         string          `json:"userAgent"`
	ErrorCode         string          `json:"errorCode"`
	ErrorMessage      string          `json:"errorMessage"`
	RequestParameters map[string]any  `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
	RequestID         string          `json:"requestID"`
	EventID           string          `json:"eventID"`
	ReadOnly          bool            `json:"readOnly"`
	Resources         []struct {
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
		ARN       string `json:"ARN"`
	} `json:"resources"`
	EventType          string `json:"eventType"`
	ManagementEvent    bool   `json:"managementEvent"`
	RecipientAccountID string `json:"recipientAccountId"`
	EventCategory      string `json:"eventCategory"`
}

func parseRecord(t *testing.T, e cttypes.Event) record {
	t.Helper()
	var r record
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v", err)
	}
	return r
}

func TestGenerateDataKeyIsDeliveredAfterItsDelay(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	key := c.createKey(t, workshopAlias)
	gen, err := c.kms.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{
		KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext,
	})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	callTime := c.clock.Now()

	c.clock.Set(callTime.Add(testDelivery.Min - 2*time.Second)) // lookup adds one
	if out := c.lookup(t, byName("GenerateDataKey")); len(out.Events) != 0 {
		t.Fatalf("LookupEvents before the delivery delay = %d events, want none", len(out.Events))
	}
	c.clock.Set(callTime.Add(testDelivery.Max - time.Second))
	out := c.lookup(t, byName("GenerateDataKey"))
	if len(out.Events) != 1 {
		t.Fatalf("LookupEvents after the delivery delay = %d events, want 1", len(out.Events))
	}
	e := out.Events[0]
	arn := aws.ToString(key.Arn)
	wantEvent := cttypes.Event{
		EventId:         e.EventId,
		EventName:       aws.String("GenerateDataKey"),
		ReadOnly:        aws.String("true"),
		AccessKeyId:     aws.String(fakeaws.DemoAccessKeyID),
		EventTime:       aws.Time(callTime),
		EventSource:     aws.String("kms.amazonaws.com"),
		Username:        aws.String(fakeaws.DemoUserName),
		Resources:       []cttypes.Resource{{ResourceType: aws.String("AWS::KMS::Key"), ResourceName: aws.String(arn)}},
		CloudTrailEvent: e.CloudTrailEvent,
	}
	if diff := cmp.Diff(wantEvent, e, cmpEvent); diff != "" {
		t.Errorf("LookupEvents event (-want +got):\n%s", diff)
	}

	r := parseRecord(t, e)
	wantParams := map[string]any{
		"keyId":             workshopAlias,
		"keySpec":           "AES_256",
		"encryptionContext": map[string]any{"whatfor": "usecase-3-cse"},
	}
	if diff := cmp.Diff(wantParams, r.RequestParameters); diff != "" {
		t.Errorf("requestParameters (-want +got):\n%s", diff)
	}
	if string(r.ResponseElements) != "null" {
		t.Errorf("responseElements = %s, want null", r.ResponseElements)
	}
	if len(r.Resources) != 1 || r.Resources[0].ARN != arn || r.Resources[0].Type != "AWS::KMS::Key" || r.Resources[0].AccountID != fakeaws.DefaultAccountID {
		t.Errorf("resources = %+v, want the key ARN %s", r.Resources, arn)
	}
	if r.EventVersion != "1.11" || r.EventSource != "kms.amazonaws.com" || r.EventName != "GenerateDataKey" ||
		r.AWSRegion != "us-east-1" || !r.ReadOnly || r.EventType != "AwsApiCall" || !r.ManagementEvent ||
		r.RecipientAccountID != fakeaws.DefaultAccountID || r.EventCategory != "Management" || r.ErrorCode != "" {
		t.Errorf("record = %+v, want a successful readOnly KMS management event", r)
	}
	if r.EventTime != callTime.Format(time.RFC3339) || r.EventID != aws.ToString(e.EventId) || r.RequestID == "" {
		t.Errorf("record eventTime, eventID, requestID = %q %q %q; want %s, the event's ID, a request ID", r.EventTime, r.EventID, r.RequestID, callTime.Format(time.RFC3339))
	}
	if r.UserIdentity.Type != "IAMUser" || r.UserIdentity.AccessKeyID != fakeaws.DemoAccessKeyID || r.UserIdentity.UserName != fakeaws.DemoUserName ||
		r.UserIdentity.ARN != "arn:aws:iam::111122223333:user/workshop-learner" || r.UserIdentity.AccountID != fakeaws.DefaultAccountID {
		t.Errorf("userIdentity = %+v, want the workshop learner signing with the demo key", r.UserIdentity)
	}
	if !strings.Contains(r.UserAgent, "aws-sdk-go-v2") {
		t.Errorf("userAgent = %q, want the SDK's", r.UserAgent)
	}
	raw := aws.ToString(e.CloudTrailEvent)
	for _, secret := range [][]byte{gen.Plaintext, gen.CiphertextBlob} {
		if strings.Contains(raw, base64.StdEncoding.EncodeToString(secret)) {
			t.Errorf("CloudTrail record contains key material: %s", raw)
		}
	}
}

// cmpEvent compares events by value, ignoring the SDK's unexported fields.
var cmpEvent = cmp.Options{
	cmp.AllowUnexported(cttypes.Event{}, cttypes.Resource{}),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
}

func TestFailedCallsAreRecorded(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	key := c.createKey(t, "")
	ctx := context.Background()
	enc, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"whatfor": "other"}}); err == nil {
		t.Fatalf("Decrypt(other context) succeeded")
	}
	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")}); err == nil {
		t.Fatalf("DescribeKey(alias/nope) succeeded")
	}
	c.clock.Advance(testDelivery.Max)

	tests := []struct {
		name, wantCode string
		wantResources  int
	}{
		{"Decrypt", "InvalidCiphertextException", 1},
		{"DescribeKey", "NotFoundException", 0},
	}
	for _, tt := range tests {
		out := c.lookup(t, byName(tt.name))
		if len(out.Events) != 1 {
			t.Errorf("LookupEvents(%s) = %d events, want 1", tt.name, len(out.Events))
			continue
		}
		r := parseRecord(t, out.Events[0])
		if r.ErrorCode != tt.wantCode || len(r.Resources) != tt.wantResources {
			t.Errorf("%s record errorCode, resources = %q, %d; want %q, %d", tt.name, r.ErrorCode, len(r.Resources), tt.wantCode, tt.wantResources)
		}
		if tt.name == "Decrypt" && r.RequestParameters["encryptionContext"] == nil {
			t.Errorf("failed Decrypt record has no encryptionContext: %v", r.RequestParameters)
		}
	}
}

func TestLookupEventsFilters(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	ctx := context.Background()
	key := c.createKey(t, workshopAlias) // CreateKey, CreateAlias
	c.clock.Advance(time.Minute)
	other := c.createKey(t, "") // CreateKey
	c.clock.Advance(time.Minute)
	if _, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}); err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	c.clock.Advance(testDelivery.Max)
	all := c.lookup(t, &cloudtrail.LookupEventsInput{})
	names := func(events []cttypes.Event) []string {
		var out []string
		for _, e := range events {
			out = append(out, aws.ToString(e.EventName))
		}
		return out
	}
	if diff := cmp.Diff([]string{"GenerateDataKey", "CreateKey", "CreateAlias", "CreateKey"}, names(all.Events)); diff != "" {
		t.Fatalf("LookupEvents, newest first (-want +got):\n%s", diff)
	}
	createAliasID := aws.ToString(all.Events[2].EventId)

	attr := func(k cttypes.LookupAttributeKey, v string) *cloudtrail.LookupEventsInput {
		return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}}
	}
	tests := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		want []string
	}{
		{"EventName=CreateKey", attr(cttypes.LookupAttributeKeyEventName, "CreateKey"), []string{"CreateKey", "CreateKey"}},
		{"ReadOnly=true", attr(cttypes.LookupAttributeKeyReadOnly, "true"), []string{"GenerateDataKey"}},
		{"ReadOnly=false", attr(cttypes.LookupAttributeKeyReadOnly, "false"), []string{"CreateKey", "CreateAlias", "CreateKey"}},
		{"ResourceName=other key", attr(cttypes.LookupAttributeKeyResourceName, aws.ToString(other.Arn)), []string{"CreateKey"}},
		{"ResourceType", attr(cttypes.LookupAttributeKeyResourceType, "AWS::KMS::Key"), []string{"GenerateDataKey", "CreateKey", "CreateAlias", "CreateKey"}},
		{"EventId", attr(cttypes.LookupAttributeKeyEventId, createAliasID), []string{"CreateAlias"}},
		{"Username", attr(cttypes.LookupAttributeKeyUsername, fakeaws.DemoUserName), []string{"GenerateDataKey", "CreateKey", "CreateAlias", "CreateKey"}},
		{"Username=someone else", attr(cttypes.LookupAttributeKeyUsername, "alice"), nil},
		{"EventSource", attr(cttypes.LookupAttributeKeyEventSource, "kms.amazonaws.com"), []string{"GenerateDataKey", "CreateKey", "CreateAlias", "CreateKey"}},
		{"AccessKeyId", attr(cttypes.LookupAttributeKeyAccessKeyId, fakeaws.DemoAccessKeyID), []string{"GenerateDataKey", "CreateKey", "CreateAlias", "CreateKey"}},
		{"StartTime", &cloudtrail.LookupEventsInput{StartTime: aws.Time(start.Add(time.Minute))}, []string{"GenerateDataKey", "CreateKey"}},
		{"EndTime", &cloudtrail.LookupEventsInput{EndTime: aws.Time(start.Add(time.Minute - time.Second))}, []string{"CreateAlias", "CreateKey"}},
		{"StartTime and EndTime", &cloudtrail.LookupEventsInput{StartTime: aws.Time(start.Add(time.Minute)), EndTime: aws.Time(start.Add(time.Minute))}, []string{"CreateKey"}},
		{"EventName and StartTime", func() *cloudtrail.LookupEventsInput {
			in := attr(cttypes.LookupAttributeKeyEventName, "GenerateDataKey")
			in.StartTime = aws.Time(start.Add(2 * time.Minute))
			return in
		}(), []string{"GenerateDataKey"}},
	}
	for _, tt := range tests {
		out := c.lookup(t, tt.in)
		if diff := cmp.Diff(tt.want, names(out.Events)); diff != "" {
			t.Errorf("LookupEvents(%s) (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestLookupEventsPaging(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	ctx := context.Background()
	key := c.createKey(t, "")
	var want []string
	for range 7 {
		if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}); err != nil {
			t.Fatalf("DescribeKey: %v", err)
		}
	}
	c.clock.Advance(testDelivery.Max)
	all := c.lookup(t, byName("DescribeKey"))
	for _, e := range all.Events {
		want = append(want, aws.ToString(e.EventId))
	}
	if len(want) != 7 || all.NextToken != nil {
		t.Fatalf("LookupEvents = %d events, NextToken %v; want 7 and no token", len(want), all.NextToken)
	}

	var got []string
	pages := 0
	in := byName("DescribeKey")
	in.MaxResults = aws.Int32(3)
	for p := cloudtrail.NewLookupEventsPaginator(c.trail, in); p.HasMorePages(); {
		c.clock.Advance(time.Second)
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("LookupEvents page %d: %v", pages, err)
		}
		pages++
		for _, e := range out.Events {
			got = append(got, aws.ToString(e.EventId))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("LookupEvents with MaxResults 3: %d pages, events (-want +got):\n%s", pages, diff)
	}

	first := c.lookup(t, in)
	if first.NextToken == nil {
		t.Fatalf("LookupEvents(MaxResults 3 of 7) has no NextToken")
	}
	other := byName("CreateKey")
	other.NextToken = first.NextToken
	bad := byName("DescribeKey")
	bad.NextToken = aws.String("not-a-token")
	for name, in := range map[string]*cloudtrail.LookupEventsInput{"malformed": bad, "of another query": other} {
		c.clock.Advance(time.Second)
		_, err := c.trail.LookupEvents(ctx, in)
		var invalid *cttypes.InvalidNextTokenException
		if !errors.As(err, &invalid) {
			t.Errorf("LookupEvents(NextToken %s) = %v, want InvalidNextTokenException", name, err)
		}
	}
}

func TestLookupEventsValidation(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	two := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("GenerateDataKey")},
		{AttributeKey: cttypes.LookupAttributeKeyReadOnly, AttributeValue: aws.String("true")},
	}}
	tests := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		want string
	}{
		{"two lookup attributes", two, "InvalidLookupAttributesException"},
		{"MaxResults 0", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"MaxResults 51", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"StartTime after EndTime", &cloudtrail.LookupEventsInput{StartTime: aws.Time(start), EndTime: aws.Time(start.Add(-time.Second))}, "InvalidTimeRangeException"},
		{"MaxResults 50", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(50)}, ""},
	}
	for _, tt := range tests {
		c.clock.Advance(time.Second)
		_, err := c.trail.LookupEvents(context.Background(), tt.in)
		if got := errorCode(err); got != tt.want {
			t.Errorf("LookupEvents(%s) = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLookupEventsRateLimit(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	for i := range 2 {
		if _, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("LookupEvents #%d on a frozen clock: %v", i+1, err)
		}
	}
	_, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	// LookupEvents does not model ThrottlingException, so the SDK reports a
	// generic API error.
	var throttled smithy.APIError
	if !errors.As(err, &throttled) || throttled.ErrorCode() != "ThrottlingException" || throttled.ErrorMessage() != "Rate exceeded" {
		t.Fatalf("LookupEvents #3 on a frozen clock = %v, want ThrottlingException: Rate exceeded", err)
	}
	c.clock.Advance(500 * time.Millisecond) // 2 per second: one token back
	if _, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("LookupEvents half a second later = %v, want success", err)
	}
	if _, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); errorCode(err) != "ThrottlingException" {
		t.Errorf("LookupEvents again at once = %v, want ThrottlingException", err)
	}
}
