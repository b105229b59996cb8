// Package steps is the workshop: its six steps, their shared state and the
// status lines they report. It never prints; the TUI and the plain runner
// decide how to show what a step reports.
//
// CONTRACT STUB: the exported API below is what other packages build on.
package steps

import (
	"context"
	"fmt"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/crypto"
	"cse-workshop/internal/clock"
)

// Level is how a status line should be shown. The zero value is invalid.
type Level int

const (
	LevelInfo Level = iota + 1
	LevelSuccess
	LevelWarn
	LevelError
)

// Line is one status line. A Line with empty Text only updates a display
// (Detail) and is not meant for a log.
type Line struct {
	Time   time.Time
	Level  Level
	Text   string
	Detail any // one of the *Detail types below, or nil
}

// Reporter receives status lines as they happen. Report must not block for long.
type Reporter interface {
	Report(Line)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Line)

func (f ReporterFunc) Report(l Line) { f(l) }

// DataKeyDetail is what step 2 shows of the data key. No plaintext key material.
type DataKeyDetail struct {
	MaskedDataKey           string
	EncryptedDataKeySize    int    // bytes
	EncryptedDataKeyPreview string // hex of the first bytes
	Header                  crypto.Header
}

// ProgressDetail is the progress of a file being encrypted or decrypted.
type ProgressDetail struct {
	DoneBytes, TotalBytes int64
}

// FileSummary describes one file.
type FileSummary struct {
	Path        string
	SizeInBytes int64
	SHA256      string // hex; empty when not computed
}

// FilesDetail lists the files a step read and wrote (step 2 and 3).
type FilesDetail struct {
	Input, Output FileSummary
}

// CompareDetail is step 4's verdict.
type CompareDetail struct {
	Original, Cycled FileSummary
	Match            bool
}

// WaitDetail is the countdown of step 5.
type WaitDetail struct {
	Remaining, Total time.Duration
}

// PollDetail is one LookupEvents attempt of step 5.
type PollDetail struct {
	Attempt   int
	Delivered bool
}

// RecordDetail is the CloudTrail record step 5 found.
type RecordDetail struct {
	EventID           string
	EventName         string
	EventTime         time.Time // when the call was made
	FoundAt           time.Time // when the record was first seen
	Lag               time.Duration
	KeyARN            string
	EncryptionContext map[string]string
	JSON              string // the CloudTrailEvent, indented
}

// DeletionDetail is what step 6 scheduled.
type DeletionDetail struct {
	KeyARN       string
	DeletionDate time.Time
}

// Options open a workshop.
type Options struct {
	Dir     string
	Clients *awsclient.Clients
	Clock   clock.Clock // clock.Real{} when nil
	Fast    bool        // shorten every wait
}

// State is the progress kept in the workshop folder.
type State struct {
	KeyID             string
	KeyARN            string
	GenerateDataKeyAt time.Time
	Done              map[int]time.Time // step number -> when it succeeded
}

// Workshop is one workshop folder and the backend it talks to.
type Workshop struct {
	Dir     string
	Clients *awsclient.Clients
	Clock   clock.Clock
	Fast    bool
	State   State
	// CheckNow makes step 5 stop waiting and look for the record at once.
	CheckNow chan struct{}
}

// Open loads the workshop folder (creating it and the sample plaintext if needed).
func Open(opts Options) (*Workshop, error) { return &Workshop{}, nil }

// Step is one step of the workshop.
type Step struct {
	Number  int
	Title   string
	Success string // the original workshop's line, reported when it succeeds
	Run     func(ctx context.Context, w *Workshop, r Reporter) error
}

// All returns the six steps in order.
func All() []Step { return nil }

// PrerequisiteError says which step must run first.
type PrerequisiteError struct {
	Step, Missing int
}

func (e *PrerequisiteError) Error() string {
	return fmt.Sprintf("step %d needs step %d: run step %d first", e.Step, e.Missing, e.Missing)
}

// Run runs step n: it checks prerequisites, runs the step, records success
// and saves the state.
func Run(ctx context.Context, w *Workshop, n int, r Reporter) error { return nil }
