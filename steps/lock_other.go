//go:build !unix && !windows

package steps

import "os"

// tryLock does nothing where the system has no file locks (Plan 9,
// WebAssembly): there, two processes must not share a workshop folder.
func tryLock(*os.File) error { return nil }
