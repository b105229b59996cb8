package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSecondRunOnAFolderInUse: while `run` holds a workshop folder, a
// `step 2` on it in another process is refused with who holds it and what
// to do, and exits 1; once the run ends, the folder can be used again.
func TestSecondRunOnAFolderInUse(t *testing.T) {
	dir := t.TempDir()
	first := command("run", "--dir", dir) // step 5 waits two minutes
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		first.Process.Kill()
		first.Wait()
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.Contains(sc.Text(), "waiting") {
	}

	r := separate(t, "step", "2", "--dir", dir)
	if r.code != exitFailed {
		t.Errorf("step 2 on a folder in use: exit %d, want %d", r.code, exitFailed)
	}
	want := fmt.Sprintf("error: the workshop folder %s is in use by `%s run --dir %s` (pid %d, since ", dir, filepath.Base(os.Args[0]), dir, first.Process.Pid)
	if !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, ")\nhint: wait for it to finish, or use another folder with --dir\n") {
		t.Errorf("step 2 on a folder in use: stderr %q, want %q...\\nhint: wait for it to finish...", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("step 2 on a folder in use: stdout %q, want nothing", r.stdout)
	}

	if err := first.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	first.Wait()
	if r := separate(t, "step", "6", "--dir", dir); r.code != exitOK {
		t.Errorf("step 6 after the run ended: exit %d, stderr %q; want the folder free", r.code, r.stderr)
	}
}
