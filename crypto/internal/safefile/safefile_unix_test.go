//go:build unix

package safefile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// A run killed with SIGKILL cannot clean up after itself: the next run to
// the same destination removes what it left, and only that.
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.enc")
	leftovers := []string{".out.enc.123.tmp", ".out.enc.0.tmp", ".out.enc.4294967295.tmp"}
	others := []string{
		".out.enc.12a.tmp", ".out.enc..tmp", ".out.enc.12345678901.tmp", ".out.enc.1.tmp.bak",
		"out.enc.1.tmp", ".other.enc.1.tmp", ".out.1.tmp", ".out.enc.1.TMP",
		".out.enc.77.tmp", // held by a live run, below
	}
	for _, name := range append(slices.Clone(leftovers), others...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial plaintext"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Names of the pattern that are not regular files.
	if err := os.Mkdir(filepath.Join(dir, ".out.enc.5.tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("out.enc.1.tmp", filepath.Join(dir, ".out.enc.6.tmp")); err != nil {
		t.Fatal(err)
	}
	others = append(others, ".out.enc.5.tmp", ".out.enc.6.tmp")
	live, err := os.Open(filepath.Join(dir, ".out.enc.77.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if locked, err := tryLock(live); !locked {
		t.Skipf("no file locks here: %v", err)
	}

	writeSmallFile(t, dir, dst, []byte("hello"))
	want := append(slices.Clone(others), "out.enc")
	slices.Sort(want)
	if got := filesIn(t, dir); !slices.Equal(got, want) {
		t.Errorf("after Transform the folder holds\n%q\nwant\n%q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.enc.1.tmp")); err != nil {
		t.Errorf("the target of a link named like a leftover: %v, want it kept", err)
	}
}

// TestTempNames: the temporary names fit in a file name of 255 bytes
// whatever the destination's, and the leftovers of a long name are found.
func TestTempNames(t *testing.T) {
	for _, base := range []string{"out.enc", string(bytes.Repeat([]byte("é"), 127)) + "x", string(bytes.Repeat([]byte("a"), 255))} {
		name := filepath.Base(tempName(filepath.Join("dir", base)))
		if len(name) > 255 {
			t.Errorf("tempName(%d-byte name) is %d bytes long, want at most 255", len(base), len(name))
		}
		if !isTempName(name, base) {
			t.Errorf("isTempName(tempName(%q)) = false", base)
		}
		if !regexp.MustCompile(`^\.[^/]+\.[0-9]{1,10}\.tmp$`).MatchString(name) || !bytes.Equal([]byte(name), bytes.ToValidUTF8([]byte(name), nil)) {
			t.Errorf("tempName(%d-byte name) = %q, want .NAME.NUMBER.tmp in UTF-8", len(base), name)
		}
	}
}

func TestNamedTempFiles(t *testing.T) {
	defer func(v bool) { unnamedTemps = v }(unnamedTemps)
	unnamedTemps = false
	dir := t.TempDir()
	dst := filepath.Join(dir, "out.enc")
	writeSmallFile(t, dir, dst, []byte("hello"))
	if got := filesIn(t, dir); !slices.Equal(got, []string{"out.enc"}) {
		t.Errorf("the folder holds %q, want only the output", got)
	}
	if info, err := os.Stat(dst); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("output: %v, %v; want mode 0600", info, err)
	}
}

// Two runs to one destination at once: both succeed, the destination is
// one of the two, whole, and nothing else is left.
func TestConcurrentRunsToOneDestination(t *testing.T) {
	for _, unnamed := range []bool{true, false} {
		t.Run(fmt.Sprintf("unnamed temps %v", unnamed), func(t *testing.T) {
			defer func(v bool) { unnamedTemps = v }(unnamedTemps)
			unnamedTemps = unnamed
			dir := t.TempDir()
			dst := filepath.Join(dir, "out.enc")
			plaintexts := [][]byte{randomBytes(20 * testSegment), randomBytes(20 * testSegment)}
			var srcs []string
			for i, p := range plaintexts {
				src := filepath.Join(dir, fmt.Sprintf("in%d", i))
				if err := os.WriteFile(src, p, 0o600); err != nil {
					t.Fatal(err)
				}
				srcs = append(srcs, src)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(srcs))
			for i, src := range srcs {
				wg.Go(func() {
					errs[i] = copyFile(t.Context(), src, dst, nil)
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Transform #%d = %v", i, err)
				}
			}
			if got := fileContents(t, dst); !bytes.Equal(got, plaintexts[0]) && !bytes.Equal(got, plaintexts[1]) {
				t.Errorf("the destination holds %d bytes that are neither input", len(got))
			}
			if got, want := filesIn(t, dir), []string{"in0", "in1", "out.enc"}; !slices.Equal(got, want) {
				t.Errorf("the folder holds %q, want %q", got, want)
			}
		})
	}
}

// helperEnv, set, makes TestHelperWriteForever run Transform from the
// FIFO it names, in a process that the test then kills.
const helperEnv = "SAFEFILE_TEST_ENCRYPT_FOREVER"

// TestHelperWriteForever is not a test: it is the process that
// TestKilledRun kills halfway. It prints a line once the output has data.
func TestHelperWriteForever(t *testing.T) {
	src := os.Getenv(helperEnv)
	if src == "" {
		t.Skip("a helper process, not a test")
	}
	unnamedTemps = os.Getenv("SAFEFILE_TEST_UNNAMED_TEMPS") == "1"
	var once sync.Once
	err := copyFile(context.Background(), src, filepath.Join(filepath.Dir(src), "out.enc"), func(int64) { once.Do(func() { fmt.Println("writing") }) })
	t.Fatalf("Transform returned (%v); it should have been killed", err)
}

// TestKilledRun kills a run with SIGKILL while it writes its output: an unnamed temporary file leaves nothing; a named one
// stays until the next run.
func TestKilledRun(t *testing.T) {
	modes := []bool{false}
	if runtime.GOOS == "linux" {
		modes = append(modes, true)
	}
	for _, unnamed := range modes {
		t.Run(fmt.Sprintf("unnamed temps %v", unnamed), func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriteForever$")
			cmd.Env = append(os.Environ(), helperEnv+"="+fifo)
			if unnamed {
				cmd.Env = append(cmd.Env, "SAFEFILE_TEST_UNNAMED_TEMPS=1")
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			// The writer stays open: the helper waits for more.
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Write(randomBytes(4 * testSegment)); err != nil {
				t.Fatal(err)
			}
			if line, err := bufio.NewReader(stdout).ReadString('\n'); line != "writing\n" {
				t.Fatalf("helper said %q, %v; want writing", line, err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			var leftovers []string
			for _, name := range filesIn(t, dir) {
				if isTempName(name, "out.enc") {
					leftovers = append(leftovers, name)
				}
			}
			if unnamed && len(leftovers) > 0 {
				t.Errorf("the killed run left %q, want nothing", leftovers)
			}
			if !unnamed && len(leftovers) != 1 {
				t.Errorf("the killed run left %q, want one named temporary file (the test is wrong)", leftovers)
			}
			writeSmallFile(t, dir, filepath.Join(dir, "out.enc"), []byte("hello"))
			if got, want := filesIn(t, dir), []string{"fifo", "out.enc"}; !slices.Equal(got, want) {
				t.Errorf("after the next run the folder holds %q, want %q", got, want)
			}
		})
	}
}

// An output of several write-back ranges (writeBackBytes each) comes out
// whole: starting the write-back early changes nothing of what is written.
func TestLargeOutputWrittenBackWhole(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(2*writeBackBytes + 12345)
	dst := filepath.Join(dir, "out")
	writeSmallFile(t, dir, dst, data)
	if got := fileContents(t, dst); !bytes.Equal(got, data) {
		t.Errorf("Transform of %d bytes wrote %d bytes that differ", len(data), len(got))
	}
}
