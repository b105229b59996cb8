package main

import (
	"syscall"
	"testing"
	"time"
)

// Once ready has returned, a SIGINT cancels the context instead of ending
// the process, and stop lets the handler go.
func TestInterruptibleCancelsOnSignal(t *testing.T) {
	ctx, ready, stop := interruptible()
	t.Cleanup(stop)
	ready()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
}

// stop right after interruptible, before the handler may be in, neither
// blocks nor leaves the context alive.
func TestInterruptibleStopAtOnce(t *testing.T) {
	ctx, _, stop := interruptible()
	stop()
	if ctx.Err() == nil {
		t.Error("the context lives on after stop")
	}
	stop() // a second stop does nothing
}
