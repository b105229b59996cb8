package esdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/cryptotest"

	"cse-workshop/crypto/internal/pipeline/pipelinetest"
)

// Encryption and decryption run batches of frames through a pipeline whose
// width is pipeline.Workers(); one worker is the sequential path. These
// tests hold the parallel path to the sequential one, byte for byte.

// pipelineSizes are plaintext sizes for a frame length: the edges of a
// frame, of a batch, and some at random.
func pipelineSizes(frameLength int) []int {
	batch := framesPerBatch(frameLength, -1) * frameLength
	sizes := []int{0, 1, frameLength - 1, frameLength, frameLength + 1, 2*frameLength + 3,
		batch - 1, batch, batch + 1, 3*batch + frameLength, 3*batch + frameLength/2}
	r := rand.New(rand.NewPCG(2, uint64(frameLength)))
	for range 3 {
		sizes = append(sizes, r.IntN(4*batch))
	}
	return sizes
}

// encryptSeeded encrypts plaintext, the crypto/rand stream reset to seed.
func encryptSeeded(t *testing.T, seed uint64, plaintext []byte, opts EncryptOptions) []byte {
	t.Helper()
	cryptotest.SetGlobalRandom(t, seed)
	return encryptForTest(t, &testKMS{}, plaintext, opts)
}

func TestParallelIsSequential(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		for _, frameLength := range []int{1, 100, DefaultFrameLengthInBytes, 300 << 10} {
			for _, size := range pipelineSizes(frameLength) {
				t.Run(fmt.Sprintf("%s/frame %d/%d bytes", suite, frameLength, size), func(t *testing.T) {
					plaintext := randomBytes(size)
					opts := EncryptOptions{Suite: suite, FrameLengthInBytes: frameLength, EncryptionContext: workshopContext}
					pipelinetest.SetWorkers(t, 1)
					sequential := encryptSeeded(t, 3, plaintext, opts)
					pipelinetest.SetWorkers(t, 3)
					parallel := encryptSeeded(t, 3, plaintext, opts)
					if !bytes.Equal(parallel, sequential) {
						t.Fatalf("Encrypt with 3 workers differs from Encrypt with 1 (%d and %d bytes)", len(parallel), len(sequential))
					}
					for _, workers := range []int{1, 3} {
						pipelinetest.SetWorkers(t, workers)
						var got bytes.Buffer
						if _, err := Decrypt(t.Context(), &testKMS{}, &got, bytes.NewReader(parallel), DecryptOptions{}); err != nil || !bytes.Equal(got.Bytes(), plaintext) {
							t.Errorf("Decrypt with %d workers = %d bytes, %v; want the plaintext", workers, got.Len(), err)
						}
					}
				})
			}
		}
	}
}

// TestTamperingAnywhereFailsInParallel damages a message of several
// batches in frames across it, cuts it short, swaps frames: each fails,
// whichever worker opens the frame, and nothing of the final frame is
// released.
func TestTamperingAnywhereFailsInParallel(t *testing.T) {
	const frameLength = 1000
	perBatch := framesPerBatch(frameLength, -1)
	stride := regularFrameOverheadInBytes + frameLength
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		plaintext := randomBytes(3*perBatch*frameLength + 500)
		msg := encryptSeeded(t, 4, plaintext, EncryptOptions{Suite: suite, FrameLengthInBytes: frameLength})
		h, err := ParseHeader(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		bodyStart := len(mustMarshalBody(t, h)) + tagSizeInBytes
		frames := 3*perBatch + 1
		for _, workers := range []int{1, 2, 4} {
			pipelinetest.SetWorkers(t, workers)
			decrypt := func(m []byte) ([]byte, error) {
				var out bytes.Buffer
				_, err := Decrypt(t.Context(), &testKMS{}, &out, bytes.NewReader(m), DecryptOptions{})
				return out.Bytes(), err
			}
			for _, frame := range []int{0, 1, perBatch - 1, perBatch, 2*perBatch + 3, frames - 1} {
				start := bodyStart + frame*stride
				for _, at := range []int{start, start + 20, start + stride/2, min(start+stride, len(msg)) - 1} {
					damaged := bytes.Clone(msg)
					damaged[at] ^= 0x10
					got, err := decrypt(damaged)
					if !errors.Is(err, ErrTampered) {
						t.Errorf("%s, %d workers: Decrypt(byte %d of frame %d flipped) = %v, want ErrTampered", suite, workers, at, frame, err)
					}
					if len(got) > frame*frameLength {
						t.Errorf("%s, %d workers: Decrypt(frame %d damaged) released %d bytes, beyond the frames before it", suite, workers, frame, len(got))
					}
					if _, err := decrypt(msg[:at]); !errors.Is(err, ErrTampered) {
						t.Errorf("%s, %d workers: Decrypt(cut at byte %d, in frame %d) = %v, want ErrTampered", suite, workers, at, frame, err)
					}
				}
			}
			for _, cut := range []int{1, 2, 50} {
				if _, err := decrypt(msg[:len(msg)-cut]); !errors.Is(err, ErrTampered) {
					t.Errorf("%s, %d workers: Decrypt(last %d bytes cut) = %v, want ErrTampered", suite, workers, cut, err)
				}
			}
			if _, err := decrypt(append(bytes.Clone(msg), 0)); !errors.Is(err, ErrTampered) {
				t.Errorf("%s, %d workers: Decrypt(a byte appended) = %v, want ErrTampered", suite, workers, err)
			}
			swapped := bytes.Clone(msg)
			a, b := swapped[bodyStart+2*stride:bodyStart+3*stride], swapped[bodyStart+(perBatch+2)*stride:bodyStart+(perBatch+3)*stride]
			tmp := bytes.Clone(a)
			copy(a, b)
			copy(b, tmp)
			if _, err := decrypt(swapped); !errors.Is(err, ErrTampered) {
				t.Errorf("%s, %d workers: Decrypt(two frames swapped) = %v, want ErrTampered", suite, workers, err)
			}
		}
	}
}

func TestPipelineErrorsStopEverything(t *testing.T) {
	pipelinetest.SetWorkers(t, 3)
	const size = 4 << 20
	plaintext := randomBytes(size)
	failure := errors.New("device failure")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		k := &testKMS{}
		opts := EncryptOptions{KeyID: testKeyARN, Suite: suite}
		msg := encryptForTest(t, k, plaintext, opts)
		for _, tc := range []struct {
			name string
			run  func() error
			want error
		}{
			{"Encrypt(failing reader)", func() error {
				_, err := Encrypt(t.Context(), k, io.Discard, &pipelinetest.FailAfter{R: bytes.NewReader(plaintext), N: size / 3, Err: failure}, opts)
				return err
			}, failure},
			{"Encrypt(failing writer)", func() error {
				_, err := Encrypt(t.Context(), k, &pipelinetest.FailAfter{W: io.Discard, N: size / 3, Err: failure}, bytes.NewReader(plaintext), opts)
				return err
			}, failure},
			{"Encrypt(cancelled)", func() error {
				_, err := encrypt(cancelled, k, io.Discard, bytes.NewReader(plaintext), -1, opts)
				return err
			}, context.Canceled},
			{"Decrypt(failing reader)", func() error {
				_, err := Decrypt(t.Context(), k, io.Discard, &pipelinetest.FailAfter{R: bytes.NewReader(msg), N: size / 3, Err: failure}, DecryptOptions{})
				return err
			}, failure},
			{"Decrypt(failing writer)", func() error {
				_, err := Decrypt(t.Context(), k, &pipelinetest.FailAfter{W: io.Discard, N: size / 3, Err: failure}, bytes.NewReader(msg), DecryptOptions{})
				return err
			}, failure},
			{"Decrypt(cancelled)", func() error {
				_, err := Decrypt(cancelled, k, io.Discard, bytes.NewReader(msg), DecryptOptions{})
				return err
			}, context.Canceled},
			{"Decrypt(tampered)", func() error {
				damaged := bytes.Clone(msg)
				damaged[len(damaged)/3] ^= 1
				_, err := Decrypt(t.Context(), k, io.Discard, bytes.NewReader(damaged), DecryptOptions{})
				return err
			}, ErrTampered},
		} {
			pipelinetest.NoLeaks(t, func() {
				if err := tc.run(); !errors.Is(err, tc.want) {
					t.Errorf("%s: %s = %v, want %v", suite, tc.name, err, tc.want)
				}
			})
		}
	}
}

// A file's size sizes its batches, but only as a hint: a file that grew or
// shrank between its size and its reading still makes the same message,
// and a message longer or shorter than its file announced still opens
// (or fails) as it would have.
func TestSizeHintChangesNoByte(t *testing.T) {
	for _, workers := range []int{1, 3} {
		pipelinetest.SetWorkers(t, workers)
		for _, size := range []int{0, 1, 5000, 3*framesPerBatch(1000, -1)*1000 + 7} {
			plaintext := randomBytes(size)
			opts := EncryptOptions{KeyID: testKeyARN, Suite: SuiteCommitKey, FrameLengthInBytes: 1000}
			cryptotest.SetGlobalRandom(t, 5)
			want := encryptForTest(t, &testKMS{}, plaintext, opts)
			for _, hint := range []int64{0, 1, int64(size) / 2, int64(size), 10 * int64(size)} {
				cryptotest.SetGlobalRandom(t, 5)
				var got bytes.Buffer
				if _, err := encrypt(t.Context(), &testKMS{}, &got, bytes.NewReader(plaintext), hint, opts); err != nil || !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%d workers, %d bytes announced as %d: encrypt = %d bytes, %v; want the message made without a hint", workers, size, hint, got.Len(), err)
				}
				var back bytes.Buffer
				if _, err := decrypt(t.Context(), &testKMS{}, &back, bytes.NewReader(want), hint, DecryptOptions{}); err != nil || !bytes.Equal(back.Bytes(), plaintext) {
					t.Errorf("%d workers, a %d-byte message announced as %d bytes: decrypt = %d bytes, %v; want the plaintext", workers, len(want), hint, back.Len(), err)
				}
			}
		}
	}
}
