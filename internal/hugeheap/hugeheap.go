// Package hugeheap asks Linux to back the start of the Go heap with huge
// pages, so that starting the program costs a few page faults instead of
// hundreds. The main package imports it for its side effect only.
//
// A process pays a page fault the first time it touches each 4 KiB page of
// its memory. Where the kernel runs in a virtual machine whose host backs
// guest memory on demand, as cloud and sandbox machines do, a fault on
// fresh memory costs about 12 µs, and a cold start of this program touches
// some 600 pages of heap, mostly for the AWS SDK's package initialisation:
// about a fifth of a 1 KiB encrypt. A 2 MiB huge page costs one fault. Go's
// runtime no longer asks for huge pages itself (since Go 1.21.1), so this
// package does, for the one heap chunk that is there when it initialises:
// it needs only the standard library and golang.org/x/sys, so Go, which
// initialises packages in the order of their import paths, dependencies
// first, runs it before nearly all of the program's other packages
// allocate.
//
// On such a machine (2 cores, 100 alternating runs) it takes 6-8% off a
// 1 KiB encrypt and about a tenth off --help.
//
// It is advice: on another system, with huge pages turned off
// (transparent_hugepage set to never) or refused, nothing changes.
package hugeheap
