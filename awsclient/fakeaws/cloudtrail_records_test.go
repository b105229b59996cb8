package fakeaws_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient/fakeaws"
)

func lookupBy(key cttypes.LookupAttributeKey, value string) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}}
}

// rawRecord is a CloudTrail record as a generic JSON object.
func rawRecord(t *testing.T, e cttypes.Event) map[string]any {
	t.Helper()
	var r map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("CloudTrailEvent is not JSON: %v", err)
	}
	return r
}

func eventNames(events []cttypes.Event) []string {
	var names []string
	for _, e := range events {
		names = append(names, aws.ToString(e.EventName))
	}
	return names
}

func TestAliasRecordsNameTheAlias(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	ctx := context.Background()
	key := c.createKey(t, workshopAlias)
	if _, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(workshopAlias)}); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	c.clock.Advance(testDelivery.Max)
	aliasARN := "arn:aws:kms:us-east-1:111122223333:" + workshopAlias
	keyARN := aws.ToString(key.Arn)

	out := c.lookup(t, lookupBy(cttypes.LookupAttributeKeyResourceName, aliasARN))
	if diff := cmp.Diff([]string{"DeleteAlias", "CreateAlias"}, eventNames(out.Events)); diff != "" {
		t.Fatalf("LookupEvents(ResourceName alias ARN) (-want +got):\n%s", diff)
	}
	for _, e := range out.Events {
		wantResources := []cttypes.Resource{
			{ResourceType: aws.String("AWS::KMS::Key"), ResourceName: aws.String(keyARN)},
			{ResourceType: aws.String("AWS::KMS::Key"), ResourceName: aws.String(aliasARN)},
		}
		if diff := cmp.Diff(wantResources, e.Resources, cmpEvent); diff != "" {
			t.Errorf("%s event resources (-want +got):\n%s", aws.ToString(e.EventName), diff)
		}
		r := parseRecord(t, e)
		if len(r.Resources) != 2 || r.Resources[0].ARN != keyARN || r.Resources[1].ARN != aliasARN || r.Resources[1].Type != "AWS::KMS::Key" {
			t.Errorf("%s record resources = %+v, want the key ARN, then the alias ARN", aws.ToString(e.EventName), r.Resources)
		}
		if string(r.ResponseElements) != `{"keyId":"`+keyARN+`"}` {
			t.Errorf("%s responseElements = %s, want the key ARN", aws.ToString(e.EventName), r.ResponseElements)
		}
	}
	if out := c.lookup(t, lookupBy(cttypes.LookupAttributeKeyResourceName, keyARN)); len(out.Events) != 3 {
		t.Errorf("LookupEvents(ResourceName key ARN) = %v, want CreateKey, CreateAlias, DeleteAlias", eventNames(out.Events))
	}
}

func TestKeyDeletionIsLogged(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	ctx := context.Background()
	key := c.createKey(t, workshopAlias)
	sched, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	deletion := aws.ToTime(sched.DeletionDate)

	c.clock.Set(deletion.Add(-time.Minute))
	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}); err != nil {
		t.Fatalf("DescribeKey a minute before the deletion date = %v, want the key", err)
	}
	// Nothing but LookupEvents is called after the deletion date.
	c.clock.Set(deletion.Add(testDelivery.Max))
	out := c.lookup(t, byName("DeleteKey"))
	if len(out.Events) != 1 {
		t.Fatalf("LookupEvents(DeleteKey) after the waiting period = %d events, want 1", len(out.Events))
	}
	e := out.Events[0]
	if !aws.ToTime(e.EventTime).Equal(deletion) || aws.ToString(e.ReadOnly) != "false" || aws.ToString(e.EventSource) != "kms.amazonaws.com" {
		t.Errorf("DeleteKey event = time %v, readOnly %s, source %s; want %v, false, kms.amazonaws.com",
			aws.ToTime(e.EventTime), aws.ToString(e.ReadOnly), aws.ToString(e.EventSource), deletion)
	}
	r := rawRecord(t, e)
	want := map[string]any{
		"eventType":         "AwsServiceEvent",
		"userIdentity":      map[string]any{"accountId": "111122223333", "invokedBy": "AWS Internal"},
		"requestParameters": nil,
		"responseElements":  map[string]any{"keyId": aws.ToString(key.Arn)},
		"resources":         []any{map[string]any{"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": aws.ToString(key.Arn)}},
		"eventTime":         deletion.UTC().Format(time.RFC3339),
		"readOnly":          false,
		"managementEvent":   true,
		"sourceIPAddress":   "AWS Internal",
	}
	for field, v := range want {
		if diff := cmp.Diff(v, r[field]); diff != "" {
			t.Errorf("DeleteKey record %s (-want +got):\n%s", field, diff)
		}
	}

	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId}); errorCode(err) != "NotFoundException" {
		t.Errorf("DescribeKey after the deletion date = %v, want NotFoundException", err)
	}
	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)}); errorCode(err) != "NotFoundException" {
		t.Errorf("DescribeKey(its alias) after the deletion date = %v, want NotFoundException", err)
	}
	if out := c.lookup(t, byName("DeleteKey")); len(out.Events) != 1 {
		t.Errorf("LookupEvents(DeleteKey) later = %d events, want the deletion logged once", len(out.Events))
	}
}

func TestGetCallerIdentityIsLogged(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	if _, err := c.sts.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	c.clock.Advance(testDelivery.Max)
	out := c.lookup(t, lookupBy(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com"))
	if len(out.Events) != 1 {
		t.Fatalf("LookupEvents(EventSource sts.amazonaws.com) = %v, want GetCallerIdentity", eventNames(out.Events))
	}
	e := out.Events[0]
	if aws.ToString(e.EventName) != "GetCallerIdentity" || aws.ToString(e.ReadOnly) != "true" || aws.ToString(e.Username) != fakeaws.DemoUserName || len(e.Resources) != 0 {
		t.Errorf("GetCallerIdentity event = %s readOnly %s user %s resources %v; want a read-only call by the learner, on no resource",
			aws.ToString(e.EventName), aws.ToString(e.ReadOnly), aws.ToString(e.Username), e.Resources)
	}
	r := parseRecord(t, e)
	if r.EventSource != "sts.amazonaws.com" || r.RequestParameters != nil || string(r.ResponseElements) != "null" || r.EventType != "AwsApiCall" ||
		r.UserIdentity.AccessKeyID != fakeaws.DemoAccessKeyID {
		t.Errorf("GetCallerIdentity record = %+v, want an sts.amazonaws.com call without parameters or response elements", r)
	}
	if out := c.lookup(t, byName("GetCallerIdentity")); len(out.Events) != 1 {
		t.Errorf("LookupEvents(EventName GetCallerIdentity) = %d events, want 1", len(out.Events))
	}
}

func TestRecordFieldsOfTheDeveloperGuide(t *testing.T) {
	c := newClients(t, fakeaws.Options{Delivery: testDelivery})
	ctx := context.Background()
	key := c.createKey(t, "")
	c.clock.Advance(1500 * time.Millisecond) // a call between two seconds
	for range 2 {
		if _, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}); err != nil {
			t.Fatalf("GenerateDataKey: %v", err)
		}
	}
	if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: make([]byte, 80)}); err == nil {
		t.Fatalf("Decrypt(zeros) succeeded")
	}
	c.clock.Advance(testDelivery.Max)

	out := c.lookup(t, byName("GenerateDataKey"))
	if len(out.Events) != 2 {
		t.Fatalf("LookupEvents(GenerateDataKey) = %d events, want 2", len(out.Events))
	}
	var materialIDs []any
	for _, e := range out.Events {
		r := rawRecord(t, e)
		recorded, err := time.Parse(time.RFC3339, r["eventTime"].(string))
		if err != nil || !recorded.Equal(aws.ToTime(e.EventTime)) {
			t.Errorf("record eventTime %v and LookupEvents EventTime %v differ", r["eventTime"], aws.ToTime(e.EventTime))
		}
		if r["eventVersion"] != "1.11" || r["eventCategory"] != "Management" || r["recipientAccountId"] != "111122223333" || r["managementEvent"] != true {
			t.Errorf("record = %v, want eventVersion 1.11 and the management event fields", r)
		}
		tlsDetails, _ := r["tlsDetails"].(map[string]any)
		if tlsDetails["clientProvidedHostHeader"] != "kms.us-east-1.amazonaws.com" || tlsDetails["tlsVersion"] == nil || tlsDetails["cipherSuite"] == nil {
			t.Errorf("record tlsDetails = %v, want the KMS endpoint the SDK addressed", r["tlsDetails"])
		}
		extra, _ := r["additionalEventData"].(map[string]any)
		if id, _ := extra["keyMaterialId"].(string); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
			t.Errorf("record additionalEventData = %v, want a 64-hex keyMaterialId", r["additionalEventData"])
		}
		materialIDs = append(materialIDs, extra["keyMaterialId"])
	}
	if materialIDs[0] != materialIDs[1] {
		t.Errorf("keyMaterialId of two calls with one key = %v, want the same", materialIDs)
	}
	failed := c.lookup(t, byName("Decrypt"))
	if len(failed.Events) != 1 || rawRecord(t, failed.Events[0])["additionalEventData"] != nil {
		t.Errorf("failed Decrypt record = %v, want no additionalEventData", failed.Events)
	}
}
