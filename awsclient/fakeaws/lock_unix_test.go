//go:build unix

package fakeaws_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// holdLock takes the lock on path as another process would, and returns
// the function that releases it.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return func() { f.Close() }
}
