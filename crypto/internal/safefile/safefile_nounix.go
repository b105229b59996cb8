//go:build !unix

package safefile

import (
	"errors"
	"os"
)

// tryLock: no locks here, so temporary files are not locked.
func tryLock(f *os.File) (bool, error) { return false, errors.ErrUnsupported }

// removeIfStale does nothing: without locks a leftover cannot be told from
// the file of a run still writing.
func removeIfStale(name string) {}
