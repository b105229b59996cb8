//go:build unix

package fakeaws

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLockFile takes an exclusive flock(2) on f without waiting: false when
// another open file (in this process or another) holds it. A flock belongs
// to the open file, so two Servers of one process exclude each other too.
func tryLockFile(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}

// openLockFile opens the lock file, creating it, without following a
// symbolic link: a link planted there would have each save overwrite the
// file it points to.
func openLockFile(name string) (*os.File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		if info, lerr := os.Lstat(name); lerr == nil && info.Mode()&os.ModeSymlink != 0 {
			return nil, errLockFileIsLink
		}
	}
	return f, err
}

// unlockFile releases the lock; closing f would release it too.
func unlockFile(f *os.File) {
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
}

// openNoFollow opens a file of the state without following a symbolic
// link, for the same reason as openLockFile.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag|unix.O_NOFOLLOW, perm)
}
