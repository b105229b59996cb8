//go:build unix

package fakeaws_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"cse-workshop/awsclient/fakeaws"
)

// A state file that is not a regular file is refused at once, with the
// file named: a FIFO with no writer would block the open for ever, and a
// link to /dev/zero would be read until memory runs out.
func TestNewRefusesAStateFileThatIsNotAFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(path string) error
	}{
		{"FIFO", func(path string) error { return unix.Mkfifo(path, 0o600) }},
		{"link to /dev/zero", func(path string) error { return os.Symlink("/dev/zero", path) }},
		{"folder", func(path string) error { return os.Mkdir(path, 0o700) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat("/dev/zero"); err != nil && tc.name == "link to /dev/zero" {
				t.Skip("no /dev/zero")
			}
			stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
			if err := tc.make(stateFile); err != nil {
				t.Skipf("cannot make a %s: %v", tc.name, err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := fakeaws.New(fakeaws.Options{StateFile: stateFile})
				done <- err
			}()
			// A blocked open never returns: the test's own timeout is the
			// failure then, as for any hang.
			err := <-done
			var fileErr *fakeaws.StateFileError
			if !errors.As(err, &fileErr) || !strings.Contains(err.Error(), stateFile) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("New(state file that is a %s) = %v, want an error that names it and says it is not a regular file", tc.name, err)
			}
		})
	}
}

// A state file larger than the demo could ever use is refused before it is
// read, rather than read whole into memory (a sparse file of any size costs
// nothing to make).
func TestNewRefusesAHugeStateFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	f, err := os.Create(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 << 30); err != nil {
		f.Close()
		t.Skipf("cannot make a sparse file: %v", err)
	}
	f.Close()
	_, err = fakeaws.New(fakeaws.Options{StateFile: stateFile})
	var fileErr *fakeaws.StateFileError
	if !errors.As(err, &fileErr) || fileErr.Op != fakeaws.StateDamaged || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("New(64 GiB state file) = %v, want an error that says it is too large", err)
	}
}

// A state lock file that is a symbolic link is refused, and what it points
// to is left alone: following it, each save overwrote the target with its
// token.
func TestNewRefusesALockFileThatIsALink(t *testing.T) {
	victim := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	if err := os.Symlink(victim, stateFile+".lock"); err != nil {
		t.Fatal(err)
	}
	srv, err := fakeaws.New(fakeaws.Options{StateFile: stateFile})
	if err == nil {
		srv.Save()
	}
	var fileErr *fakeaws.StateFileError
	if !errors.As(err, &fileErr) || fileErr.Op != fakeaws.StateLock || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("New(state whose lock file is a link) = %v, want a lock error that says it is a symbolic link", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Errorf("the file the lock file links to now holds %q, want it untouched", got)
	}
}
