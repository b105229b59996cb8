//go:build linux

package fidelity

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cse-workshop/awsclient/fakeaws"
)

// localKMSStarted is the line local-kms logs once it listens; with PORT=0 it
// names the port the kernel picked, so no port has to be guessed.
var localKMSStarted = regexp.MustCompile(`Local KMS started on [0-9.]+:([0-9]+)`)

// startLocalKMS runs local-kms for the rest of the test with the fake's
// account and region, an empty database and no seed, and returns its
// endpoint on loopback. It must be called inside the network namespace:
// local-kms listens on every interface. It stops when the test ends, and is
// killed by the kernel if the test process dies first.
func startLocalKMS(t *testing.T, bin string) string {
	t.Helper()
	if os.Getenv(netnsEnv) == "" {
		panic("startLocalKMS outside a private network namespace")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{
		"PORT=0",
		"KMS_ACCOUNT_ID=" + fakeaws.DefaultAccountID,
		"KMS_REGION=" + fakeaws.DefaultRegion,
		"KMS_DATA_PATH=" + filepath.Join(dir, "data"),
		"KMS_SEED_PATH=" + filepath.Join(dir, "no-seed.yaml"),
	}
	cmd.Dir = dir
	dieWithTest(cmd)
	cmd.WaitDelay = 5 * time.Second
	logs, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("start local-kms: %v", err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start local-kms: %v", err)
	}

	// Drain the log for as long as local-kms runs (a full pipe would stall
	// it), keeping the last lines for a failure report.
	var (
		mu   sync.Mutex
		tail []string
	)
	ports := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(logs)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			if m := localKMSStarted.FindStringSubmatch(line); m != nil {
				select {
				case ports <- m[1]:
				default:
				}
			}
			mu.Lock()
			tail = append(tail, line)
			if len(tail) > 40 {
				tail = tail[len(tail)-40:]
			}
			mu.Unlock()
		}
	}()
	lastLines := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(tail, "\n")
	}

	t.Cleanup(func() {
		cancel()
		<-drained
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("local-kms log, last lines:\n%s", lastLines())
		}
	})

	select {
	case port := <-ports:
		return "http://127.0.0.1:" + port
	case <-drained:
		t.Fatalf("local-kms exited before it listened:\n%s", lastLines())
	case <-time.After(30 * time.Second):
		t.Fatalf("local-kms did not listen within 30s:\n%s", lastLines())
	}
	return ""
}
