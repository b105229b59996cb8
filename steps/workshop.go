package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
)

// DefaultDir is the workshop folder when none is given.
const DefaultDir = "usecase-3"

// The workshop's private folder and its progress file, relative to the
// workshop folder. The demo backend keeps its state beside (awsclient).
const (
	privateDir = ".cse-workshop"
	stateFile  = "state.json"
	// experimentDirPattern names the folders that experiments work in,
	// inside privateDir (os.MkdirTemp's pattern).
	experimentDirPattern = "experiment-*"
)

// stateVersion is the version of state.json this package writes.
const stateVersion = 1

// Options open a workshop.
type Options struct {
	Dir     string
	Clients *awsclient.Clients
	Clock   clock.Clock // clock.Real{} when nil
	Fast    bool        // shorten every wait
	// AuditWait, when set, is how long step 5 waits before it first looks
	// in CloudTrail (0: at once), for a facilitator's pace; nil keeps the
	// default (two minutes, seconds with Fast).
	AuditWait *time.Duration
	// Confirm, when set, asks the person whether to go ahead with something
	// the workshop does not do unasked (cancelling the deletion of a key).
	// Nil means no.
	Confirm func(ctx context.Context, question string) bool
	// Profile is the --profile in use, only to print commands that work.
	Profile string
}

// State is the progress kept in the workshop folder, one per backend: the
// demo's progress and real AWS's never mix.
type State struct {
	KeyID             string            `json:"keyId,omitempty"`
	KeyARN            string            `json:"keyArn,omitempty"`
	GenerateDataKeyAt time.Time         `json:"generateDataKeyAt,omitzero"`
	Done              map[int]time.Time `json:"done,omitempty"` // step number -> when it succeeded
	// KeyDeletionDate is when KMS deletes KeyARN, once scheduled (step 6).
	KeyDeletionDate time.Time `json:"keyDeletionDate,omitzero"`
	// Quiz is the learner's quiz answers, by question number (1, 2, …).
	Quiz map[int]QuizAnswer `json:"quiz,omitempty"`
	// Predictions are the learner's predictions (assets.Prediction), by
	// prediction ID: the index of the choice picked, in the prediction's
	// own order.
	Predictions map[string]int `json:"predictions,omitempty"`
	// Experiments are the experiments tried: experiment ID -> when last.
	Experiments map[string]time.Time `json:"experiments,omitempty"`
	// Restore is what an experiment changed in a KMS key's state and has
	// not put back yet: saved before the change, cleared once the key is
	// back. Set after the experiment ended only when its process was
	// killed or its restore failed; the next step or experiment puts the
	// key back first (see Run).
	Restore *PendingRestore `json:"restore,omitempty"`
}

// QuizAnswer is the learner's answer to one quiz question.
type QuizAnswer struct {
	// Prompt is the question answered, so that an answer is not taken
	// for another question's once the quiz changes.
	Prompt string `json:"prompt"`
	// Picks are the choices picked, in order: the first answer and, when
	// it was wrong, the one picked after the hint. They index the
	// question's own choices, not the shuffled order shown.
	Picks []int `json:"picks"`
}

// Clone is a copy of the state that shares no map or slice with it.
func (s State) Clone() State {
	c := s
	c.Done = maps.Clone(s.Done)
	c.Predictions = maps.Clone(s.Predictions)
	c.Experiments = maps.Clone(s.Experiments)
	if s.Restore != nil {
		r := *s.Restore
		c.Restore = &r
	}
	if s.Quiz != nil {
		c.Quiz = make(map[int]QuizAnswer, len(s.Quiz))
		for n, a := range s.Quiz {
			a.Picks = slices.Clone(a.Picks)
			c.Quiz[n] = a
		}
	}
	return c
}

// stateFileContents is state.json.
type stateFileContents struct {
	Version  int               `json:"version"`
	Backends map[string]*State `json:"backends"`
}

// Workshop is one workshop folder and the backend it talks to.
type Workshop struct {
	Dir     string // absolute
	Clients *awsclient.Clients
	Clock   clock.Clock
	Fast    bool
	// AuditWait: see Options.
	AuditWait *time.Duration
	State     State
	// CheckNow makes step 5 stop waiting and look for the record at once.
	// It has a buffer of one: send without blocking.
	CheckNow chan struct{}
	// Confirm: see Options.
	Confirm func(ctx context.Context, question string) bool
	Profile string

	backend string
	others  map[string]*State // the other backends' progress, kept as read
	lock    *folderLock
}

// Open loads the workshop folder, creating it and the sample plaintext if
// needed, and holds it until Close: while it is open, another Open of the
// same folder, in this process or another, fails with an error that says
// who holds it.
func Open(opts Options) (*Workshop, error) {
	dir := opts.Dir
	if dir == "" {
		dir = DefaultDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open workshop folder: %w", err)
	}
	w := &Workshop{
		Dir:       abs,
		Clients:   opts.Clients,
		Clock:     clockOrReal(opts.Clock),
		Fast:      opts.Fast,
		AuditWait: opts.AuditWait,
		CheckNow:  make(chan struct{}, 1),
		Confirm:   opts.Confirm,
		Profile:   opts.Profile,
		backend:   backendName(opts.Clients),
	}
	unwritable := fmt.Sprintf("the workshop keeps its files and progress in %s and must be able to write there: make it writable, or choose another folder with --dir", abs)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, awsclient.WithHint(fmt.Errorf("create workshop folder: %w", err), unwritable)
	}
	if err := os.MkdirAll(w.path(privateDir), 0o700); err != nil {
		return nil, awsclient.WithHint(fmt.Errorf("create workshop folder: %w", err), unwritable)
	}
	if w.lock, err = lockFolder(abs); err != nil {
		return nil, err
	}
	w.removeExperimentLeftovers()
	if err := w.writeSampleIfMissing(); err != nil {
		w.Close()
		return nil, awsclient.WithHint(err, unwritable)
	}
	if err := w.load(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close lets other processes open the workshop folder. It saves nothing
// (Run saves after each step). Closing twice is harmless.
func (w *Workshop) Close() error {
	return w.lock.unlock()
}

// removeExperimentLeftovers removes the folders of experiments that a
// killed run left behind (copies of encrypted_e.txt). The folder's lock
// is held: no experiment of another process is using them.
func (w *Workshop) removeExperimentLeftovers() {
	dirs, _ := filepath.Glob(filepath.Join(w.path(privateDir), experimentDirPattern))
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}

// path returns the path of a file of the workshop.
func (w *Workshop) path(name string) string {
	return filepath.Join(w.Dir, name)
}

func (w *Workshop) writeSampleIfMissing() error {
	p := w.path(PlaintextFile)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write sample %s: %w", PlaintextFile, err)
	}
	_, err = f.Write(assets.SamplePlaintext())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("write sample %s: %w", PlaintextFile, err)
	}
	return nil
}

func (w *Workshop) load() error {
	p := w.path(filepath.Join(privateDir, stateFile))
	startOver := fmt.Sprintf("move %s away to start the workshop over in this folder; a KMS key it made keeps its tags, so step 1 finds it again", p)
	// Only a regular file is read: opening a FIFO would wait for a writer,
	// and a device such as /dev/zero would be read for ever.
	if info, err := os.Stat(p); err == nil && !info.Mode().IsRegular() {
		return awsclient.WithHint(fmt.Errorf("read workshop progress %s: it is not a regular file", p), startOver)
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read workshop progress: %w", err)
	}
	var c stateFileContents
	if err := json.Unmarshal(b, &c); err != nil {
		return awsclient.WithHint(fmt.Errorf("read workshop progress %s: the file is damaged: %w", p, err), startOver)
	}
	if c.Version != stateVersion {
		return awsclient.WithHint(fmt.Errorf("read workshop progress %s: version %d, want %d (a newer cse-workshop wrote it?)", p, c.Version, stateVersion),
			"use the cse-workshop that wrote it, or "+startOver)
	}
	if s := c.Backends[w.backend]; s != nil {
		w.State = *s
	}
	// A step that does not exist was not done: a file edited by hand
	// must not make the welcome say "steps -1, 2 and 99 done".
	maps.DeleteFunc(w.State.Done, func(n int, _ time.Time) bool { return n < 1 || n > len(All()) })
	delete(c.Backends, w.backend)
	w.others = c.Backends
	return nil
}

// Save writes the progress to the workshop folder (mode 0600), replacing
// the file in one step so that a crash never leaves half of it.
func (w *Workshop) Save() error {
	c := stateFileContents{Version: stateVersion, Backends: map[string]*State{}}
	for k, s := range w.others {
		c.Backends[k] = s
	}
	s := w.State
	c.Backends[w.backend] = &s
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save workshop progress: %w", err)
	}
	if err := writeFileAtomic(w.path(filepath.Join(privateDir, stateFile)), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save workshop progress: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside name and renames it
// into place.
func writeFileAtomic(name string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// HasProgress reports whether any step has succeeded in this workshop (for
// this backend).
func (w *Workshop) HasProgress() bool {
	return len(w.State.Done) > 0
}

// Reset forgets which steps are done, so the workshop starts again at step
// 1. It keeps the KMS key it knows about while that key is live, so that
// the key is still cleaned up later (step 1 reuses it). Call Save to keep
// the change.
func (w *Workshop) Reset() {
	w.State.Done = nil
	w.State.GenerateDataKeyAt = time.Time{}
	if !w.State.KeyDeletionDate.IsZero() {
		// A key still to put back is put back whatever the learner
		// starts over with.
		w.State = State{Restore: w.State.Restore}
	}
}

// Live reports whether the workshop talks to real AWS.
func (w *Workshop) Live() bool {
	return w.Clients != nil && w.Clients.Live
}
