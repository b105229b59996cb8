package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// No package that reads the system clipboard is linked. Such a read runs
// on the machine running the program: under serve, the facilitator's, and
// what it found would be shown to an attendee. github.com/atotto/clipboard,
// which bubbles' textinput imports, also searches PATH for its helper
// programs when the program starts, in every command. The learner's own
// terminal sends a paste as a bracketed paste, which needs no package.
func TestNoClipboardPackageIsLinked(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: the program's packages cannot be listed")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		var stderr []byte
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(strings.ToLower(pkg), "clipboard") {
			t.Errorf("the program links %s: a clipboard read under serve would show the server's clipboard to an attendee", pkg)
		}
	}
}
