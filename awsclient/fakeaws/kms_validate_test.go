package fakeaws_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go/middleware"

	"cse-workshop/awsclient/fakeaws"
)

// withoutClientValidation turns off the SDK's own check of required
// members, so that a request reaches the fake as a client that does not
// check (curl, an older SDK) would send it.
func withoutClientValidation(o *kms.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		_, err := stack.Initialize.Remove("OperationInputValidation")
		return err
	})
}

func TestInvalidEnumValues(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	keySpecs := "[RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519, ML_KEM_512, ML_KEM_768, ML_KEM_1024]"

	tests := []struct {
		name        string
		call        func() error
		code, exact string // exact: the whole message, when set
		contains    string
	}{
		{"CreateKey(KeySpec AES_256)", func() error {
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "AES_256"})
			return err
		}, "ValidationException", "1 validation error detected: Value 'AES_256' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: " + keySpecs, ""},
		{"CreateKey(Origin and KeyUsage invalid)", func() error {
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Origin: "SOMEWHERE", KeyUsage: "ENCRYPT"})
			return err
		}, "ValidationException", "", "2 validation errors detected: Value 'ENCRYPT' at 'keyUsage' failed to satisfy constraint: Member must satisfy enum value set: [SIGN_VERIFY, ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT, ENCAPSULATE_DECAPSULATE]; Value 'SOMEWHERE' at 'origin'"},
		{"CreateKey(CustomerMasterKeySpec ML_DSA_44)", func() error {
			//lint:ignore SA1019 older clients still send the deprecated field, and the fake checks it
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{CustomerMasterKeySpec: "ML_DSA_44"})
			return err
		}, "ValidationException", "", "at 'customerMasterKeySpec' failed to satisfy constraint"},
		{"GenerateDataKey(KeySpec AES_512)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, KeySpec: "AES_512"})
			return err
		}, "ValidationException", "1 validation error detected: Value 'AES_512' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", ""},
		{"Encrypt(EncryptionAlgorithm AES_GCM)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), EncryptionAlgorithm: "AES_GCM"})
			return err
		}, "ValidationException", "1 validation error detected: Value 'AES_GCM' at 'encryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]", ""},
		{"Decrypt(EncryptionAlgorithm rsa)", func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("xxxx"), EncryptionAlgorithm: "rsa"})
			return err
		}, "ValidationException", "", "Value 'rsa' at 'encryptionAlgorithm'"},

		// Values the model allows but this fake does not support.
		{"CreateKey(KeySpec RSA_2048)", func() error {
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
			return err
		}, "UnsupportedOperationException", "", "RSA_2048"},
		{"CreateKey(Origin EXTERNAL)", func() error {
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Origin: types.OriginTypeExternal})
			return err
		}, "UnsupportedOperationException", "", "EXTERNAL"},
		{"Encrypt(EncryptionAlgorithm RSAES_OAEP_SHA_256)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			return err
		}, "InvalidKeyUsageException", "", "RSAES_OAEP_SHA_256"},
	}
	for _, tt := range tests {
		err := tt.call()
		msg := errorMessage(err)
		switch {
		case errorCode(err) != tt.code:
			t.Errorf("%s = %v, want %s", tt.name, err, tt.code)
		case tt.exact != "" && msg != tt.exact:
			t.Errorf("%s message:\n got %q\nwant %q", tt.name, msg, tt.exact)
		case !strings.Contains(msg, tt.contains):
			t.Errorf("%s message = %q, want it to contain %q", tt.name, msg, tt.contains)
		}
	}
}

func TestRequestLimits(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	raw := kms.NewFromConfig(sdkConfig(c.srv), withoutClientValidation)
	key := c.createKey(t, "")

	manyTags := func(n int) []types.Tag {
		var tags []types.Tag
		for i := range n {
			tags = append(tags, types.Tag{TagKey: aws.String(fmt.Sprintf("k%02d", i)), TagValue: aws.String("v")})
		}
		return tags
	}
	tokens := make([]string, 11)
	for i := range tokens {
		tokens[i] = "token"
	}

	tests := []struct {
		name           string
		call           func() error
		code, contains string
	}{
		{"CreateKey(tag without TagValue)", func() error {
			_, err := raw.CreateKey(ctx, &kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("k")}}})
			return err
		}, "ValidationException", "1 validation error detected: Value null at 'tags.1.member.tagValue' failed to satisfy constraint: Member must not be null"},
		{"TagResource(tag without TagValue)", func() error {
			_, err := raw.TagResource(ctx, &kms.TagResourceInput{KeyId: key.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("")}, {TagKey: aws.String("k")}}})
			return err
		}, "ValidationException", "Value null at 'tags.2.member.tagValue'"},
		{"CreateKey(51 tags)", func() error {
			_, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{Tags: manyTags(51)})
			return err
		}, "TagException", "50"},
		{"TagResource(to 51 tags)", func() error {
			_, err := c.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: key.KeyId, Tags: manyTags(50)}) // plus the workshop's tag
			return err
		}, "TagException", "51"},
		{"Encrypt(11 GrantTokens)", func() error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), GrantTokens: tokens})
			return err
		}, "ValidationException", "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"GenerateDataKey(11 GrantTokens)", func() error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, NumberOfBytes: aws.Int32(32), GrantTokens: tokens})
			return err
		}, "ValidationException", "'grantTokens'"},
		{"ListAliases(Limit 0)", func() error {
			_, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{Limit: aws.Int32(0)})
			return err
		}, "ValidationException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListAliases(Limit 101)", func() error {
			_, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{Limit: aws.Int32(101)})
			return err
		}, "ValidationException", "Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"},
	}
	for _, tt := range tests {
		err := tt.call()
		if errorCode(err) != tt.code || !strings.Contains(errorMessage(err), tt.contains) {
			t.Errorf("%s = %v, want %s saying %q", tt.name, err, tt.code, tt.contains)
		}
	}

	// No tag of a refused request was kept.
	tags, err := c.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("ListResourceTags after refused TagResource = %v, %v; want only the workshop's tag", tags, err)
	}
	if _, err := c.kms.TagResource(ctx, &kms.TagResourceInput{KeyId: key.KeyId, Tags: manyTags(49)}); err != nil {
		t.Errorf("TagResource to exactly 50 tags = %v, want success", err)
	}
}

func TestListAliasesPagesByFifty(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ctx := context.Background()
	key := c.createKey(t, "")
	for i := range 45 {
		if _, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(fmt.Sprintf("alias/a%02d", i)), TargetKeyId: key.KeyId}); err != nil {
			t.Fatalf("CreateAlias: %v", err)
		}
	}
	// 45 aliases and the predefined AWS managed ones.
	first, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil || len(first.Aliases) != 50 || !first.Truncated || first.NextMarker == nil {
		t.Fatalf("ListAliases() = %d aliases, truncated %v, %v; want a first page of 50", len(first.Aliases), first.Truncated, err)
	}
	rest, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{Marker: first.NextMarker, Limit: aws.Int32(100)})
	if err != nil || rest.Truncated || len(first.Aliases)+len(rest.Aliases) != 55 {
		t.Errorf("ListAliases(marker) = %d aliases, truncated %v, %v; want the other 5", len(rest.Aliases), rest.Truncated, err)
	}
	if _, err := c.kms.ListAliases(ctx, &kms.ListAliasesInput{Marker: aws.String("not a marker!")}); errorCode(err) != "InvalidMarkerException" {
		t.Errorf("ListAliases(bad marker) = %v, want InvalidMarkerException", err)
	}
}

func TestEncryptionContextIsBounded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	c := newClients(t, fakeaws.Options{StateFile: file})
	ctx := context.Background()
	key := c.createKey(t, "")

	huge := map[string]string{}
	for i := range 14000 {
		huge[fmt.Sprintf("key-%05d", i)] = "value"
	}
	calls := []struct {
		name string
		call func(map[string]string) error
	}{
		{"GenerateDataKey", func(ec map[string]string) error {
			_, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, NumberOfBytes: aws.Int32(32), EncryptionContext: ec})
			return err
		}},
		{"Encrypt", func(ec map[string]string) error {
			_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), EncryptionContext: ec})
			return err
		}},
		{"Decrypt", func(ec map[string]string) error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: make([]byte, 64), EncryptionContext: ec})
			return err
		}},
	}
	for _, tt := range calls {
		for range 3 {
			if err := tt.call(huge); errorCode(err) != "ValidationException" || !strings.Contains(errorMessage(err), "14000 pairs") {
				t.Errorf("%s(14,000-pair context) = %v, want a ValidationException that says how large it is", tt.name, err)
			}
		}
	}
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	if info.Size() > 64<<10 {
		t.Errorf("state file after 9 refused calls with a 14,000-pair context = %d bytes, want it small", info.Size())
	}

	// The largest context accepted: 8,192 bytes of keys and values.
	largest := map[string]string{"k": strings.Repeat("v", 8191)}
	enc, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x"), EncryptionContext: largest})
	if err != nil {
		t.Fatalf("Encrypt(8,192-byte context) = %v, want success", err)
	}
	if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: largest}); err != nil {
		t.Errorf("Decrypt(8,192-byte context) = %v, want success", err)
	}
	largest["k2"] = ""
	largest["k"] += "v"
	if err := calls[1].call(largest); errorCode(err) != "ValidationException" {
		t.Errorf("Encrypt(8,194-byte context) = %v, want ValidationException", err)
	}
}

// TestEncryptTakesAtMost4096Bytes holds the fake to KMS's limit on
// Encrypt, which the workshop's "send the whole file to KMS" experiment
// shows: up to 4,096 bytes are accepted; more are refused by request
// validation, before the key is looked at, in KMS's words.
func TestEncryptTakesAtMost4096Bytes(t *testing.T) {
	c := newClients(t, fakeaws.Options{})
	ks := c.keyStates(t)
	ctx := context.Background()
	if _, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: ks.enabled.KeyId, Plaintext: make([]byte, 4096)}); err != nil {
		t.Errorf("Encrypt(4096 bytes) = %v, want success", err)
	}
	const want = "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"
	for _, key := range []*string{ks.enabled.KeyId, ks.disabled.KeyId} {
		_, err := c.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: key, Plaintext: make([]byte, 5<<10)})
		if errorCode(err) != "ValidationException" || errorMessage(err) != want {
			t.Errorf("Encrypt(5 KiB, key %s) = %v, want ValidationException %q", aws.ToString(key), err, want)
		}
	}
}
