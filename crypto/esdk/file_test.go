package esdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"cse-workshop/crypto/internal/safefile"
)

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	k := &testKMS{}
	plain, sealed, opened := filepath.Join(dir, "plain"), filepath.Join(dir, "sealed"), filepath.Join(dir, "opened")
	plaintext := randomBytes(3*DefaultFrameLengthInBytes + 5)
	if err := os.WriteFile(plain, plaintext, 0o600); err != nil {
		t.Fatal(err)
	}
	var encryptProgress [][2]int64
	if _, err := EncryptFile(context.Background(), k, plain, sealed, EncryptOptions{
		KeyID: testKeyARN, OnProgress: func(done, total int64) { encryptProgress = append(encryptProgress, [2]int64{done, total}) },
	}); err != nil {
		t.Fatalf("EncryptFile: %v", err)
	}
	if last := encryptProgress[len(encryptProgress)-1]; last != [2]int64{int64(len(plaintext)), int64(len(plaintext))} {
		t.Errorf("EncryptFile's last progress = %v, want all of %d bytes", last, len(plaintext))
	}
	var decryptProgress [][2]int64
	if _, err := DecryptFile(context.Background(), k, sealed, opened, DecryptOptions{
		OnProgress: func(done, total int64) { decryptProgress = append(decryptProgress, [2]int64{done, total}) },
	}); err != nil {
		t.Fatalf("DecryptFile: %v", err)
	}
	got, err := os.ReadFile(opened)
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("DecryptFile wrote %d bytes (%v), want the %d-byte plaintext", len(got), err, len(plaintext))
	}
	if fi, _ := os.Stat(opened); fi.Mode().Perm() != 0o600 {
		t.Errorf("decrypted file mode %v, want 0600", fi.Mode().Perm())
	}
	if last := decryptProgress[len(decryptProgress)-1]; last != [2]int64{int64(len(plaintext)), int64(len(plaintext))} {
		t.Errorf("DecryptFile's last progress = %v, want all of %d bytes", last, len(plaintext))
	}
}

// A message damaged in its last frame leaves no output, even though the
// stream released its first frames, and an existing output stays as it was.
func TestDecryptFileLeavesNothing(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		dir := t.TempDir()
		k := &testKMS{}
		msg := encryptForTest(t, k, randomBytes(5*DefaultFrameLengthInBytes), EncryptOptions{Suite: suite})
		msg[len(msg)-120] ^= 1 // in the final frame (or, signed, its tag)
		sealed := filepath.Join(dir, "sealed")
		if err := os.WriteFile(sealed, msg, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := DecryptFile(context.Background(), k, sealed, filepath.Join(dir, "new"), DecryptOptions{}); !errors.Is(err, ErrTampered) {
			t.Errorf("%s: DecryptFile(tampered) = %v, want ErrTampered", suite, err)
		}
		existing := filepath.Join(dir, "existing")
		os.WriteFile(existing, []byte("before"), 0o600)
		DecryptFile(context.Background(), k, sealed, existing, DecryptOptions{})
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Errorf("%s: after failed decryptions the folder holds %d files, want the message and the existing file", suite, len(entries))
		}
		if b, _ := os.ReadFile(existing); string(b) != "before" {
			t.Errorf("%s: an existing output became %q", suite, b)
		}
	}
}

// DecryptFile knows the plaintext's size from the file's before it starts:
// exactly for unsigned suites, within the few bytes a signature's length
// varies for signed ones.
func TestPlaintextSize(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		for _, frameLength := range []int{1, 16, 4096} {
			for _, size := range boundarySizes(frameLength) {
				msg := encryptForTest(t, &testKMS{}, randomBytes(size), EncryptOptions{Suite: suite, FrameLengthInBytes: frameLength})
				h, err := ParseHeader(bytes.NewReader(msg))
				if err != nil {
					t.Fatal(err)
				}
				got := plaintextSize(h, int64(len(msg)-len(mustMarshalBody(t, h))-tagSizeInBytes))
				if d := got - int64(size); d != 0 && (!suite.Signed() || d < -2 || d > 2) {
					t.Errorf("%s, frame %d: plaintextSize of a %d-byte plaintext = %d", suite, frameLength, size, got)
				}
			}
		}
	}
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.left))
	for i := range p[:n] {
		p[i] = byte(i)
	}
	r.left -= int64(n)
	return n, nil
}

// Encrypt and Decrypt stream: what they allocate does not grow with the
// message. 64 MiB pass through both, piped, with a few MiB allocated.
func TestConstantMemory(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		k := &testKMS{}
		const size = 64 << 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		pr, pw := io.Pipe()
		go func() {
			_, err := Encrypt(context.Background(), k, pw, &patternReader{left: size}, EncryptOptions{KeyID: testKeyARN, Suite: suite})
			pw.CloseWithError(err)
		}()
		var n countingWriter
		if _, err := Decrypt(context.Background(), k, &n, pr, DecryptOptions{}); err != nil {
			t.Fatalf("%s: Decrypt = %v", suite, err)
		}
		runtime.ReadMemStats(&after)
		if n != size {
			t.Fatalf("%s: decrypted %d bytes, want %d", suite, n, size)
		}
		t.Logf("%s: %d KiB allocated", suite, (after.TotalAlloc-before.TotalAlloc)>>10)
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
			t.Errorf("%s: encrypting and decrypting %d MiB allocated %d MiB", suite, size>>20, allocated>>20)
		}
	}
}

type countingWriter int64

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}

// A cancelled context stops both directions, and leaves no file.
func TestCancel(t *testing.T) {
	dir := t.TempDir()
	k := &testKMS{}
	plain := filepath.Join(dir, "plain")
	os.WriteFile(plain, randomBytes(1<<20), 0o600)
	sealed := filepath.Join(dir, "sealed")
	if _, err := EncryptFile(context.Background(), k, plain, sealed, EncryptOptions{KeyID: testKeyARN}); err != nil {
		t.Fatal(err)
	}
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		ctx, cancel := context.WithCancel(context.Background())
		progress := func(done, total int64) {
			if done > 0 {
				cancel()
			}
		}
		if _, err := EncryptFile(ctx, k, plain, filepath.Join(dir, "cancelled"), EncryptOptions{KeyID: testKeyARN, Suite: suite, OnProgress: progress}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: EncryptFile(cancelled) = %v, want context.Canceled", suite, err)
		}
		ctx, cancel = context.WithCancel(context.Background())
		if _, err := DecryptFile(ctx, k, sealed, filepath.Join(dir, "cancelled"), DecryptOptions{OnProgress: progress}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: DecryptFile(cancelled) = %v, want context.Canceled", suite, err)
		}
		cancel()
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("after cancelled runs the folder holds %d files, want 2", len(entries))
	}
}

// The file functions write through the shared safe output: a destination
// that is the source is refused before anything is written, and a pipe
// that ends as the run is cancelled writes nothing.
func TestFilesWriteThroughSafeOutput(t *testing.T) {
	dir := t.TempDir()
	k := &testKMS{}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EncryptFile(t.Context(), k, plain, plain, EncryptOptions{KeyID: testKeyARN}); !errors.Is(err, safefile.ErrSameFile) {
		t.Errorf("EncryptFile(src, src) = %v, want ErrSameFile", err)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	src := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	w.Write([]byte("cut short"))
	w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := EncryptFile(ctx, k, src, filepath.Join(dir, "out"), EncryptOptions{KeyID: testKeyARN}); !errors.Is(err, context.Canceled) {
		t.Errorf("EncryptFile(pipe, cancelled) = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("EncryptFile(pipe, cancelled) wrote its output")
	}
}
