package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// stateLock is a Server's lock over its state (Server.st and what goes with
// it). With a state file it is also the lock between every process and
// Server that use that file (mock-aws, a step, an encrypt, all at once):
// Lock takes an exclusive advisory lock on the lock file beside the state
// file (the state file's name with ".lock" added), then reads the state
// file again if another one saved it since this Server last read or wrote
// it. So each request works on the latest saved state, and what it saves
// never writes back an older copy over another's change.
//
// Lock cannot fail. When the state file cannot be locked or read, the
// in-process lock is held all the same and the failure is kept in err:
// readers may serve the state they have, saveLocked refuses to write it
// and returns err, and update does not even start its change.
type stateLock struct {
	mu     sync.Mutex
	server *Server
	file   *os.File // the lock file, locked, while mu is held
	err    error    // why the state in memory may not be the saved one, while mu is held
}

// Lock takes the lock and brings the state in memory up to date.
func (l *stateLock) Lock() {
	l.mu.Lock()
	l.file, l.err = l.server.syncLocked()
}

// Unlock releases the lock.
func (l *stateLock) Unlock() {
	if l.file != nil {
		unlockFile(l.file)
		l.file.Close()
		l.file = nil
	}
	l.err = nil
	l.mu.Unlock()
}

// lockFileSuffix names the lock file beside the state file.
const lockFileSuffix = ".lock"

// Waiting for another process's lock on the state file: polls, from
// minLockPoll to maxLockPoll apart, for at most defaultLockWait. A request
// holds it for milliseconds, so a longer wait means a holder that is stuck
// (stopped with Ctrl-Z, say), and the person should hear about it.
const (
	minLockPoll     = time.Millisecond
	maxLockPoll     = 25 * time.Millisecond
	defaultLockWait = 15 * time.Second
)

// ErrStateLocked is the cause of a StateFileError when another process
// keeps the state file locked for longer than a request waits.
var ErrStateLocked = errors.New("another program keeps it locked")

// errLockFileIsLink is openLockFile's error for a lock file that is a
// symbolic link.
var errLockFileIsLink = errors.New("is a symbolic link")

// fileVersion tells one saved version of the state file from another: the
// random token its writer left in the lock file, and the file's identity,
// size and modification time (which also catch a file replaced by hand).
type fileVersion struct {
	token string
	info  fs.FileInfo // nil when there was no state file
}

func (v fileVersion) same(w fileVersion) bool {
	if v.token != w.token || (v.info == nil) != (w.info == nil) {
		return false
	}
	return v.info == nil || os.SameFile(v.info, w.info) &&
		v.info.Size() == w.info.Size() && v.info.ModTime().Equal(w.info.ModTime())
}

// syncLocked locks the state file and reads it again if it changed; it
// returns the locked lock file. Without a state file it does nothing.
func (s *Server) syncLocked() (*os.File, error) {
	if s.stateFile == "" {
		return nil, nil
	}
	f, err := s.lockStateFile()
	if err != nil {
		return nil, err
	}
	if err := s.reloadLocked(f); err != nil {
		s.stale = true
		return f, err
	}
	return f, nil
}

// lockStateFile opens the lock file, creating it and its folder (0700) if
// needed, and locks it.
func (s *Server) lockStateFile() (*os.File, error) {
	fail := func(err error) (*os.File, error) {
		return nil, &StateFileError{Op: StateLock, Path: s.stateFile, Err: err}
	}
	if err := os.MkdirAll(filepath.Dir(s.stateFile), 0o700); err != nil {
		return fail(err)
	}
	f, err := openLockFile(s.stateFile + lockFileSuffix)
	if errors.Is(err, errLockFileIsLink) {
		return fail(fmt.Errorf("its lock file %s is a symbolic link, which cse-workshop never makes: remove it", s.stateFile+lockFileSuffix))
	}
	if err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(s.lockWait)
	for poll := minLockPoll; ; poll = min(2*poll, maxLockPoll) {
		locked, err := tryLockFile(f)
		if err != nil {
			f.Close()
			return fail(err)
		}
		if locked {
			return f, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return fail(fmt.Errorf("%w (waited %v)", ErrStateLocked, s.lockWait))
		}
		time.Sleep(poll)
	}
}

// reloadLocked reads the state file again if it is not the version this
// server last read or wrote, or if the state in memory is stale.
func (s *Server) reloadLocked(lockFile *os.File) error {
	now := fileVersion{token: readSaveToken(lockFile)}
	info, err := os.Stat(s.stateFile)
	switch {
	case err == nil:
		now.info = info
	case !errors.Is(err, fs.ErrNotExist):
		return &StateFileError{Op: StateRead, Path: s.stateFile, Err: err}
	}
	if !s.stale && now.same(s.seen) {
		return nil
	}
	st, info, err := loadState(s.stateFile)
	if err != nil {
		return err
	}
	if st == nil {
		st = newState() // no file, or no more: an empty account
	}
	switch {
	case s.region == "":
		// The first load of a server not told its region: the file's.
		s.region = st.Region
		if s.region == "" {
			s.region = DefaultRegion
		}
	case st.Region != "" && st.Region != s.region:
		return &RegionMismatchError{StateFile: s.stateFile, Saved: st.Region, Wanted: s.region}
	}
	st.Region = s.region
	s.st = st
	s.seen = fileVersion{token: now.token, info: info}
	s.stale = false
	return nil
}

// saveTokenBytes is the size of the random token a save leaves in the lock
// file; it is written as hex and a newline.
const saveTokenBytes = 16

// readSaveToken reads the token of the last save from the lock file, or ""
// when there is none.
func readSaveToken(lockFile *os.File) string {
	buf := make([]byte, 2*saveTokenBytes)
	n, err := lockFile.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return string(buf[:n])
}

// writeSaveToken leaves a new random token in the lock file and returns it.
func writeSaveToken(lockFile *os.File) (string, error) {
	var b [saveTokenBytes]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	if _, err := lockFile.WriteAt([]byte(token+"\n"), 0); err != nil {
		return "", err
	}
	if err := lockFile.Truncate(int64(len(token) + 1)); err != nil {
		return "", err
	}
	return token, nil
}

// update applies change to the latest saved state and saves the result,
// all under the state lock, so that the processes and servers sharing the
// state file take turns and none writes back an older copy. It returns a
// *StateFileError (or a *RegionMismatchError) when the state file cannot
// be locked, read or written; change does not run when the state could not
// be read. A change that panics leaves the lock released and the state in
// memory to be read again from the file.
func (s *Server) update(change func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.err != nil {
		return s.mu.err
	}
	done := false
	defer func() {
		if !done {
			s.stale = true
		}
	}()
	if s.testHookLocked != nil {
		s.testHookLocked()
	}
	change()
	done = true
	return s.saveLocked()
}
