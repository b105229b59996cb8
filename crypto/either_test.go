package crypto

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"cse-workshop/crypto/esdk"
)

// pipeOf returns a name that reads data through a pipe, as /dev/stdin does
// under `producer | decrypt /dev/stdin OUT`: it can be read once only.
func pipeOf(t *testing.T, data []byte) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	name := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	if _, err := os.Stat(name); err != nil {
		t.Skipf("no /proc/self/fd here: %v", err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	return name
}

// DecryptEitherFile tells the two formats apart from the stream itself, so
// that either decrypts from a pipe, which cannot be looked at twice.
func TestDecryptEitherFileFromAPipe(t *testing.T) {
	k := newTestKMS(t)
	plaintext := randomBytes(3*testSegment + 7)
	csew, _ := encryptBytes(t, k, plaintext, testEncryptOptions(k, SchemeKMSDataKey))
	var message bytes.Buffer
	if _, err := esdk.Encrypt(t.Context(), k, &message, bytes.NewReader(plaintext), esdk.EncryptOptions{KeyID: k.keyARN}); err != nil {
		t.Fatalf("esdk.Encrypt = %v", err)
	}
	for _, tc := range []struct {
		name       string
		ciphertext []byte
		wantCSEW   bool
	}{{"CSEW", csew, true}, {"message", message.Bytes(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "out")
			got, err := DecryptEitherFile(t.Context(), k, pipeOf(t, tc.ciphertext), dst, DecryptOptions{}, esdk.DecryptOptions{})
			if err != nil {
				t.Fatalf("DecryptEitherFile(pipe of a %s) = %v", tc.name, err)
			}
			if got.IsCSEW != tc.wantCSEW || (got.CSEW != nil) != tc.wantCSEW || (got.Message != nil) == tc.wantCSEW {
				t.Errorf("DecryptEitherFile(pipe of a %s) = %+v, want IsCSEW %v with that format's header only", tc.name, got, tc.wantCSEW)
			}
			if out, err := os.ReadFile(dst); err != nil || !bytes.Equal(out, plaintext) {
				t.Errorf("DecryptEitherFile(pipe of a %s) wrote %d bytes (%v), want the %d-byte plaintext", tc.name, len(out), err, len(plaintext))
			}
		})
	}
	// Neither format, or too short to tell: the message reader's refusal.
	for _, junk := range [][]byte{nil, []byte("CS"), []byte("not encrypted at all")} {
		dst := filepath.Join(t.TempDir(), "out")
		got, err := DecryptEitherFile(t.Context(), k, pipeOf(t, junk), dst, DecryptOptions{}, esdk.DecryptOptions{})
		if err == nil || got.IsCSEW {
			t.Errorf("DecryptEitherFile(pipe of %q) = %+v, %v; want a message's refusal", junk, got, err)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("DecryptEitherFile(pipe of %q) wrote its output", junk)
		}
	}
}
