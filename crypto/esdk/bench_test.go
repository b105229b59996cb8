package esdk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/binary"
	"io"
	"testing"
)

// The benchmarks compare the message format with its primitives over the
// same bytes: 0x0478 with plain AES-256-GCM sealing (or opening) the
// plaintext in frames of the same length, and 0x0578 with the slower of that
// and SHA-384 over the message, which its signature hashes.
//
//	go test ./crypto/esdk -run '^$' -bench . -benchtime 20x

const benchPlaintextSize = 16 << 20

func benchPlaintext() []byte { return bytes.Repeat([]byte("cse-workshop benchmark plaintext"), benchPlaintextSize/32) }

func BenchmarkEncrypt(b *testing.B) {
	for _, suite := range []Suite{SuiteCommitKey, SuiteCommitKeyECDSAP384} {
		b.Run(suite.String(), func(b *testing.B) {
			plaintext := benchPlaintext()
			k := &testKMS{}
			b.SetBytes(int64(len(plaintext)))
			for b.Loop() {
				if _, err := Encrypt(context.Background(), k, io.Discard, bytes.NewReader(plaintext), EncryptOptions{KeyID: testKeyARN, Suite: suite}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, suite := range []Suite{SuiteCommitKey, SuiteCommitKeyECDSAP384} {
		b.Run(suite.String(), func(b *testing.B) {
			plaintext := benchPlaintext()
			k := &testKMS{}
			msg := encryptForTest(b, k, plaintext, EncryptOptions{Suite: suite})
			b.SetBytes(int64(len(plaintext)))
			for b.Loop() {
				if _, err := Decrypt(context.Background(), k, io.Discard, bytes.NewReader(msg), DecryptOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBaselineAESGCM seals, then opens, the plaintext in frames of the
// default length, with nothing else: what 0x0478 cannot beat.
func BenchmarkBaselineAESGCM(b *testing.B) {
	plaintext := benchPlaintext()
	block, _ := aes.NewCipher(make([]byte, 32))
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	sealed := make([]byte, 0, DefaultFrameLengthInBytes+16)
	opened := make([]byte, 0, DefaultFrameLengthInBytes)
	b.Run("seal", func(b *testing.B) {
		b.SetBytes(int64(len(plaintext)))
		for b.Loop() {
			for i := 0; i < len(plaintext); i += DefaultFrameLengthInBytes {
				binary.BigEndian.PutUint32(nonce[8:], uint32(i))
				sealed = aead.Seal(sealed[:0], nonce, plaintext[i:min(i+DefaultFrameLengthInBytes, len(plaintext))], nil)
			}
		}
	})
	b.Run("open", func(b *testing.B) {
		frames := make([][]byte, 0, len(plaintext)/DefaultFrameLengthInBytes+1)
		for i := 0; i < len(plaintext); i += DefaultFrameLengthInBytes {
			frames = append(frames, aead.Seal(nil, nonce, plaintext[i:min(i+DefaultFrameLengthInBytes, len(plaintext))], nil))
		}
		b.SetBytes(int64(len(plaintext)))
		for b.Loop() {
			for _, f := range frames {
				var err error
				if opened, err = aead.Open(opened[:0], nonce, f, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkBaselineSHA384 hashes the plaintext's size in bytes, as the
// signature of 0x0578 hashes the whole message.
func BenchmarkBaselineSHA384(b *testing.B) {
	plaintext := benchPlaintext()
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		h := sha512.New384()
		h.Write(plaintext)
		h.Sum(nil)
	}
}
