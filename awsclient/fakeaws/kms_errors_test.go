package fakeaws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient/fakeaws"
)

// keyStates makes one key in each state, with an alias each, and returns a
// blob each key encrypted before it left the Enabled state.
type keyStates struct {
	enabled, disabled, pending             *types.KeyMetadata
	enabledBlob, disabledBlob, pendingBlob []byte
}

func (c *clients) keyStates(t *testing.T) keyStates {
	t.Helper()
	ctx := context.Background()
	var ks keyStates
	for _, k := range []struct {
		meta  **types.KeyMetadata
		blob  *[]byte
		alias string
	}{{&ks.enabled, &ks.enabledBlob, "alias/enabled"}, {&ks.disabled, &ks.disabledBlob, "alias/disabled"}, {&ks.pending, &ks.pendingBlob, "alias/pending"}} {
		*k.meta = c.createKey(t, k.alias)
		out, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: (*k.meta).KeyId, Plaintext: []byte("secret"), EncryptionContext: workshopContext})
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		*k.blob = out.CiphertextBlob
	}
	if _, err := c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: ks.disabled.KeyId}); err != nil {
		t.Fatalf("DisableKey: %v", err)
	}
	if _, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ks.pending.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	return ks
}

func TestKMSErrors(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ks := c.keyStates(t)
	ctx := context.Background()
	const unknownID = "0b0e7a2c-5d3a-4e53-9a39-1f7b8e2a6c11"
	tampered := bytes.Clone(ks.enabledBlob)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"DescribeKey(unknown key ID)", func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(unknownID)})
			return err
		}, "NotFoundException"},
		{"DescribeKey(unknown key ARN)", func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:key/" + unknownID)})
			return err
		}, "NotFoundException"},
		{"DescribeKey(unknown alias)", func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
			return err
		}, "NotFoundException"},
		{"DescribeKey(malformed key ID)", func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("not-a-key")})
			return err
		}, "NotFoundException"},
		{"ScheduleKeyDeletion(alias)", func() error {
			_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String("alias/enabled"), PendingWindowInDays: aws.Int32(7)})
			return err
		}, "NotFoundException"},
		{"DisableKey(alias)", func() error {
			_, err := c.kms.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/enabled")})
			return err
		}, "NotFoundException"},
		{"TagResource(alias)", func() error {
			_, err := c.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String("alias/enabled"), Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		}, "NotFoundException"},
		{"DeleteAlias(unknown)", func() error {
			_, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/nope")})
			return err
		}, "NotFoundException"},
		{"CreateAlias(taken)", func() error {
			_, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/enabled"), TargetKeyId: ks.disabled.KeyId})
			return err
		}, "AlreadyExistsException"},
		{"CreateAlias(no alias/ prefix)", func() error {
			_, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("kms_key_cse_usecase_3"), TargetKeyId: ks.enabled.KeyId})
			return err
		}, "ValidationException"},
		{"CreateAlias(unknown key)", func() error {
			_, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/new"), TargetKeyId: aws.String(unknownID)})
			return err
		}, "NotFoundException"},
		{"GenerateDataKey(KeySpec and NumberOfBytes)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: ks.enabled.KeyId, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
			return err
		}, "ValidationException"},
		{"GenerateDataKey(neither KeySpec nor NumberOfBytes)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: ks.enabled.KeyId})
			return err
		}, "ValidationException"},
		{"Encrypt(4097 bytes)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: ks.enabled.KeyId, Plaintext: make([]byte, 4097)})
			return err
		}, "ValidationException"},
		{"ScheduleKeyDeletion(6 days)", func() error {
			_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ks.enabled.KeyId, PendingWindowInDays: aws.Int32(6)})
			return err
		}, "ValidationException"},
		{"ScheduleKeyDeletion(31 days)", func() error {
			_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ks.enabled.KeyId, PendingWindowInDays: aws.Int32(31)})
			return err
		}, "ValidationException"},
		{"ScheduleKeyDeletion(already pending)", func() error {
			_, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ks.pending.KeyId, PendingWindowInDays: aws.Int32(7)})
			return err
		}, "KMSInvalidStateException"},
		{"CancelKeyDeletion(not pending)", func() error {
			_, err := c.kms.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: ks.enabled.KeyId})
			return err
		}, "KMSInvalidStateException"},
		{"EnableKey(pending deletion)", func() error {
			_, err := c.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: ks.pending.KeyId})
			return err
		}, "KMSInvalidStateException"},
		{"Decrypt(other encryption context)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: map[string]string{"whatfor": "usecase-3-CSE"}})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt(no encryption context)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt(extra encryption context pair)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: map[string]string{"whatfor": "usecase-3-cse", "extra": ""}})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt(tampered blob)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: tampered, EncryptionContext: workshopContext})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt(garbage)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("not a ciphertext blob")})
			return err
		}, "InvalidCiphertextException"},
		{"Decrypt(KeyId of another key)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: workshopContext, KeyId: ks.disabled.KeyId})
			return err
		}, "IncorrectKeyException"},
		{"Decrypt(alias of another key)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: workshopContext, KeyId: aws.String("alias/pending")})
			return err
		}, "IncorrectKeyException"},
		{"Encrypt(disabled key)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: ks.disabled.KeyId, Plaintext: []byte("x")})
			return err
		}, "DisabledException"},
		{"GenerateDataKey(disabled key)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/disabled"), KeySpec: types.DataKeySpecAes256})
			return err
		}, "DisabledException"},
		{"Decrypt(disabled key)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.disabledBlob, EncryptionContext: workshopContext})
			return err
		}, "DisabledException"},
		{"Encrypt(pending deletion)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: ks.pending.KeyId, Plaintext: []byte("x")})
			return err
		}, "KMSInvalidStateException"},
		{"GenerateDataKey(pending deletion)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/pending"), KeySpec: types.DataKeySpecAes256})
			return err
		}, "KMSInvalidStateException"},
		{"Decrypt(pending deletion)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.pendingBlob, EncryptionContext: workshopContext})
			return err
		}, "KMSInvalidStateException"},
		{"ListKeys(Limit 0)", func() error {
			_, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(0)})
			return err
		}, "ValidationException"},
		{"ListKeys(bad Marker)", func() error {
			_, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("%%%")})
			return err
		}, "InvalidMarkerException"},
	}
	for _, tt := range tests {
		err := tt.call()
		if got := errorCode(err); got != tt.want {
			t.Errorf("%s = %v, want %s", tt.name, err, tt.want)
		}
	}
}

// The typed errors are what callers branch on, so they must come out typed.
func TestKMSErrorsAreTyped(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ks := c.keyStates(t)
	ctx := context.Background()

	_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
	var notFound *types.NotFoundException
	if !errors.As(err, &notFound) || !strings.Contains(notFound.ErrorMessage(), "alias/nope") {
		t.Errorf("DescribeKey(alias/nope) = %v, want NotFoundException naming the alias", err)
	}
	_, err = c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: map[string]string{"WHATFOR": "usecase-3-cse"}})
	var invalid *types.InvalidCiphertextException
	if !errors.As(err, &invalid) {
		t.Errorf("Decrypt(context key in upper case) = %v, want InvalidCiphertextException", err)
	}
	_, err = c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.enabledBlob, EncryptionContext: workshopContext, KeyId: ks.pending.Arn})
	var incorrect *types.IncorrectKeyException
	if !errors.As(err, &incorrect) {
		t.Errorf("Decrypt(KeyId of another key) = %v, want IncorrectKeyException", err)
	}
	_, err = c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: ks.disabled.Arn, Plaintext: []byte("x")})
	var disabled *types.DisabledException
	if !errors.As(err, &disabled) || !strings.Contains(disabled.ErrorMessage(), aws.ToString(ks.disabled.Arn)) {
		t.Errorf("Encrypt(disabled key) = %v, want DisabledException naming the key", err)
	}
	_, err = c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: ks.pending.KeyId, NumberOfBytes: aws.Int32(32)})
	var invalidState *types.KMSInvalidStateException
	if !errors.As(err, &invalidState) || !strings.Contains(invalidState.ErrorMessage(), "pending deletion") {
		t.Errorf("GenerateDataKey(pending deletion) = %v, want KMSInvalidStateException saying pending deletion", err)
	}
	_, err = c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/enabled"), TargetKeyId: ks.enabled.KeyId})
	var exists *types.AlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("CreateAlias(taken) = %v, want AlreadyExistsException", err)
	}
}

func TestEncryptionIsNotDeterministic(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	key := c.createKey(t, "")
	ctx := context.Background()
	plaintext := []byte("the same plaintext twice")
	var blobs [2][]byte
	for i := range blobs {
		out, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: plaintext, EncryptionContext: workshopContext})
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		blobs[i] = out.CiphertextBlob
		if bytes.Contains(out.CiphertextBlob, plaintext) {
			t.Errorf("Encrypt blob contains the plaintext")
		}
		dec, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: workshopContext})
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(p)) = %v", err)
		}
		if !bytes.Equal(dec.Plaintext, plaintext) {
			t.Errorf("Decrypt(Encrypt(p)) = %q, want %q", dec.Plaintext, plaintext)
		}
	}
	if bytes.Equal(blobs[0], blobs[1]) {
		t.Errorf("two Encrypts of the same plaintext gave the same blob")
	}

	var keys [2][]byte
	for i := range keys {
		out, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, NumberOfBytes: aws.Int32(16)})
		if err != nil {
			t.Fatalf("GenerateDataKey: %v", err)
		}
		if len(out.Plaintext) != 16 {
			t.Errorf("GenerateDataKey(NumberOfBytes 16) = %d bytes", len(out.Plaintext))
		}
		keys[i] = out.Plaintext
	}
	if bytes.Equal(keys[0], keys[1]) {
		t.Errorf("two GenerateDataKey calls gave the same data key")
	}
}

func TestKeyStateChanges(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ks := c.keyStates(t)
	ctx := context.Background()

	state := func(key *types.KeyMetadata) types.KeyState {
		t.Helper()
		out, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
		if err != nil {
			t.Fatalf("DescribeKey: %v", err)
		}
		return out.KeyMetadata.KeyState
	}

	if _, err := c.kms.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: ks.pending.Arn}); err != nil {
		t.Fatalf("CancelKeyDeletion: %v", err)
	}
	if got := state(ks.pending); got != types.KeyStateDisabled {
		t.Errorf("state after CancelKeyDeletion = %s, want Disabled", got)
	}
	if _, err := c.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: ks.pending.KeyId}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ks.pendingBlob, EncryptionContext: workshopContext}); err != nil {
		t.Errorf("Decrypt after CancelKeyDeletion and EnableKey = %v, want the plaintext", err)
	}
	if _, err := c.kms.EnableKey(ctx, &kms.EnableKeyInput{KeyId: ks.disabled.KeyId}); err != nil {
		t.Fatalf("EnableKey: %v", err)
	}
	if got := state(ks.disabled); got != types.KeyStateEnabled {
		t.Errorf("state after EnableKey = %s, want Enabled", got)
	}

	// When the waiting period is over, the key and its alias are gone.
	if _, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: ks.enabled.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("ScheduleKeyDeletion: %v", err)
	}
	c.clock.Advance(7*24*time.Hour - time.Second)
	if got := state(ks.enabled); got != types.KeyStatePendingDeletion {
		t.Errorf("state a second before the deletion date = %s, want PendingDeletion", got)
	}
	c.clock.Advance(time.Second)
	_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ks.enabled.KeyId})
	if got := errorCode(err); got != "NotFoundException" {
		t.Errorf("DescribeKey after the deletion date = %v, want NotFoundException", err)
	}
	if _, err := c.kms.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/enabled")}); errorCode(err) != "NotFoundException" {
		t.Errorf("DeleteAlias(alias of a deleted key) = %v, want NotFoundException", err)
	}
}

func TestListPaging(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 5 {
		key := c.createKey(t, fmt.Sprintf("alias/key-%d", i))
		want[aws.ToString(key.KeyId)] = true
		c.clock.Advance(time.Second)
	}

	got := map[string]bool{}
	pages := 0
	for p := kms.NewListKeysPaginator(c.kms, &kms.ListKeysInput{Limit: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListKeys page %d: %v", pages, err)
		}
		pages++
		for _, k := range out.Keys {
			if got[aws.ToString(k.KeyId)] {
				t.Errorf("ListKeys returned %s twice", aws.ToString(k.KeyId))
			}
			got[aws.ToString(k.KeyId)] = true
			if !strings.HasSuffix(aws.ToString(k.KeyArn), aws.ToString(k.KeyId)) {
				t.Errorf("ListKeys KeyArn %s does not end in KeyId", aws.ToString(k.KeyArn))
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("ListKeys with Limit 2 over 5 keys: %d pages, keys (-want +got):\n%s", pages, diff)
	}

	var aliases []string
	for p := kms.NewListAliasesPaginator(c.kms, &kms.ListAliasesInput{Limit: aws.Int32(3)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAliases: %v", err)
		}
		for _, a := range out.Aliases {
			if strings.HasPrefix(aws.ToString(a.AliasName), "alias/aws/") {
				continue // the predefined aliases of AWS managed keys; see TestAWSManagedAliases
			}
			aliases = append(aliases, aws.ToString(a.AliasName))
			if !want[aws.ToString(a.TargetKeyId)] {
				t.Errorf("ListAliases %s targets unknown key %s", aws.ToString(a.AliasName), aws.ToString(a.TargetKeyId))
			}
		}
	}
	wantAliases := []string{"alias/key-0", "alias/key-1", "alias/key-2", "alias/key-3", "alias/key-4"}
	if diff := cmp.Diff(wantAliases, aliases); diff != "" {
		t.Errorf("ListAliases (-want +got):\n%s", diff)
	}

	key := c.createKey(t, "")
	var tags []types.Tag
	for i := range 3 {
		tags = append(tags, types.Tag{TagKey: aws.String(fmt.Sprintf("k%d", i)), TagValue: aws.String(fmt.Sprintf("v%d", i))})
	}
	if _, err := c.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: key.Arn, Tags: tags}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	var gotTags []string
	for p := kms.NewListResourceTagsPaginator(c.kms, &kms.ListResourceTagsInput{KeyId: key.KeyId, Limit: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListResourceTags: %v", err)
		}
		for _, tg := range out.Tags {
			gotTags = append(gotTags, aws.ToString(tg.TagKey)+"="+aws.ToString(tg.TagValue))
		}
	}
	wantTags := []string{"crypto-aws-encryption=builder-aws-session", "k0=v0", "k1=v1", "k2=v2"}
	if diff := cmp.Diff(wantTags, gotTags); diff != "" {
		t.Errorf("ListResourceTags (-want +got):\n%s", diff)
	}
}
