package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"cse-workshop/steps"
)

// What a room (cse-workshop serve) needs of the tutorial: to watch it
// (Options.Observe) and to talk to it (the messages below, sent through
// the program that Options.Started hands over). Nothing here runs when
// the tutorial is run alone.

// Status is what a facilitator may see of a learner's tutorial.
type Status struct {
	// Screen is the screen shown: "welcome", "step", "quiz", "summary"
	// or "goodbye".
	Screen string
	// Step is the step on screen, 0 on another screen.
	Step int
	// StepState is the state of the step on screen: "", "running",
	// "done", "failed" or "cancelled".
	StepState string
	// StepsDone is how many steps the learner sees as done (the tabs'
	// marks): those run in this session and those the progress counts.
	// After the clean-up, the progress keeps only step 6.
	StepsDone int
	// Progress is the learner's progress as the tutorial knows it: the
	// steps done, the experiments tried, the quiz's answers and the
	// predictions. It is the observer's own copy.
	Progress steps.State
}

// equal reports whether two statuses say the same.
func (s Status) equal(o Status) bool {
	if s.Screen != o.Screen || s.Step != o.Step || s.StepState != o.StepState || s.StepsDone != o.StepsDone {
		return false
	}
	p, q := s.Progress, o.Progress
	return maps.Equal(p.Done, q.Done) && maps.Equal(p.Predictions, q.Predictions) &&
		maps.Equal(p.Experiments, q.Experiments) &&
		maps.EqualFunc(p.Quiz, q.Quiz, func(a, b steps.QuizAnswer) bool {
			return a.Prompt == b.Prompt && slices.Equal(a.Picks, b.Picks)
		})
}

type (
	// NoticeMsg shows a line from the facilitator under the screen until
	// the next key.
	NoticeMsg struct{ Text string }
	// GoodbyeMsg ends the tutorial: a running step is stopped, a screen
	// shows Text, and the program ends at the next key or a moment later.
	GoodbyeMsg struct{ Text string }
	// AuditWaitMsg sets how long step 5 waits before it first looks in
	// CloudTrail, from its next run on.
	AuditWaitMsg struct{ Wait time.Duration }
	// goodbyeOverMsg ends the goodbye screen.
	goodbyeOverMsg struct{}
)

// goodbyeLinger is how long the goodbye screen stays without a key.
const goodbyeLinger = 2 * time.Second

// routeRoom handles the room's messages; it reports false for any other.
func (m *Model) routeRoom(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case NoticeMsg:
		m.setNotice("From the facilitator: "+msg.Text, false)
	case AuditWaitMsg:
		wait := msg.Wait
		m.auditWait = &wait
		m.setNotice(fmt.Sprintf("The facilitator set step 5's wait to %s.", wait), false)
	case GoodbyeMsg:
		m.goodbye = msg.Text
		if m.goodbye == "" {
			m.goodbye = "The session has ended."
		}
		m.dialogs = nil
		if m.c.running != 0 && m.runCancel != nil {
			m.runCancel()
		}
		return tea.Tick(goodbyeLinger, func(time.Time) tea.Msg { return goodbyeOverMsg{} }), true
	case goodbyeOverMsg:
		return m.quit(), true
	default:
		return nil, false
	}
	return nil, true
}

// goodbyeView is the goodbye screen.
func (m *Model) goodbyeView() string {
	t := &m.c.theme
	text := lipgloss.NewStyle().Width(max(m.width-2*t.pad-2, 10)).Render(m.goodbye + "\n\nYour progress is kept.")
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, text)
}

// status is the tutorial's status now.
func (m *Model) status() Status {
	s := Status{Screen: "welcome", Progress: m.c.progress.state}
	for _, st := range m.steps {
		if st.done() {
			s.StepsDone++
		}
	}
	switch scr := m.screen().(type) {
	case *stepScreen:
		s.Screen, s.Step = "step", scr.step.Number
		s.StepState = [...]string{statusIdle: "", statusRunning: "running", statusDone: "done",
			statusFailed: "failed", statusCancelled: "cancelled"}[scr.status]
		if s.StepState == "" && scr.doneEarlier() {
			s.StepState = "done"
		}
	case *quizScreen:
		s.Screen = "quiz"
	case *summaryScreen:
		s.Screen = "summary"
	}
	if m.goodbye != "" {
		s.Screen = "goodbye"
	}
	return s
}

// observe tells the observer the status when it has changed.
func (m *Model) observe() {
	if m.observer == nil {
		return
	}
	s := m.status()
	if m.observed != nil && s.equal(*m.observed) {
		return
	}
	m.observed = &s
	out := s
	out.Progress = s.Progress.Clone()
	m.observer(out)
}

// environ looks a variable up in an environment given as KEY=VALUE lines.
func environ(env []string, name string) string {
	for _, kv := range slices.Backward(env) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}
