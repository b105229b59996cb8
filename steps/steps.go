// Package steps is the workshop: its six steps, their shared state and the
// status lines they report. It never prints; the TUI and the plain runner
// decide how to show what a step reports.
//
// A workshop is a folder (./usecase-3 by default) holding the learner's
// files and, in .cse-workshop/, the progress (state.json) and the demo
// backend's state. Each step can run in a new process: everything it needs
// from earlier steps is read back from that folder.
package steps

import (
	"context"
	"fmt"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
)

// The names the original workshop used.
const (
	AliasName      = "alias/kms_key_cse_usecase_3"
	KeyDescription = "Master key to encrypt objects written to S3"

	PlaintextFile = "plaintext_u.txt"
	EncryptedFile = "encrypted_e.txt"
	CycledFile    = "plaintext_u_cycled.txt"
)

// EncryptionContext returns the workshop's encryption context,
// {"whatfor": "usecase-3-cse"}. Each call returns a new map.
func EncryptionContext() map[string]string {
	return map[string]string{"whatfor": "usecase-3-cse"}
}

// Level is how a status line should be shown. The zero value is invalid.
type Level int

const (
	LevelInfo Level = iota + 1
	LevelSuccess
	LevelWarn
	LevelError
)

// String is the level's name in upper case: "INFO", "OK", "WARN", "ERROR".
func (l Level) String() string {
	switch l {
	case LevelInfo:
		return "INFO"
	case LevelSuccess:
		return "OK"
	case LevelWarn:
		return "WARN"
	case LevelError:
		return "ERROR"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Line is one status line. A Line with empty Text only updates a display
// (Detail) and is not meant for a log.
type Line struct {
	Time   time.Time
	Level  Level
	Text   string
	Detail Detail // nil when the line carries none
}

// Detail is what a status line carries for a display beside its text: one
// of the *Detail types of this package, and no other (the set is closed,
// so that a display can handle every kind).
type Detail interface {
	detail()
}

func (*DataKeyDetail) detail()  {}
func (*HeaderDetail) detail()   {}
func (*ProgressDetail) detail() {}
func (*FilesDetail) detail()    {}
func (*CompareDetail) detail()  {}
func (*WaitDetail) detail()     {}
func (*PollDetail) detail()     {}
func (*RecordDetail) detail()   {}
func (*DeletionDetail) detail() {}

// Reporter receives status lines as they happen. Report must not block for long.
type Reporter interface {
	Report(Line)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Line)

func (f ReporterFunc) Report(l Line) { f(l) }

// DataKeyDetail is what step 2 shows of the data key: its size, and not a
// byte of it.
type DataKeyDetail struct {
	DataKeySizeInBytes      int    // of the plaintext data key, kept in memory only
	EncryptedDataKeySize    int    // bytes
	EncryptedDataKeyPreview string // hex of the first bytes
	KeyARN                  string // the KMS key that made the data key
}

// Plaintext is all a display says of the plaintext data key: "32 bytes,
// in memory only".
func (d *DataKeyDetail) Plaintext() string {
	return fmt.Sprintf("%d bytes, in memory only", d.DataKeySizeInBytes)
}

// HeaderDetail is the header of encrypted_e.txt, an AWS Encryption SDK
// message, as step 2 reads it back from the file: what anyone who has the
// file can see without any key.
type HeaderDetail struct {
	Version   int    // message format version: 2
	SuiteID   string // the algorithm suite: "0x0578"
	SuiteName string // its specification name
	Signed    bool   // the message ends in an ECDSA P-384 signature
	MessageID string // hex
	// EncryptionContext is the context stored in the header: the
	// workshop's pair and, for a signed suite, aws-crypto-public-key.
	EncryptionContext  map[string]string
	EncryptedDataKeys  []EncryptedDataKeySummary
	FrameLengthInBytes int
}

// EncryptedDataKeySummary describes one encrypted data key of a header.
type EncryptedDataKeySummary struct {
	ProviderID  string // "aws-kms" for a KMS key
	KeyARN      string // for aws-kms, the key provider information
	SizeInBytes int    // of the ciphertext
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
	// CheckedEarly: the learner asked to look now, with Remaining left;
	// the wait is over, not complete.
	CheckedEarly bool
}

// PollDetail is one LookupEvents attempt of step 5.
type PollDetail struct {
	Attempt   int
	Delivered bool
}

// RecordDetail is the CloudTrail record step 5 found, and when it became
// visible in event history: which is not when step 5 happened to look.
type RecordDetail struct {
	EventID   string
	EventName string
	EventTime time.Time // when the call was made, as the record says
	// VisibleAt is when the record became visible to LookupEvents, when the
	// backend says so (the demo); zero for real AWS, which does not.
	VisibleAt time.Time
	// NotSeenAt is the last look, after the call, that did not find the
	// record; zero when the first look found it. With FoundAt it bounds
	// when the record became visible.
	NotSeenAt         time.Time
	FoundAt           time.Time // the first look that found the record
	KeyARN            string
	EncryptionContext map[string]string
	JSON              string // the CloudTrailEvent, indented
}

// DeletionDetail is what step 6 scheduled.
type DeletionDetail struct {
	KeyARN       string
	DeletionDate time.Time
}

// Step is one step of the workshop. Its Run does the work and reports the
// Success line; it does not check prerequisites or save progress: the
// package-level Run does. What sets a step apart from the others is said
// by its fields, so that no caller needs to know steps by number.
type Step struct {
	Number  int
	Title   string
	Success string // the original workshop's line, reported when it succeeds

	// StartsWorkshop: the step begins a fresh workshop and sets the
	// progress itself (step 1).
	StartsWorkshop bool
	// WaitsForAudit: the step waits for the audit trail to deliver a
	// record, counting down, and looks at once when Workshop.CheckNow is
	// signalled (step 5).
	WaitsForAudit bool
	// CleansUp: the step ends the workshop: it deletes what the others
	// made and clears the progress. It can run again as long as the
	// workshop knows a key (step 6).
	CleansUp bool

	Run func(ctx context.Context, w *Workshop, r Reporter) error
}

// steps lists the six steps in order. Built by a function, not a variable
// initialiser, because the step functions refer back to it.
func steps() []Step {
	return []Step{
		{Number: 1, Title: "Create the KMS key and its alias", Success: "KMS Master Key with alias name kms_key_cse_usecase_3 successfully created",
			StartsWorkshop: true, Run: runCreateKey},
		{Number: 2, Title: "Encrypt plaintext_u.txt with a data key", Success: "Module run was successful !!", Run: runEncrypt},
		{Number: 3, Title: "Decrypt encrypted_e.txt", Success: "Module run was successful !!", Run: runDecrypt},
		{Number: 4, Title: "Compare the original and the decrypted file", Success: "plaintext_u.txt and plaintext_u_cycled.txt are identical", Run: runCompare},
		{Number: 5, Title: "Find the GenerateDataKey call in CloudTrail", Success: "GenerateDataKey API Called",
			WaitsForAudit: true, Run: runFindRecord},
		{Number: 6, Title: "Clean up", Success: "Cleanup Successful", CleansUp: true, Run: runCleanup},
	}
}

// All returns the six steps in order.
func All() []Step { return steps() }

// Get returns step n (1 to 6).
func Get(n int) (Step, bool) {
	all := steps()
	if n < 1 || n > len(all) {
		return Step{}, false
	}
	return all[n-1], true
}

// prerequisite is the step each step needs done first (0: none).
var prerequisite = map[int]int{1: 0, 2: 1, 3: 2, 4: 3, 5: 2, 6: 1}

// PrerequisiteError says which step must run first.
type PrerequisiteError struct {
	Step, Missing int
}

func (e *PrerequisiteError) Error() string {
	return fmt.Sprintf("step %d needs step %d: run step %d first", e.Step, e.Missing, e.Missing)
}

// Missing returns the earliest step that must run before step n can, or 0
// when step n can run now. Step 3 on a fresh workshop needs step 1 first,
// not step 2. Step 6 can run again after itself, as long as the workshop
// knows a key: cleaning up twice is harmless.
func (w *Workshop) Missing(n int) int {
	if s, ok := Get(n); ok && s.CleansUp && w.State.KeyARN != "" {
		return 0
	}
	missing := 0
	for p := prerequisite[n]; p != 0; p = prerequisite[p] {
		if _, ok := w.State.Done[p]; !ok {
			missing = p
		}
	}
	return missing
}

// dependents returns the steps whose results rest on step n's, directly or
// through others: running n again makes them stale.
func dependents(n int) []int {
	var out []int
	for m := range prerequisite {
		for p := prerequisite[m]; p != 0; p = prerequisite[p] {
			if p == n {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Run runs step n: it puts back what an interrupted experiment left
// changed (see PendingRestore), checks prerequisites, runs the step,
// records success and saves the state. The state is saved whether or not the step succeeds,
// since a failed step may still have changed something real (a key
// scheduled for deletion).
func Run(ctx context.Context, w *Workshop, n int, r Reporter) error {
	step, ok := Get(n)
	if !ok {
		return fmt.Errorf("no step %d: the steps are 1 to %d", n, len(steps()))
	}
	if err := putBackInterrupted(ctx, w, reporter{w, r}); err != nil {
		return &stepError{n: n, err: err}
	}
	if m := w.Missing(n); m != 0 {
		return &PrerequisiteError{Step: n, Missing: m}
	}
	err := step.Run(ctx, w, r)
	if err == nil {
		if w.State.Done == nil {
			w.State.Done = map[int]time.Time{}
		}
		// The steps that start a fresh workshop or end one set the
		// progress themselves.
		if !step.StartsWorkshop && !step.CleansUp {
			for _, d := range dependents(n) {
				delete(w.State.Done, d)
			}
		}
		w.State.Done[n] = w.Clock.Now()
	}
	if saveErr := w.Save(); saveErr != nil && err == nil {
		err = saveErr
	}
	if err != nil {
		return &stepError{n: n, err: advise(w, n, err)}
	}
	return nil
}

// reporter stamps lines with the workshop's clock.
type reporter struct {
	w *Workshop
	r Reporter
}

func (p reporter) line(level Level, detail Detail, format string, args ...any) {
	text := format
	if len(args) > 0 {
		text = fmt.Sprintf(format, args...)
	}
	p.r.Report(Line{Time: p.w.Clock.Now(), Level: level, Text: text, Detail: detail})
}

func (p reporter) info(format string, args ...any) { p.line(LevelInfo, nil, format, args...) }
func (p reporter) warn(format string, args ...any) { p.line(LevelWarn, nil, format, args...) }

// detail updates a display without a log line.
func (p reporter) detail(d Detail) {
	p.r.Report(Line{Time: p.w.Clock.Now(), Level: LevelInfo, Detail: d})
}

func (p reporter) success(n int) {
	s, _ := Get(n)
	p.line(LevelSuccess, nil, "%s", s.Success)
}

// clockOrReal returns c, or the wall clock when c is nil.
func clockOrReal(c clock.Clock) clock.Clock {
	if c == nil {
		return clock.Real{}
	}
	return c
}

// backendName names the backend a workshop's progress belongs to: "demo",
// or "aws/<region>" for real AWS, where keys and aliases are per region.
func backendName(c *awsclient.Clients) string {
	if c == nil || !c.Live {
		return "demo"
	}
	return "aws/" + c.Region
}
