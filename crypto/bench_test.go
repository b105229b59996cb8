package crypto

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"testing"
)

// benchSizeInBytes is what each benchmark pushes through, from memory to
// io.Discard, so that the cipher and the copies around it are measured, not
// the disk.
const benchSizeInBytes = 64 << 20

func benchEncryptOptions(k *testKMS) EncryptOptions {
	return EncryptOptions{KeyID: k.alias, EncryptionContext: testContext}
}

// BenchmarkEncrypt runs the whole envelope, KMS call included.
func BenchmarkEncrypt(b *testing.B) {
	k := newTestKMS(b)
	plaintext := randomBytes(benchSizeInBytes)
	b.SetBytes(benchSizeInBytes)
	for b.Loop() {
		if _, err := Encrypt(b.Context(), k, io.Discard, bytes.NewReader(plaintext), benchEncryptOptions(k)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt runs the whole envelope, KMS call included.
func BenchmarkDecrypt(b *testing.B) {
	k := newTestKMS(b)
	var ciphertext bytes.Buffer
	if _, err := Encrypt(b.Context(), k, &ciphertext, bytes.NewReader(randomBytes(benchSizeInBytes)), benchEncryptOptions(k)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSizeInBytes)
	for b.Loop() {
		if _, err := Decrypt(b.Context(), k, io.Discard, bytes.NewReader(ciphertext.Bytes()), DecryptOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineAESGCM is the physical limit the envelope is measured
// against: the same stream read in plaintext segments and sealed with plain
// AES-256-GCM, each segment under its own nonce, into io.Discard.
func BenchmarkBaselineAESGCM(b *testing.B) {
	block, err := aes.NewCipher(randomBytes(32))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	plaintext := randomBytes(benchSizeInBytes)
	chunk := make([]byte, DefaultSegmentSizeInBytes-gcm.Overhead())
	sealed := make([]byte, 0, DefaultSegmentSizeInBytes)
	nonce := make([]byte, gcm.NonceSize())
	b.SetBytes(benchSizeInBytes)
	for b.Loop() {
		src := bytes.NewReader(plaintext)
		for counter := uint32(0); ; counter++ {
			n, err := io.ReadFull(src, chunk)
			if n > 0 {
				binary.BigEndian.PutUint32(nonce[gcm.NonceSize()-4:], counter)
				sealed = gcm.Seal(sealed[:0], nonce, chunk[:n], nil)
				io.Discard.Write(sealed)
			}
			if err != nil {
				break
			}
		}
	}
}
