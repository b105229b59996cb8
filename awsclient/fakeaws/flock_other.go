//go:build !unix && !windows

package fakeaws

import "os"

// tryLockFile has no lock between open files to take on this system: each
// Server still orders its own requests, and notices and reads the saves of
// others before each change, but two Servers (or processes) that change
// the state at the same moment may lose one of the changes.
func tryLockFile(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) {}

// openLockFile opens the lock file, creating it.
func openLockFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
}

// openNoFollow opens a file of the state.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
