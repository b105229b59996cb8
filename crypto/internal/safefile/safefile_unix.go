//go:build unix

package safefile

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock(2) on f without waiting. It reports
// false if another open file holds one, and an error if the file system
// has no locks. The lock lasts until f is closed, or its process dies.
func tryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var lockErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			lockErr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if lockErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	switch lockErr {
	case nil:
		return true, nil
	case unix.EWOULDBLOCK:
		return false, nil
	}
	return false, lockErr
}

// removeIfStale removes the temporary file name if it is a regular file of
// this user that no open file holds locked: a run that is still writing
// holds its lock, and a dead one's went with it.
func removeIfStale(name string) {
	// O_NONBLOCK: should name have become a FIFO, open must not wait.
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return
	}
	if st, ok := info.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return
	}
	if locked, err := tryLock(f); err != nil || !locked {
		return
	}
	if namesFile(name, f) {
		os.Remove(name)
	}
}
