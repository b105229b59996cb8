// Package tui is the terminal tutorial: a bubbletea program over the
// workshop's steps, from the welcome screen to the quiz score.
//
// Each screen (welcome, a step, quiz, summary) and each dialog (the live
// confirmation, a step's question, the quit question) is a component
// (component.go) that owns its Update, View, size and help. The root model
// (Model) routes: the window size to every screen, the keys to the dialog
// or the screen on top after its own, a run's lines to its step; it runs
// the steps, switches screens when a component asks, and draws the frame.
// The keymap (keys.go) is the only place a key is named. A step runs as a
// command in the background; its status lines come back as messages
// through a channel that a waiting command reads one line at a time, and
// the AWS calls come the same way from the recorder. The package holds no
// AWS or crypto code: it shows what steps and awsclient report.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/steps"
)

// Options configure the tutorial.
type Options struct {
	Workshop *steps.Workshop
	Theme    string // "auto", "high-contrast" (or its old name "projector") or "plain"; NO_COLOR forces plain
	Fast     bool

	// Input and Output replace the terminal (tests); nil means the terminal.
	Input  io.Reader
	Output io.Writer
	// ProgramOptions are passed to the bubbletea program after the
	// tutorial's own (tests set a window size or a colour profile).
	ProgramOptions []tea.ProgramOption
	// Environ is the learner's environment as KEY=VALUE lines, where
	// NO_COLOR is looked up; nil means this process's. A server gives the
	// session's, never its own.
	Environ []string
	// Observe, when set, is told the tutorial's status each time it
	// changes (room.go). It is called from the program's goroutine and
	// must not block.
	Observe func(Status)
	// Started, when set, is called with the program before it runs, so
	// that the caller can send it messages (Program.Send): window sizes
	// over SSH, and a room's NoticeMsg, GoodbyeMsg and AuditWaitMsg.
	Started func(*tea.Program)
	// FrameInterval, when set, draws the frames for what happens in the
	// background (a run's lines, the AWS calls, the spinner) at most once
	// per interval; keys are drawn at once (pacing.go). A server of many
	// tutorials sets it to its frame rate's interval.
	FrameInterval time.Duration
	// SpinnerInterval, when set, is the time between the spinner's
	// frames; by default a tenth of a second. Each of its frames is a
	// frame drawn: while step 5 waits, nothing else moves but the
	// countdown, once a second. A server of many tutorials slows it.
	SpinnerInterval time.Duration
	// NoEndpointNote, when set, is what the tutorial says when asked for
	// the endpoint of the demo it does not serve.
	NoEndpointNote string
	// shuffle, when set, orders the choices of the quiz and of the
	// predictions (tests give a seeded or fixed one); nil: rand.Shuffle,
	// a new order each run.
	shuffle func(n int, swap func(i, j int))
}

// Run runs the tutorial until the learner quits; the terminal is restored
// however it ends. When a real KMS key is left behind, it prints how to
// delete it after the screen is restored.
func Run(ctx context.Context, opts Options) error {
	if opts.Workshop == nil {
		return errors.New("run tutorial: no workshop")
	}
	env := opts.Environ
	if env == nil {
		env = os.Environ()
	}
	if environ(env, "NO_COLOR") != "" {
		opts.Theme = ThemePlain
	}
	switch opts.Theme {
	case "", ThemeAuto, ThemeHighContrast, ThemeProjector, ThemePlain:
	default:
		return fmt.Errorf("run tutorial: unknown theme %q (want auto, high-contrast or plain)", opts.Theme)
	}
	m, err := runProgram(ctx, opts, assetContent())
	if err != nil {
		return err
	}
	if r := m.c.liveKeyReminder(); r != "" {
		out := opts.Output
		if out == nil {
			out = os.Stdout
		}
		fmt.Fprintln(out, r)
	}
	return nil
}

// stepStopTimeout is how long the tutorial waits, when it ends, for a
// cancelled step to return.
const stepStopTimeout = 5 * time.Second

// runProgram runs the bubbletea program and returns the final model.
func runProgram(ctx context.Context, opts Options, c content) (*Model, error) {
	m := newModel(ctx, opts, c)
	defer m.stop()
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.Environ != nil {
		popts = append(popts, tea.WithEnvironment(opts.Environ))
	}
	popts = append(popts, opts.ProgramOptions...)
	p := tea.NewProgram(m, popts...)
	if opts.Started != nil {
		opts.Started(p)
	}
	final, err := p.Run()
	if fm, ok := final.(*Model); ok && fm != nil {
		m = fm
	}
	// Whatever ended the program, stop the step that may still run, and
	// give it a moment to remove its temporary files.
	m.stop()
	if m.runExited != nil {
		select {
		case <-m.runExited:
		case <-time.After(stepStopTimeout):
		}
	}
	saveErr := m.saveAnswersAtExit()
	if err != nil && !errors.Is(err, tea.ErrInterrupted) {
		return m, fmt.Errorf("run tutorial: %w", err)
	}
	if saveErr != nil {
		return m, fmt.Errorf("save your answers: %w", saveErr)
	}
	return m, nil
}
