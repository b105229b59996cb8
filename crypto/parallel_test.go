package crypto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"

	"cse-workshop/crypto/internal/pipeline/pipelinetest"

	"github.com/tink-crypto/tink-go/v2/streamingaead/subtle"
)

// Encryption and decryption run batches of segments through a pipeline
// whose width is pipeline.Workers(); one worker is the sequential path.
// These tests hold the parallel path to the sequential one and both to
// Tink's own streaming AEAD, byte for byte.

// pipelineSizes are plaintext sizes for a segment size: the edges of the
// first segment and of the next, of a batch, and some at random.
func pipelineSizes(segmentSizeInBytes int) []int {
	first := segmentSizeInBytes - streamHeaderSizeInBytes - segmentTagSizeInBytes
	segment := segmentSizeInBytes - segmentTagSizeInBytes
	perBatch := max(1, batchTargetInBytes/segmentSizeInBytes)
	batch := first + (perBatch-1)*segment // the first batch's plaintext
	sizes := []int{0, 1, first - 1, first, first + 1, first + segment - 1, first + segment, first + segment + 1,
		batch - 1, batch, batch + 1, batch + perBatch*segment, batch + 3*perBatch*segment + 7}
	r := rand.New(rand.NewPCG(1, uint64(segmentSizeInBytes)))
	for range 4 {
		sizes = append(sizes, r.IntN(batch+4*perBatch*segment))
	}
	return sizes
}

// encryptSeeded encrypts plaintext with constantKMS, the crypto/rand
// stream reset to seed.
func encryptSeeded(t *testing.T, seed uint64, plaintext []byte, segmentSizeInBytes int) []byte {
	t.Helper()
	cryptotest.SetGlobalRandom(t, seed)
	var out bytes.Buffer
	_, err := Encrypt(t.Context(), &constantKMS{}, &out, bytes.NewReader(plaintext),
		EncryptOptions{KeyID: constantKeyARN, EncryptionContext: testContext, SegmentSizeInBytes: segmentSizeInBytes})
	if err != nil {
		t.Fatalf("Encrypt = %v", err)
	}
	return out.Bytes()
}

// tinkStream returns Tink's AES-GCM-HKDF streaming AEAD with the file's
// parameters.
func tinkStream(t *testing.T, segmentSizeInBytes int) *subtle.AESGCMHKDF {
	a, err := subtle.NewAESGCMHKDF(constantDataKey(), "SHA256", dataKeySizeInBytes, segmentSizeInBytes, 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestParallelIsSequentialIsTink(t *testing.T) {
	const seed = 11
	for _, segmentSize := range []int{testSegmentSizeInBytes, 4096, DefaultSegmentSizeInBytes} {
		for _, size := range pipelineSizes(segmentSize) {
			t.Run(fmt.Sprintf("segment %d/%d bytes", segmentSize, size), func(t *testing.T) {
				plaintext := randomBytes(size)
				pipelinetest.SetWorkers(t, 1)
				sequential := encryptSeeded(t, seed, plaintext, segmentSize)
				pipelinetest.SetWorkers(t, 3)
				parallel := encryptSeeded(t, seed, plaintext, segmentSize)
				if !bytes.Equal(parallel, sequential) {
					t.Fatalf("Encrypt with 3 workers differs from Encrypt with 1 (%d and %d bytes)", len(parallel), len(sequential))
				}

				// Tink, given the same header and the same random stream,
				// writes the same bytes.
				_, headerBytes := parseHeader(t, sequential)
				rawHeader := sequential[:headerBytes]
				cryptotest.SetGlobalRandom(t, seed)
				tink := bytes.NewBuffer(bytes.Clone(rawHeader))
				w, err := tinkStream(t, segmentSize).NewEncryptingWriter(tink, rawHeader)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(plaintext); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(tink.Bytes(), sequential) {
					t.Fatalf("Tink's writer gives other bytes than Encrypt (%d and %d bytes)", tink.Len(), len(sequential))
				}

				// Tink reads what Encrypt wrote, and both paths read it back.
				r, err := tinkStream(t, segmentSize).NewDecryptingReader(bytes.NewReader(parallel[headerBytes:]), rawHeader)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, plaintext) {
					t.Errorf("Tink's reader on Encrypt's stream = %d bytes, %v; want the plaintext", len(got), err)
				}
				for _, workers := range []int{1, 3} {
					pipelinetest.SetWorkers(t, workers)
					got, err := decryptBytes(t, &constantKMS{}, parallel, DecryptOptions{})
					if err != nil || !bytes.Equal(got, plaintext) {
						t.Errorf("Decrypt with %d workers = %d bytes, %v; want the plaintext", workers, len(got), err)
					}
				}
			})
		}
	}
}

// TestTamperingAnywhereFailsInParallel damages files of several batches at
// the start, middle and end of segments across the stream, and cuts them
// short at and inside segments: each fails, whichever worker opens it.
func TestTamperingAnywhereFailsInParallel(t *testing.T) {
	const segmentSize = 4096
	perBatch := batchTargetInBytes / segmentSize
	segments := 3*perBatch + 2
	plaintext := randomBytes(segments*(segmentSize-segmentTagSizeInBytes) - streamHeaderSizeInBytes - 100)
	ciphertext := encryptSeeded(t, 5, plaintext, segmentSize)
	_, headerBytes := parseHeader(t, ciphertext)
	streamStart := headerBytes + streamHeaderSizeInBytes
	for _, workers := range []int{1, 2, 4} {
		pipelinetest.SetWorkers(t, workers)
		for _, segment := range []int{0, 1, perBatch - 1, perBatch, 2*perBatch + 1, segments - 1} {
			start := headerBytes + segment*segmentSize // segment 0 starts after the stream header
			if segment == 0 {
				start = streamStart
			}
			end := min(headerBytes+(segment+1)*segmentSize, len(ciphertext))
			for _, at := range []int{start, (start + end) / 2, end - 1} {
				damaged := bytes.Clone(ciphertext)
				damaged[at] ^= 0x80
				if _, err := decryptBytes(t, &constantKMS{}, damaged, DecryptOptions{}); err != ErrTampered {
					t.Errorf("%d workers: Decrypt(byte %d of segment %d flipped) = %v, want ErrTampered", workers, at, segment, err)
				}
				if _, err := decryptBytes(t, &constantKMS{}, ciphertext[:at], DecryptOptions{}); err != ErrTampered {
					t.Errorf("%d workers: Decrypt(cut at byte %d, in segment %d) = %v, want ErrTampered", workers, at, segment, err)
				}
			}
			if _, err := decryptBytes(t, &constantKMS{}, ciphertext[:end], DecryptOptions{}); end < len(ciphertext) && err != ErrTampered {
				t.Errorf("%d workers: Decrypt(cut after segment %d) = %v, want ErrTampered", workers, segment, err)
			}
		}
		// Two segments swapped.
		swapped := bytes.Clone(ciphertext)
		a, b := swapped[headerBytes+segmentSize:headerBytes+2*segmentSize], swapped[headerBytes+5*segmentSize:headerBytes+6*segmentSize]
		tmp := bytes.Clone(a)
		copy(a, b)
		copy(b, tmp)
		if _, err := decryptBytes(t, &constantKMS{}, swapped, DecryptOptions{}); err != ErrTampered {
			t.Errorf("%d workers: Decrypt(segments 1 and 5 swapped) = %v, want ErrTampered", workers, err)
		}
	}
}

// TestDecryptFileReleasesNothingOfATamperedFile: a file damaged in its last
// segment, many batches in, leaves no output at all.
func TestDecryptFileReleasesNothingOfATamperedFile(t *testing.T) {
	plaintext := randomBytes(3 * DefaultSegmentSizeInBytes)
	ciphertext := encryptSeeded(t, 5, plaintext, DefaultSegmentSizeInBytes)
	ciphertext[len(ciphertext)-1] ^= 1
	for _, workers := range []int{1, 2} {
		pipelinetest.SetWorkers(t, workers)
		_, dst, err := decryptFileIn(t, &constantKMS{}, ciphertext, DecryptOptions{})
		if err != ErrTampered {
			t.Errorf("%d workers: DecryptFile(last byte flipped) = %v, want ErrTampered", workers, err)
		}
		if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%d workers: DecryptFile(tampered) left %s (%v), want no file", workers, filepath.Base(dst), err)
		}
	}
}

func TestPipelineErrorsStopEverything(t *testing.T) {
	pipelinetest.SetWorkers(t, 3)
	plaintext := randomBytes(40 * DefaultSegmentSizeInBytes / 10)
	ciphertext := encryptSeeded(t, 5, plaintext, DefaultSegmentSizeInBytes)
	failure := errors.New("device failure")
	k := &constantKMS{}
	encryptOpts := EncryptOptions{KeyID: constantKeyARN}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name string
		run  func() error
		want error
	}{
		{"Encrypt(failing reader)", func() error {
			_, err := Encrypt(t.Context(), k, io.Discard, &pipelinetest.FailAfter{R: bytes.NewReader(plaintext), N: 2*DefaultSegmentSizeInBytes + 5, Err: failure}, encryptOpts)
			return err
		}, failure},
		{"Encrypt(failing writer)", func() error {
			_, err := Encrypt(t.Context(), k, &pipelinetest.FailAfter{W: io.Discard, N: 2 * DefaultSegmentSizeInBytes, Err: failure}, bytes.NewReader(plaintext), encryptOpts)
			return err
		}, failure},
		{"Encrypt(cancelled)", func() error {
			_, err := Encrypt(cancelled, k, io.Discard, bytes.NewReader(plaintext), encryptOpts)
			return err
		}, context.Canceled},
		{"Decrypt(failing reader)", func() error {
			_, err := Decrypt(t.Context(), k, io.Discard, &pipelinetest.FailAfter{R: bytes.NewReader(ciphertext), N: 2*DefaultSegmentSizeInBytes + 5, Err: failure}, DecryptOptions{})
			return err
		}, failure},
		{"Decrypt(failing writer)", func() error {
			_, err := Decrypt(t.Context(), k, &pipelinetest.FailAfter{W: io.Discard, N: 2 * DefaultSegmentSizeInBytes, Err: failure}, bytes.NewReader(ciphertext), DecryptOptions{})
			return err
		}, failure},
		{"Decrypt(cancelled)", func() error {
			_, err := Decrypt(cancelled, k, io.Discard, bytes.NewReader(ciphertext), DecryptOptions{})
			return err
		}, context.Canceled},
		{"Decrypt(tampered)", func() error {
			damaged := bytes.Clone(ciphertext)
			damaged[len(damaged)/3] ^= 1
			_, err := Decrypt(t.Context(), k, io.Discard, bytes.NewReader(damaged), DecryptOptions{})
			return err
		}, ErrTampered},
	} {
		pipelinetest.NoLeaks(t, func() {
			if err := tc.run(); !errors.Is(err, tc.want) {
				t.Errorf("%s = %v, want %v", tc.name, err, tc.want)
			}
		})
	}
}
