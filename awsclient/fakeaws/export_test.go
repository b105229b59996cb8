package fakeaws

import (
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SetLockWait sets how long s's requests wait for another's lock on the
// state file.
func SetLockWait(s *Server, d time.Duration) { s.lockWait = d }

// FailSaves makes every save of s fail with err (syscall.ENOSPC, say), as
// the operating system would: a new file cannot be made, an append to the
// event log is cut short. nil makes saves work again.
func FailSaves(s *Server, err error) {
	s.failAppends = err
	if err == nil {
		s.createTemp = os.CreateTemp
		return
	}
	s.createTemp = func(dir, pattern string) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(dir, pattern), Err: err}
	}
}

// PanicUnderLock makes each change of s's state call hook first, under the
// state lock; nil removes it.
func PanicUnderLock(s *Server, hook func()) { s.testHookLocked = hook }
