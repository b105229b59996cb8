//go:build unix

package steps_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"cse-workshop/steps"
)

// A progress file that is not a regular file is refused at once, naming
// it: a FIFO with no writer would block the open for ever, a link to
// /dev/zero would be read until memory runs out.
func TestOpenRefusesProgressThatIsNotAFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"FIFO", func(path string) error { return unix.Mkfifo(path, 0o600) }},
		{"link to /dev/zero", func(path string) error { return os.Symlink("/dev/zero", path) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			progress := filepath.Join(dir, ".cse-workshop", "state.json")
			if err := os.MkdirAll(filepath.Dir(progress), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(progress); err != nil {
				t.Skipf("cannot make a %s: %v", tc.name, err)
			}
			// A blocked open never returns: the test's own timeout is the
			// failure then, as for any hang.
			w, err := steps.Open(steps.Options{Dir: dir})
			if err == nil {
				w.Close()
			}
			if err == nil || !strings.Contains(err.Error(), progress) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Open(progress file that is a %s) = %v, want an error that names it and says it is not a regular file", tc.name, err)
			}
		})
	}
}

// A lock file that is a symbolic link is refused, and what it points to is
// left alone: following it, the lock truncated and overwrote any file the
// person can write, a trap anyone who can write the workshop folder could
// lay.
func TestOpenRefusesALockFileThatIsALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, ".cse-workshop", "workshop.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, lock); err != nil {
		t.Fatal(err)
	}
	w, err := steps.Open(steps.Options{Dir: dir})
	if err == nil {
		w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), lock) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Open(folder whose lock file is a link) = %v, want an error that names the lock file and says it is a symbolic link", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Errorf("the file the lock file links to now holds %q, want it untouched", got)
	}
}
