package fakeaws_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
)

const workshopAlias = "alias/kms_key_cse_usecase_3"

var workshopContext = map[string]string{"whatfor": "usecase-3-cse"}

// createKey creates a key with the workshop's alias and returns its metadata.
func (c *clients) createKey(t *testing.T, alias string) *types.KeyMetadata {
	t.Helper()
	ctx := context.Background()
	out, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("Master key to encrypt objects written to S3"),
		Tags:        []types.Tag{{TagKey: aws.String("crypto-aws-encryption"), TagValue: aws.String("builder-aws-session")}},
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	if alias != "" {
		if _, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId}); err != nil {
			t.Fatalf("CreateAlias(%s): %v", alias, err)
		}
	}
	return out.KeyMetadata
}

func TestWorkshopSequence(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()

	key := c.createKey(t, workshopAlias)
	wantARN := "arn:aws:kms:us-east-1:111122223333:key/" + aws.ToString(key.KeyId)
	if got := aws.ToString(key.Arn); got != wantARN {
		t.Errorf("CreateKey Arn = %q, want %q", got, wantARN)
	}
	if key.KeyState != types.KeyStateEnabled || !key.Enabled {
		t.Errorf("CreateKey state = %s, enabled %v; want Enabled, true", key.KeyState, key.Enabled)
	}
	if key.KeySpec != types.KeySpecSymmetricDefault || key.KeyUsage != types.KeyUsageTypeEncryptDecrypt ||
		key.Origin != types.OriginTypeAwsKms || key.KeyManager != types.KeyManagerTypeCustomer {
		t.Errorf("CreateKey metadata = spec %s usage %s origin %s manager %s, want a symmetric customer key",
			key.KeySpec, key.KeyUsage, key.Origin, key.KeyManager)
	}
	if got := aws.ToTime(key.CreationDate); !got.Equal(start) {
		t.Errorf("CreateKey CreationDate = %v, want %v", got, start)
	}

	tags, err := c.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
	if err != nil {
		t.Fatalf("ListResourceTags: %v", err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].TagKey) != "crypto-aws-encryption" || aws.ToString(tags.Tags[0].TagValue) != "builder-aws-session" {
		t.Errorf("ListResourceTags = %+v, want the one workshop tag", tags.Tags)
	}

	gen, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(workshopAlias),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: workshopContext,
	})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if len(gen.Plaintext) != 32 {
		t.Errorf("GenerateDataKey data key is %d bytes, want 32", len(gen.Plaintext))
	}
	if got := aws.ToString(gen.KeyId); got != wantARN {
		t.Errorf("GenerateDataKey KeyId = %q, want the key ARN %q", got, wantARN)
	}
	if bytes.Contains(gen.CiphertextBlob, gen.Plaintext) {
		t.Errorf("GenerateDataKey encrypted data key contains the data key")
	}

	for _, keyID := range []string{workshopAlias, "arn:aws:kms:us-east-1:111122223333:" + workshopAlias, wantARN, aws.ToString(key.KeyId), ""} {
		in := &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext}
		if keyID != "" {
			in.KeyId = aws.String(keyID)
		}
		out, err := c.kms.Decrypt(ctx, in)
		if err != nil {
			t.Errorf("Decrypt(KeyId %q) = %v, want the data key", keyID, err)
			continue
		}
		if !bytes.Equal(out.Plaintext, gen.Plaintext) {
			t.Errorf("Decrypt(KeyId %q) returned another data key", keyID)
		}
		if aws.ToString(out.KeyId) != wantARN || out.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
			t.Errorf("Decrypt(KeyId %q) KeyId, algorithm = %q, %s; want %q, SYMMETRIC_DEFAULT", keyID, aws.ToString(out.KeyId), out.EncryptionAlgorithm, wantARN)
		}
	}

	sched, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	if want := start.AddDate(0, 0, 7); !aws.ToTime(sched.DeletionDate).Equal(want) || sched.KeyState != types.KeyStatePendingDeletion || aws.ToInt32(sched.PendingWindowInDays) != 7 {
		t.Errorf("ScheduleKeyDeletion = %v %s %d, want %v PendingDeletion 7", aws.ToTime(sched.DeletionDate), sched.KeyState, aws.ToInt32(sched.PendingWindowInDays), want)
	}
	desc, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if err != nil {
		t.Fatalf("DescribeKey after ScheduleKeyDeletion: %v", err)
	}
	if desc.KeyMetadata.KeyState != types.KeyStatePendingDeletion || desc.KeyMetadata.Enabled || desc.KeyMetadata.DeletionDate == nil {
		t.Errorf("DescribeKey after ScheduleKeyDeletion = %s, enabled %v, deletion %v; want PendingDeletion with a date", desc.KeyMetadata.KeyState, desc.KeyMetadata.Enabled, desc.KeyMetadata.DeletionDate)
	}

	if _, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(workshopAlias)}); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	_, err = c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	var notFound *types.NotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("DescribeKey(deleted alias) = %v, want NotFoundException", err)
	}
	// The workshop can run again: the alias name is free.
	c.createKey(t, workshopAlias)
}
