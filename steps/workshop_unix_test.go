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
