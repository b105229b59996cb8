package esdk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// dataKeySizeInBytes is the key derivation input length of every suite this
// package reads: the AWS KMS keyring asks GenerateDataKey for this many bytes.
const dataKeySizeInBytes = 32

// HKDF's info strings for the committing suites
// (framework/transitive-requirements.md).
const (
	infoDeriveKey = "DERIVEKEY"
	infoCommitKey = "COMMITKEY"
)

// messageKeys are the keys a message is encrypted under, derived from its
// data key.
type messageKeys struct {
	aead      cipher.AEAD // AES-256-GCM under the derived data key
	commitKey []byte      // committing suites only
}

// deriveKeys derives the message's keys from its data key, as the suite
// says (framework/transitive-requirements.md): for committing suites,
// HKDF-SHA512 with the message ID as salt, one extract for two expands, info
// "suite ID || DERIVEKEY" for the encryption key and "COMMITKEY" for the
// commit key; for the legacy suites, HKDF-SHA384 (0x0378) or HKDF-SHA256
// (0x0178) with a zero salt and info "suite ID || message ID".
func deriveKeys(s Suite, dataKey, messageID []byte) messageKeys {
	var k messageKeys
	var key []byte
	suiteID := []byte{byte(s >> 8), byte(s)}
	switch s {
	case SuiteCommitKeyECDSAP384, SuiteCommitKey:
		prk := must(hkdf.Extract(sha512.New, dataKey, messageID))
		key = must(hkdf.Expand(sha512.New, prk, string(suiteID)+infoDeriveKey, dataKeySizeInBytes))
		k.commitKey = must(hkdf.Expand(sha512.New, prk, infoCommitKey, commitKeySizeInBytes))
		clear(prk)
	case SuiteLegacyECDSAP384:
		key = legacyKey(sha512.New384, dataKey, suiteID, messageID)
	case SuiteLegacy:
		key = legacyKey(sha256.New, dataKey, suiteID, messageID)
	default:
		panic(fmt.Sprintf("esdk: derive keys for suite %s", s))
	}
	k.aead = newAEAD(key)
	clear(key)
	return k
}

func legacyKey(h func() hash.Hash, dataKey, suiteID, messageID []byte) []byte {
	// A nil salt is HKDF's zero salt as long as the hash.
	return must(hkdf.Key(h, dataKey, nil, string(suiteID)+string(messageID), dataKeySizeInBytes))
}

func newAEAD(key []byte) cipher.AEAD {
	block := must(aes.NewCipher(key))
	return must(cipher.NewGCM(block))
}

// must returns v, and panics on an error that only a bug can cause (a key of
// the wrong size, an HKDF output too long).
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("esdk: %v", err))
	}
	return v
}

// checkCommitKey compares, in constant time, the commit key derived from the
// data key with the one the header carries.
func checkCommitKey(derived, stored []byte) bool {
	return subtle.ConstantTimeCompare(derived, stored) == 1
}

// encodePublicKey returns the signature's public key as the encryption
// context carries it: the compressed point (SEC 1, 2.3.3), base64.
func encodePublicKey(pub *ecdsa.PublicKey) string {
	b, err := pub.Bytes() // uncompressed: 04 || X || Y
	if err != nil {
		panic(fmt.Sprintf("esdk: public key: %v", err))
	}
	coordinateSize := (len(b) - 1) / 2
	compressed := make([]byte, 1+coordinateSize)
	compressed[0] = 2 | b[len(b)-1]&1
	copy(compressed[1:], b[1:1+coordinateSize])
	return base64.StdEncoding.EncodeToString(compressed)
}

// decodePublicKey is the inverse of encodePublicKey, for the suite's curve.
func decodePublicKey(s Suite, encoded string) (*ecdsa.PublicKey, bool) {
	if s != SuiteCommitKeyECDSAP384 && s != SuiteLegacyECDSAP384 {
		panic(fmt.Sprintf("esdk: public key of unsigned suite %s", s))
	}
	curve := elliptic.P384()
	compressed, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, false
	}
	x, y := elliptic.UnmarshalCompressed(curve, compressed)
	if x == nil {
		return nil, false
	}
	coordinateSize := (curve.Params().BitSize + 7) / 8
	uncompressed := make([]byte, 1+2*coordinateSize)
	uncompressed[0] = 4
	x.FillBytes(uncompressed[1 : 1+coordinateSize])
	y.FillBytes(uncompressed[1+coordinateSize:])
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, uncompressed)
	return pub, err == nil
}

// generateDataKey asks KMS for the message's data key, as the AWS KMS
// keyring does: GenerateDataKey with NumberOfBytes, and the encryption
// context (with aws-crypto-public-key for signed suites). It returns the
// plaintext data key, which the caller clears, and its encrypted data key.
func generateDataKey(ctx context.Context, k KMS, keyID string, ec map[string]string) ([]byte, EncryptedDataKey, error) {
	// show:generate-data-key begin
	out, err := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(keyID),
		NumberOfBytes:     aws.Int32(dataKeySizeInBytes),
		EncryptionContext: ec,
	})
	// show:generate-data-key end
	if err != nil {
		return nil, EncryptedDataKey{}, fmt.Errorf("generate data key: %w", err)
	}
	keyARN := aws.ToString(out.KeyId)
	switch {
	case len(out.Plaintext) != dataKeySizeInBytes:
		clear(out.Plaintext)
		return nil, EncryptedDataKey{}, fmt.Errorf("generate data key: KMS returned %d bytes, want %d", len(out.Plaintext), dataKeySizeInBytes)
	case !isKeyARN(keyARN):
		clear(out.Plaintext)
		return nil, EncryptedDataKey{}, fmt.Errorf("generate data key: KMS returned %q, not a key ARN", keyARN)
	case len(out.CiphertextBlob) == 0 || len(out.CiphertextBlob) > maxEncryptedDataKeyCiphertextSize:
		clear(out.Plaintext)
		return nil, EncryptedDataKey{}, fmt.Errorf("generate data key: KMS returned a ciphertext blob of %d bytes", len(out.CiphertextBlob))
	}
	return out.Plaintext, EncryptedDataKey{
		ProviderID:   providerIDAWSKMS,
		ProviderInfo: keyARN,
		Ciphertext:   out.CiphertextBlob,
	}, nil
}

// unwrapDataKey asks KMS to decrypt one of the message's encrypted data
// keys under the encryption context ec, as the AWS KMS keyring does: only aws-kms keys named by a key ARN,
// only those keyIDs allow (all of them when keyIDs is empty), one at a time
// in the header's order, each with KeyId pinned, until one succeeds. It
// returns the plaintext data key, which the caller clears.
func unwrapDataKey(ctx context.Context, k KMS, edks []EncryptedDataKey, ec map[string]string, keyIDs []string) ([]byte, error) {
	var errs []error
	var named []string
	for _, edk := range edks {
		keyARN := edk.KeyARN()
		if !isKeyARN(keyARN) {
			continue
		}
		named = append(named, keyARN)
		pinned, ok := allowedKeyID(keyARN, keyIDs)
		if !ok {
			continue
		}
		// show:decrypt-data-key begin
		out, err := k.Decrypt(ctx, &kms.DecryptInput{
			KeyId:             aws.String(pinned),
			CiphertextBlob:    edk.Ciphertext,
			EncryptionContext: ec,
		})
		// show:decrypt-data-key end
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if aws.ToString(out.KeyId) != keyARN || len(out.Plaintext) != dataKeySizeInBytes {
			// KMS opened a blob of another key, or one that is no data key
			// of this format: the header was put together.
			clear(out.Plaintext)
			errs = append(errs, ErrTampered)
			continue
		}
		return out.Plaintext, nil
	}
	switch {
	case len(named) == 0:
		return nil, errors.New("decrypt data key: the message has no data key encrypted under an AWS KMS key")
	case len(errs) == 0:
		return nil, fmt.Errorf("%w: the message's data key is under %s; allowed: %s",
			ErrNoAllowedKey, strings.Join(named, ", "), strings.Join(keyIDs, ", "))
	case len(errs) == 1 && errs[0] == ErrTampered:
		return nil, ErrTampered
	}
	return nil, fmt.Errorf("decrypt data key: %w", errors.Join(errs...))
}

// allowedKeyID returns the KeyId to pin when decrypting a data key of the
// KMS key keyARN, and whether keyIDs allows that key at all. An ARN in
// keyIDs allows only itself; a key id or alias may be that key, which KMS
// decides when it is pinned.
func allowedKeyID(keyARN string, keyIDs []string) (string, bool) {
	if len(keyIDs) == 0 || slices.Contains(keyIDs, keyARN) {
		return keyARN, true
	}
	for _, id := range keyIDs {
		if !strings.HasPrefix(id, "arn:") {
			return id, true
		}
	}
	return "", false
}

// isKeyARN reports whether s is a KMS key ARN,
// arn:PARTITION:kms:REGION:ACCOUNT:key/ID (framework/aws-kms/aws-kms-key-arn.md).
func isKeyARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" {
		return false
	}
	for _, p := range parts[1:5] {
		if p == "" {
			return false
		}
	}
	resource, id, ok := strings.Cut(parts[5], "/")
	return ok && resource == "key" && id != ""
}
