package steps_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// holdFolderEnv makes the test binary hold the workshop folder it names
// until its standard input closes, instead of running the tests: a second
// process for the lock tests.
const holdFolderEnv = "CSE_WORKSHOP_TEST_HOLD_FOLDER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdFolderEnv); dir != "" {
		os.Exit(holdFolder(dir))
	}
	if spec := os.Getenv(killInExperimentEnv); spec != "" {
		os.Exit(killInExperiment(spec))
	}
	os.Exit(m.Run())
}

func holdFolder(dir string) int {
	w, err := steps.Open(steps.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("holding")
	io.Copy(io.Discard, os.Stdin)
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// holder is a second process holding a workshop folder.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// holdInAnotherProcess starts a process that holds dir, and returns once it
// does. The process ends with the test at the latest.
func holdInAnotherProcess(t *testing.T, dir string) *holder {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), holdFolderEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.release() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "holding\n" {
		h.release()
		t.Fatalf("second process did not hold %s: %q, stderr %q", dir, line, stderr.String())
	}
	return h
}

// release lets the holder finish and waits for it.
func (h *holder) release() error {
	h.stdin.Close()
	return h.cmd.Wait()
}

// TestOpenRefusesAFolderInUse: two workshops open on one folder at once is
// how two runs made two keys and lost one; the second is refused, told who
// holds the folder and what to do.
func TestOpenRefusesAFolderInUse(t *testing.T) {
	s := newSetup(t)
	first := s.open()
	w, err := steps.Open(steps.Options{Dir: s.dir, Clients: first.Clients, Clock: s.clock})
	if err == nil {
		w.Close()
		t.Fatal("Open of a folder another workshop holds = success, want error")
	}
	a := steps.Explain(err)
	for _, want := range []string{"the workshop folder " + s.dir + " is in use by `", fmt.Sprintf("(pid %d, since ", os.Getpid())} {
		if !strings.Contains(a.What, want) {
			t.Errorf("Open of a folder in use: %q, want it to contain %q", a.What, want)
		}
	}
	if want := "wait for it to finish, or use another folder with --dir"; a.Hint != want {
		t.Errorf("Open of a folder in use: hint %q, want %q", a.Hint, want)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := first.Close(); err != nil {
		t.Errorf("Close again = %v, want nil", err)
	}
	s.mustRun(1) // the folder is free again
}

// TestFolderInUseSinceAnotherDay: a holder from another day is dated as
// every date of the workshop is.
func TestFolderInUseSinceAnotherDay(t *testing.T) {
	s := newSetup(t)
	first := s.open()
	defer first.Close()
	since := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	record := fmt.Sprintf(`{"pid":%d,"command":"cse-workshop run","since":%q}`, os.Getpid(), since.Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(s.dir, ".cse-workshop", "workshop.lock"), []byte(record), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := steps.Open(steps.Options{Dir: s.dir, Clients: first.Clients, Clock: s.clock})
	want := fmt.Sprintf("(pid %d, since %s)", os.Getpid(), text.Date(since))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a folder held since another day = %v, want an error containing %q", err, want)
	}
}

func TestOpenRefusesAFolderAnotherProcessHolds(t *testing.T) {
	s := newSetup(t)
	h := holdInAnotherProcess(t, s.dir)
	_, err := steps.Open(steps.Options{Dir: s.dir})
	want := fmt.Sprintf("is in use by `%s` (pid %d, since ", "steps.test", h.cmd.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a folder another process holds = %v, want an error containing %q", err, want)
	}
	if err := h.release(); err != nil {
		t.Fatalf("second process: %v", err)
	}
	s.mustRun(1)
}

// TestLockOfAProcessThatDiedDoesNotBlock: a killed holder leaves its record
// in the lock file, but not the lock.
func TestLockOfAProcessThatDiedDoesNotBlock(t *testing.T) {
	s := newSetup(t)
	h := holdInAnotherProcess(t, s.dir)
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	s.mustRun(1)
}
