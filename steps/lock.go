package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

// lockFile is the lock of a workshop folder, in its private folder. Whoever
// runs steps on the folder (the tutorial, `run`, `step N`) holds it, with an
// exclusive advisory lock (flock on Unix), from Open to Close; a second
// process that tries is refused with who holds the folder. The operating
// system drops the lock when its holder exits, however it exits, so a lock
// left by a process that is gone never blocks anyone. The file itself stays:
// removing it would let a third process lock a new file while a second
// still holds the old one.
//
// `encrypt` and `decrypt` do not take it: they never read or write the
// workshop's progress, only the demo backend's state, which guards itself.
const lockFile = "workshop.lock"

// errLocked is what tryLock returns when another open file holds the lock.
var errLocked = errors.New("locked")

// errLockIsLink is openLock's error for a lock file that is a symbolic link.
var errLockIsLink = errors.New("is a symbolic link")

// holder is who holds a workshop folder, as written in its lock file.
type holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"` // "cse-workshop run --fast"
	Host    string    `json:"host,omitempty"`
	Since   time.Time `json:"since"`
}

// folderLock is a held lock on a workshop folder.
type folderLock struct {
	f *os.File
}

// lockFolder takes the lock of the workshop folder dir (absolute), whose
// private folder exists, without waiting: it fails at once, naming the
// holder, when another process (or another open workshop of this process)
// holds it.
func lockFolder(dir string) (*folderLock, error) {
	name := filepath.Join(dir, privateDir, lockFile)
	f, err := openLock(name)
	if errors.Is(err, errLockIsLink) {
		return nil, awsclient.WithHint(fmt.Errorf("lock workshop folder: %s is a symbolic link, which cse-workshop never makes", name),
			"remove it, or use another folder with --dir")
	}
	if err != nil {
		return nil, fmt.Errorf("lock workshop folder: %w", err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, inUse(dir, name)
		}
		return nil, fmt.Errorf("lock workshop folder: %w", err)
	}
	b, err := json.Marshal(me())
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock workshop folder: %w", err)
	}
	return &folderLock{f: f}, nil
}

// unlock releases the lock. The holder's record is cleared first, so that
// the file never names a process that no longer holds the folder, except
// one that died.
func (l *folderLock) unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0) // only tidiness: a stale record is never read while the lock is free
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock workshop folder: %w", err)
	}
	return nil
}

// me is this process as a holder.
func me() holder {
	h := holder{PID: os.Getpid(), Command: commandLine(os.Args), Since: time.Now()}
	h.Host, _ = os.Hostname()
	return h
}

// maxCommandLength bounds the command line kept in the lock file.
const maxCommandLength = 200

// commandLine is how a person would type args: the program's base name and
// its arguments, quoted for a shell where needed.
func commandLine(args []string) string {
	if len(args) == 0 {
		return ""
	}
	words := []string{shellQuote(filepath.Base(args[0]))}
	for _, a := range args[1:] {
		words = append(words, shellQuote(a))
	}
	s := strings.Join(words, " ")
	if r := []rune(s); len(r) > maxCommandLength {
		s = string(r[:maxCommandLength]) + "…"
	}
	return s
}

// inUse is the error for a workshop folder another process holds; it names
// the holder when its record can be read.
func inUse(dir, lockName string) error {
	who := "another cse-workshop process"
	var h holder
	if b, err := os.ReadFile(lockName); err == nil && json.Unmarshal(b, &h) == nil && h.PID > 0 {
		who = h.describe()
	}
	return awsclient.WithHint(fmt.Errorf("the workshop folder %s is in use by %s", dir, who),
		"wait for it to finish, or use another folder with --dir")
}

// describe says who the holder is: "`cse-workshop run` (pid 4242, since
// 20:01:05)", with the host when it is not this one.
func (h holder) describe() string {
	cmd := h.Command
	if cmd == "" {
		cmd = "cse-workshop"
	}
	where := fmt.Sprintf("pid %d", h.PID)
	if host, _ := os.Hostname(); h.Host != "" && h.Host != host {
		where += " on " + h.Host
	}
	if !h.Since.IsZero() {
		where += ", since " + formatSince(h.Since, time.Now())
	}
	return fmt.Sprintf("`%s` (%s)", cmd, where)
}

// formatSince shows when a holder took the folder: the time of day as the
// status lines show it when it was today, a date as the workshop shows
// dates otherwise.
func formatSince(t, now time.Time) string {
	lt, lnow := t.Local(), now.Local()
	if y, m, d := lt.Date(); y == lnow.Year() && m == lnow.Month() && d == lnow.Day() {
		return text.Clock(t)
	}
	return text.Date(t)
}
