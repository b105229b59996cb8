// Package safefile writes the output of a stream transformation so that
// nothing half-written is ever seen: the encrypted or decrypted file
// appears under its name only when complete and synced, a failed or
// cancelled run leaves nothing, and a run killed outright leaves nothing
// on Linux (O_TMPFILE) or a locked temporary file that the next run
// removes elsewhere. Both file formats (package crypto's CSEW and package
// esdk's AWS Encryption SDK messages) write through it.
package safefile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// streamEndGrace is how long Transform waits, after the end
// of an input that is not a regular file, for a cancellation on its way.
// A signal takes microseconds to turn into a cancelled ctx on an idle
// machine, milliseconds on a loaded one.
var streamEndGrace = 100 * time.Millisecond

// unnamedTemps says whether createTemp tries a file with no name first,
// where there are such files (Linux's O_TMPFILE); tests turn it off to
// exercise named temporary files.
var unnamedTemps = true

// ErrSameFile is returned when the source and the destination are one file.
var ErrSameFile = errors.New("the source and the destination are the same file")

// Transform runs transform from src into a temporary file beside dst, then
// syncs it and moves it into place as dst, mode 0600: dst appears only once
// transform succeeded, and on any error or cancellation there is no new
// file and an existing dst is untouched. A temporary file left by a killed
// run is removed by the next run to the same dst (see createTemp).
//
// srcBytes is src's size, or -1 when src is not a regular file. src may be
// a pipe, a FIFO or a terminal: cancelling ctx stops a read (or, for a FIFO
// on Linux, an open) that waits for its writer, and if ctx is done when src
// ends, the end is taken for the interruption it probably is (a producer
// killed by the same Ctrl-C) and nothing is written: Transform returns
// ctx.Err() whenever ctx is done by the time it finishes.
func Transform(ctx context.Context, src, dst string, transform func(w io.Writer, r io.Reader, srcBytes int64) error) (err error) {
	in, err := openInput(ctx, src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("the source is a folder, not a file")
	}
	if same, err := sameFile(info, src, dst); err != nil {
		return err
	} else if same {
		return ErrSameFile
	}
	// The output is renamed into place, which would replace a device, a
	// pipe or a link to one (/dev/stdout) with a plain file.
	if dstInfo, err := os.Stat(dst); err == nil && !dstInfo.Mode().IsRegular() {
		if dstInfo.IsDir() {
			return fmt.Errorf("write %s: it is a folder, not a file", dst)
		}
		return fmt.Errorf("write %s: not a regular file (the output can only go to a file)", dst)
	}
	srcBytes := int64(-1)
	if info.Mode().IsRegular() {
		srcBytes = info.Size()
	}

	removeStaleTemps(dst)
	out, err := createTemp(dst)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: the folder %s does not exist", dst, filepath.Dir(dst))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	// Discarded on every way out but success, a panic in a callback
	// included: a partial file may hold plaintext that was never
	// authenticated.
	done := false
	defer func() {
		if !done {
			out.discard()
		}
	}()

	// A read that waits on a pipe, a FIFO or a terminal ends when ctx does
	// (files that Go's poller cannot wait on never block for long).
	stop := context.AfterFunc(ctx, func() { in.SetReadDeadline(time.Now()) })
	defer stop()
	w := newOutputBuffer(&writeBack{f: out.File}, srcBytes)
	err = transform(w, in, srcBytes)
	if err == nil {
		err = w.Flush()
	}
	if !info.Mode().IsRegular() {
		// The end of a pipe, a FIFO or a terminal is ambiguous: a Ctrl-C
		// to this process's group kills the producer, which ends its
		// output, and cancels ctx, by two paths that race. Waiting a
		// moment for ctx keeps a cut-short input from passing for a
		// whole one, or for a damaged one.
		select {
		case <-ctx.Done():
		case <-time.After(streamEndGrace):
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	// Once more at the last moment before dst appears.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := out.commit(dst); err != nil {
		return err
	}
	done = true
	syncDir(filepath.Dir(dst))
	return nil
}

// outputBufferBytes is how much output Transform gathers before it writes,
// and directWriteBytes the size from which a write goes straight through.
const (
	outputBufferBytes = 1 << 20
	directWriteBytes  = 64 << 10
)

// outputBuffer gathers small writes (a header, a small segment), each a
// system call otherwise, and passes large ones (a batch of segments or
// frames) straight on after what it gathered, rather than copy them.
type outputBuffer struct {
	buf *bufio.Writer
	w   io.Writer
}

// newOutputBuffer gathers for w the output made from srcBytes of input
// (-1: unknown). A small input gets a buffer of about its size: a served
// room encrypts hundreds of small files at once, and a 1 KiB encrypt's
// memory is mostly its buffers.
func newOutputBuffer(w io.Writer, srcBytes int64) *outputBuffer {
	size := outputBufferBytes
	if srcBytes >= 0 {
		// The output is the input and some overhead (a header, a
		// signature, a tag per segment or frame); any more is gathered
		// over more writes, never lost.
		size = int(min(int64(size), srcBytes+smallOutputSlackBytes))
	}
	return &outputBuffer{buf: bufio.NewWriterSize(w, size), w: w}
}

// smallOutputSlackBytes is what an output buffer adds to the input's size:
// more than a header with a large encryption context.
const smallOutputSlackBytes = 16 << 10

func (o *outputBuffer) Write(p []byte) (int, error) {
	if len(p) < directWriteBytes {
		return o.buf.Write(p)
	}
	if err := o.buf.Flush(); err != nil {
		return 0, err
	}
	return o.w.Write(p)
}

// Flush writes what was gathered.
func (o *outputBuffer) Flush() error { return o.buf.Flush() }

// writeBackBytes is how much output a writeBack lets accumulate before it
// asks the kernel to start writing it to disk.
const writeBackBytes = 8 << 20

// writeBack writes to f and, every writeBackBytes, starts the write-back of
// what it wrote since (startWriteBack), without waiting for it: the disk
// works while the stream goes on, and the final Sync, which makes the file
// durable before it appears, has little left to do instead of all of it.
type writeBack struct {
	f       *os.File
	offset  int64 // bytes written
	started int64 // bytes whose write-back was started
}

func (w *writeBack) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.offset += int64(n)
	if w.offset-w.started >= writeBackBytes {
		startWriteBack(w.f, w.started, w.offset-w.started)
		w.started = w.offset
	}
	return n, err
}

// A tempFile is the output being written, either unnamed until it is
// complete (Linux's O_TMPFILE) or under a temporary name beside its
// destination, locked while this process writes it.
type tempFile struct {
	*os.File
	name string // "" while the file has no name
}

// createNamedTemp creates a temporary file for dst beside it, mode 0600,
// and locks it (where locks exist) so that no other run takes it for a
// leftover.
func createNamedTemp(dst string) (*tempFile, error) {
	for range 10000 {
		name := tempName(dst)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// Between its creation and the lock another run may have taken
		// it for a leftover: then it is locked or gone, and this run tries
		// another name. (Where there are no locks, it goes without.)
		locked, err := tryLock(f)
		if err == nil && !locked || !namesFile(name, f) {
			f.Close()
			continue
		}
		return &tempFile{File: f, name: name}, nil
	}
	return nil, errors.New("no unused temporary name in 10000 tries")
}

// commitNamed renames the named temporary file, synced, to dst and closes
// it. The lock holds until the rename: unlocked, the file would look like a
// leftover to another run.
func (t *tempFile) commitNamed(dst string) error {
	if err := os.Rename(t.name, dst); err != nil {
		return err
	}
	t.name = ""
	// The file is in place and synced: an error closing it changes nothing.
	t.Close()
	return nil
}

// discard closes the file and removes its name, if it has one.
func (t *tempFile) discard() {
	t.Close()
	if t.name != "" {
		os.Remove(t.name)
	}
}

// The temporary files of a destination dst are named
// ".BASE.NUMBER.tmp", in dst's folder: BASE is dst's base name (cut to fit
// a file name of 255 bytes) and NUMBER a random decimal uint32, as
// os.CreateTemp makes them, which earlier versions used.
const (
	tempPrefix = "."
	tempSuffix = ".tmp"
	// maxTempBaseBytes leaves room for the prefix, a dot, ten digits and
	// the suffix in a file name of 255 bytes.
	maxTempBaseBytes = 255 - len(tempPrefix) - len(".4294967295") - len(tempSuffix)
)

// tempName returns a new temporary name for dst.
func tempName(dst string) string {
	dir, base := filepath.Split(dst)
	return filepath.Join(dir, tempPrefix+tempBase(base)+"."+strconv.FormatUint(uint64(rand.Uint32()), 10)+tempSuffix)
}

// tempBase is base cut to maxTempBaseBytes, at the start of a character.
func tempBase(base string) string {
	if len(base) <= maxTempBaseBytes {
		return base
	}
	n := maxTempBaseBytes
	for n > 0 && !utf8.RuneStart(base[n]) {
		n--
	}
	return base[:n]
}

// isTempName reports whether name (a base name) is a temporary name of the
// destination whose base name is base.
func isTempName(name, base string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix+tempBase(base)+".")
	if !ok {
		return false
	}
	number, ok := strings.CutSuffix(rest, tempSuffix)
	if !ok || number == "" || len(number) > len("4294967295") {
		return false
	}
	for _, c := range []byte(number) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// removeStaleTemps removes the temporary files that runs killed before they
// finished (SIGKILL, a crash, a power cut) left beside dst: only names of
// the pattern above, only regular files of this user, and only those no
// live process holds locked (see removeIfStale). Errors are ignored: a
// leftover that stays is no worse than before.
func removeStaleTemps(dst string) {
	dir, base := filepath.Split(dst)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isTempName(e.Name(), base) {
			removeIfStale(filepath.Join(dir, e.Name()))
		}
	}
}

// namesFile reports whether name is still the name of the open file f.
func namesFile(name string, f *os.File) bool {
	nameInfo, err := os.Lstat(name)
	if err != nil {
		return false
	}
	fInfo, err := f.Stat()
	return err == nil && os.SameFile(nameInfo, fInfo)
}

// sameFile reports whether dst names the file src, which is already open.
func sameFile(srcInfo os.FileInfo, src, dst string) (bool, error) {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return true, nil
	}
	dstInfo, err := os.Stat(dst)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(srcInfo, dstInfo), nil
}

// syncDir makes a rename in dir durable. Where directories cannot be synced
// the rename is still atomic, only not yet on disk, so errors are ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
