package tui

import (
	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// component is one part of the tutorial that handles its own messages and
// draws itself, after soft-serve's common.Component: each screen (welcome,
// a step, the quiz, the summary) and each dialog (the live confirmation, a
// step's question, the quit question). The root model routes messages to
// it and draws the frame around it: header, tracker, API pane, help bar.
type component interface {
	// ShortHelp and FullHelp list the keys the component handles, those
	// that do nothing in its present state disabled; the help bar shows
	// them before the root's own keys.
	help.KeyMap
	// Update handles a message the root routes to the component. It never
	// blocks and does no I/O; what it needs of the root (another screen, a
	// step run, a notice) it asks with common.send.
	Update(msg tea.Msg) tea.Cmd
	// View draws the component in exactly the size SetSize last gave.
	View() string
	// SetSize gives the component its room in cells. The root calls it
	// for every window size and after every message, as the room left by
	// the frame changes with the notice and the help.
	SetSize(width, height int)
	// Title names the component in the header of a compact window; ""
	// leaves the screen's name there (a dialog over it).
	Title() string
}

// screen is a component in the tutorial's order, which the tracker shows
// and the next and back keys walk.
type screen interface {
	component
	// Tab is the screen's label in the tracker, with its mark, and
	// whether it is a step done.
	Tab() (label string, done bool)
}

// shownMsg tells a screen it is now the one on screen.
type shownMsg struct{}

// The requests a component sends to the root with common.send. They are
// handled in the same Update, after the component's, in the order sent.
type (
	// moveMsg asks for the next (+1) or previous (-1) screen.
	moveMsg struct{ delta int }
	// goToStepMsg asks for the screen of step n.
	goToStepMsg struct{ step int }
	// resumeMsg asks for the first step not done, or the screen after
	// the steps when all are.
	resumeMsg struct{ quiz bool } // quiz: to the quiz, whatever the steps
	// runStepMsg asks to run step n, after the live confirmation.
	runStepMsg struct{ step int }
	// startOverMsg asks to forget the progress and go to the first step.
	startOverMsg struct{}
	// liveConfirmedMsg says the learner agreed to use their AWS account,
	// for step n first.
	liveConfirmedMsg struct{ step int }
	// closeDialogMsg closes a dialog.
	closeDialogMsg struct{ dialog component }
	// noticeMsg shows a line under the body until the next key.
	noticeMsg struct {
		text string
		warn bool
	}
	// askQuitMsg asks to quit, with a question first if something is at
	// stake.
	askQuitMsg struct{}
	// quitMsg quits: the learner confirmed.
	quitMsg struct{}
)

// common is what the root shares with every component, after soft-serve's
// common.Common: the look, the keys, the content and what the session has
// done so far. Components read it; the root alone changes it.
type common struct {
	theme   theme
	keys    keyMap
	md      *markdown
	content content
	clock   clock.Clock
	spinner spinner.Model // the root turns it; components draw its frame
	mode    layoutMode    // how the window is divided
	cwd     string        // to show paths relative to it
	// shuffle draws the order of the choices of the quiz and of the
	// predictions (rand.Shuffle; tests give it a seed).
	shuffle func(n int, swap func(i, j int))

	progress progress
	running  int // the step running now, 0 when none

	live    bool
	plan    steps.Plan
	planErr error
	// endpoint is where the demo also answers the learner's own AWS CLI
	// ("http://127.0.0.1:PORT"), "" when it does not.
	endpoint string
	// noEndpointNote, when set, says why there is no endpoint.
	noEndpointNote string

	// workshop is read only while no step runs: a running step writes it.
	workshop *steps.Workshop

	requests []tea.Msg
}

// send queues a request for the root (one of the request messages above).
func (c *common) send(msg tea.Msg) { c.requests = append(c.requests, msg) }

// stepCount is the number of steps of the workshop.
func (c *common) stepCount() int { return len(c.content.steps) }

// liveKeyReminder is the clean-up advice for a real KMS key left behind,
// or "" when there is none (or a step runs and the workshop is not ours
// to read).
func (c *common) liveKeyReminder() string {
	if !c.live || c.running != 0 || c.workshop == nil {
		return ""
	}
	return c.workshop.LiveKeyReminder()
}

// progress is the workshop's progress as the screens know it: copied from
// the workshop at start and after each run, never read while a step may
// write it.
type progress struct {
	state steps.State
	done  map[int]bool
	// atCleanup are the steps done, in any session, when the clean-up
	// step ended the workshop and cleared its progress: the summary still
	// counts them.
	atCleanup map[int]bool
}

// copyProgress takes a workshop's progress. Call it only when no step runs.
func copyProgress(w *steps.Workshop, atCleanup map[int]bool) progress {
	p := progress{state: w.State.Clone(), done: map[int]bool{}, atCleanup: atCleanup}
	for n := range w.State.Done {
		p.done[n] = true
	}
	return p
}

// counts reports whether step n counts as done: in the saved progress or
// before the clean-up cleared it.
func (p progress) counts(n int) bool { return p.done[n] || p.atCleanup[n] }

// resumeStep is the first of count steps not done, or 0 when all are.
func (p progress) resumeStep(count int) int {
	for n := 1; n <= count; n++ {
		if !p.done[n] {
			return n
		}
	}
	return 0
}

// missing is the step that must run before step n, by the workshop's own
// rule applied to this copy of the progress.
func (p progress) missing(n int) int {
	snapshot := &steps.Workshop{State: p.state}
	return snapshot.Missing(n)
}

// navKey handles the keys that walk the screens, for the screens that
// offer them: next, back, and a step's number.
func navKey(c *common, msg tea.KeyPressMsg, next, prev, jump bool) bool {
	k := &c.keys
	switch {
	case next && key.Matches(msg, k.Next):
		c.send(moveMsg{+1})
	case prev && key.Matches(msg, k.Prev):
		c.send(moveMsg{-1})
	case jump && key.Matches(msg, k.Jump):
		c.send(goToStepMsg{number(k.Jump, msg.String())})
	default:
		return false
	}
	return true
}
