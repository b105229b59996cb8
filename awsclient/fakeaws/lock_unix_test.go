//go:build unix

package fakeaws_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"golang.org/x/sys/unix"

	"cse-workshop/awsclient/fakeaws"
)

// holdLock takes the lock on path as another process would, and returns
// the function that releases it.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return func() { f.Close() }
}

// A server that cannot get the state file's lock, because another keeps it
// (a process stopped with Ctrl-Z while it held it, say), fails its request
// with an error that names the file, instead of waiting for ever.
func TestStateFileLockedByAnother(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	c := newClients(t, fakeaws.Options{StateFile: stateFile})
	fakeaws.SetLockWait(c.srv, 50*time.Millisecond)
	hold := holdLock(t, stateFile+".lock")
	_, err := c.kms.CreateKey(context.Background(), &kms.CreateKeyInput{})
	var fileErr *fakeaws.StateFileError
	if !errors.As(err, &fileErr) || !errors.Is(err, fakeaws.ErrStateLocked) || fileErr.Path != stateFile {
		t.Errorf("CreateKey while another holds the state file's lock = %v, want a StateFileError on %s saying another program keeps it locked", err, stateFile)
	}
	hold()
	if _, err := c.kms.CreateKey(context.Background(), &kms.CreateKeyInput{}); err != nil {
		t.Errorf("CreateKey once the lock is released: %v", err)
	}
}

// While another process keeps the state file locked, closing Options.Done
// (a Ctrl-C's cancelled context) ends New's wait at once, with an error
// that says it was cancelled, instead of after the whole lock wait.
func TestLockWaitEndsWithDone(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	holdLock(t, stateFile+".lock")
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	returned := make(chan error, 1)
	go func() {
		_, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Done: ctx.Done()})
		returned <- err
	}()
	select {
	case err := <-returned:
		var fileErr *fakeaws.StateFileError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &fileErr) || fileErr.Path != stateFile {
			t.Errorf("New, cancelled while another holds the lock = %v, want a StateFileError on %s wrapping context.Canceled", err, stateFile)
		}
	case <-time.After(10 * time.Second): // the lock wait is 15 s
		t.Fatal("New kept waiting for the lock after Done was closed")
	}
}
