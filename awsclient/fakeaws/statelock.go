package fakeaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// stateLock is a Server's lock over its state (Server.st, its event log and
// what goes with them). With a state file it is also the lock between every
// process and Server that use that file (mock-aws, a step, an encrypt, all
// at once): Lock takes an exclusive advisory lock on the lock file beside
// the state file (the state file's name with ".lock" added), then reads
// again what another one changed since this Server last looked: the state
// file if it was rewritten, the new lines of the event log. So each request
// works on the latest saved state, and what it saves never writes back an
// older copy over another's change. What Lock costs does not grow with the
// history: a few system calls (open, flock, a read of the lock file's
// tokens, a stat of each file) when nothing changed.
//
// Lock cannot fail. When the state file cannot be locked or read, the
// in-process lock is held all the same and the failure is kept in err:
// readers may serve the state they have, saveLocked refuses to write it
// and returns err, and update does not even start its change.
type stateLock struct {
	mu     sync.Mutex
	server *Server
	file   *os.File           // the lock file, locked, while mu is held
	tokens [tokenKinds]string // the lock file's tokens, as read at Lock and written since
	err    error              // why the state in memory may not be the saved one, while mu is held
}

// Lock takes the lock and brings the state in memory up to date.
func (l *stateLock) Lock() {
	l.mu.Lock()
	l.err = l.server.syncLocked()
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

// syncLocked locks the state file and brings the state in memory up to
// date with it and with the event log; it leaves the locked lock file in
// s.mu.file. Without a state file it does nothing.
func (s *Server) syncLocked() error {
	if s.stateFile == "" {
		return nil
	}
	f, err := s.lockStateFile()
	if err != nil {
		return err
	}
	s.mu.file = f
	s.mu.tokens = readTokens(f)
	if err := s.reloadLocked(); err != nil {
		s.stale = true
		return err
	}
	if err := s.syncLogLocked(); err != nil {
		return err
	}
	if now := s.clock.Now(); s.log.compactionDue(now) {
		// Not the request's failure: the log is only longer than it
		// needs to be. Tried again later, and at the next Save.
		if err := s.compactLocked(); err != nil {
			s.log.retryCompactionAt = now.Add(compactionRetry)
			if s.errorLog != nil {
				s.errorLog.Printf("%v", err)
			}
		}
	}
	return nil
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
		select {
		case <-time.After(poll):
		case <-s.done:
			f.Close()
			return fail(fmt.Errorf("stopped waiting for another program's lock on it: %w", context.Canceled))
		}
	}
}

// reloadLocked reads the state file again if it is not the version this
// server last read or wrote, or if the state in memory is stale. A file of
// version 1 is migrated: its events move to the event log.
func (s *Server) reloadLocked() error {
	now := fileVersion{token: s.mu.tokens[tokenState]}
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
	st, legacy, info, err := loadState(s.stateFile)
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
	s.keysChanged = false
	if legacy != nil {
		return s.migrateLocked(legacy)
	}
	return nil
}

// Tokens in the lock file: each writer of the state file or of a new event
// log (not of an appended event) leaves a new random token of its kind, so
// that the others know the file is another one, even when a new file
// happens to look like the old one (same inode, size and time).
type tokenKind int

const (
	tokenState tokenKind = iota
	tokenLog
	tokenKinds
)

// tokenBytes is the size of a random token; it is written as hex, the
// tokens one after the other, then a newline.
const tokenBytes = 16

// readTokens reads the tokens from the lock file; a token not there reads
// as "".
func readTokens(lockFile *os.File) (tokens [tokenKinds]string) {
	buf := make([]byte, tokenKinds*2*tokenBytes)
	n, err := lockFile.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return tokens
	}
	for i := range tokens {
		from, to := min(n, i*2*tokenBytes), min(n, (i+1)*2*tokenBytes)
		tokens[i] = string(buf[from:to])
	}
	return tokens
}

// writeToken leaves a new random token of kind in the lock file and
// returns it.
func (l *stateLock) writeToken(kind tokenKind) (string, error) {
	for i, t := range l.tokens {
		if tokenKind(i) == kind || len(t) != 2*tokenBytes {
			var b [tokenBytes]byte
			rand.Read(b[:])
			l.tokens[i] = hex.EncodeToString(b[:])
		}
	}
	line := strings.Join(l.tokens[:], "") + "\n"
	if _, err := l.file.WriteAt([]byte(line), 0); err != nil {
		return "", err
	}
	if err := l.file.Truncate(int64(len(line))); err != nil {
		return "", err
	}
	return l.tokens[kind], nil
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
	nextSeq := s.log.nextSeq
	done := false
	defer func() {
		if !done {
			s.stale = true
			s.pending = nil
			s.log.nextSeq = nextSeq
		}
	}()
	if s.testHookLocked != nil {
		s.testHookLocked()
	}
	change()
	done = true
	return s.commitLocked()
}

// commitLocked saves what the change under way did: the state file first,
// when a key or alias changed, then its events, appended to the event log
// in one write. A crash between the two leaves a state that loads, without
// the call's event; a call that only logs an event (most: GenerateDataKey,
// Decrypt, DescribeKey) writes nothing but that line.
func (s *Server) commitLocked() error {
	pending := s.pending
	s.pending = nil
	if s.stateFile == "" {
		for _, e := range pending {
			s.index.add(e)
		}
		return nil
	}
	if s.keysChanged {
		if err := s.saveLocked(); err != nil {
			if len(pending) > 0 {
				s.log.nextSeq = pending[0].Seq
			}
			return err
		}
	}
	if len(pending) == 0 {
		return nil
	}
	if err := s.appendEventsLocked(pending); err != nil {
		return &StateFileError{Op: StateSave, Path: s.log.path, Err: err}
	}
	return nil
}
