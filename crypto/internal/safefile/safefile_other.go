//go:build !linux

package safefile

import (
	"context"
	"os"
)

// openInput opens name for reading. Here, unlike on Linux, opening a FIFO
// waits for its writer and ctx cannot stop that.
func openInput(ctx context.Context, name string) (*os.File, error) {
	return os.Open(name)
}

// createTemp creates the file that becomes dst: a named temporary file
// (see createNamedTemp).
func createTemp(dst string) (*tempFile, error) { return createNamedTemp(dst) }

// commit moves the file into place as dst, then closes it.
func (t *tempFile) commit(dst string) error { return t.commitNamed(dst) }

// startWriteBack does nothing here: the final fsync writes everything.
func startWriteBack(f *os.File, offset, n int64) {}
