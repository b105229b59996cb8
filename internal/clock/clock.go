// Package clock is the time source of the workshop and of the fake AWS, so
// that tests can run minutes of workshop time without sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time and waits. Implementations are safe for concurrent use.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time                         { return time.Now() }
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fake is a clock that moves only when told to (Advance, Set) or, when
// created with NewAuto, whenever somebody waits on it: After(d) then moves the
// clock forward by d and fires at once. Waiters of a manual Fake fire when
// Advance or Set passes their deadline.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	auto    bool
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a manual fake clock that reads start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// NewAuto returns a fake clock that reads start and jumps forward whenever
// After is called, so that waits take no real time.
func NewAuto(start time.Time) *Fake { return &Fake{now: start, auto: true} }

func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan time.Time, 1)
	if f.auto {
		if d > 0 {
			f.now = f.now.Add(d)
		}
		ch <- f.now
		f.fireLocked()
		return ch
	}
	if d <= 0 {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, waiter{at: f.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock forward by d and fires the waiters it passes.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.fireLocked()
}

// Set moves the clock to t (never backwards) and fires the waiters it passes.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.After(f.now) {
		f.now = t
	}
	f.fireLocked()
}

// Waiters reports how many After channels have not fired yet.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

func (f *Fake) fireLocked() {
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(f.now) {
			w.ch <- f.now
			continue
		}
		kept = append(kept, w)
	}
	f.waiters = kept
}
