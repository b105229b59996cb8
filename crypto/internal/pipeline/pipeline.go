// Package pipeline runs a stream transformation a batch of segments at a
// time through a small, bounded, ordered pipeline: batches are read into
// a fixed set of buffers one at a time, sealed or opened several at once,
// maybe digested in order (a signature's hash), and written out in the
// order they were read, by Workers goroutines that each take whichever of
// these steps is due. Memory is the buffers, whatever the size of the
// stream; output is the same bytes, in the same order, as the sequential
// path's, which reads, works and writes each batch in turn on the
// caller's goroutine. Both file formats (package crypto's CSEW and package
// esdk's AWS Encryption SDK messages) encrypt and decrypt through it.
package pipeline

import (
	"cmp"
	"context"
	"errors"
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
	// that a signature signs. Calls are made one at a time, in stream
	// order, while earlier batches may be being written, and only for
	// batches that Read and Work passed; it must not change b. Write(b) is
	// called only after Digest(b) returned.
	Digest func(b *B)
	// Write writes the batch in b out. Calls are made one at a time, in
	// stream order (not always on Run's goroutine), and only for batches
	// that Read and Work both passed.
	Write func(b *B) error
}

// Run runs the stages over the whole stream, with workers goroutines (the
// sequential path if workers is 1 or less), and returns once every
// goroutine it started has stopped. The error is the first in stream
// order: a batch's Read, Work or Write error, or ctx's error if ctx is
// done before the last batch is written. After an error no further batch
// is written, and the other stages stop at their next batch.
//
// The goroutines, Run's own among them, are not one per stage: each takes
// whichever step is most pressing (the next Write in order, the next
// Digest, or Read and Work of a new batch), so that no more goroutines
// want a core than there are workers, and the steps that go one at a time
// (Read, Digest, Write) never wait for a core held by a worker that could
// have waited instead: with a goroutine per stage, on two cores, the
// writer spent a quarter of its time runnable but not running. A stage
// that panics ends the run, and Run panics with its value once its
// goroutines stopped, on the caller's goroutine, as the sequential path
// would.
func Run[B any](ctx context.Context, workers int, s Stages[B]) error {
	if workers <= 1 {
		return runSequential(ctx, s)
	}
	buffers := workers + 2
	if s.Digest != nil {
		buffers++ // the one being digested
	}
	r := &run[B]{ctx: ctx, s: s, buffers: buffers}
	r.wake.L = &r.mu
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(r.lane)
	}
	r.lane()
	wg.Wait()
	if r.panicked {
		panic(r.panicValue)
	}
	return r.err
}

// batch is a buffer on its way through Run's steps.
type batch[B any] struct {
	b    *B
	last bool
	err  error // of Read or Work, or why Work was skipped
	// worked and digested say which steps are done (digested only with
	// a Digest stage).
	worked, digested bool
}

// run is the state of a parallel Run that its goroutines share.
type run[B any] struct {
	ctx     context.Context
	s       Stages[B]
	buffers int

	mu   sync.Mutex
	wake sync.Cond // a step may have become possible, or the run ended
	// pending are the batches read and not yet written, in stream order.
	pending []*batch[B]
	free    []*batch[B]
	made    int
	// reading, digesting and writing say a goroutine is at that step;
	// digested is how many of pending have been digested.
	reading, digesting, writing bool
	digested                    int
	// readEnded: no batch is to be read any more (the last was read, a
	// Read or Work failed, or ctx is done).
	readEnded bool
	// ended: nothing more is written; err is why, nil after the last
	// batch.
	ended bool
	err   error
	// panicked: a stage panicked with panicValue.
	panicked   bool
	panicValue any
}

// step is what a goroutine of Run does next.
type step int

const (
	stepNone step = iota
	stepWrite
	stepDigest
	stepRead // and Work of the batch read
)

// lane is one of Run's goroutines: it takes steps until the run ends.
func (r *run[B]) lane() {
	r.mu.Lock()
	locked, finished := true, false
	defer func() {
		// A stage panicked, or ended the goroutine (runtime.Goexit): the
		// run ends, and Run panics in turn once its goroutines stopped.
		v := recover()
		if !locked {
			r.mu.Lock()
		}
		if !finished && !r.panicked {
			r.panicked, r.panicValue = v != nil, v
			r.end(errStageExited)
		}
		r.mu.Unlock()
	}()
	for {
		next, b := r.pick()
		for next == stepNone && !r.ended {
			r.wake.Wait()
			next, b = r.pick()
		}
		if next == stepNone {
			finished = true
			return
		}
		locked = false
		r.mu.Unlock()
		switch next {
		case stepWrite:
			err := r.ctx.Err()
			if err == nil {
				err = r.s.Write(b.b)
			}
			r.mu.Lock()
			locked = true
			r.written(b, err)
		case stepDigest:
			r.s.Digest(b.b)
			r.mu.Lock()
			locked = true
			b.digested, r.digesting = true, false
			r.digested++
		case stepRead:
			last, err := r.s.Read(b.b)
			r.mu.Lock()
			locked = true
			r.reading = false
			r.pending = append(r.pending, b)
			b.last, b.err = last, err
			if err == nil && r.readEnded {
				// A Work failed, or ctx is done: the batch will not be
				// written.
				b.err = cmp.Or(r.ctx.Err(), errStopped)
			}
			r.readEnded = r.readEnded || last || err != nil
			if b.err == nil {
				r.wake.Signal() // for the next Read
				locked = false
				r.mu.Unlock()
				err := r.s.Work(b.b)
				r.mu.Lock()
				locked = true
				if b.err = err; err != nil {
					r.readEnded = true
				}
			}
			b.worked = true
		}
		r.wake.Broadcast()
	}
}

// pick returns the most pressing step that can be taken now, and its
// batch, and marks it taken; stepNone if none can. The next Write comes
// first and then the next Digest, for they go one at a time, in order,
// and hold up the rest; then a new batch, for which pick takes a buffer.
func (r *run[B]) pick() (step, *batch[B]) {
	if r.ended {
		return stepNone, nil
	}
	if len(r.pending) == 0 && r.readEnded && !r.reading {
		// Everything read was written, and nothing more is to be read:
		// ctx stopped the reading before the last batch.
		r.end(r.ctx.Err())
		return stepNone, nil
	}
	if len(r.pending) > 0 && !r.writing {
		head := r.pending[0]
		switch {
		case head.worked && head.err != nil:
			r.end(head.err)
			return stepNone, nil
		case head.worked && (r.s.Digest == nil || head.digested):
			r.writing = true
			return stepWrite, head
		}
	}
	if r.s.Digest != nil && !r.digesting && r.digested < len(r.pending) {
		if b := r.pending[r.digested]; b.worked && b.err == nil {
			r.digesting = true
			return stepDigest, b
		}
	}
	if !r.reading && !r.readEnded {
		if r.ctx.Err() != nil {
			r.readEnded = true
			return r.pick()
		}
		var b *batch[B]
		switch {
		case len(r.free) > 0:
			b = r.free[len(r.free)-1]
			r.free = r.free[:len(r.free)-1]
		case r.made < r.buffers:
			r.made++
			b = &batch[B]{b: r.s.New()}
		default:
			return stepNone, nil
		}
		b.last, b.err, b.worked, b.digested = false, nil, false, false
		r.reading = true
		return stepRead, b
	}
	return stepNone, nil
}

// written takes the batch at the head of pending, whose Write returned
// err, off it.
func (r *run[B]) written(b *batch[B], err error) {
	r.writing = false
	r.pending = r.pending[1:]
	if r.s.Digest != nil {
		r.digested--
	}
	r.free = append(r.free, b)
	switch {
	case err != nil:
		r.end(err)
	case b.last:
		r.end(nil)
	}
}

// end ends the run with err: nothing more is read, worked or written.
func (r *run[B]) end(err error) {
	r.ended, r.err, r.readEnded = true, err, true
	r.wake.Broadcast()
}

// errStageExited ends a run whose stage panicked or ended its goroutine.
var errStageExited = errors.New("pipeline: a stage panicked or exited")

// errStopped marks a batch read as an earlier one failed: it is never
// written, for the earlier one's error ends the run first.
var errStopped = errors.New("pipeline: stopped")

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
		if err := s.Work(b); err != nil {
			return err
		}
		if s.Digest != nil {
			s.Digest(b)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.Write(b); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}
