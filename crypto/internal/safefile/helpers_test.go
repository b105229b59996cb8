package safefile

import (
	"bytes"
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

// writeLog records the writes it gets: a copy of each, and where each
// came from.
type writeLog struct {
	writes [][]byte
	from   []*byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, bytes.Clone(p))
	w.from = append(w.from, &p[0])
	return len(p), nil
}

// Small writes are gathered; a large one goes through as it is, after
// them, not copied.
func TestOutputBufferPassesLargeWritesThrough(t *testing.T) {
	var log writeLog
	w := newOutputBuffer(&log, -1)
	small, large := []byte("header"), make([]byte, directWriteBytes)
	w.Write(small)
	w.Write(small)
	if len(log.writes) != 0 {
		t.Fatalf("two small writes made %d writes, want them gathered", len(log.writes))
	}
	w.Write(large)
	if len(log.writes) != 2 || string(log.writes[0]) != "headerheader" || log.from[1] != &large[0] || len(log.writes[1]) != len(large) {
		t.Fatalf("a large write after two small ones made writes of %d bytes; want the gathered 12, then the large one itself", lens(log.writes))
	}
	w.Write(small)
	w.Flush()
	if len(log.writes) != 3 || string(log.writes[2]) != "header" {
		t.Errorf("Flush wrote %d; want the last small write", lens(log.writes))
	}
}

// A small input's output is gathered in a buffer of about its size, not
// the megabyte a large one gets; output longer than the estimate still
// arrives whole and in order.
func TestOutputBufferSizedForSmallInput(t *testing.T) {
	var log writeLog
	w := newOutputBuffer(&log, 1024)
	if got := w.buf.Size(); got > 1024+smallOutputSlackBytes {
		t.Fatalf("buffer for a 1 KiB input: %d bytes, want at most %d", got, 1024+smallOutputSlackBytes)
	}
	if got := newOutputBuffer(&log, 1<<30).buf.Size(); got != outputBufferBytes {
		t.Errorf("buffer for a 1 GiB input: %d bytes, want %d", got, outputBufferBytes)
	}
	var want []byte
	for i := range 4000 {
		chunk := bytes.Repeat([]byte{byte(i)}, i%97+1)
		want = append(want, chunk...)
		w.Write(chunk)
	}
	w.Flush()
	if got := bytes.Join(log.writes, nil); !bytes.Equal(got, want) {
		t.Errorf("wrote %d bytes through a small buffer, got back %d, or out of order", len(want), len(got))
	}
}

func lens(writes [][]byte) []int {
	var n []int
	for _, w := range writes {
		n = append(n, len(w))
	}
	return n
}
