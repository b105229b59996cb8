//go:build windows

package fakeaws

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockedByteOffset is where the locked byte lies, past the save token that
// the lock file holds: Windows locks are mandatory, and the token must stay
// readable.
const lockedByteOffset = 1 << 20

// tryLockFile takes an exclusive LockFileEx lock on f without waiting: false
// when another open file holds it.
func tryLockFile(f *os.File) (bool, error) {
	ol := windows.Overlapped{Offset: lockedByteOffset}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	}
	return false, &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: err}
}

// unlockFile releases the lock; closing f would release it too.
func unlockFile(f *os.File) {
	ol := windows.Overlapped{Offset: lockedByteOffset}
	windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}

// openLockFile opens the lock file, creating it.
func openLockFile(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
}

// openNoFollow opens a file of the state.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
