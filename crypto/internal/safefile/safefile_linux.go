package safefile

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// openInput opens name for reading. A FIFO is opened without blocking, for
// open(2) would wait for a writer where no signal can stop it, and then
// waits for its first data or end in Go's poller, which ctx stops.
func openInput(ctx context.Context, name string) (*os.File, error) {
	// os.OpenFile puts back blocking mode where its poller cannot wait (a
	// regular file); a FIFO stays non-blocking and waits in the poller.
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&fs.ModeNamedPipe == 0 {
		return f, err
	}
	if err := waitForData(ctx, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// waitForData waits until the FIFO f has data or its writer has come and
// gone. Opened without blocking, a FIFO with no writer yet reads as empty,
// where a blocking open would have waited for one; poll(2) tells the two
// apart (Linux reports no hangup before the first writer).
func waitForData(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	defer stop()
	var pollErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, 0)
			if err == unix.EINTR {
				continue
			}
			pollErr = err
			return err != nil || n > 0
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	if err == nil {
		err = pollErr
	}
	if err != nil {
		return &fs.PathError{Op: "read", Path: f.Name(), Err: err}
	}
	return nil
}

// createTemp creates the file that becomes dst, mode 0600. Where the file
// system allows, it has no name until commit, so that a run killed halfway
// leaves nothing; otherwise it is a named temporary file (see
// createNamedTemp).
func createTemp(dst string) (*tempFile, error) {
	if unnamedTemps {
		if t := createUnnamedTemp(dst); t != nil {
			return t, nil
		}
	}
	return createNamedTemp(dst)
}

// createUnnamedTemp returns an O_TMPFILE file in dst's folder, locked, or
// nil if the file system or the kernel has none, or if there is no /proc
// to link it into place through.
func createUnnamedTemp(dst string) *tempFile {
	fd, err := unix.Open(filepath.Dir(dst), unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil
	}
	f := os.NewFile(uintptr(fd), dst)
	if _, err := os.Stat(procFDPath(fd)); err != nil {
		f.Close()
		return nil
	}
	// The lock comes with the name that commit gives it.
	tryLock(f)
	return &tempFile{File: f}
}

func procFDPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// commit moves the synced file into place as dst, then closes it. An
// unnamed file is linked in as dst when there is no dst: one step where a
// rename takes three (a link to a temporary name, os.Rename's look at dst,
// the rename), and on ext4 here the rename alone took 0.4 to 0.6 ms of a
// 1 KiB encrypt's 32. A link cannot replace a file, so over an existing
// dst the file gets a temporary name, still locked, and is renamed.
func (t *tempFile) commit(dst string) error {
	proc := procFDPath(int(t.Fd()))
	if t.name == "" {
		err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
		if err == nil {
			// In place and synced: an error closing it changes nothing.
			t.Close()
			return nil
		}
		if err != unix.EEXIST {
			return &os.LinkError{Op: "link", Old: proc, New: dst, Err: err}
		}
	}
	for try := 0; t.name == ""; try++ {
		name := tempName(dst)
		err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, name, unix.AT_SYMLINK_FOLLOW)
		if err == unix.EEXIST && try < 10000 {
			continue
		}
		if err != nil {
			return &os.LinkError{Op: "link", Old: proc, New: name, Err: err}
		}
		t.name = name
	}
	return t.commitNamed(dst)
}

// startWriteBack asks the kernel to start writing n bytes of f at offset to
// disk, and does not wait (sync_file_range(2) with SYNC_FILE_RANGE_WRITE).
// It is only a head start for the final fsync, so errors are ignored: that
// fsync reports any that matter.
func startWriteBack(f *os.File, offset, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), offset, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
