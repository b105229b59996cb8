// Package hugeheap asks Linux to back the start of the Go heap with huge
// pages, so that starting the program costs fewer page faults. The main
// package imports it for its side effect only.
//
// A process pays a page fault the first time it touches each 4 KiB page of
// its memory. Where the kernel runs in a virtual machine whose host backs
// guest memory on demand, as cloud and sandbox machines do, a fault on
// fresh memory costs about 12 µs, and a cold start of this program touches
// some 600 pages of heap, mostly in the AWS SDK's package initialisation:
// about a fifth of a 1 KiB encrypt. A 2 MiB huge page costs one fault.
//
// Go's runtime no longer asks for huge pages itself (since Go 1.21.1: in
// long-running programs they kept memory that the runtime meant to give
// back), so this package does, for the one 4 MiB chunk of heap that is
// there when it initialises. Go initialises packages in the order of
// their import paths once their imports are done, and this one imports
// only syscall and unsafe, so it runs as soon as syscall has: 15th of the
// program's packages, before the others' initialisation has touched much
// of the heap (every page touched before is a fault already paid; with
// golang.org/x/sys as well it ran 65th, and a 1 KiB encrypt took about 2%
// longer). The heap starts at a random page of that chunk, though (Go
// 1.26 randomises it), so in some runs most of the start-up's heap lies in
// the next chunk, which no one advised: the gain is an average over runs.
//
// What it costs where huge pages are on: up to about 2 MiB more resident
// memory, and the copy of the pages the runtime has already used into a
// huge page, under a millisecond. With the kernel's default defrag
// setting, a fault in the chunk may also wait while the kernel compacts
// memory to find a huge page. Nothing is done where transparent huge pages
// are set to never or absent, under GODEBUG=disablethp=1, or on other
// systems, and a refusal leaves the heap as it was.
package hugeheap
