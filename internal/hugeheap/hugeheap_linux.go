package hugeheap

import (
	"bytes"
	"unsafe"

	"golang.org/x/sys/unix"
)

// chunkBytes is how much address space the Go runtime maps into the heap
// at a time, aligned to its own size (pallocChunkBytes in the runtime), and
// hugeBytes the size of a huge page on the machines that matter here.
const (
	chunkBytes = 4 << 20
	hugeBytes  = 2 << 20
)

// settings is where Linux says whether transparent huge pages are on.
const settings = "/sys/kernel/mm/transparent_hugepage/enabled"

// probe is the object whose address says where the heap is.
var probe *[64]byte

func init() {
	if !enabled() {
		return
	}
	probe = new([64]byte)
	at := uintptr(unsafe.Pointer(probe))
	// The chunk's pages still untouched come as huge pages when first
	// touched. The huge page around the probe, which the runtime has
	// begun to use, is made one now: a copy of a few hundred KiB. Not the
	// whole chunk: asking that of a huge page's worth of untouched memory
	// fails and leaves it to come in 4 KiB pages. Errors leave the heap as
	// it was.
	madvise(at&^(chunkBytes-1), chunkBytes, unix.MADV_HUGEPAGE)
	madvise(at&^(hugeBytes-1), hugeBytes, unix.MADV_COLLAPSE)
}

// madvise gives advice on n bytes from addr (unix.Madvise takes a slice,
// which the heap's memory is not, to Go).
func madvise(addr, n, advice uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, n, advice)
}

// enabled says whether transparent huge pages may be used: the setting is
// readable and not "never". It reads into an array on the stack, so the
// heap it looks after is left alone.
func enabled() bool {
	fd, err := unix.Open(settings, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var buf [128]byte
	n, err := unix.Read(fd, buf[:])
	return err == nil && n > 0 && !bytes.Contains(buf[:n], []byte("[never]"))
}
