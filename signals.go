package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interruptible returns a context that the first SIGINT or SIGTERM cancels,
// as signal.NotifyContext's is, and stop, which cancels it and lets the
// signals go again.
//
// The handler goes in on another goroutine, and ready waits until it is
// in. signal.Notify waits for the runtime to start the thread that
// receives signals, which at start-up took from 0.3 to 2 ms on the 2-core
// virtual machines measured: about a twentieth of a 1 KiB encrypt, which
// builds its clients meanwhile instead. Until then a signal ends the
// process at once, as it does while the program initialises, so every
// command calls ready before it starts its work (checkFlags), but for
// encrypt and decrypt (see signalsLater).
//
// stop does not wait for the signals to be let go either: signal.Stop
// waits for that thread again, 0.1 to 0.3 ms at the end of every command,
// which is about to exit. A signal in between is caught and dropped.
func interruptible() (ctx context.Context, ready, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	in := make(chan struct{})
	stopping := make(chan struct{})
	go func() {
		caught := make(chan os.Signal, 1)
		signal.Notify(caught, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(caught)
		close(in)
		select {
		case <-caught:
			// Later signals are caught too, and dropped, until stop: a
			// second Ctrl-C does not cut the clean-up short.
			cancel()
			<-stopping
		case <-stopping:
		}
	}()
	ready = func() { <-in }
	stop = sync.OnceFunc(func() {
		close(stopping)
		cancel()
	})
	return ctx, ready, stop
}

// signalsLater marks a command (in its Annotations) that waits for the
// signal handler only once it has built its clients, rather than before it
// starts: encrypt and decrypt, whose start-up is their cost on small
// files. Before that they only look at the input's first bytes (decrypt,
// and never from a FIFO) and, with the demo backend, read its state under
// its lock, which they may create, and whose every write survives a kill.
// OUT is begun only after the wait.
const signalsLater = "cse-workshop/signals-later"

// waitForSignals waits until SIGINT and SIGTERM cancel the command's
// context. An app that main did not start has no handler to wait for.
func (a *app) waitForSignals() {
	if a.signalsReady != nil {
		a.signalsReady()
	}
}
