package esdk

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"cse-workshop/crypto/internal/pipeline"
)

// The benchmarks compare the message format with its primitives over the
// same bytes: 0x0478 with plain AES-256-GCM sealing (or opening) the
// plaintext in frames of the same length, and 0x0578 with the slower of that
// and SHA-384 over the message, which its signature hashes.
//
//	go test ./crypto/esdk -run '^$' -bench . -benchtime 20x

const benchPlaintextSize = 16 << 20

func benchPlaintext() []byte {
	return bytes.Repeat([]byte("cse-workshop benchmark plaintext"), benchPlaintextSize/32)
}

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

// BenchmarkRatio runs each operation and its baseline in turn over the same
// bytes, so that both see the same load, and reports the ratio of their
// speeds (1 is as fast as the baseline): 0x0478 against AES-256-GCM in
// frames, 0x0578 against the slower of that and SHA-384 over the message.
func BenchmarkRatio(b *testing.B) {
	plaintext := benchPlaintext()
	block, _ := aes.NewCipher(make([]byte, 32))
	aead, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12)
	frame := make([]byte, 0, DefaultFrameLengthInBytes+16)
	sealFrames := func() {
		for i := 0; i < len(plaintext); i += DefaultFrameLengthInBytes {
			frame = aead.Seal(frame[:0], nonce, plaintext[i:min(i+DefaultFrameLengthInBytes, len(plaintext))], nil)
		}
	}
	var sealed [][]byte
	for i := 0; i < len(plaintext); i += DefaultFrameLengthInBytes {
		sealed = append(sealed, aead.Seal(nil, nonce, plaintext[i:min(i+DefaultFrameLengthInBytes, len(plaintext))], nil))
	}
	opened := make([]byte, 0, DefaultFrameLengthInBytes)
	openFrames := func() {
		for _, f := range sealed {
			opened, _ = aead.Open(opened[:0], nonce, f, nil)
		}
	}
	k := &testKMS{}
	for _, suite := range []Suite{SuiteCommitKey, SuiteCommitKeyECDSAP384} {
		msg := encryptForTest(b, k, plaintext, EncryptOptions{Suite: suite})
		hashMessage := func() {
			h := sha512.New384()
			h.Write(msg)
			h.Sum(nil)
		}
		for _, direction := range []string{"encrypt", "decrypt"} {
			b.Run(suite.String()+"/"+direction, func(b *testing.B) {
				op, gcm := func() {
					if _, err := Encrypt(context.Background(), k, io.Discard, bytes.NewReader(plaintext), EncryptOptions{KeyID: testKeyARN, Suite: suite}); err != nil {
						b.Fatal(err)
					}
				}, sealFrames
				if direction == "decrypt" {
					op = func() {
						if _, err := Decrypt(context.Background(), k, io.Discard, bytes.NewReader(msg), DecryptOptions{}); err != nil {
							b.Fatal(err)
						}
					}
					gcm = openFrames
				}
				var opTime, gcmTime, hashTime time.Duration
				timed := func(f func()) time.Duration {
					start := time.Now()
					f()
					return time.Since(start)
				}
				for b.Loop() {
					opTime += timed(op)
					gcmTime += timed(gcm)
					if suite.Signed() {
						hashTime += timed(hashMessage)
					}
				}
				baseline := max(gcmTime, hashTime)
				b.ReportMetric(float64(baseline)/float64(opTime), "ratio")
				b.ReportMetric(float64(len(plaintext)*b.N)/opTime.Seconds()/1e6, "MB/s")
				b.ReportMetric(float64(len(plaintext)*b.N)/baseline.Seconds()/1e6, "baseline-MB/s")
			})
		}
	}
}

// BenchmarkFileParallel encrypts and decrypts a file of
// fileBenchSizeInBytes with EncryptFile and DecryptFile, by the parallel
// path (GOMAXPROCS workers) and by the sequential one in turn, in
// alternate order so that both see the same load, and reports how many
// times faster the parallel path ran: bench/throughput's figure without
// the start-up of a process, for trying out changes to the pipeline. The
// files go to /dev/shm when it exists, so that the disk stays out of it
// (and the kernel's copies to and from the page cache stay in: on two
// cores they are about half of the time).
//
//	go test ./crypto/esdk -run '^$' -bench FileParallel -benchtime 20x
func BenchmarkFileParallel(b *testing.B) {
	const fileBenchSizeInBytes = 64 << 20
	dir := b.TempDir()
	if shm, err := os.MkdirTemp("/dev/shm", "esdk-bench"); err == nil {
		dir = shm
		b.Cleanup(func() { os.RemoveAll(shm) })
	}
	plaintext := filepath.Join(dir, "plaintext")
	if err := os.WriteFile(plaintext, randomBytes(fileBenchSizeInBytes), 0o600); err != nil {
		b.Fatal(err)
	}
	k := &testKMS{}
	opts := EncryptOptions{KeyID: testKeyARN, Suite: SuiteCommitKey}
	message := filepath.Join(dir, "message")
	if _, err := EncryptFile(b.Context(), k, plaintext, message, opts); err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, direction := range []string{"encrypt", "decrypt"} {
		b.Run(direction, func(b *testing.B) {
			run := func(workers int) time.Duration {
				b.Setenv(pipeline.WorkersEnv, fmt.Sprint(workers))
				os.Remove(out) // replacing a file adds the freeing of the old one
				start := time.Now()
				var err error
				if direction == "encrypt" {
					_, err = EncryptFile(b.Context(), k, plaintext, out, opts)
				} else {
					_, err = DecryptFile(b.Context(), k, message, out, DecryptOptions{})
				}
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var parallel, sequential time.Duration
			round := 0
			for b.Loop() {
				if round++; round%2 == 1 {
					parallel += run(runtime.GOMAXPROCS(0))
					sequential += run(1)
				} else {
					sequential += run(1)
					parallel += run(runtime.GOMAXPROCS(0))
				}
			}
			pushed := float64(fileBenchSizeInBytes * b.N)
			b.ReportMetric(float64(sequential)/float64(parallel), "parallel/sequential")
			b.ReportMetric(pushed/parallel.Seconds()/1e6, "MB/s")
			b.ReportMetric(pushed/sequential.Seconds()/1e6, "sequential-MB/s")
		})
	}
}
