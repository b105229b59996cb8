// Package runner is the plain face of the workshop: it runs steps one after
// another and prints what they report, for a terminal without the tutorial,
// a log file or a script.
//
// Output rules:
//   - Standard output gets one line per status line of a step:
//     "HH:MM:SS  LEVEL  text", the time local, LEVEL one of INFO, OK, WARN
//     and ERROR, padded to five characters so the texts line up.
//   - A step's success line is the original workshop's line, verbatim.
//   - Each step's lines follow a heading, "Step N of 6: Title", after a
//     blank line when it is not the first.
//   - Lines that only update a display (no text) are not printed, with two
//     exceptions: step 5's countdown every 30 seconds ("1m30s left"), and
//     the CloudTrail record step 5 found, printed as indented JSON under its
//     line. The message header step 2 read back is printed under its line
//     too, one indented field a line.
//   - Standard error gets failures, as "error: what happened" (lower case)
//     and, when there is advice, "hint: what to do", and "interrupted" when
//     the person pressed Ctrl-C.
package runner

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// countdownEvery is how often the plain output shows step 5's countdown.
const countdownEvery = 30 * time.Second

// Printer is a steps.Reporter that prints status lines. It is safe for
// concurrent use.
type Printer struct {
	mu      sync.Mutex
	out     io.Writer
	headers int         // headings printed so far
	pending *steps.Step // the step whose heading waits for its first line
}

// NewPrinter returns a Printer writing to out.
func NewPrinter(out io.Writer) *Printer {
	return &Printer{out: out}
}

// Heading announces a step: its heading is printed before its first line,
// so a step refused before it starts (run step 1 first) prints none.
func (p *Printer) Heading(s steps.Step) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending = &s
}

func (p *Printer) printHeading() {
	if p.pending == nil {
		return
	}
	if p.headers > 0 {
		fmt.Fprintln(p.out)
	}
	p.headers++
	fmt.Fprintf(p.out, "Step %d of %d: %s\n", p.pending.Number, len(steps.All()), p.pending.Title)
	p.pending = nil
}

// Report prints one status line, following the output rules above.
func (p *Printer) Report(l steps.Line) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if l.Text == "" {
		if d, ok := l.Detail.(*steps.WaitDetail); ok {
			left := d.Remaining.Round(time.Second)
			if left > 0 && left < d.Total && left%countdownEvery == 0 {
				p.printLine(l.Time, steps.LevelInfo, text.Duration(left)+" left")
			}
		}
		return
	}
	p.printLine(l.Time, l.Level, l.Text)
	switch d := l.Detail.(type) {
	case *steps.RecordDetail:
		for line := range strings.SplitSeq(strings.TrimRight(d.JSON, "\n"), "\n") {
			if line != "" {
				fmt.Fprintf(p.out, "    %s\n", line)
			}
		}
	case *steps.HeaderDetail:
		p.printHeader(d)
	}
}

// printHeader prints a message header's fields under its line.
func (p *Printer) printHeader(h *steps.HeaderDetail) {
	field := func(name, value string) { fmt.Fprintf(p.out, "    %-19s %s\n", name, value) }
	field("version", strconv.Itoa(h.Version))
	field("algorithm suite", h.SuiteID+" "+h.SuiteName)
	field("message ID", h.MessageID)
	field("encryption context", text.Context(h.EncryptionContext))
	for _, edk := range h.EncryptedDataKeys {
		field("encrypted data key", fmt.Sprintf("%s %s (%d bytes)", edk.ProviderID, edk.KeyARN, edk.SizeInBytes))
	}
	field("frame length", fmt.Sprintf("%d bytes", h.FrameLengthInBytes))
}

func (p *Printer) printLine(t time.Time, level steps.Level, msg string) {
	p.printHeading()
	fmt.Fprintln(p.out, text.StatusLine(t, level.String(), msg))
}

// Run runs the steps ns in order, each through steps.Run, printing their
// lines to out. It stops at the first failure and prints it to errOut; the
// error is returned for the exit code.
func Run(ctx context.Context, w *steps.Workshop, ns []int, out, errOut io.Writer) error {
	p := NewPrinter(out)
	for _, n := range ns {
		s, ok := steps.Get(n)
		if !ok {
			err := fmt.Errorf("no step %d: the steps are 1 to %d", n, len(steps.All()))
			PrintError(errOut, err)
			return err
		}
		p.Heading(s)
		if err := steps.Run(ctx, w, n, p); err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(errOut, "interrupted: step %d did not finish\n", n)
				return err
			}
			PrintError(errOut, err)
			return err
		}
	}
	return nil
}

// PrintError prints an error with its advice: "error: ..." and, when there
// is a hint, "hint: ...", each on one line even when it quotes a file name
// that holds a newline.
func PrintError(errOut io.Writer, err error) {
	a := steps.Explain(err)
	fmt.Fprintf(errOut, "error: %s\n", text.OneLine(a.What))
	if a.Hint != "" {
		fmt.Fprintf(errOut, "hint: %s\n", text.OneLine(a.Hint))
	}
}
