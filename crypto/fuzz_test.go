package crypto

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// constantKMS is a KMS double that hands out the same data key for every
// call and opens any blob, so that a fuzzed header reaches the stream
// instead of stopping at KMS: only the stream's authentication stands
// between a changed file and its plaintext.
type constantKMS struct{ decryptCalls int }

const constantKeyARN = "arn:aws:kms:us-east-1:111122223333:key/fuzz"

func constantDataKey() []byte { return bytes.Repeat([]byte{0x42}, dataKeySizeInBytes) }

func (k *constantKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return &kms.GenerateDataKeyOutput{KeyId: aws.String(constantKeyARN), Plaintext: constantDataKey(), CiphertextBlob: []byte("blob")}, nil
}

func (k *constantKMS) Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	return &kms.EncryptOutput{KeyId: aws.String(constantKeyARN), CiphertextBlob: []byte("blob")}, nil
}

func (k *constantKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	k.decryptCalls++
	return &kms.DecryptOutput{KeyId: in.KeyId, Plaintext: constantDataKey()}, nil
}

// FuzzDecrypt feeds Decrypt small inputs made from real files. Whatever the
// input, Decrypt must not panic, must call KMS at most once, must fail with
// one of the format's errors, and may succeed only on a header and a
// plaintext that Encrypt wrote. (The fuzzing workers encrypt anew, with new
// random salts, so a file is recognised by what is deterministic in it.)
func FuzzDecrypt(f *testing.F) {
	sizes := []int{0, 1, testFirstSegment, testFirstSegment + 1, testFirstSegment + testSegment + 1}
	headers := map[string]bool{}
	for _, scheme := range schemes {
		for _, n := range sizes {
			ciphertext, h := encryptBytes(f, &constantKMS{}, fuzzPlaintext(n), EncryptOptions{
				KeyID: "alias/fuzz", EncryptionContext: testContext, Scheme: scheme, SegmentSizeInBytes: testSegmentSizeInBytes,
			})
			raw, err := h.MarshalBinary()
			if err != nil {
				f.Fatal(err)
			}
			headers[string(raw)] = true
			f.Add(ciphertext)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k := &constantKMS{}
		var out bytes.Buffer
		h, err := Decrypt(t.Context(), k, &out, bytes.NewReader(data), DecryptOptions{})
		if k.decryptCalls > 1 {
			t.Fatalf("Decrypt called KMS Decrypt %d times, want at most once", k.decryptCalls)
		}
		if err != nil {
			if err != ErrTampered && err != ErrNotEncrypted && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("Decrypt(%x) = %v, want ErrTampered, ErrNotEncrypted or ErrUnsupportedVersion", data, err)
			}
			return
		}
		raw, err := h.MarshalBinary()
		if err != nil || !headers[string(raw)] || !bytes.HasPrefix(data, raw) {
			t.Fatalf("Decrypt(%x) succeeded with a header Encrypt did not write", data)
		}
		if !slices.Contains(sizes, out.Len()) || !bytes.Equal(out.Bytes(), fuzzPlaintext(out.Len())) {
			t.Fatalf("Decrypt(%x) = %q, a plaintext Encrypt was not given", data, out.Bytes())
		}
	})
}

func fuzzPlaintext(n int) []byte { return bytes.Repeat([]byte{'p'}, n) }
