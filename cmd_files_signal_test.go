//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// signalHangLimit bounds how long these tests wait for the program to get
// somewhere or to stop before they fail. It is no measure of speed: a
// working program gets there at once.
const signalHangLimit = 20 * time.Second

// waitFor checks cond now and then until it holds, up to signalHangLimit.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(signalHangLimit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// hasOpen reports whether process pid has a file descriptor open on name.
func hasOpen(t *testing.T, pid int, name string) bool {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && target == name {
			return true
		}
	}
	return false
}

// pipeDrained reports whether the pipe of r holds no unread bytes.
func pipeDrained(t *testing.T, r *os.File) bool {
	t.Helper()
	n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD
	if err != nil {
		t.Fatal(err)
	}
	return n == 0
}

// exitCode waits for cmd, up to signalHangLimit after which it kills it
// and fails the test, and returns its exit code (-1 if a signal killed it).
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(signalHangLimit):
		t.Errorf("%v still running %v after the signal", cmd.Args[1:], signalHangLimit)
		cmd.Process.Kill()
		err = <-done
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// producer | cse-workshop encrypt /dev/stdin OUT, and Ctrl-C: the terminal
// sends SIGINT to the whole pipeline, so the producer dies and its output
// ends as encrypt is told to stop. That end is no end of the plaintext:
// encrypt must report the interruption and write nothing.
func TestEncryptFromAPipeInterruptedWithItsProducer(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command to be the producer")
	}
	dir, _ := workshopWithKey(t)
	for _, format := range []string{"esdk", "csew"} {
		t.Run(format, func(t *testing.T) { encryptFromAPipeInterrupted(t, sleep, dir, format) })
	}
}

func encryptFromAPipeInterrupted(t *testing.T, sleep, dir, format string) {
	files := t.TempDir()
	out := filepath.Join(files, "notes.enc")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd := command("encrypt", "/dev/stdin", out, "--format", format, "--dir", dir)
	cmd.Stdin = r
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	// The program leads a process group, as a shell's pipeline does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The producer: it holds the pipe's write end, in the same group.
	producer := exec.Command(sleep, "600")
	producer.Stdout = w
	producer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: cmd.Process.Pid}
	if err := producer.Start(); err != nil {
		t.Fatalf("start the producer in the program's group: %v (program: %s)", err, errOut.String())
	}
	defer producer.Wait()
	defer producer.Process.Kill()
	if _, err := w.WriteString("meet at noon, and bring the\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !waitFor(func() bool { return pipeDrained(t, r) }) {
		t.Fatalf("encrypt never read its input; stderr %q", errOut.String())
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, cmd); code != exitInterrupted || !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("encrypt from a pipe, Ctrl-C to both: exit %d, stderr %q; want 130, interrupted", code, errOut.String())
	}
	if got := filesInFolder(t, files); len(got) > 0 {
		t.Errorf("after the interrupted encrypt the folder holds %q, want nothing", got)
	}
}

// filesInFolder lists every name in dir, hidden ones too.
func filesInFolder(t *testing.T, dir string) []string {
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

// A FIFO nobody writes to: opening it waits, and SIGINT or SIGTERM must
// still stop encrypt and decrypt, with nothing written.
func TestFileCommandsOnAFIFOWithNoWriterStopOnSignals(t *testing.T) {
	dir, _ := workshopWithKey(t)
	// decrypt cannot look ahead in a FIFO, so it reads the default format.
	for _, args := range [][]string{{"encrypt", "--format", "esdk"}, {"encrypt", "--format", "csew"}, {"decrypt"}} {
		verb := args[0]
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(strings.Join(args, " ")+"/"+sig.String(), func(t *testing.T) {
				files := t.TempDir()
				fifo := filepath.Join(files, "fifo")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := command(append([]string{verb, fifo, filepath.Join(files, "out"), "--dir", dir}, args[1:]...)...)
				var errOut bytes.Buffer
				cmd.Stderr = &errOut
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Process.Kill()
				if !waitFor(func() bool { return hasOpen(t, cmd.Process.Pid, fifo) }) {
					t.Errorf("%s never opened the FIFO", verb)
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if code := exitCode(t, cmd); code != exitInterrupted {
					t.Errorf("%s from a FIFO with no writer, %v: exit %d, stderr %q; want 130", verb, sig, code, errOut.String())
				}
				if got := filesInFolder(t, files); !slices.Equal(got, []string{"fifo"}) {
					t.Errorf("after %s the folder holds %q, want only the FIFO", verb, got)
				}
			})
		}
	}
}

// decrypt's advice for a key pending deletion names the key from the
// file's header. It must not read the input again to find it: a FIFO's
// writer has gone, and opening it again would wait for ever.
func TestDecryptFromAFIFOKeyPendingDeletion(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	enc := filepath.Join(files, "notes.enc")
	if r := inProcess(t, clk, "encrypt", in, enc, "--dir", dir); r.code != exitOK {
		t.Fatalf("encrypt: exit %d, %s", r.code, r.stderr)
	}
	ciphertext, err := os.ReadFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	if r := inProcess(t, clk, "step", "6", "--dir", dir); r.code != exitOK {
		t.Fatalf("step 6: exit %d, %s", r.code, r.stderr)
	}
	fifo := filepath.Join(files, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Write(ciphertext)
			f.Close()
		}
	}()
	done := make(chan result, 1)
	go func() { done <- inProcess(t, clk, "decrypt", fifo, filepath.Join(files, "out"), "--dir", dir) }()
	var r result
	select {
	case r = <-done:
	case <-time.After(signalHangLimit):
		t.Errorf("decrypt from a FIFO still running after %v", signalHangLimit)
		if f, err := os.OpenFile(fifo, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		r = <-done
	}
	if r.code != exitFailed || !strings.Contains(r.stderr, "scheduled for deletion") ||
		!strings.Contains(r.stderr, "aws kms cancel-key-deletion --key-id arn:aws:kms:") {
		t.Errorf("decrypt from a FIFO under a key pending deletion: exit %d, stderr %q; want 1 and how to restore that key", r.code, r.stderr)
	}
}
