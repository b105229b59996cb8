//go:build !unix && !windows

package steps

import "os"

// tryLock does nothing where the system has no file locks (Plan 9,
// WebAssembly): there, two processes must not share a workshop folder.
func tryLock(*os.File) error { return nil }

// openLock opens the lock file, creating it.
func openLock(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
}
