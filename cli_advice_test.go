package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cse-workshop/crypto"
	"cse-workshop/crypto/esdk"
)

// encryptedNotes encrypts a small file with the workshop's key (step 1 has
// run in dir) and returns its path, its bytes and the key ARN its header
// names.
func encryptedNotes(t *testing.T, dir string, run func(args ...string) result, extra ...string) (path string, data []byte, keyARN string) {
	t.Helper()
	files, in := notesFile(t)
	path = filepath.Join(files, "notes.enc")
	if r := run(append([]string{"encrypt", in, path, "--dir", dir}, extra...)...); r.code != exitOK {
		t.Fatalf("encrypt: exit %d, %s", r.code, r.stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data, headerKeyARNOf(t, data)
}

// headerKeyARNOf returns the KMS key ARN the header of an encrypted file
// names, in either format.
func headerKeyARNOf(t *testing.T, data []byte) string {
	t.Helper()
	if crypto.LooksLikeFile(data) {
		h, err := crypto.ReadHeader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return h.KeyARN
	}
	h, err := esdk.ParseHeader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return h.EncryptedDataKeys[0].KeyARN()
}

// replaceOnce writes data with the first old replaced by new to path.
func replaceOnce(t *testing.T, path string, data []byte, old, new string) {
	t.Helper()
	if len(old) != len(new) || !bytes.Contains(data, []byte(old)) {
		t.Fatalf("cannot replace %q with %q", old, new)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDecryptDamagedHeaderAdvice: a header whose key ARN, encryption
// context or encrypted data key was changed is a damaged file. It must not
// be told to run step 1 (which makes only the workshop's own key), to
// decrypt without --key when no --key was given, or to pass a --context.
func TestDecryptDamagedHeaderAdvice(t *testing.T) {
	for _, format := range []string{"esdk", "csew"} {
		t.Run(format, func(t *testing.T) { decryptDamagedHeaderAdvice(t, format) })
	}
}

func decryptDamagedHeaderAdvice(t *testing.T, format string) {
	dir, clk := workshopWithKey(t)
	run := func(args ...string) result { return inProcess(t, clk, args...) }
	enc, data, keyARN := encryptedNotes(t, dir, run, "--context", "project=demo", "--format", format)

	check := func(name string, r result, want []string) {
		t.Helper()
		if r.code != exitFailed {
			t.Errorf("decrypt with the %s changed: exit %d, want 1", name, r.code)
		}
		for _, w := range want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("decrypt with the %s changed: stderr %q, want %q in it", name, r.stderr, w)
			}
		}
		for _, bad := range []string{"step 1", "without --key", "--context", "https response error"} {
			if strings.Contains(r.stderr, bad) {
				t.Errorf("decrypt with the %s changed: stderr %q, want no %q", name, r.stderr, bad)
			}
		}
		if _, err := os.Stat(enc + ".out"); err == nil {
			t.Errorf("decrypt with the %s changed wrote its output", name)
		}
	}

	replaceOnce(t, enc, data, "project\x00\x04demo", "project\x00\x04dema")
	check("encryption context", run("decrypt", enc, enc+".out", "--dir", dir), []string{"header is damaged", "encrypt the original again"})

	// A second key of the same account: step 6 leaves the first pending
	// deletion, step 1 makes a new one.
	for _, n := range []string{"6", "1"} {
		if r := run("step", n, "--dir", dir); r.code != exitOK {
			t.Fatalf("step %s: exit %d, %s", n, r.code, r.stderr)
		}
	}
	_, _, otherARN := encryptedNotes(t, dir, run, "--format", format)
	if otherARN == keyARN {
		t.Fatal("step 1 after step 6 reused the key")
	}
	keyID := keyARN[strings.LastIndex(keyARN, "/")+1:]
	missingID := strings.Repeat("0", 8) + keyID[8:]

	for _, tc := range []struct {
		name     string
		old, new string
		want     []string
	}{
		{"key ARN not an ARN", "arn:aws:kms:", "arn:aws:kxs:", []string{"damaged", "encrypt the original again"}},
		{"key ARN of no key", keyID, missingID, []string{"header names KMS key", missingID, "does not have", "--dir"}},
		{"key ID of another key", keyARN, otherARN, []string{"damaged", "encrypt the original again"}},
	} {
		replaceOnce(t, enc, data, tc.old, tc.new)
		check(tc.name, run("decrypt", enc, enc+".out", "--dir", dir), tc.want)
	}

	// With --key naming another key than the file's, "decrypt without
	// --key" is the right advice.
	if err := os.WriteFile(enc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := run("decrypt", enc, enc+".out", "--key", otherARN, "--dir", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "decrypt without --key") {
		t.Errorf("decrypt --key OTHER: exit %d, stderr %q; want 1 and to decrypt without --key", r.code, r.stderr)
	}
}

// TestEncryptWithoutStep1Advice: encrypt without --key uses the workshop's
// alias, which only step 1 makes; the command printed reaches the same
// folder.
func TestEncryptWithoutStep1Advice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my workshop")
	_, in := notesFile(t)
	r := inProcess(t, autoClock(), "encrypt", in, in+".enc", "--dir", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "error: the alias alias/kms_key_cse_usecase_3 does not exist") ||
		!strings.Contains(r.stderr, "`cse-workshop step 1 --dir '"+dir+"'`") {
		t.Errorf("encrypt before step 1: exit %d, stderr %q; want 1, the missing alias, and step 1 with the same --dir", r.code, r.stderr)
	}
}

// TestDecryptLiveKeyOfAnotherRegionAdvice: against real AWS, a header whose
// key is in another region is a file to decrypt with that --region, not a
// damaged one.
func TestDecryptLiveKeyOfAnotherRegionAdvice(t *testing.T) {
	clk := autoClock()
	liveFake(t, clk)
	dir := t.TempDir()
	run := func(args ...string) result { return inProcess(t, clk, append(args, "--aws", "--yes")...) }
	if r := run("step", "1", "--dir", dir); r.code != exitOK {
		t.Fatalf("step 1 --aws: exit %d, %s", r.code, r.stderr)
	}
	enc, data, keyARN := encryptedNotes(t, dir, run)
	replaceOnce(t, enc, data, ":eu-west-1:", ":us-west-2:")
	r := run("decrypt", enc, enc+".out", "--dir", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "decrypt it with --region us-west-2") ||
		!strings.Contains(r.stderr, strings.Replace(keyARN, "eu-west-1", "us-west-2", 1)) || strings.Contains(r.stderr, "damaged") {
		t.Errorf("decrypt --aws of a file whose key is in us-west-2: exit %d, stderr %q; want 1 and --region us-west-2", r.code, r.stderr)
	}
}
