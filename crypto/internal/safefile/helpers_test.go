package safefile

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// testSegment is a size of data the tests write in a few pieces.
const testSegment = 4096

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
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

// copyFile copies src to dst through Transform, the simplest
// transformation; onCopied, when set, is told the bytes copied so far
// after each write.
func copyFile(ctx context.Context, src, dst string, onCopied func(int64)) error {
	return Transform(ctx, src, dst, func(w io.Writer, r io.Reader, _ int64) error {
		if onCopied == nil {
			_, err := io.Copy(w, r)
			return err
		}
		_, err := io.Copy(&progressWriter{w: w, onCopied: onCopied}, r)
		return err
	})
}

type progressWriter struct {
	w        io.Writer
	done     int64
	onCopied func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.onCopied(p.done)
	return n, err
}

// writeSmallFile copies data from a new file in dir into dst through
// Transform, and fails the test on error.
func writeSmallFile(t *testing.T, dir, dst string, data []byte) {
	t.Helper()
	src := filepath.Join(dir, "plaintext.txt")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(t.Context(), src, dst, nil); err != nil {
		t.Fatalf("Transform = %v", err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}

// fileContents returns what the file name holds.
func fileContents(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
