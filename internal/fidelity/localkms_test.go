package fidelity

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// localKMSEnv carries the path of the built local-kms binary into the test
// that runs inside the network namespace.
const localKMSEnv = "CSE_FIDELITY_LOCAL_KMS"

// localKMSModule is the main package of local-kms, pinned by tools/localkms.
const localKMSModule = "github.com/nsmithuk/local-kms"

// repoRoot is the folder of the workshop's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("find the repository: %v", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module cse-workshop\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("find the repository: no go.mod of module cse-workshop above the test")
		}
		dir = parent
	}
}

// goCommand is the go command running this test: go test puts its own
// GOROOT/bin first on the test's PATH.
func goCommand() (string, error) {
	return exec.LookPath("go")
}

// buildLocalKMS builds local-kms from the module pinned in tools/localkms
// and returns the binary's path. The binary is cached under the user's cache
// folder, keyed by that module's go.mod and go.sum and by the Go version, so
// only the first run pays for the build (and for downloading the module).
// Where it cannot be built the test is skipped with the reason.
func buildLocalKMS(t *testing.T) string {
	t.Helper()
	toolDir := filepath.Join(repoRoot(t), "tools", "localkms")
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(toolDir, name))
		if err != nil {
			t.Fatalf("read the local-kms tool module: %v", err)
		}
		h.Write(b)
	}
	fmt.Fprintf(h, "%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	name := "local-kms-" + hex.EncodeToString(h.Sum(nil))[:16]

	cacheDir, err := os.UserCacheDir()
	if err == nil {
		cacheDir = filepath.Join(cacheDir, "cse-workshop", "fidelity")
		err = os.MkdirAll(cacheDir, 0o700)
	}
	if err != nil {
		cacheDir = t.TempDir()
	}
	bin := filepath.Join(cacheDir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin
	}

	gobin, err := goCommand()
	if err != nil {
		t.Skipf("build local-kms: no go command: %v", err)
	}
	tmp, err := os.CreateTemp(cacheDir, name+".*.tmp")
	if err != nil {
		t.Fatalf("build local-kms: %v", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	// The first build downloads local-kms and its dependencies from the
	// module proxy; later runs use the cached binary.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, gobin, "build", "-C", toolDir, "-o", tmp.Name(), localKMSModule)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = ctx.Err()
		}
		t.Skipf("build local-kms (go build -C tools/localkms %s): %v\n%s", localKMSModule, err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		t.Fatalf("build local-kms: %v", err)
	}
	t.Logf("built local-kms in %v (cached as %s)", time.Since(start).Round(time.Millisecond), bin)
	return bin
}
