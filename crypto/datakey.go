package crypto

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// dataKeySizeInBytes is the size of the data key: AES-256, which keys Tink's
// AES-GCM-HKDF with 32-byte derived keys.
const dataKeySizeInBytes = 32

// String returns the scheme's name, as ParseScheme reads it.
func (s Scheme) String() string {
	switch s {
	case SchemeKMSDataKey:
		return "kms-data-key"
	case SchemeTink:
		return "tink"
	}
	return fmt.Sprintf("Scheme(%d)", uint8(s))
}

// ParseScheme returns the scheme named name ("kms-data-key" or "tink").
func ParseScheme(name string) (Scheme, error) {
	for _, s := range []Scheme{SchemeKMSDataKey, SchemeTink} {
		if name == s.String() {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown scheme %q: want kms-data-key or tink", name)
}

func (s Scheme) valid() bool { return s == SchemeKMSDataKey || s == SchemeTink }

// newDataKey makes the data key of a new file and fills h.KeyARN and
// h.EncryptedDataKey. The caller clears the returned key.
func newDataKey(ctx context.Context, k KMS, keyID string, h *Header, encodedContext []byte) ([]byte, error) {
	switch h.Scheme {
	case SchemeKMSDataKey:
		out, err := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId:             aws.String(keyID),
			KeySpec:           types.DataKeySpecAes256,
			EncryptionContext: h.EncryptionContext,
		})
		if err != nil {
			return nil, fmt.Errorf("generate data key: %w", err)
		}
		if len(out.Plaintext) != dataKeySizeInBytes {
			clear(out.Plaintext)
			return nil, fmt.Errorf("generate data key: KMS returned %d bytes, want %d", len(out.Plaintext), dataKeySizeInBytes)
		}
		if aws.ToString(out.KeyId) == "" {
			clear(out.Plaintext)
			return nil, errors.New("generate data key: KMS returned no key ARN")
		}
		h.KeyARN = aws.ToString(out.KeyId)
		h.EncryptedDataKey = out.CiphertextBlob
		return out.Plaintext, nil

	case SchemeTink:
		dataKey := make([]byte, dataKeySizeInBytes)
		rand.Read(dataKey)
		out, err := k.Encrypt(ctx, &kms.EncryptInput{
			KeyId:             aws.String(keyID),
			Plaintext:         dataKey,
			EncryptionContext: tinkEncryptionContext(encodedContext),
		})
		if err != nil {
			clear(dataKey)
			return nil, fmt.Errorf("encrypt data key: %w", err)
		}
		if aws.ToString(out.KeyId) == "" {
			clear(dataKey)
			return nil, errors.New("encrypt data key: KMS returned no key ARN")
		}
		h.KeyARN = aws.ToString(out.KeyId)
		h.EncryptedDataKey = out.CiphertextBlob
		return dataKey, nil
	}
	panic(fmt.Sprintf("crypto: invalid scheme %d", h.Scheme))
}

// A DataKeyError is the error of Decrypt and DecryptFile when KMS does not
// decrypt the encrypted data key. It says which KMS key was pinned, so that
// a caller can tell a key the user chose (DecryptOptions.KeyID) from the one
// the file's header names, which may be gone or may be a damaged header's.
//
// (When KMS says that the header's own key did not encrypt the data key,
// IncorrectKeyException, the header contradicts itself: that is
// ErrTampered, not a DataKeyError.)
type DataKeyError struct {
	// KeyID is the KMS key pinned on KMS Decrypt: DecryptOptions.KeyID, or
	// HeaderKeyARN when that was empty.
	KeyID string
	// HeaderKeyARN is the key ARN the file's header names.
	HeaderKeyARN string
	// Err is the error of the KMS call.
	Err error
}

func (e *DataKeyError) Error() string { return "decrypt data key: " + e.Err.Error() }
func (e *DataKeyError) Unwrap() error { return e.Err }

// KeyFromHeader reports whether the pinned KMS key is the one the header
// names rather than another the caller chose.
func (e *DataKeyError) KeyFromHeader() bool { return e.KeyID == e.HeaderKeyARN }

// unwrapDataKey asks KMS, once, for the plaintext data key of h, with keyID
// pinned. The caller clears the returned key.
func unwrapDataKey(ctx context.Context, k KMS, keyID string, h *Header, encodedContext []byte) ([]byte, error) {
	var dataKey []byte
	var err error
	switch h.Scheme {
	case SchemeKMSDataKey:
		var out *kms.DecryptOutput
		out, err = k.Decrypt(ctx, &kms.DecryptInput{
			KeyId:             aws.String(keyID),
			CiphertextBlob:    h.EncryptedDataKey,
			EncryptionContext: h.EncryptionContext,
		})
		if err == nil {
			dataKey = out.Plaintext
		}
	case SchemeTink:
		var out *kms.DecryptOutput
		out, err = k.Decrypt(ctx, &kms.DecryptInput{
			KeyId:             aws.String(keyID),
			CiphertextBlob:    h.EncryptedDataKey,
			EncryptionContext: tinkEncryptionContext(encodedContext),
		})
		if err == nil {
			dataKey = out.Plaintext
		}
	default:
		panic(fmt.Sprintf("crypto: invalid scheme %d", h.Scheme))
	}
	var incorrectKey *types.IncorrectKeyException
	if err != nil && keyID == h.KeyARN && errors.As(err, &incorrectKey) {
		// The encrypted data key is not of the key the same header names:
		// one of the two was changed.
		return nil, ErrTampered
	}
	if err != nil {
		return nil, &DataKeyError{KeyID: keyID, HeaderKeyARN: h.KeyARN, Err: err}
	}
	if len(dataKey) != dataKeySizeInBytes {
		// KMS opened the blob, so it is a real data key of this KMS key,
		// but not one this format made: the header was put together.
		clear(dataKey)
		return nil, ErrTampered
	}
	return dataKey, nil
}

// tinkEncryptionContext is the encryption context tink-go-awskms's AEAD
// sends to KMS for associated data ad: {"associatedData": hex(ad)}, or none
// when ad is empty. The scheme makes the same calls as that AEAD (a test
// checks each opens what the other wraps) without linking Tink's protocol
// buffers into every command.
func tinkEncryptionContext(ad []byte) map[string]string {
	if len(ad) == 0 {
		return nil
	}
	return map[string]string{"associatedData": hex.EncodeToString(ad)}
}
