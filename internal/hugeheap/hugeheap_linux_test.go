package hugeheap

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// Once the package has initialised, the heap chunk it found is marked for
// huge pages ("hg" among the mapping's flags in /proc/self/smaps).
func TestHeapChunkAdvised(t *testing.T) {
	if !enabled() {
		on, err := os.ReadFile(settings)
		t.Skipf("transparent huge pages are off or absent here (%q, %v)", on, err)
	}
	if probe == nil {
		t.Fatal("init did not look for the heap, though huge pages are on")
	}
	flags, err := vmFlags(uintptr(unsafe.Pointer(probe)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+flags+" ", " hg ") {
		t.Errorf("the heap's mapping has flags %q, want hg (MADV_HUGEPAGE) among them", flags)
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
