package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cse-workshop/crypto/internal/pipeline"
	"cse-workshop/crypto/internal/pipeline/pipelinetest"
)

// numbers is a pipeline over batches that each hold one number: Read
// numbers them from 0, Work squares them, Write collects them.
type numbers struct {
	count          int // batches in the stream
	failRead       int // the batch whose Read fails, or -1
	failWork       int // the batch whose Work fails, or -1
	failWrite      int // the batch whose Write fails, or -1
	cancelAtWrite  int // the batch whose Write cancels, or -1
	cancel         context.CancelFunc
	next           int
	made, inFlight atomic.Int32
	maxInFlight    atomic.Int32
	written        []int
}

type number struct{ n, squared int }

var (
	errRead  = errors.New("read failed")
	errWork  = errors.New("work failed")
	errWrite = errors.New("write failed")
)

func newNumbers(count int) *numbers {
	return &numbers{count: count, failRead: -1, failWork: -1, failWrite: -1, cancelAtWrite: -1}
}

func (p *numbers) stages() pipeline.Stages[number] {
	return pipeline.Stages[number]{
		New: func() *number { p.made.Add(1); return &number{} },
		Read: func(b *number) (bool, error) {
			if p.next == p.failRead {
				return false, errRead
			}
			b.n = p.next
			p.next++
			return p.next == p.count, nil
		},
		Work: func(b *number) error {
			in := p.inFlight.Add(1)
			defer p.inFlight.Add(-1)
			for {
				top := p.maxInFlight.Load()
				if in <= top || p.maxInFlight.CompareAndSwap(top, in) {
					break
				}
			}
			if b.n == p.failWork {
				return errWork
			}
			runtime.Gosched() // let batches overtake each other
			b.squared = b.n * b.n
			return nil
		},
		Write: func(b *number) error {
			if b.n == p.cancelAtWrite {
				p.cancel()
			}
			if b.n == p.failWrite {
				return errWrite
			}
			p.written = append(p.written, b.squared)
			return nil
		},
	}
}

func squares(n int) []int {
	var s []int
	for i := range n {
		s = append(s, i*i)
	}
	return s
}

func TestRunWritesEveryBatchInOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		for _, count := range []int{1, 2, 5, 100} {
			t.Run(fmt.Sprintf("%d workers, %d batches", workers, count), func(t *testing.T) {
				p := newNumbers(count)
				pipelinetest.NoLeaks(t, func() {
					if err := pipeline.Run(t.Context(), workers, p.stages()); err != nil {
						t.Fatalf("Run = %v", err)
					}
				})
				if want := squares(count); !slices.Equal(p.written, want) {
					t.Errorf("written %v, want %v", p.written, want)
				}
				maxBuffers := int32(workers + 2)
				if workers == 1 {
					maxBuffers = 1
				}
				if made := p.made.Load(); made > maxBuffers {
					t.Errorf("made %d buffers, want at most %d", made, maxBuffers)
				}
				if top := p.maxInFlight.Load(); top > int32(workers) {
					t.Errorf("%d batches worked on at once, want at most %d", top, workers)
				}
			})
		}
	}
}

func TestRunStopsAtTheFirstError(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		for _, tc := range []struct {
			name string
			set  func(p *numbers)
			want error
		}{
			{"read", func(p *numbers) { p.failRead = 7 }, errRead},
			{"work", func(p *numbers) { p.failWork = 7 }, errWork},
			{"write", func(p *numbers) { p.failWrite = 7 }, errWrite},
			{"later read after work", func(p *numbers) { p.failWork = 7; p.failRead = 9 }, errWork},
		} {
			t.Run(fmt.Sprintf("%s, %d workers", tc.name, workers), func(t *testing.T) {
				p := newNumbers(1000)
				tc.set(p)
				pipelinetest.NoLeaks(t, func() {
					if err := pipeline.Run(t.Context(), workers, p.stages()); !errors.Is(err, tc.want) {
						t.Errorf("pipeline.Run(%s fails at batch 7) = %v, want %v", tc.name, err, tc.want)
					}
				})
				if want := squares(7); !slices.Equal(p.written, want) {
					t.Errorf("written %v, want the 7 batches before the failure", p.written)
				}
				// Reading stops within a few batches of the failure.
				if p.next > 7+workers+3 {
					t.Errorf("read %d batches, want the reader stopped soon after batch 7", p.next)
				}
			})
		}
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			p := newNumbers(1000)
			p.cancel, p.cancelAtWrite = cancel, 3
			pipelinetest.NoLeaks(t, func() {
				if err := pipeline.Run(ctx, workers, p.stages()); !errors.Is(err, context.Canceled) {
					t.Errorf("pipeline.Run(cancelled at batch 3) = %v, want context.Canceled", err)
				}
			})
			if want := squares(4); !slices.Equal(p.written, want) {
				t.Errorf("written %v, want %v: nothing after the cancellation", p.written, want)
			}
		})
	}
}

func TestRunCancelledBeforeTheStart(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, workers := range []int{1, 2} {
		p := newNumbers(10)
		pipelinetest.NoLeaks(t, func() {
			if err := pipeline.Run(ctx, workers, p.stages()); !errors.Is(err, context.Canceled) {
				t.Errorf("pipeline.Run(%d workers, cancelled) = %v, want context.Canceled", workers, err)
			}
		})
		if len(p.written) != 0 {
			t.Errorf("pipeline.Run(%d workers, cancelled) wrote %v, want nothing", workers, p.written)
		}
	}
}

func TestWorkers(t *testing.T) {
	t.Setenv(pipeline.WorkersEnv, "1")
	if got := pipeline.Workers(); got != 1 {
		t.Errorf("pipeline.Workers() with %s=1 = %d, want 1", pipeline.WorkersEnv, got)
	}
	for _, v := range []string{"", "0", "-3", "many"} {
		t.Setenv(pipeline.WorkersEnv, v)
		if got := pipeline.Workers(); got != runtime.GOMAXPROCS(0) {
			t.Errorf("pipeline.Workers() with %s=%q = %d, want GOMAXPROCS %d", pipeline.WorkersEnv, v, got, runtime.GOMAXPROCS(0))
		}
	}
}

// digesting adds a Digest stage to p's stages that sums the squares in
// order, and a Write that checks each batch was digested first.
func digesting(t *testing.T, p *numbers) (pipeline.Stages[number], *[]int) {
	s := p.stages()
	var digested []int
	var mu sync.Mutex // the digester and the writer are different goroutines
	s.Digest = func(b *number) {
		mu.Lock()
		defer mu.Unlock()
		digested = append(digested, b.squared)
	}
	write := s.Write
	s.Write = func(b *number) error {
		mu.Lock()
		n := len(digested)
		mu.Unlock()
		if n <= b.n {
			t.Errorf("batch %d written with %d batches digested, want it digested first", b.n, n)
		}
		return write(b)
	}
	return s, &digested
}

func TestRunDigestsEveryBatchInOrderBeforeItsWrite(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		for _, count := range []int{1, 2, 5, 100} {
			t.Run(fmt.Sprintf("%d workers, %d batches", workers, count), func(t *testing.T) {
				p := newNumbers(count)
				s, digested := digesting(t, p)
				pipelinetest.NoLeaks(t, func() {
					if err := pipeline.Run(t.Context(), workers, s); err != nil {
						t.Fatalf("Run = %v", err)
					}
				})
				if want := squares(count); !slices.Equal(*digested, want) || !slices.Equal(p.written, want) {
					t.Errorf("digested %v and written %v, want both %v", *digested, p.written, want)
				}
				maxBuffers := int32(workers + 3)
				if workers == 1 {
					maxBuffers = 1
				}
				if made := p.made.Load(); made > maxBuffers {
					t.Errorf("made %d buffers, want at most %d", made, maxBuffers)
				}
			})
		}
	}
}

// The digest of a batch runs while an earlier one is written: a slow write
// does not hold the hash up, and the hash does not wait for the write.
func TestRunDigestsWhileWriting(t *testing.T) {
	p := newNumbers(10)
	s, _ := digesting(t, p)
	digest := s.Digest
	secondDigested := make(chan struct{})
	s.Digest = func(b *number) {
		digest(b)
		if b.n == 1 {
			close(secondDigested)
		}
	}
	write := s.Write
	s.Write = func(b *number) error {
		if b.n == 0 {
			select {
			case <-secondDigested:
			case <-time.After(10 * time.Second):
				t.Fatal("batch 1 was not digested while batch 0 was being written")
			}
		}
		return write(b)
	}
	pipelinetest.NoLeaks(t, func() {
		if err := pipeline.Run(t.Context(), 2, s); err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
}

func TestRunDigestsNothingAfterAnError(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		for _, tc := range []struct {
			name string
			set  func(p *numbers)
			want error
		}{
			{"read", func(p *numbers) { p.failRead = 7 }, errRead},
			{"work", func(p *numbers) { p.failWork = 7 }, errWork},
		} {
			t.Run(fmt.Sprintf("%s, %d workers", tc.name, workers), func(t *testing.T) {
				p := newNumbers(1000)
				tc.set(p)
				s, digested := digesting(t, p)
				pipelinetest.NoLeaks(t, func() {
					if err := pipeline.Run(t.Context(), workers, s); !errors.Is(err, tc.want) {
						t.Errorf("pipeline.Run(%s fails at batch 7) = %v, want %v", tc.name, err, tc.want)
					}
				})
				if want := squares(7); !slices.Equal(*digested, want) {
					t.Errorf("digested %v, want the 7 batches before the failure", *digested)
				}
			})
		}
	}
}

// A stream that one batch holds whole, a small file's, is read, worked and
// written on the caller's goroutine, with none started for it; a longer
// one is shared out.
func TestRunOneBatchStartsNoGoroutine(t *testing.T) {
	for _, count := range []int{1, 2} {
		p := newNumbers(count)
		s := p.stages()
		before := runtime.NumGoroutine()
		var mu sync.Mutex
		most := 0
		work := s.Work
		s.Work = func(b *number) error {
			mu.Lock()
			most = max(most, runtime.NumGoroutine())
			mu.Unlock()
			return work(b)
		}
		if err := pipeline.Run(t.Context(), 4, s); err != nil {
			t.Fatalf("Run = %v", err)
		}
		if started := most > before; started != (count > 1) {
			t.Errorf("%d batches on 4 workers: goroutines started: %v, want %v", count, started, count > 1)
		}
		if want := squares(count); !slices.Equal(p.written, want) {
			t.Errorf("%d batches: written %v, want %v", count, p.written, want)
		}
	}
}

// A first batch that cannot be read is the error, with nothing written.
func TestRunFirstReadFails(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		p := newNumbers(10)
		p.failRead = 0
		pipelinetest.NoLeaks(t, func() {
			if err := pipeline.Run(t.Context(), workers, p.stages()); !errors.Is(err, errRead) {
				t.Errorf("pipeline.Run(%d workers, first read fails) = %v, want %v", workers, err, errRead)
			}
		})
		if len(p.written) != 0 {
			t.Errorf("%d workers: wrote %v after the first read failed", workers, p.written)
		}
	}
}
