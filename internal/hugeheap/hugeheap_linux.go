package hugeheap

import (
	"syscall"
	"unsafe"
)

// chunkBytes is how much address space the Go runtime maps into the heap
// at a time, aligned to its own size (pallocChunkBytes in the runtime), and
// hugeBytes the size of a huge page on the machines that matter here.
const (
	chunkBytes = 4 << 20
	hugeBytes  = 2 << 20
)

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which package syscall lacks.
const madvCollapse = 25

// settings is where Linux says whether transparent huge pages are on.
const settings = "/sys/kernel/mm/transparent_hugepage/enabled"

var (
	// probe is the object whose address says where the heap is; nil if
	// the package did nothing.
	probe *[64]byte
	// adviseErr is the kernel's answer to MADV_HUGEPAGE.
	adviseErr syscall.Errno
)

// init runs early because the package imports only syscall and unsafe
// (see the package doc): keep it so.
func init() {
	godebug, _ := syscall.Getenv("GODEBUG")
	if disabledByGODEBUG(godebug) || !allowed(readSettings()) {
		return
	}
	probe = new([64]byte)
	at := uintptr(unsafe.Pointer(probe))
	// The chunk's pages still untouched come as huge pages when first
	// touched. The huge page around the probe, which the runtime has
	// begun to use, is made one now. Only that one: collapsing memory
	// that nothing has touched fails, and on the kernel it was tried on
	// (6.18) that memory then came in 4 KiB pages. Errors leave the heap
	// as it was.
	adviseErr = madvise(at&^(chunkBytes-1), chunkBytes, syscall.MADV_HUGEPAGE)
	madvise(at&^(hugeBytes-1), hugeBytes, madvCollapse)
}

// madvise gives advice on n bytes from addr (syscall.Madvise takes a
// slice, which the heap's memory is not, to Go).
func madvise(addr, n, advice uintptr) syscall.Errno {
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, n, advice)
	return errno
}

// readSettings returns the start of the kernel's transparent huge page
// setting, or nothing if it cannot be read.
func readSettings() string {
	fd, err := syscall.Open(settings, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return ""
	}
	defer syscall.Close(fd)
	var buf [128]byte
	n, err := syscall.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return ""
	}
	return string(buf[:n])
}

// allowed says whether a setting such as "always [madvise] never" lets a
// program ask for huge pages: it names one, and not never.
func allowed(setting string) bool {
	return index(setting, "[") >= 0 && index(setting, "[never]") < 0
}

// disabledByGODEBUG says whether the GODEBUG value turns huge pages off for
// the Go heap (disablethp=1; the last setting wins, as in the runtime).
func disabledByGODEBUG(godebug string) bool {
	const key = "disablethp="
	disabled := false
	for godebug != "" {
		setting := godebug
		if i := index(godebug, ","); i >= 0 {
			setting, godebug = godebug[:i], godebug[i+1:]
		} else {
			godebug = ""
		}
		if len(setting) >= len(key) && setting[:len(key)] == key {
			disabled = setting[len(key):] == "1"
		}
	}
	return disabled
}

// index is strings.Index, which this package does without (see init).
func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
