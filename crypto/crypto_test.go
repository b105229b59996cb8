package crypto

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"cse-workshop/crypto/internal/safefile"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
)

// testSegmentSizeInBytes makes small files span several segments: the
// first holds 200 bytes of plaintext, the others 240.
const testSegmentSizeInBytes = 256

const (
	testFirstSegment = testSegmentSizeInBytes - streamHeaderSizeInBytes - segmentTagSizeInBytes
	testSegment      = testSegmentSizeInBytes - segmentTagSizeInBytes
)

var (
	schemes     = []Scheme{SchemeKMSDataKey, SchemeTink}
	testContext = map[string]string{"whatfor": "usecase-3-cse"}
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testEncryptOptions(k *testKMS, scheme Scheme) EncryptOptions {
	return EncryptOptions{
		KeyID:              k.alias,
		EncryptionContext:  testContext,
		Scheme:             scheme,
		SegmentSizeInBytes: testSegmentSizeInBytes,
	}
}

func encryptBytes(t testing.TB, k KMS, plaintext []byte, opts EncryptOptions) ([]byte, *Header) {
	t.Helper()
	var ciphertext bytes.Buffer
	h, err := Encrypt(t.Context(), k, &ciphertext, bytes.NewReader(plaintext), opts)
	if err != nil {
		t.Fatalf("Encrypt(%d bytes, %v) = %v", len(plaintext), opts.Scheme, err)
	}
	return ciphertext.Bytes(), h
}

func decryptBytes(t testing.TB, k KMS, ciphertext []byte, opts DecryptOptions) ([]byte, error) {
	t.Helper()
	var plaintext bytes.Buffer
	_, err := Decrypt(t.Context(), k, &plaintext, bytes.NewReader(ciphertext), opts)
	return plaintext.Bytes(), err
}

// decryptFileIn writes ciphertext to a new folder and decrypts it there with
// DecryptFile; it returns the folder, the destination and the error.
func decryptFileIn(t *testing.T, k KMS, ciphertext []byte, opts DecryptOptions) (dir, dst string, err error) {
	t.Helper()
	dir = t.TempDir()
	src := filepath.Join(dir, "encrypted_e.txt")
	if err := os.WriteFile(src, ciphertext, 0o600); err != nil {
		t.Fatal(err)
	}
	dst = filepath.Join(dir, "plaintext_u_cycled.txt")
	_, err = DecryptFile(t.Context(), k, src, dst, opts)
	return dir, dst, err
}

// filesIn lists the names in dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// segmentsFor is the number of Tink segments of a plaintext of n bytes.
func segmentsFor(n int) int {
	if n <= testFirstSegment {
		return 1
	}
	return 1 + (n-testFirstSegment+testSegment-1)/testSegment
}

func TestRoundTripAtSegmentBoundaries(t *testing.T) {
	for _, scheme := range schemes {
		for _, size := range boundarySizes {
			t.Run(fmt.Sprintf("%v/%d", scheme, size), func(t *testing.T) {
				k := newTestKMS(t)
				plaintext := randomBytes(size)
				ciphertext, h := encryptBytes(t, k, plaintext, testEncryptOptions(k, scheme))

				want := &Header{
					Version: FormatVersion, Scheme: scheme, KeyARN: k.keyARN,
					EncryptionContext: testContext, EncryptedDataKey: h.EncryptedDataKey,
					SegmentSizeInBytes: testSegmentSizeInBytes,
				}
				if diff := cmp.Diff(want, h); diff != "" {
					t.Errorf("Encrypt header (-want +got):\n%s", diff)
				}
				rawHeader, err := h.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				wantSize := len(rawHeader) + streamHeaderSizeInBytes + size + segmentTagSizeInBytes*segmentsFor(size)
				if len(ciphertext) != wantSize {
					t.Errorf("len(ciphertext) = %d, want %d", len(ciphertext), wantSize)
				}
				if !bytes.HasPrefix(ciphertext, rawHeader) {
					t.Errorf("ciphertext does not start with the header")
				}

				got, err := decryptBytes(t, k, ciphertext, DecryptOptions{})
				if err != nil {
					t.Fatalf("Decrypt = %v", err)
				}
				if !bytes.Equal(got, plaintext) {
					t.Errorf("Decrypt(Encrypt(%d bytes)) = %d bytes, not the plaintext", size, len(got))
				}
				wantCalls := map[string]int64{"GenerateDataKey": 1, "Encrypt": 0, "Decrypt": 1}
				if scheme == SchemeTink {
					wantCalls = map[string]int64{"GenerateDataKey": 0, "Encrypt": 1, "Decrypt": 1}
				}
				gotCalls := map[string]int64{
					"GenerateDataKey": k.generateDataKeyCalls.Load(),
					"Encrypt":         k.encryptCalls.Load(),
					"Decrypt":         k.decryptCalls.Load(),
				}
				if diff := cmp.Diff(wantCalls, gotCalls); diff != "" {
					t.Errorf("KMS calls (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestEncryptFileDecryptFile(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			dir := t.TempDir()
			plaintext := randomBytes(3*DefaultSegmentSizeInBytes + 12345)
			src := filepath.Join(dir, "plaintext_u.txt")
			if err := os.WriteFile(src, plaintext, 0o644); err != nil {
				t.Fatal(err)
			}
			encrypted := filepath.Join(dir, "encrypted_e.txt")
			cycled := filepath.Join(dir, "plaintext_u_cycled.txt")

			hEnc, err := EncryptFile(t.Context(), k, src, encrypted, EncryptOptions{KeyID: k.alias, EncryptionContext: testContext, Scheme: scheme})
			if err != nil {
				t.Fatalf("EncryptFile = %v", err)
			}
			if hEnc.SegmentSizeInBytes != DefaultSegmentSizeInBytes {
				t.Errorf("SegmentSizeInBytes = %d, want the default %d", hEnc.SegmentSizeInBytes, DefaultSegmentSizeInBytes)
			}
			hDec, err := DecryptFile(t.Context(), k, encrypted, cycled, DecryptOptions{EncryptionContext: testContext})
			if err != nil {
				t.Fatalf("DecryptFile = %v", err)
			}
			if diff := cmp.Diff(hEnc, hDec); diff != "" {
				t.Errorf("DecryptFile header differs from EncryptFile's (-enc +dec):\n%s", diff)
			}
			got, err := os.ReadFile(cycled)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Errorf("DecryptFile(EncryptFile(%d bytes)) = %d bytes, not the plaintext", len(plaintext), len(got))
			}
			for _, name := range []string{encrypted, cycled} {
				info, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if info.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", filepath.Base(name), info.Mode().Perm())
				}
			}
			if names, want := filesIn(t, dir), []string{"encrypted_e.txt", "plaintext_u.txt", "plaintext_u_cycled.txt"}; !slices.Equal(names, want) {
				t.Errorf("folder holds %q, want %q", names, want)
			}
		})
	}
}

// isKMSError reports whether err is an error KMS returned, wrapped as
// "decrypt data key".
func isKMSError(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && strings.HasPrefix(err.Error(), "decrypt data key: ")
}

func TestEveryByteFlippedFails(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			ciphertext, h := encryptBytes(t, k, randomBytes(testFirstSegment+testSegment+50), testEncryptOptions(k, scheme))
			rawHeader, _ := h.MarshalBinary()
			for i := range ciphertext {
				tampered := slices.Clone(ciphertext)
				tampered[i] ^= 0x01
				callsBefore := k.decryptCalls.Load()
				dir, dst, err := decryptFileIn(t, k, tampered, DecryptOptions{})

				var ok bool
				switch {
				case i < len(magic):
					ok = err == ErrNotEncrypted
				case i == len(magic):
					ok = errors.Is(err, ErrUnsupportedVersion)
				case i < len(rawHeader):
					ok = err == ErrTampered || isKMSError(err)
				default:
					ok = err == ErrTampered
				}
				if !ok {
					t.Fatalf("DecryptFile(byte %d of %d flipped, header %d bytes) = %v, want the error for that field", i, len(ciphertext), len(rawHeader), err)
				}
				if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("after DecryptFile(byte %d flipped) the destination exists (stat: %v)", i, err)
				}
				if names := filesIn(t, dir); len(names) != 1 {
					t.Fatalf("after DecryptFile(byte %d flipped) the folder holds %q, want only the source", i, names)
				}
				if calls := k.decryptCalls.Load() - callsBefore; calls > 1 {
					t.Fatalf("DecryptFile(byte %d flipped) called KMS Decrypt %d times, want at most once", i, calls)
				}
			}
		})
	}
}

func TestTruncatedFails(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			ciphertext, _ := encryptBytes(t, k, randomBytes(testFirstSegment+2*testSegment), testEncryptOptions(k, scheme))
			// Every length: inside the header, inside Tink's header, at and
			// inside each segment.
			for n := range len(ciphertext) {
				if _, err := decryptBytes(t, k, ciphertext[:n], DecryptOptions{}); err != ErrTampered {
					t.Fatalf("Decrypt(first %d of %d bytes) = %v, want ErrTampered", n, len(ciphertext), err)
				}
			}
			for _, extra := range [][]byte{{0}, randomBytes(testSegmentSizeInBytes)} {
				if _, err := decryptBytes(t, k, append(slices.Clone(ciphertext), extra...), DecryptOptions{}); err != ErrTampered {
					t.Errorf("Decrypt(ciphertext + %d bytes) = %v, want ErrTampered", len(extra), err)
				}
			}
		})
	}
}

// parseHeader returns the header at the start of ciphertext and its size in
// bytes.
func parseHeader(t testing.TB, ciphertext []byte) (*Header, int) {
	t.Helper()
	r := bytes.NewReader(ciphertext)
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatalf("ReadHeader = %v", err)
	}
	return h, len(ciphertext) - r.Len()
}

// rewriteHeader returns ciphertext with its header changed by edit.
func rewriteHeader(t *testing.T, ciphertext []byte, edit func(*Header)) []byte {
	t.Helper()
	h, n := parseHeader(t, ciphertext)
	edit(h)
	raw, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return append(raw, ciphertext[n:]...)
}

func TestWrongKeyMaterialFails(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			plaintext := randomBytes(500)
			ciphertext, _ := encryptBytes(t, k, plaintext, testEncryptOptions(k, scheme))
			otherCiphertext, otherHeader := encryptBytes(t, k, plaintext, testEncryptOptions(k, scheme))
			var invalidCiphertext *types.InvalidCiphertextException
			var incorrectKey *types.IncorrectKeyException
			var notFound *types.NotFoundException

			tests := []struct {
				name       string
				ciphertext []byte
				opts       DecryptOptions
				check      func(error) bool
				want       string
			}{
				{
					name: "encryption context edited in the header",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.EncryptionContext = map[string]string{"whatfor": "usecase-3-CSE"}
					}),
					check: func(err error) bool { return errors.As(err, &invalidCiphertext) && isKMSError(err) },
					want:  "decrypt data key: InvalidCiphertextException",
				},
				{
					// KMS says the header's key did not encrypt the
					// header's data key.
					name: "key ARN of another key in the header",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.KeyARN = k.otherKeyARN
					}),
					check: func(err error) bool { return err == ErrTampered },
					want:  "ErrTampered",
				},
				{
					name: "key ARN of another key in the header, the right key pinned",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.KeyARN = k.otherKeyARN
					}),
					opts:  DecryptOptions{KeyID: k.keyARN},
					check: func(err error) bool { return err == ErrTampered },
					want:  "ErrTampered",
				},
				{
					// It could be a deleted key: only the caller knows.
					name:       "key ARN of no key in the header",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) { h.KeyARN = noKeyARN(k.keyARN) }),
					check: func(err error) bool {
						var dke *DataKeyError
						return errors.As(err, &dke) && dke.KeyFromHeader() && dke.HeaderKeyARN == noKeyARN(k.keyARN) &&
							errors.As(err, &notFound) && isKMSError(err)
					},
					want: "a DataKeyError of the header's key: NotFoundException",
				},
				{
					name:       "another KMS key pinned",
					ciphertext: ciphertext,
					opts:       DecryptOptions{KeyID: k.otherKeyARN},
					check: func(err error) bool {
						var dke *DataKeyError
						return errors.As(err, &dke) && !dke.KeyFromHeader() && dke.KeyID == k.otherKeyARN && dke.HeaderKeyARN == k.keyARN &&
							errors.As(err, &incorrectKey) && isKMSError(err)
					},
					want: "a DataKeyError of the pinned key: IncorrectKeyException",
				},
				{
					name: "encrypted data key of another file",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.EncryptedDataKey = otherHeader.EncryptedDataKey
					}),
					check: func(err error) bool { return err == ErrTampered },
					want:  "ErrTampered",
				},
				{
					name: "stream of another file under the same header",
					ciphertext: func() []byte {
						_, n := parseHeader(t, ciphertext)
						_, otherN := parseHeader(t, otherCiphertext)
						return append(slices.Clone(ciphertext[:n]), otherCiphertext[otherN:]...)
					}(),
					check: func(err error) bool { return err == ErrTampered },
					want:  "ErrTampered",
				},
				{
					name: "segment size edited in the header",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.SegmentSizeInBytes *= 2
					}),
					check: func(err error) bool { return err == ErrTampered },
					want:  "ErrTampered",
				},
				{
					name: "scheme edited in the header",
					ciphertext: rewriteHeader(t, ciphertext, func(h *Header) {
						h.Scheme = 3 - h.Scheme
					}),
					check: func(err error) bool { return err == ErrTampered || isKMSError(err) },
					want:  "ErrTampered or a KMS error",
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := decryptBytes(t, k, tt.ciphertext, tt.opts)
					if !tt.check(err) {
						t.Errorf("Decrypt(%s) = %v, want %s", tt.name, err, tt.want)
					}
					if len(got) > 0 {
						t.Errorf("Decrypt(%s) released %d bytes of plaintext", tt.name, len(got))
					}
				})
			}
		})
	}
}

// noKeyARN is keyARN with its key ID changed: a well-formed ARN of no key.
func noKeyARN(keyARN string) string {
	rest := keyARN[:len(keyARN)-1]
	if strings.HasSuffix(keyARN, "0") {
		return rest + "1"
	}
	return rest + "0"
}

func TestEncryptionContextMismatchCallsNoKMS(t *testing.T) {
	k := newTestKMS(t)
	ciphertext, _ := encryptBytes(t, k, []byte("hello"), testEncryptOptions(k, SchemeKMSDataKey))
	for _, ec := range []map[string]string{
		{},
		{"whatfor": "usecase-3-CSE"},
		{"whatfor": "usecase-3-cse", "extra": "x"},
	} {
		before := k.calls()
		_, err := decryptBytes(t, k, ciphertext, DecryptOptions{EncryptionContext: ec})
		if !errors.Is(err, ErrEncryptionContextMismatch) {
			t.Errorf("Decrypt(context %v) = %v, want ErrEncryptionContextMismatch", ec, err)
		}
		if err != nil && !strings.Contains(err.Error(), `{"whatfor":"usecase-3-cse"}`) {
			t.Errorf("Decrypt(context %v) = %q, want the file's context in the message", ec, err)
		}
		if calls := k.calls() - before; calls != 0 {
			t.Errorf("Decrypt(context %v) made %d KMS calls, want none", ec, calls)
		}
	}
	if _, err := decryptBytes(t, k, ciphertext, DecryptOptions{EncryptionContext: map[string]string{"whatfor": "usecase-3-cse"}}); err != nil {
		t.Errorf("Decrypt(the right context) = %v, want success", err)
	}
}

func TestFailureLeavesDestinationUntouched(t *testing.T) {
	k := newTestKMS(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "plaintext_u.txt")
	if err := os.WriteFile(src, randomBytes(1000), 0o600); err != nil {
		t.Fatal(err)
	}
	encrypted := filepath.Join(dir, "encrypted_e.txt")
	if _, err := EncryptFile(t.Context(), k, src, encrypted, testEncryptOptions(k, SchemeKMSDataKey)); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(dir, "tampered.txt")
	ciphertext, _ := os.ReadFile(encrypted)
	ciphertext[len(ciphertext)-1] ^= 1
	if err := os.WriteFile(tampered, ciphertext, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "existing.txt")
	original := []byte("the learner's own file")

	tests := []struct {
		name string
		run  func() error
	}{
		{"DecryptFile(tampered)", func() error {
			_, err := DecryptFile(t.Context(), k, tampered, dst, DecryptOptions{})
			return err
		}},
		{"DecryptFile(wrong context)", func() error {
			_, err := DecryptFile(t.Context(), k, encrypted, dst, DecryptOptions{EncryptionContext: map[string]string{}})
			return err
		}},
		{"EncryptFile(unknown key)", func() error {
			opts := testEncryptOptions(k, SchemeKMSDataKey)
			opts.KeyID = "alias/nope"
			_, err := EncryptFile(t.Context(), k, src, dst, opts)
			return err
		}},
		{"EncryptFile(missing source)", func() error {
			_, err := EncryptFile(t.Context(), k, filepath.Join(dir, "missing"), dst, testEncryptOptions(k, SchemeKMSDataKey))
			return err
		}},
	}
	for _, tt := range tests {
		if err := os.WriteFile(dst, original, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := tt.run(); err == nil {
			t.Errorf("%s = nil, want error", tt.name)
		}
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, original) {
			t.Errorf("after %s the destination holds %q, want %q", tt.name, got, original)
		}
		if names, want := filesIn(t, dir), []string{"encrypted_e.txt", "existing.txt", "plaintext_u.txt", "tampered.txt"}; !slices.Equal(names, want) {
			t.Errorf("after %s the folder holds %q, want %q", tt.name, names, want)
		}
	}
}

// A callback that panics halfway must not leave a temporary file behind: a
// partly decrypted one holds plaintext that was never authenticated.
func TestPanicInCallbackLeavesNoFile(t *testing.T) {
	k := newTestKMS(t)
	ciphertext, _ := encryptBytes(t, k, randomBytes(3*testSegment), testEncryptOptions(k, SchemeKMSDataKey))
	tests := []struct {
		name string
		run  func(src, dst string)
	}{
		{"DecryptFile(OnProgress panics)", func(src, dst string) {
			DecryptFile(t.Context(), k, src, dst, DecryptOptions{OnProgress: func(int64, int64) { panic("callback") }})
		}},
		{"EncryptFile(OnDataKey panics)", func(src, dst string) {
			opts := testEncryptOptions(k, SchemeKMSDataKey)
			opts.OnDataKey = func(DataKeyInfo) { panic("callback") }
			EncryptFile(t.Context(), k, src, dst, opts)
		}},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		src := filepath.Join(dir, "encrypted_e.txt")
		if err := os.WriteFile(src, ciphertext, 0o600); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", tt.name)
				}
			}()
			tt.run(src, filepath.Join(dir, "out.txt"))
		}()
		if names := filesIn(t, dir); !slices.Equal(names, []string{"encrypted_e.txt"}) {
			t.Errorf("after %s the folder holds %q, want only the source", tt.name, names)
		}
	}
}

func TestCancelLeavesNoFile(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			dir := t.TempDir()
			src := filepath.Join(dir, "plaintext_u.txt")
			if err := os.WriteFile(src, randomBytes(10*testSegment), 0o600); err != nil {
				t.Fatal(err)
			}
			encrypted := filepath.Join(dir, "encrypted_e.txt")
			if _, err := EncryptFile(t.Context(), k, src, encrypted, testEncryptOptions(k, scheme)); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "out.txt")

			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			opts := testEncryptOptions(k, scheme)
			var segments int
			opts.OnProgress = func(done, total int64) {
				if segments++; segments == 2 {
					cancel()
				}
			}
			if _, err := EncryptFile(ctx, k, src, dst, opts); !errors.Is(err, context.Canceled) {
				t.Errorf("EncryptFile(cancelled after 2 segments) = %v, want context.Canceled", err)
			}
			if segments != 2 {
				t.Errorf("EncryptFile went on for %d segments after cancellation", segments-2)
			}

			ctx, cancel = context.WithCancel(t.Context())
			defer cancel()
			segments = 0
			decOpts := DecryptOptions{OnProgress: opts.OnProgress}
			if _, err := DecryptFile(ctx, k, encrypted, dst, decOpts); !errors.Is(err, context.Canceled) {
				t.Errorf("DecryptFile(cancelled after 2 segments) = %v, want context.Canceled", err)
			}
			if names, want := filesIn(t, dir), []string{"encrypted_e.txt", "plaintext_u.txt"}; !slices.Equal(names, want) {
				t.Errorf("after cancellation the folder holds %q, want %q", names, want)
			}
		})
	}
}

func TestCancelStopsEncryptFromMemory(t *testing.T) {
	k := newTestKMS(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	opts := testEncryptOptions(k, SchemeKMSDataKey)
	var segments int
	opts.OnProgress = func(done, total int64) {
		if segments++; segments == 2 {
			cancel()
		}
	}
	var ciphertext bytes.Buffer
	_, err := Encrypt(ctx, k, &ciphertext, bytes.NewReader(randomBytes(10*testSegment)), opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Encrypt(cancelled after 2 segments) = %v, want context.Canceled", err)
	}
	if segments != 2 {
		t.Errorf("Encrypt went on for %d segments after cancellation", segments-2)
	}
}

// cancelAtEOF is a reader that cancels a context as it reports the end of
// its input, as a producer killed by the Ctrl-C that cancels it would.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

func TestInputEndingWithCancellationIsAnInterruption(t *testing.T) {
	k := newTestKMS(t)
	plaintext := randomBytes(3 * testSegment)
	ciphertext, _ := encryptBytes(t, k, plaintext, testEncryptOptions(k, SchemeKMSDataKey))

	ctx, cancel := context.WithCancel(t.Context())
	_, err := Encrypt(ctx, k, io.Discard, &cancelAtEOF{bytes.NewReader(plaintext), cancel}, testEncryptOptions(k, SchemeKMSDataKey))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Encrypt(input ending as the context is cancelled) = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	_, err = Decrypt(ctx, k, io.Discard, &cancelAtEOF{bytes.NewReader(ciphertext), cancel}, DecryptOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Decrypt(input ending as the context is cancelled) = %v, want context.Canceled", err)
	}
}

func TestSameSourceAndDestinationRefused(t *testing.T) {
	k := newTestKMS(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "plaintext_u.txt")
	original := []byte("hello")
	if err := os.WriteFile(src, original, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{src, filepath.Join(dir, ".", "plaintext_u.txt"), link} {
		if _, err := EncryptFile(t.Context(), k, src, dst, testEncryptOptions(k, SchemeKMSDataKey)); !errors.Is(err, safefile.ErrSameFile) {
			t.Errorf("EncryptFile(src, %s) = %v, want safefile.ErrSameFile", dst, err)
		}
		if _, err := DecryptFile(t.Context(), k, src, dst, DecryptOptions{}); !errors.Is(err, safefile.ErrSameFile) {
			t.Errorf("DecryptFile(src, %s) = %v, want safefile.ErrSameFile", dst, err)
		}
	}
	if got, _ := os.ReadFile(src); !bytes.Equal(got, original) {
		t.Errorf("source holds %q after refusals, want %q", got, original)
	}
	if k.calls() != 0 {
		t.Errorf("refused calls made %d KMS calls, want none", k.calls())
	}
}

// TestUnusablePathsExplained: a folder as the source, or a destination in a
// folder that does not exist, fails before any KMS call with a message that
// names the problem (not a temporary file's name).
func TestUnusablePathsExplained(t *testing.T) {
	k := newTestKMS(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "plaintext_u.txt")
	if err := os.WriteFile(src, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "out.enc")
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	// Like /dev/stdout: a link to a device, which a rename would replace.
	device := filepath.Join(dir, "device")
	if err := os.Symlink(os.DevNull, device); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	for _, tc := range []struct {
		name, src, dst, want string
	}{
		{"folder source", dir, filepath.Join(dir, "out.enc"), "the source is a folder, not a file"},
		{"missing folder", src, missing, "the folder " + filepath.Dir(missing) + " does not exist"},
		{"folder destination", src, folder, "is a folder, not a file"},
		{"device destination", src, device, "not a regular file"},
	} {
		_, err := EncryptFile(t.Context(), k, tc.src, tc.dst, testEncryptOptions(k, SchemeKMSDataKey))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("EncryptFile(%s) = %v, want an error saying %q", tc.name, err, tc.want)
		}
		_, err = DecryptFile(t.Context(), k, tc.src, tc.dst, DecryptOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecryptFile(%s) = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if k.calls() != 0 {
		t.Errorf("refused calls made %d KMS calls, want none", k.calls())
	}
	if target, err := os.Readlink(device); err != nil || target != os.DevNull {
		t.Errorf("after the refused calls the link to %s reads %q, %v; want it left alone", os.DevNull, target, err)
	}
}

func TestProgress(t *testing.T) {
	type call struct{ done, total int64 }
	for _, size := range []int{0, 1, testFirstSegment, testFirstSegment + 3*testSegment + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			k := newTestKMS(t)
			dir := t.TempDir()
			src := filepath.Join(dir, "plaintext_u.txt")
			if err := os.WriteFile(src, randomBytes(size), 0o600); err != nil {
				t.Fatal(err)
			}
			check := func(name string, calls []call, wantTotal int64) {
				t.Helper()
				if len(calls) == 0 || len(calls) > segmentsFor(size) {
					t.Fatalf("%s reported progress %d times, want 1 to %d (once per segment)", name, len(calls), segmentsFor(size))
				}
				for i, c := range calls {
					if c.total != wantTotal || (i > 0 && c.done <= calls[i-1].done) {
						t.Errorf("%s progress = %v, want rising done and total %d", name, calls, wantTotal)
						break
					}
				}
				if last := calls[len(calls)-1]; last.done != int64(size) {
					t.Errorf("%s last progress = %v, want done %d", name, last, size)
				}
			}

			var calls []call
			opts := testEncryptOptions(k, SchemeKMSDataKey)
			opts.OnProgress = func(done, total int64) { calls = append(calls, call{done, total}) }
			encrypted := filepath.Join(dir, "encrypted_e.txt")
			if _, err := EncryptFile(t.Context(), k, src, encrypted, opts); err != nil {
				t.Fatal(err)
			}
			check("EncryptFile", calls, int64(size))

			// A source in memory takes another path: it writes itself
			// into the encrypting writer.
			calls = nil
			plaintext, _ := os.ReadFile(src)
			if _, err := Encrypt(t.Context(), k, io.Discard, bytes.NewReader(plaintext), opts); err != nil {
				t.Fatal(err)
			}
			check("Encrypt", calls, -1)

			calls = nil
			decOpts := DecryptOptions{OnProgress: opts.OnProgress}
			if _, err := DecryptFile(t.Context(), k, encrypted, filepath.Join(dir, "out"), decOpts); err != nil {
				t.Fatal(err)
			}
			check("DecryptFile", calls, int64(size))

			calls = nil
			ciphertext, _ := os.ReadFile(encrypted)
			if _, err := Decrypt(t.Context(), k, io.Discard, bytes.NewReader(ciphertext), decOpts); err != nil {
				t.Fatal(err)
			}
			check("Decrypt", calls, -1)
		})
	}
}

func TestOnDataKeyGivesTheSizeOnly(t *testing.T) {
	for _, scheme := range schemes {
		t.Run(scheme.String(), func(t *testing.T) {
			k := newTestKMS(t)
			opts := testEncryptOptions(k, scheme)
			var infos []DataKeyInfo
			opts.OnDataKey = func(info DataKeyInfo) { infos = append(infos, info) }
			ciphertext, h := encryptBytes(t, k, []byte("hello"), opts)
			if len(infos) != 1 {
				t.Fatalf("OnDataKey called %d times, want once", len(infos))
			}
			if diff := cmp.Diff(*h, infos[0].Header); diff != "" {
				t.Errorf("OnDataKey header differs from Encrypt's (-Encrypt +OnDataKey):\n%s", diff)
			}

			// The real data key, as KMS gives it back for this header.
			ad, _ := marshalEncryptionContext(h.EncryptionContext)
			dataKey, err := unwrapDataKey(t.Context(), k, h.KeyARN, h, ad)
			if err != nil {
				t.Fatal(err)
			}
			if infos[0].DataKeySizeInBytes != len(dataKey) {
				t.Errorf("DataKeySizeInBytes = %d, want %d", infos[0].DataKeySizeInBytes, len(dataKey))
			}
			if bytes.Contains(ciphertext, dataKey) {
				t.Errorf("the ciphertext contains the plaintext data key")
			}
		})
	}
}

func TestSourceReadErrorIsNotTampering(t *testing.T) {
	k := newTestKMS(t)
	ciphertext, _ := encryptBytes(t, k, randomBytes(1000), testEncryptOptions(k, SchemeKMSDataKey))
	diskErr := errors.New("input/output error")
	src := io.MultiReader(bytes.NewReader(ciphertext[:len(ciphertext)/2]), iotest.ErrReader(diskErr))
	_, err := Decrypt(t.Context(), k, io.Discard, src, DecryptOptions{})
	if !errors.Is(err, diskErr) || errors.Is(err, ErrTampered) {
		t.Errorf("Decrypt(failing source) = %v, want the read error, not ErrTampered", err)
	}

	_, err = Encrypt(t.Context(), k, io.Discard, iotest.ErrReader(diskErr), testEncryptOptions(k, SchemeKMSDataKey))
	if !errors.Is(err, diskErr) {
		t.Errorf("Encrypt(failing source) = %v, want the read error", err)
	}
}

func TestKMSErrorsAreWrapped(t *testing.T) {
	k := newTestKMS(t)
	for _, scheme := range schemes {
		opts := testEncryptOptions(k, scheme)
		opts.KeyID = "alias/missing"
		_, err := Encrypt(t.Context(), k, io.Discard, strings.NewReader("x"), opts)
		var notFound *types.NotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("Encrypt(%v, unknown key) = %v, want a NotFoundException", scheme, err)
		}
	}
}

func TestMisusePanics(t *testing.T) {
	k := newTestKMS(t)
	tests := []struct {
		name string
		opts EncryptOptions
	}{
		{"unknown scheme", EncryptOptions{KeyID: k.keyARN, Scheme: 9}},
		{"segment too small", EncryptOptions{KeyID: k.keyARN, SegmentSizeInBytes: MinSegmentSizeInBytes - 1}},
		{"segment too large", EncryptOptions{KeyID: k.keyARN, SegmentSizeInBytes: MaxSegmentSizeInBytes + 1}},
	}
	for _, tt := range tests {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Encrypt(%s) did not panic", tt.name)
				}
			}()
			Encrypt(t.Context(), k, io.Discard, strings.NewReader("x"), tt.opts)
		}()
	}
	if k.calls() != 0 {
		t.Errorf("misuse made %d KMS calls, want none", k.calls())
	}
}

func TestParseScheme(t *testing.T) {
	for _, s := range schemes {
		got, err := ParseScheme(s.String())
		if err != nil || got != s {
			t.Errorf("ParseScheme(%q) = %v, %v, want %v", s.String(), got, err, s)
		}
	}
	if _, err := ParseScheme("aes"); err == nil {
		t.Errorf("ParseScheme(%q) = nil error, want error", "aes")
	}
}
