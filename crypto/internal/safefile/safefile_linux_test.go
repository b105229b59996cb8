package safefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// hangLimit bounds how long a test waits for a call that must not hang
// before it unblocks the call itself and fails. It is not a measure of
// speed: a working call returns at once.
const hangLimit = 20 * time.Second

// fileCall is a run of Transform from src to dst.
type fileCall struct {
	name string
	run  func(ctx context.Context, src, dst string) error
}

// fileCalls returns the runs of Transform the tests try.
func fileCalls() []fileCall {
	return []fileCall{
		{"Transform", func(ctx context.Context, src, dst string) error { return copyFile(ctx, src, dst, nil) }},
	}
}

// opened reports whether this process has a file descriptor open on name.
func opened(t *testing.T, name string) bool {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == name {
			return true
		}
	}
	return false
}

// waitUntil waits for cond, checking it now and then, up to hangLimit.
func waitUntil(cond func() bool) bool {
	for deadline := time.Now().Add(hangLimit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// result waits for the error of a call, up to hangLimit; then it calls
// unblock and fails the test.
func result(t *testing.T, done <-chan error, what string, unblock func()) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		unblock()
		t.Errorf("%s still blocked %v after cancellation", what, hangLimit)
		return <-done
	}
}

// A FIFO with no writer makes open(2) wait; a cancelled context must end
// that wait.
func TestFIFOWithNoWriterStopsOnCancel(t *testing.T) {
	for _, call := range fileCalls() {
		t.Run(call.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- call.run(ctx, fifo, filepath.Join(dir, "out")) }()
			// Once it has the FIFO open it waits for a writer.
			if !waitUntil(func() bool { return opened(t, fifo) }) {
				t.Errorf("%s never opened the FIFO", call.name)
			}
			cancel()
			err := result(t, done, call.name+"(FIFO with no writer)", func() {
				if w, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s(FIFO with no writer, cancelled) = %v, want context.Canceled", call.name, err)
			}
			if got := filesIn(t, dir); !slices.Equal(got, []string{"fifo"}) {
				t.Errorf("after %s the folder holds %q, want only the FIFO", call.name, got)
			}
		})
	}
}

// A FIFO opened without waiting for a writer must still wait for one: a
// writer that comes late is read in full.
func TestFIFOWriterComingLate(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	plaintext := randomBytes(3*testSegment + 5)
	done := make(chan error, 1)
	go func() {
		err := copyFile(t.Context(), fifo, filepath.Join(dir, "out.enc"), nil)
		done <- err
	}()
	if !waitUntil(func() bool { return opened(t, fifo) }) {
		t.Fatal("Transform never opened the FIFO")
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range [][]byte{plaintext[:7], plaintext[7:]} {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	if err := <-done; err != nil {
		t.Fatalf("Transform(FIFO) = %v", err)
	}
	if got := fileContents(t, filepath.Join(dir, "out.enc")); !bytes.Equal(got, plaintext) {
		t.Errorf("Transform(FIFO) wrote %d bytes, want the %d written", len(got), len(plaintext))
	}
}

// pipeInput returns the name of a new pipe's read end, as /dev/stdin names
// a pipe, and its write end.
func pipeInput(t *testing.T) (name string, r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	rc.Control(func(fd uintptr) { name = fmt.Sprintf("/proc/self/fd/%d", fd) })
	return name, r, w
}

// drained reports whether the pipe of r holds no unread bytes.
func drained(t *testing.T, r *os.File) bool {
	t.Helper()
	rc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	// TIOCINQ is FIONREAD: the bytes waiting to be read.
	rc.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	if err != nil {
		t.Fatal(err)
	}
	return n == 0
}

// A read that waits on a pipe whose writer stays must end when the context
// does.
func TestBlockedPipeReadStopsOnCancel(t *testing.T) {
	ciphertext := randomBytes(10 * testSegment)
	for _, call := range fileCalls() {
		t.Run(call.name, func(t *testing.T) {
			dir := t.TempDir()
			src, r, w := pipeInput(t)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- call.run(ctx, src, filepath.Join(dir, "out")) }()
			// Half the input, then the writer waits.
			if _, err := w.Write(ciphertext[:len(ciphertext)/2]); err != nil {
				t.Fatal(err)
			}
			if !waitUntil(func() bool { return drained(t, r) }) {
				t.Errorf("%s never read the pipe", call.name)
			}
			cancel()
			err := result(t, done, call.name+"(pipe)", func() { w.Close() })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s(pipe, cancelled while it waits) = %v, want context.Canceled", call.name, err)
			}
			if got := filesIn(t, dir); len(got) > 0 {
				t.Errorf("after %s the folder holds %q, want nothing", call.name, got)
			}
		})
	}
}

// When a Ctrl-C kills the producer of a pipe, the end of its output and the
// cancellation race: an input that ends around a cancellation must not pass
// for a whole one.
func TestPipeEndingAsTheContextEnds(t *testing.T) {
	defer func(d time.Duration) { streamEndGrace = d }(streamEndGrace)
	streamEndGrace = hangLimit
	dir := t.TempDir()
	src, _, w := pipeInput(t)
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- copyFile(ctx, src, filepath.Join(dir, "out.enc"), func(done int64) {
			if done == 3*testSegment {
				close(ended)
			}
		})
	}()
	if _, err := w.Write(randomBytes(3 * testSegment)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	<-ended
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Transform(pipe that ended as the context did) = %v, want context.Canceled", err)
	}
	if got := filesIn(t, dir); len(got) > 0 {
		t.Errorf("the folder holds %q, want nothing", got)
	}
}

// The unnamed file is linked in as a new output, and renamed over one that
// exists, a symbolic link included (the link is replaced, not followed):
// each time the folder holds the output alone, whole, mode 0600.
func TestOutputNewAndReplaced(t *testing.T) {
	if !unnamedTemps {
		t.Skip("no unnamed temporary files here")
	}
	dir := t.TempDir()
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("untouched"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out.enc")
	for i, step := range []struct {
		name   string
		before func()
	}{
		{"new", func() {}},
		{"over a file", func() {}},
		{"over a link", func() {
			os.Remove(dst)
			if err := os.Symlink(other, dst); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		step.before()
		want := []byte(fmt.Sprintf("output %d", i))
		writeSmallFile(t, dir, dst, want)
		if got := fileContents(t, dst); !bytes.Equal(got, want) {
			t.Errorf("%s: the output holds %q, want %q", step.name, got, want)
		}
		if got := filesIn(t, dir); !slices.Equal(got, []string{"out.enc"}) {
			t.Errorf("%s: the folder holds %q, want only the output", step.name, got)
		}
		if info, err := os.Lstat(dst); err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: output %v, %v; want a regular file, mode 0600", step.name, info, err)
		}
	}
	if got := fileContents(t, other); string(got) != "untouched" {
		t.Errorf("the link's target now holds %q", got)
	}
}
