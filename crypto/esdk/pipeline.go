package esdk

import (
	"sync"
)

// batchSizeInBytes is how much of the message a batch holds (or one frame,
// when frames are larger): enough that handing a batch over costs little
// next to hashing it, small enough to stay in a core's cache.
const batchSizeInBytes = 256 << 10

// batcher passes the bytes of a message, a batch at a time, to a sink that
// hashes them for the signature and, when encrypting, writes them out.
//
// For signed suites the sink runs on its own goroutine, so that SHA-384
// over the message overlaps AES-GCM over the next batch; otherwise it runs
// inline. Either way batches reach the sink whole and in order, and a batch
// is never touched again once submitted, until buffer returns it.
type batcher struct {
	sink    func([]byte) error
	async   bool
	single  []byte      // the only buffer, when inline
	work    chan []byte // batches for the sink's goroutine
	free    chan []byte // buffers the goroutine is done with
	stopped chan struct{}

	mu  sync.Mutex
	err error // the sink's first error
}

// newBatcher returns a batcher whose buffers hold at least minBatchSize
// bytes. Call close when done, on every path.
func newBatcher(sink func([]byte) error, async bool, minBatchSize int) *batcher {
	size := max(batchSizeInBytes, minBatchSize)
	b := &batcher{sink: sink, async: async}
	if !async {
		b.single = make([]byte, 0, size)
		return b
	}
	// Three buffers: one filling, one in the sink, one ready.
	const buffers = 3
	b.work = make(chan []byte, buffers)
	b.free = make(chan []byte, buffers)
	b.stopped = make(chan struct{})
	for range buffers {
		b.free <- make([]byte, 0, size)
	}
	go b.run()
	return b
}

func (b *batcher) run() {
	defer close(b.stopped)
	for batch := range b.work {
		if b.firstError() == nil {
			if err := b.sink(batch); err != nil {
				b.mu.Lock()
				b.err = err
				b.mu.Unlock()
			}
		}
		b.free <- batch[:0]
	}
}

func (b *batcher) firstError() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// buffer returns an empty buffer to fill.
func (b *batcher) buffer() []byte {
	if !b.async {
		return b.single[:0]
	}
	return <-b.free
}

// submit hands a filled buffer to the sink and returns the sink's first
// error so far, if any.
func (b *batcher) submit(batch []byte) error {
	if !b.async {
		if len(batch) == 0 {
			return nil
		}
		return b.sink(batch)
	}
	b.work <- batch
	return b.firstError()
}

// close waits until the sink has had every batch and returns its first
// error. It may be called more than once.
func (b *batcher) close() error {
	if !b.async {
		return nil
	}
	select {
	case <-b.stopped:
	default:
		close(b.work)
		<-b.stopped
	}
	return b.firstError()
}
