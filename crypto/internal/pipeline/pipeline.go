// Package pipeline runs a stream transformation a batch of segments at a
// time through a small, bounded, ordered pipeline: one goroutine reads
// batches into a fixed set of buffers, Workers goroutines seal or open
// them, another may digest them in order (a signature's hash), and the
// caller's goroutine writes them out in the order they were read. Memory
// is the buffers, whatever the size of the stream; output is the same
// bytes, in the same order, as the sequential path's, which reads, works
// and writes each batch in turn on the caller's goroutine. Both file
// formats (package crypto's CSEW and package esdk's AWS Encryption SDK
// messages) encrypt and decrypt through it.
package pipeline

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
)

// WorkersEnv names the environment variable that, set to a positive
// number, overrides the number of workers. It is for benchmarks: 1 runs
// the sequential path, the baseline that the parallel one is measured
// against.
const WorkersEnv = "CSE_WORKSHOP_SEAL_WORKERS"

// Workers returns how many goroutines seal or open batches: GOMAXPROCS, or
// the number in $CSE_WORKSHOP_SEAL_WORKERS. One means the sequential path.
func Workers() int {
	if n, err := strconv.Atoi(os.Getenv(WorkersEnv)); err == nil && n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// Stages are the three steps of a transformation, on buffers of type B.
type Stages[B any] struct {
	// New makes a buffer. Run makes them as it needs them, at most
	// workers+2, or workers+3 with Digest (one in the sequential path).
	New func() *B
	// Read fills b with the next batch from the source and reports whether
	// it is the last one. Calls are made one at a time, in stream order.
	// After an error or the last batch, Read is not called again.
	Read func(b *B) (last bool, err error)
	// Work seals or opens the batch in b. Calls on different buffers run
	// at once, on different goroutines; anything they share must be safe
	// for that.
	Work func(b *B) error
	// Digest, when set, reads the batch in b after Work, for what must see
	// the whole stream in order and cannot be shared out, such as the hash
	// that a signature signs. It is called in stream order, on a goroutine
	// of its own so that it runs while earlier batches are written, and
	// only for batches that Read and Work passed; it must not change b.
	// Write(b) is called only after Digest(b) returned.
	Digest func(b *B)
	// Write writes the batch in b out. It is called on Run's goroutine, in
	// stream order, and only for batches that Read and Work both passed.
	Write func(b *B) error
}

// Run runs the stages over the whole stream, with workers goroutines for
// Work (the sequential path if workers is 1 or less), and returns once
// every goroutine it started has stopped. The error is the first in
// stream order: a batch's Read, Work or Write error, or ctx's error if
// ctx is done before the last batch is written. After an error no further
// batch is written, and the other stages stop at their next batch.
func Run[B any](ctx context.Context, workers int, s Stages[B]) error {
	if workers <= 1 {
		return runSequential(ctx, s)
	}
	// The first batch is read here. A stream that it holds whole, a small
	// file's, has nothing to share out: it goes the sequential way, with
	// no goroutine to start and hand it to (their hand-offs took about
	// 0.2 ms of a 1 KiB encrypt's 32).
	if err := ctx.Err(); err != nil {
		return err
	}
	first := s.New()
	if last, err := s.Read(first); err != nil {
		return err
	} else if last {
		return finish(ctx, s, first)
	}

	// stop ends the reader and the workers early, after an error or
	// with ctx.
	stop, cancel := context.WithCancel(ctx)
	defer cancel()

	type batch struct {
		b    *B
		last bool
		err  error         // of Read or Work
		done chan struct{} // receives once Work is done with b
	}
	buffers := workers + 2
	if s.Digest != nil {
		buffers++ // the one being digested
	}
	// No send on these ever waits: each holds every batch there is.
	free := make(chan *batch, buffers)
	work := make(chan *batch, buffers)
	order := make(chan *batch, buffers) // in stream order, for the digester or the writer
	read := &batch{b: first, done: make(chan struct{}, 1)}
	work <- read
	order <- read

	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(order)
		defer close(work)
		made := 1 // the first batch
		for stop.Err() == nil {
			var next *batch
			select {
			case next = <-free:
			default:
				if made < buffers {
					made++
					next = &batch{b: s.New(), done: make(chan struct{}, 1)}
					break
				}
				select {
				case next = <-free:
				case <-stop.Done():
					return
				}
			}
			next.last, next.err = s.Read(next.b)
			if next.err != nil {
				next.done <- struct{}{}
				order <- next
				return
			}
			work <- next
			order <- next
			if next.last {
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for next := range work {
				if next.err = stop.Err(); next.err == nil {
					next.err = s.Work(next.b)
				}
				next.done <- struct{}{}
				// The batch may be the one the writer (or the digester)
				// waits for. Woken here, it is queued to run next on this
				// processor, and with every processor busy it would wait
				// until this worker blocks, after its next batch's Work.
				// The output goes at the pace of that one goroutine,
				// which takes the batches in order, while any worker can
				// take the next batch a moment later: give it the
				// processor now.
				runtime.Gosched()
			}
		})
	}

	// The digester takes the batches in order as Work finishes them and
	// passes them on to the writer, done again once digested.
	toWrite := order
	if s.Digest != nil {
		digested := make(chan *batch, buffers)
		toWrite = digested
		wg.Go(func() {
			defer close(digested)
			failed := false // a batch failed: nothing after it is written
			for next := range order {
				<-next.done
				if !failed && next.err == nil {
					next.err = stop.Err()
				}
				if failed = failed || next.err != nil; !failed {
					s.Digest(next.b)
				}
				next.done <- struct{}{}
				digested <- next
			}
		})
	}

	var err error
	ended := false
	for next := range toWrite {
		<-next.done
		if err == nil {
			if err = ctx.Err(); err == nil {
				err = next.err
			}
			if err == nil {
				err = s.Write(next.b)
			}
			if err != nil {
				cancel()
			}
			ended = err == nil && next.last
		}
		free <- next
	}
	wg.Wait()
	if err == nil && !ended {
		// The reader stopped for ctx before the last batch.
		err = ctx.Err()
	}
	return err
}

// runSequential is Run on one goroutine, one batch at a time.
func runSequential[B any](ctx context.Context, s Stages[B]) error {
	b := s.New()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		last, err := s.Read(b)
		if err != nil {
			return err
		}
		if err := finish(ctx, s, b); err != nil || last {
			return err
		}
	}
}

// finish works, digests and writes the batch in b, which Read filled.
func finish[B any](ctx context.Context, s Stages[B], b *B) error {
	if err := s.Work(b); err != nil {
		return err
	}
	if s.Digest != nil {
		s.Digest(b)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Write(b)
}
