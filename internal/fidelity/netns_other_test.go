//go:build !linux

package fidelity

import (
	"os/exec"
	"testing"
)

// isolated needs Linux network namespaces; elsewhere the test is skipped.
func isolated(t *testing.T, prepare func() []string) bool {
	t.Helper()
	t.Skip("needs unshare -n (network namespaces) to run local-kms isolated: Linux only")
	return false
}

// startLocalKMS is reached only inside a namespace, which needs Linux.
func startLocalKMS(t *testing.T, bin string) string {
	panic("startLocalKMS: local-kms runs only inside a Linux network namespace")
}

// dieWithTest has nothing to ask of the kernel outside Linux.
func dieWithTest(cmd *exec.Cmd) {}
