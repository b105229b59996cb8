package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// runFunc runs step n of a workshop; steps.Run in the program, a script in
// tests.
type runFunc func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error

// stepEvent is what a running step sends to the screen: a status line, or
// the end of the run.
type stepEvent struct {
	step, run int
	line      steps.Line
	done      bool
	err       error
}

// stepLineMsg carries one status line of a running step.
type stepLineMsg struct {
	step, run int
	line      steps.Line
}

// stepDoneMsg says a step's run ended, with its error (nil on success).
type stepDoneMsg struct {
	step, run int
	err       error
}

// callMsg carries one AWS call as the recorder saw it.
type callMsg struct{ call awsclient.Call }

// transcriptSavedMsg says where the transcript went, or why it did not.
type transcriptSavedMsg struct {
	path string
	err  error
}

// stepQuestion is a yes/no question a running step asks.
type stepQuestion struct {
	text  string
	reply chan bool // buffered: answering never blocks
}

// questionMsg carries a step's question to the screen.
type questionMsg struct{ q stepQuestion }

// askOnScreen returns the Workshop.Confirm that asks on the screen: it
// hands the question to the program and waits for the answer, or for the
// step to be cancelled (which answers no).
func askOnScreen(questions chan<- stepQuestion) func(ctx context.Context, question string) bool {
	return func(ctx context.Context, question string) bool {
		q := stepQuestion{text: question, reply: make(chan bool, 1)}
		select {
		case questions <- q:
		case <-ctx.Done():
			return false
		}
		select {
		case yes := <-q.reply:
			return yes
		case <-ctx.Done():
			return false
		}
	}
}

// waitForQuestionCmd waits for the next question of a running step.
func waitForQuestionCmd(alive context.Context, questions <-chan stepQuestion) tea.Cmd {
	if questions == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case q := <-questions:
			return questionMsg{q: q}
		case <-alive.Done():
			return nil
		}
	}
}

// quitTimeoutMsg ends the program when a cancelled step does not stop in time.
type quitTimeoutMsg struct{}

// eventBuffer is how many status lines may wait for the screen before a
// step's Report blocks.
const eventBuffer = 256

// runStepCmd runs step n in the background and ends by sending the run's
// result on events, after every line it reported. ctx cancels the step;
// alive is done once nobody reads events any more (the program quit);
// exited is closed once the step has returned.
func runStepCmd(ctx, alive context.Context, run runFunc, w *steps.Workshop, n, id int, events chan<- stepEvent, exited chan<- struct{}) tea.Cmd {
	return func() tea.Msg {
		defer close(exited)
		report := steps.ReporterFunc(func(l steps.Line) {
			ev := stepEvent{step: n, run: id, line: l}
			if l.Text == "" {
				// A display update (progress, countdown): the next one
				// supersedes it, so drop it rather than slow the step.
				select {
				case events <- ev:
				default:
				}
				return
			}
			select {
			case events <- ev:
			case <-alive.Done():
			}
		})
		err := runRecovered(ctx, run, w, n, report)
		select {
		case events <- stepEvent{step: n, run: id, done: true, err: err}:
		case <-alive.Done():
		}
		return nil
	}
}

// runRecovered runs a step and turns a panic in it into an error, so that
// a bug in a step fails that step instead of ending the tutorial.
func runRecovered(ctx context.Context, run runFunc, w *steps.Workshop, n int, r steps.Reporter) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("step %d stopped on an internal error: %v", n, p)
		}
	}()
	return run(ctx, w, n, r)
}

// waitForStepEventCmd waits for the next event of a running step.
func waitForStepEventCmd(alive context.Context, events <-chan stepEvent) tea.Cmd {
	return func() tea.Msg {
		select {
		case ev := <-events:
			if ev.done {
				return stepDoneMsg{step: ev.step, run: ev.run, err: ev.err}
			}
			return stepLineMsg{step: ev.step, run: ev.run, line: ev.line}
		case <-alive.Done():
			return nil
		}
	}
}

// waitForCallCmd waits for the next AWS call the recorder reports.
func waitForCallCmd(alive context.Context, calls <-chan awsclient.Call) tea.Cmd {
	if calls == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case c := <-calls:
			return callMsg{call: c}
		case <-alive.Done():
			return nil
		}
	}
}

// saveTranscriptCmd writes the transcript into the workshop folder, readable
// by its owner only. An empty path picks a new name from the clock.
func saveTranscriptCmd(dir, path string, clk clock.Clock, text string) tea.Cmd {
	return func() (msg tea.Msg) {
		defer func() {
			if p := recover(); p != nil {
				msg = transcriptSavedMsg{err: fmt.Errorf("save transcript: %v", p)}
			}
		}()
		if path == "" {
			path = filepath.Join(dir, "transcript-"+clk.Now().Format("20060102-150405")+".txt")
		}
		if err := writePrivateFile(path, []byte(text)); err != nil {
			return transcriptSavedMsg{err: fmt.Errorf("save transcript: %w", err)}
		}
		return transcriptSavedMsg{path: path}
	}
}

func writePrivateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// quitTimeoutCmd gives a cancelled step a moment to clean up before the
// program ends without it.
func quitTimeoutCmd() tea.Cmd {
	return tea.Tick(3*time.Second, func(time.Time) tea.Msg { return quitTimeoutMsg{} })
}
