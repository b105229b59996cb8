package hugeheap

import (
	"fmt"
	"go/build"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// Once the package has initialised, the heap chunk it found is marked for
// huge pages ("hg" among the mapping's flags in /proc/self/smaps).
func TestHeapChunkAdvised(t *testing.T) {
	setting := readSettings()
	if !allowed(setting) || disabledByGODEBUG(os.Getenv("GODEBUG")) {
		t.Skipf("transparent huge pages are off or absent here (%q, GODEBUG=%q)", setting, os.Getenv("GODEBUG"))
	}
	if probe == nil {
		t.Fatal("init did not look for the heap, though huge pages are on")
	}
	if adviseErr != 0 {
		t.Skipf("the kernel refused MADV_HUGEPAGE: %v", adviseErr)
	}
	flags, err := vmFlags(uintptr(unsafe.Pointer(probe)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the heap's mapping has flags %q, want hg (MADV_HUGEPAGE) among them", flags)
	}
}

func TestAllowed(t *testing.T) {
	for setting, want := range map[string]bool{
		"always [madvise] never\n": true,
		"[always] madvise never\n": true,
		"always madvise [never]\n": false,
		"":                         false,
		"garbage":                  false,
	} {
		if got := allowed(setting); got != want {
			t.Errorf("allowed(%q) = %v, want %v", setting, got, want)
		}
	}
}

func TestDisabledByGODEBUG(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                            false,
		"disablethp=1":                true,
		"disablethp=0":                false,
		"madvdontneed=1,disablethp=1": true,
		"disablethp=1,disablethp=0":   false,
		"disablethp=0,disablethp=1":   true,
		"xdisablethp=1":               false,
	} {
		if got := disabledByGODEBUG(godebug); got != want {
			t.Errorf("disabledByGODEBUG(%q) = %v, want %v", godebug, got, want)
		}
	}
}

// vmFlags returns the VmFlags line of the mapping that holds addr.
func vmFlags(addr uintptr) (string, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return "", err
	}
	inside := false
	for line := range strings.Lines(string(smaps)) {
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			inside = lo <= addr && addr < hi
			continue
		}
		if inside && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmFlags:")), nil
		}
	}
	return "", fmt.Errorf("no mapping with VmFlags holds %#x", addr)
}

// The package runs early only while it imports nothing that initialises
// late: syscall and unsafe (see the package doc).
func TestImportsOnlySyscall(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if path != "syscall" && path != "unsafe" {
			t.Errorf("hugeheap imports %s: with it, it initialises after that package and its imports, once more of the heap is touched", path)
		}
	}
}
