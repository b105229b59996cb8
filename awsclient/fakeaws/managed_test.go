package fakeaws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
)

func TestAWSManagedAliases(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	predefined := func() map[string]types.AliasListEntry {
		t.Helper()
		out, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{Limit: aws.Int32(100)})
		if err != nil {
			t.Fatalf("ListAliases: %v", err)
		}
		got := map[string]types.AliasListEntry{}
		for _, a := range out.Aliases {
			got[aws.ToString(a.AliasName)] = a
		}
		return got
	}

	before := predefined()
	for _, name := range []string{"alias/aws/s3", "alias/aws/ebs", "alias/aws/rds", "alias/aws/lambda"} {
		a, ok := before[name]
		if !ok {
			t.Errorf("ListAliases of a new account has no %s", name)
			continue
		}
		if a.TargetKeyId != nil || a.CreationDate != nil || aws.ToString(a.AliasArn) != "arn:aws:kms:us-east-1:111122223333:"+name {
			t.Errorf("%s before use = target %v, created %v, ARN %s; want no target and no date", name, aws.ToString(a.TargetKeyId), a.CreationDate, aws.ToString(a.AliasArn))
		}
	}

	d, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatalf("DescribeKey(alias/aws/s3) = %v, want the AWS managed key, created on first use", err)
	}
	m := d.KeyMetadata
	if m.KeyManager != types.KeyManagerTypeAws || aws.ToString(m.Description) != "Default key that protects my S3 objects when no other key is defined" ||
		m.KeyState != types.KeyStateEnabled || m.KeySpec != types.KeySpecSymmetricDefault || !aws.ToTime(m.CreationDate).Equal(start) {
		t.Errorf("AWS managed key = manager %s, %q, %s, %s, created %v; want an enabled symmetric AWS key for S3",
			m.KeyManager, aws.ToString(m.Description), m.KeyState, m.KeySpec, aws.ToTime(m.CreationDate))
	}
	again, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:alias/aws/s3")})
	if err != nil || aws.ToString(again.KeyMetadata.KeyId) != aws.ToString(m.KeyId) {
		t.Errorf("DescribeKey(alias/aws/s3 ARN) = %v, %v; want the same key", again, err)
	}
	if a := predefined()["alias/aws/s3"]; aws.ToString(a.TargetKeyId) != aws.ToString(m.KeyId) || a.CreationDate == nil {
		t.Errorf("alias/aws/s3 after use = target %s, created %v; want the new key", aws.ToString(a.TargetKeyId), a.CreationDate)
	}

	rot, err := c.kms.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: m.KeyId})
	if err != nil || !rot.KeyRotationEnabled || aws.ToInt32(rot.RotationPeriodInDays) != 365 {
		t.Errorf("GetKeyRotationStatus(AWS managed key) = %v, %v; want yearly rotation", rot, err)
	}
	policy, err := c.kms.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: m.KeyId})
	if err != nil || !strings.Contains(aws.ToString(policy.Policy), `"kms:ViaService" : "s3.us-east-1.amazonaws.com"`) {
		t.Errorf("GetKeyPolicy(AWS managed key) = %v, %v; want use through S3 only", policy, err)
	}

	// The account may read an AWS managed key, not use it directly or manage it.
	refused := []struct {
		name string
		call func() error
		want string
	}{
		{"Encrypt", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/aws/s3"), Plaintext: []byte("x")})
			return err
		}, "AccessDeniedException"},
		{"GenerateDataKey (key not yet created)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/aws/ebs"), KeySpec: types.DataKeySpecAes256})
			return err
		}, "AccessDeniedException"},
		{"ScheduleKeyDeletion", func() error {
			_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: m.KeyId})
			return err
		}, "AccessDeniedException"},
		{"DisableKey", func() error {
			_, err := c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: m.KeyId})
			return err
		}, "AccessDeniedException"},
		{"DisableKeyRotation", func() error {
			_, err := c.kms.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: m.KeyId})
			return err
		}, "AccessDeniedException"},
		{"CreateAlias to it", func() error {
			_, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/mine"), TargetKeyId: m.KeyId})
			return err
		}, "AccessDeniedException"},
		{"DeleteAlias alias/aws/s3", func() error {
			_, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/aws/s3")})
			return err
		}, "NotAuthorizedException"},
		{"DescribeKey of an alias AWS does not predefine", func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/not-a-service")})
			return err
		}, "NotFoundException"},
	}
	for _, tt := range refused {
		err := tt.call()
		if errorCode(err) != tt.want {
			t.Errorf("%s on an AWS managed key = %v, want %s", tt.name, err, tt.want)
		}
		if tt.want == "AccessDeniedException" && !strings.Contains(errorMessage(err), "arn:aws:iam::111122223333:user/workshop-learner is not authorized to perform: kms:") {
			t.Errorf("%s message = %q, want IAM's wording", tt.name, errorMessage(err))
		}
	}
	if d, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: m.KeyId}); err != nil || d.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Errorf("AWS managed key after refused changes = %v, %v; want it still enabled", d, err)
	}
}
