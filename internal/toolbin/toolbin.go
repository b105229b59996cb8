// Package toolbin builds, for tests, the commands of the separate modules
// under tools/ (local-kms, the official AWS Encryption SDK): they stay out
// of the workshop's go.mod and binary. Each binary is cached under the
// user's cache folder, keyed by its module's files and the Go version, so
// only the first run pays for the build and for downloading the module.
package toolbin

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
	"slices"
	"testing"
	"time"
)

// RepoRoot is the folder of the workshop's go.mod, found upwards from the
// test's working folder.
func RepoRoot(t testing.TB) string {
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

// Build builds the package pkg ("." for the module's own) of the module in
// tools/module and returns the binary's path. Where it cannot be built (no
// go command, the module proxy unreachable, longer than timeout) the test
// is skipped with the reason.
func Build(t testing.TB, module, pkg string, timeout time.Duration) string {
	t.Helper()
	toolDir := filepath.Join(RepoRoot(t), "tools", module)
	entries, err := os.ReadDir(toolDir)
	if err != nil {
		t.Fatalf("read the tool module %s: %v", module, err)
	}
	h := sha256.New()
	for _, e := range entries {
		if !e.Type().IsRegular() || !slices.Contains([]string{"go.mod", "go.sum"}, e.Name()) && filepath.Ext(e.Name()) != ".go" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(toolDir, e.Name()))
		if err != nil {
			t.Fatalf("read the tool module %s: %v", module, err)
		}
		fmt.Fprintf(h, "%s %d\n", e.Name(), len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s %s %s/%s", pkg, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	name := module + "-" + hex.EncodeToString(h.Sum(nil))[:16]

	cacheDir, err := os.UserCacheDir()
	if err == nil {
		cacheDir = filepath.Join(cacheDir, "cse-workshop", "tools")
		err = os.MkdirAll(cacheDir, 0o700)
	}
	if err != nil {
		cacheDir = t.TempDir()
	}
	bin := filepath.Join(cacheDir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin
	}

	// go test puts its own GOROOT/bin first on the test's PATH.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("build %s: no go command: %v", module, err)
	}
	tmp, err := os.CreateTemp(cacheDir, name+".*.tmp")
	if err != nil {
		t.Fatalf("build %s: %v", module, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, gobin, "build", "-C", toolDir, "-o", tmp.Name(), pkg)
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = ctx.Err()
		}
		t.Skipf("build %s (go build -C tools/%s %s): %v\n%s", module, module, pkg, err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		t.Fatalf("build %s: %v", module, err)
	}
	t.Logf("built %s in %v (cached as %s)", module, time.Since(start).Round(time.Millisecond), bin)
	return bin
}
