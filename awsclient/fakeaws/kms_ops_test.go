package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
)

// errorMessage is the message of an AWS error, or "".
func errorMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

func TestReEncrypt(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	from := c.createKey(t, "alias/from")
	to := c.createKey(t, "alias/to")
	enc, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: from.KeyId, Plaintext: []byte("secret"), EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	newContext := map[string]string{"whatfor": "moved"}

	re, err := c.kms.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: workshopContext,
		DestinationKeyId: aws.String("alias/to"), DestinationEncryptionContext: newContext,
	})
	if err != nil {
		t.Fatalf("ReEncrypt: %v", err)
	}
	if aws.ToString(re.SourceKeyId) != aws.ToString(from.Arn) || aws.ToString(re.KeyId) != aws.ToString(to.Arn) {
		t.Errorf("ReEncrypt SourceKeyId, KeyId = %s, %s; want %s, %s", aws.ToString(re.SourceKeyId), aws.ToString(re.KeyId), aws.ToString(from.Arn), aws.ToString(to.Arn))
	}
	dec, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: newContext})
	if err != nil || string(dec.Plaintext) != "secret" || aws.ToString(dec.KeyId) != aws.ToString(to.Arn) {
		t.Errorf("Decrypt(re-encrypted) = %v, %v; want the plaintext, under %s", dec, err, aws.ToString(to.Arn))
	}
	if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: workshopContext}); errorCode(err) != "InvalidCiphertextException" {
		t.Errorf("Decrypt(re-encrypted, old context) = %v, want InvalidCiphertextException", err)
	}

	if _, err := c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: to.KeyId}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	tests := []struct {
		name string
		in   kms.ReEncryptInput
		want string
	}{
		{"wrong source context", kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: from.KeyId}, "InvalidCiphertextException"},
		{"source pinned to another key", kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: workshopContext, SourceKeyId: aws.String("alias/to"), DestinationKeyId: from.KeyId}, "IncorrectKeyException"},
		{"disabled destination", kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: workshopContext, DestinationKeyId: to.KeyId}, "DisabledException"},
		{"unknown destination", kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: workshopContext, DestinationKeyId: aws.String("alias/nope")}, "NotFoundException"},
	}
	for _, tt := range tests {
		if _, err := c.kms.ReEncrypt(ctx, &tt.in); errorCode(err) != tt.want {
			t.Errorf("ReEncrypt(%s) = %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestUpdateAlias(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	first := c.createKey(t, workshopAlias)
	second := c.createKey(t, "")
	c.clock.Advance(time.Hour)

	if _, err := c.kms.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: second.KeyId}); err != nil {
		t.Fatalf("UpdateAlias: %v", err)
	}
	d, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if err != nil || aws.ToString(d.KeyMetadata.KeyId) != aws.ToString(second.KeyId) {
		t.Fatalf("DescribeKey(alias) after UpdateAlias = %v, %v; want the second key", d, err)
	}
	list, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{KeyId: second.KeyId})
	if err != nil || len(list.Aliases) != 1 {
		t.Fatalf("ListAliases(second key) = %v, %v; want the alias", list, err)
	}
	if a := list.Aliases[0]; !aws.ToTime(a.LastUpdatedDate).Equal(start.Add(time.Hour)) || !aws.ToTime(a.CreationDate).Equal(start) {
		t.Errorf("alias dates = created %v, updated %v; want %v, %v", aws.ToTime(a.CreationDate), aws.ToTime(a.LastUpdatedDate), start, start.Add(time.Hour))
	}

	if _, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: first.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	tests := []struct {
		alias, target, want string
	}{
		{"alias/nope", aws.ToString(second.KeyId), "NotFoundException"},
		{workshopAlias, aws.ToString(first.KeyId), "KMSInvalidStateException"},
		{workshopAlias, "alias/other", "NotFoundException"},
		{"alias/aws/s3", aws.ToString(second.KeyId), "NotAuthorizedException"},
		{"not-an-alias", aws.ToString(second.KeyId), "ValidationException"},
	}
	for _, tt := range tests {
		if _, err := c.kms.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(tt.alias), TargetKeyId: aws.String(tt.target)}); errorCode(err) != tt.want {
			t.Errorf("UpdateAlias(%s -> %s) = %v, want %s", tt.alias, tt.target, err, tt.want)
		}
	}
}

func TestUntagResourceAndUpdateKeyDescription(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	if _, err := c.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: key.KeyId, Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("crypto")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.kms.UntagResource(ctx, &kms.UntagResourceInput{KeyId: key.KeyId, TagKeys: []string{"crypto-aws-encryption", "not-there"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
	if err != nil {
		t.Fatalf("ListResourceTags: %v", err)
	}
	var got []string
	for _, tag := range tags.Tags {
		got = append(got, aws.ToString(tag.TagKey)+"="+aws.ToString(tag.TagValue))
	}
	if diff := cmp.Diff([]string{"team=crypto"}, got); diff != "" {
		t.Errorf("tags after UntagResource (-want +got):\n%s", diff)
	}

	if _, err := c.kms.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: key.Arn, Description: aws.String("renamed")}); err != nil {
		t.Fatalf("UpdateKeyDescription: %v", err)
	}
	d, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
	if err != nil || aws.ToString(d.KeyMetadata.Description) != "renamed" {
		t.Errorf("DescribeKey after UpdateKeyDescription = %v, %v; want description %q", d, err, "renamed")
	}

	if _, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	if _, err := c.kms.UntagResource(ctx, &kms.UntagResourceInput{KeyId: key.KeyId, TagKeys: []string{"team"}}); errorCode(err) != "KMSInvalidStateException" {
		t.Errorf("UntagResource(pending deletion) = %v, want KMSInvalidStateException", err)
	}
	if _, err := c.kms.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: key.KeyId, Description: aws.String("x")}); errorCode(err) != "KMSInvalidStateException" {
		t.Errorf("UpdateKeyDescription(pending deletion) = %v, want KMSInvalidStateException", err)
	}
	if _, err := c.kms.UntagResource(ctx, &kms.UntagResourceInput{KeyId: aws.String("alias/x"), TagKeys: []string{"team"}}); errorCode(err) != "NotFoundException" {
		t.Errorf("UntagResource(alias) = %v, want NotFoundException: it takes key IDs only", err)
	}
}

func TestGenerateRandom(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	a, err := c.kms.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
	if err != nil {
		t.Fatalf("GenerateRandom: %v", err)
	}
	b, err := c.kms.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
	if err != nil {
		t.Fatalf("GenerateRandom: %v", err)
	}
	if len(a.Plaintext) != 32 || bytes.Equal(a.Plaintext, b.Plaintext) {
		t.Errorf("GenerateRandom(32) twice = %d and %d bytes, equal %v; want 32 different bytes each", len(a.Plaintext), len(b.Plaintext), bytes.Equal(a.Plaintext, b.Plaintext))
	}
	for _, n := range []int32{0, 1025} {
		_, err := c.kms.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(n)})
		if errorCode(err) != "ValidationException" || !strings.Contains(errorMessage(err), "'numberOfBytes'") {
			t.Errorf("GenerateRandom(%d) = %v, want a ValidationException about numberOfBytes", n, err)
		}
	}
}

func TestKeyPolicy(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")

	got, err := c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatalf("GetKeyPolicy: %v", err)
	}
	want := `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
	if diff := cmp.Diff(want, aws.ToString(got.Policy)); diff != "" || aws.ToString(got.PolicyName) != "default" {
		t.Errorf("GetKeyPolicy = name %q, policy (-want +got):\n%s", aws.ToString(got.PolicyName), diff)
	}
	names, err := c.kms.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: key.Arn})
	if err != nil || !cmp.Equal(names.PolicyNames, []string{"default"}) || names.Truncated {
		t.Errorf("ListKeyPolicies = %v, %v; want [default]", names, err)
	}
	if _, err := c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: key.KeyId, PolicyName: aws.String("other")}); errorCode(err) != "NotFoundException" {
		t.Errorf("GetKeyPolicy(other) = %v, want NotFoundException", err)
	}

	custom := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
	made, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(custom)})
	if err != nil {
		t.Fatalf("CreateKey(policy): %v", err)
	}
	got, err = c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: made.KeyMetadata.KeyId})
	if err != nil || aws.ToString(got.Policy) != custom {
		t.Errorf("GetKeyPolicy(key made with a policy) = %v, %v; want that policy", got, err)
	}

	before, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatalf("ListKeys: %v", err)
	}
	for _, policy := range []string{"not json", "[1, 2]", `{"Statement": `} {
		if _, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policy)}); errorCode(err) != "MalformedPolicyDocumentException" {
			t.Errorf("CreateKey(Policy %q) = %v, want MalformedPolicyDocumentException", policy, err)
		}
	}
	after, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(after.Keys) != len(before.Keys) {
		t.Errorf("CreateKey with a malformed policy made a key: %d keys before, %d after (%v)", len(before.Keys), len(after.Keys), err)
	}
}

func TestKeyRotation(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")

	status := func() *kms.GetKeyRotationStatusOutput {
		t.Helper()
		out, err := c.kms.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyId})
		if err != nil {
			t.Fatalf("GetKeyRotationStatus: %v", err)
		}
		return out
	}
	if s := status(); s.KeyRotationEnabled || aws.ToString(s.KeyId) != aws.ToString(key.Arn) {
		t.Errorf("GetKeyRotationStatus(new key) = enabled %v, key %s; want false, %s", s.KeyRotationEnabled, aws.ToString(s.KeyId), aws.ToString(key.Arn))
	}
	if _, err := c.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyId, RotationPeriodInDays: aws.Int32(180)}); err != nil {
		t.Fatalf("EnableKeyRotation: %v", err)
	}
	s := status()
	if !s.KeyRotationEnabled || aws.ToInt32(s.RotationPeriodInDays) != 180 || !aws.ToTime(s.NextRotationDate).Equal(start.Add(180*24*time.Hour)) {
		t.Errorf("GetKeyRotationStatus after EnableKeyRotation(180) = enabled %v, period %d, next %v; want true, 180, %v",
			s.KeyRotationEnabled, aws.ToInt32(s.RotationPeriodInDays), aws.ToTime(s.NextRotationDate), start.Add(180*24*time.Hour))
	}
	if _, err := c.kms.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: key.KeyId}); err != nil {
		t.Fatalf("DisableKeyRotation: %v", err)
	}
	if s := status(); s.KeyRotationEnabled {
		t.Errorf("GetKeyRotationStatus after DisableKeyRotation = enabled")
	}

	for _, days := range []int32{89, 2561} {
		if _, err := c.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyId, RotationPeriodInDays: aws.Int32(days)}); errorCode(err) != "ValidationException" {
			t.Errorf("EnableKeyRotation(%d days) = %v, want ValidationException", days, err)
		}
	}
	if _, err := c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: key.KeyId}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	if _, err := c.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyId}); errorCode(err) != "KMSInvalidStateException" {
		t.Errorf("EnableKeyRotation(disabled key) = %v, want KMSInvalidStateException", err)
	}
}

func TestListGrantsIsEmpty(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	out, err := c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId})
	if err != nil || out.Grants == nil || len(out.Grants) != 0 || out.Truncated {
		t.Errorf("ListGrants = %+v, %v; want an empty list", out, err)
	}
	if _, err := c.kms.ListGrants(ctx, &kms.ListGrantsInput{KeyId: aws.String("0b0e7a2c-5d3a-4e53-9a39-1f7b8e2a6c11")}); errorCode(err) != "NotFoundException" {
		t.Errorf("ListGrants(unknown key) = %v, want NotFoundException", err)
	}
}

func TestNewKeySettingsSurviveANewServer(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	c := newClients(t, fakeaws.Options{StateFile: file})
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[]}`
	made, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policy)})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if _, err := c.kms.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: made.KeyMetadata.KeyId}); err != nil {
		t.Fatalf("EnableKeyRotation: %v", err)
	}
	if _, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")}); err != nil {
		t.Fatalf("DescribeKey(alias/aws/ebs): %v", err)
	}

	again := newClients(t, fakeaws.Options{StateFile: file})
	got, err := again.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: made.KeyMetadata.KeyId})
	if err != nil || aws.ToString(got.Policy) != policy {
		t.Errorf("GetKeyPolicy in a new server = %v, %v; want the key's policy", got, err)
	}
	rot, err := again.kms.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: made.KeyMetadata.KeyId})
	if err != nil || !rot.KeyRotationEnabled {
		t.Errorf("GetKeyRotationStatus in a new server = %v, %v; want enabled", rot, err)
	}
	ebs, err := again.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	if err != nil || ebs.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
		t.Errorf("DescribeKey(alias/aws/ebs) in a new server = %v, %v; want the AWS managed key", ebs, err)
	}
}

func TestUnknownOperation(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	_, err := c.kms.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key.KeyId, GranteePrincipal: aws.String("arn:aws:iam::111122223333:role/x"), Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
	var re interface{ HTTPStatusCode() int }
	if errorCode(err) != "UnknownOperationException" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("CreateGrant = %v, want UnknownOperationException with HTTP 400", err)
	}
	if msg := errorMessage(err); !strings.Contains(msg, "CreateGrant") || !strings.Contains(msg, "offline fake") {
		t.Errorf("CreateGrant message = %q, want one that names the operation and says the fake does not offer it", msg)
	}

	// The AWS CLI names CloudTrail operations with the long prefix; a
	// service the fake does not have at all is named too.
	endpoint := fakeawstest.Serve(t, c.srv)
	for _, target := range []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails", "TrentService.PutKeyPolicy", "DynamoDB_20120810.ListTables"} {
		req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		op := target[strings.LastIndex(target, ".")+1:]
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(body, &e) != nil || e.Type != "UnknownOperationException" || !strings.Contains(e.Message, op) {
			t.Errorf("POST %s = %d %s, want 400 UnknownOperationException naming %s", target, resp.StatusCode, body, op)
		}
	}
}
