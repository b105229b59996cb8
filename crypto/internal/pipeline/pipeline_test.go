package pipeline

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

func (p *numbers) stages() Stages[number] {
	return Stages[number]{
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
					if err := Run(t.Context(), workers, p.stages()); err != nil {
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
					if err := Run(t.Context(), workers, p.stages()); !errors.Is(err, tc.want) {
						t.Errorf("Run(%s fails at batch 7) = %v, want %v", tc.name, err, tc.want)
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
				if err := Run(ctx, workers, p.stages()); !errors.Is(err, context.Canceled) {
					t.Errorf("Run(cancelled at batch 3) = %v, want context.Canceled", err)
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
			if err := Run(ctx, workers, p.stages()); !errors.Is(err, context.Canceled) {
				t.Errorf("Run(%d workers, cancelled) = %v, want context.Canceled", workers, err)
			}
		})
		if len(p.written) != 0 {
			t.Errorf("Run(%d workers, cancelled) wrote %v, want nothing", workers, p.written)
		}
	}
}

func TestWorkers(t *testing.T) {
	t.Setenv(WorkersEnv, "1")
	if got := Workers(); got != 1 {
		t.Errorf("Workers() with %s=1 = %d, want 1", WorkersEnv, got)
	}
	for _, v := range []string{"", "0", "-3", "many"} {
		t.Setenv(WorkersEnv, v)
		if got := Workers(); got != runtime.GOMAXPROCS(0) {
			t.Errorf("Workers() with %s=%q = %d, want GOMAXPROCS %d", WorkersEnv, v, got, runtime.GOMAXPROCS(0))
		}
	}
}

// digesting adds a Digest stage to p's stages that sums the squares in
// order, and a Write that checks each batch was digested first.
func digesting(t *testing.T, p *numbers) (Stages[number], *[]int) {
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
					if err := Run(t.Context(), workers, s); err != nil {
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
				// Not t.Fatal: Write may run on another goroutine than
				// the test's.
				t.Error("batch 1 was not digested while batch 0 was being written")
			}
		}
		return write(b)
	}
	pipelinetest.NoLeaks(t, func() {
		if err := Run(t.Context(), 2, s); err != nil {
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
					if err := Run(t.Context(), workers, s); !errors.Is(err, tc.want) {
						t.Errorf("Run(%s fails at batch 7) = %v, want %v", tc.name, err, tc.want)
					}
				})
				if want := squares(7); !slices.Equal(*digested, want) {
					t.Errorf("digested %v, want the 7 batches before the failure", *digested)
				}
			})
		}
	}
}

// Run's goroutines take whichever step is due rather than one stage each:
// however slow the steps, no more run at once than there are workers, so
// that on a machine with that many cores none waits for one.
func TestRunTakesNoMoreStepsAtOnceThanWorkers(t *testing.T) {
	for _, workers := range []int{2, 3} {
		for _, digest := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d workers, digest %v", workers, digest), func(t *testing.T) {
				p := newNumbers(40)
				s := p.stages()
				if digest {
					s, _ = digesting(t, p)
				}
				var running, most atomic.Int32
				// step wraps a stage: it counts the steps under way and
				// lasts long enough for the others to start theirs.
				step := func() func() {
					n := running.Add(1)
					for top := most.Load(); n > top && !most.CompareAndSwap(top, n); top = most.Load() {
					}
					time.Sleep(200 * time.Microsecond)
					return func() { running.Add(-1) }
				}
				read, work, write, digestStage := s.Read, s.Work, s.Write, s.Digest
				s.Read = func(b *number) (bool, error) { defer step()(); return read(b) }
				s.Work = func(b *number) error { defer step()(); return work(b) }
				s.Write = func(b *number) error { defer step()(); return write(b) }
				if digest {
					s.Digest = func(b *number) { defer step()(); digestStage(b) }
				}
				pipelinetest.NoLeaks(t, func() {
					if err := Run(t.Context(), workers, s); err != nil {
						t.Fatalf("Run = %v", err)
					}
				})
				if want := squares(40); !slices.Equal(p.written, want) {
					t.Errorf("written %v, want %v", p.written, want)
				}
				if got := most.Load(); got > int32(workers) {
					t.Errorf("%d steps (Read, Work, Digest, Write) ran at once, want at most %d, the workers", got, workers)
				}
			})
		}
	}
}

// Two workers work on two batches at once: Work on the first batch
// returns only once Work on the second has started.
func TestRunWorksOnBatchesAtOnce(t *testing.T) {
	p := newNumbers(10)
	s := p.stages()
	work := s.Work
	secondStarted := make(chan struct{})
	s.Work = func(b *number) error {
		switch b.n {
		case 0:
			select {
			case <-secondStarted:
			case <-time.After(10 * time.Second):
				t.Error("batch 1 was not worked on while batch 0 was")
			}
		case 1:
			close(secondStarted)
		}
		return work(b)
	}
	pipelinetest.NoLeaks(t, func() {
		if err := Run(t.Context(), 2, s); err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
	if want := squares(10); !slices.Equal(p.written, want) {
		t.Errorf("written %v, want %v", p.written, want)
	}
}

// A stage that panics, on whichever goroutine, panics Run on the caller's
// goroutine, as the sequential path would, once every goroutine of the
// run stopped; nothing is written from the batch that panicked on.
func TestRunPanicsWithAStage(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		for _, stage := range []string{"Read", "Work", "Digest", "Write"} {
			t.Run(fmt.Sprintf("%s, %d workers", stage, workers), func(t *testing.T) {
				p := newNumbers(100)
				s, _ := digesting(t, p)
				read, work, digest, write := s.Read, s.Work, s.Digest, s.Write
				maybePanic := func(name string, n int) {
					if name == stage && n == 7 {
						panic("stage " + name)
					}
				}
				s.Read = func(b *number) (bool, error) {
					maybePanic("Read", p.next)
					return read(b)
				}
				s.Work = func(b *number) error { maybePanic("Work", b.n); return work(b) }
				s.Digest = func(b *number) { maybePanic("Digest", b.n); digest(b) }
				s.Write = func(b *number) error { maybePanic("Write", b.n); return write(b) }
				var got any
				pipelinetest.NoLeaks(t, func() {
					defer func() { got = recover() }()
					Run(t.Context(), workers, s)
				})
				if got != "stage "+stage {
					t.Errorf("Run(%s panics) panicked with %v, want %q", stage, got, "stage "+stage)
				}
				// The batches before may be written or not: a panic is a
				// bug, and the run ends with it.
				if before := squares(7); len(p.written) > len(before) || !slices.Equal(p.written, before[:len(p.written)]) {
					t.Errorf("written %v, want at most the 7 batches before the panic", p.written)
				}
			})
		}
	}
}
