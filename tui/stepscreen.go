package tui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/steps"
)

// stepStatus is where a step screen is in its run. The zero value is idle.
type stepStatus int

const (
	statusIdle stepStatus = iota
	statusRunning
	statusDone
	statusFailed
	statusCancelled
)

// stepScreen is one step: its lesson, its log and what its last run
// showed. The root runs the step; the screen shows the run.
type stepScreen struct {
	c             *common
	step          steps.Step
	width, height int

	status     stepStatus
	lesson     docPane
	lessonView paneView
	log        logPane
	runs       int

	details stepDetails
	// success is the step's success line as it was reported.
	success string
	advice  advice
	// missing is the step that must run first, when known.
	missing        int
	checkRequested bool
	ended          time.Time
	// code is the code view, nil while it is closed.
	code *codeView
	// prediction is the step's prediction, nil when it asks none
	// (predict.go).
	prediction *prediction

	// trying is the experiment running now, nil when none; tries counts
	// the experiments run (experiments.go).
	trying *tryRun
	tries  int
}

// stepDetails are the latest details a run reported, one of each kind.
type stepDetails struct {
	dataKey  *steps.DataKeyDetail
	header   *steps.HeaderDetail
	progress *steps.ProgressDetail
	files    *steps.FilesDetail
	compare  *steps.CompareDetail
	wait     *steps.WaitDetail
	poll     *steps.PollDetail
	record   *steps.RecordDetail
	deletion *steps.DeletionDetail
}

func newStepScreen(c *common, step steps.Step) *stepScreen {
	return &stepScreen{c: c, step: step, lesson: newDocPane(), log: newLogPane(), prediction: newPrediction(c, step.Number)}
}

// Update handles the keys of a step screen and the messages of its runs.
func (s *stepScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case shownMsg:
		s.code = nil // each visit starts on the lesson
		s.forgetStalePrerequisite()
		s.missing = 0
		if s.status != statusRunning && !s.c.progress.done[s.step.Number] {
			s.missing = s.c.progress.missing(s.step.Number)
		}
	case tea.KeyPressMsg:
		s.updateKey(msg)
	case tea.MouseWheelMsg:
		s.wheel(msg)
	case stepLineMsg:
		s.report(msg.line)
	case stepDoneMsg:
		s.end(msg.err, s.c.clock.Now())
	}
	return nil
}

func (s *stepScreen) updateKey(msg tea.KeyPressMsg) {
	k := &s.c.keys
	switch {
	case s.codeKey(msg):
	case s.predictKey(msg):
	case key.Matches(msg, k.Enter):
		switch {
		case s.status == statusDone, s.doneEarlier():
			s.c.send(moveMsg{+1})
		case s.status == statusRunning, s.trying != nil:
		default:
			s.c.send(runStepMsg{s.step.Number})
		}
	case key.Matches(msg, k.Retry):
		if s.canRunAgain() {
			s.c.send(runStepMsg{s.step.Number})
		}
	case key.Matches(msg, k.Check):
		s.checkNow()
	case key.Matches(msg, k.Try):
		s.openExperiments()
	case s.scrollKey(msg):
	default:
		navKey(s.c, msg, true, true, true)
	}
}

func (s *stepScreen) canRunAgain() bool {
	return s.status == statusFailed || s.status == statusCancelled || s.status == statusDone || s.doneEarlier()
}

// doneEarlier reports whether the step has not run in this session but is
// done in the saved progress (an earlier session, or another process): then
// Enter moves on, as after a run, and the retry key runs it again.
func (s *stepScreen) doneEarlier() bool {
	return s.status == statusIdle && s.c.progress.done[s.step.Number]
}

// canCheckNow reports whether the check key does something: the step waits
// for the audit trail, now.
func (s *stepScreen) canCheckNow() bool {
	w := s.c.workshop
	return s.step.WaitsForAudit && s.status == statusRunning && w != nil && w.CheckNow != nil
}

// checkNow asks the running step to look in the audit trail at once.
func (s *stepScreen) checkNow() {
	if !s.canCheckNow() {
		return
	}
	// Non-blocking: if a request is already pending, this one adds nothing.
	select {
	case s.c.workshop.CheckNow <- struct{}{}:
	default:
	}
	s.checkRequested = true
}

// scrollKey scrolls the lesson by a line, or the log by half its height.
func (s *stepScreen) scrollKey(msg tea.KeyPressMsg) bool {
	k := &s.c.keys
	l := s.layout()
	page := max(l.side.h/2, 1)
	switch {
	case key.Matches(msg, k.LogUp):
		s.log.scroll(+page)
	case key.Matches(msg, k.LogDown):
		s.log.scroll(-page)
	case key.Matches(msg, k.ScrollUp), key.Matches(msg, k.ScrollDown):
		s.lessonPane(l).scrollKey(msg, k)
	default:
		return false
	}
	return true
}

// wheel scrolls what is under the mouse: the log or the lesson.
func (s *stepScreen) wheel(msg tea.MouseWheelMsg) {
	if s.codeWheel(msg) {
		return
	}
	l := s.layout()
	if !s.overLog(l, msg.X, msg.Y) {
		s.lessonPane(l).wheel(msg)
		return
	}
	switch msg.Button {
	case tea.MouseWheelUp:
		s.log.scroll(+wheelLines)
	case tea.MouseWheelDown:
		s.log.scroll(-wheelLines)
	}
}

// overLog reports whether a cell of the screen is over the status and log
// (the side), as opposed to the lesson.
func (s *stepScreen) overLog(l stepLayout, x, y int) bool {
	switch s.c.mode {
	case layoutWide:
		return x >= l.text.w
	case layoutStacked:
		return y >= l.text.h
	default:
		return s.runs > 0
	}
}

// begin resets the screen for a new run, keeping earlier runs in the log.
func (s *stepScreen) begin(now time.Time) {
	s.runs++
	if s.runs > 1 {
		s.log.add(logEntry{at: now, level: steps.LevelInfo, text: fmt.Sprintf("%s run %d %s", "──", s.runs, "──")})
	}
	s.status = statusRunning
	s.details = stepDetails{}
	s.success, s.advice = "", advice{}
	s.missing = 0
	s.checkRequested = false
	s.ended = time.Time{}
	s.log.offset = 0
	s.code = nil // the run is what to watch now
	s.beginPrediction()
}

// report takes one status line of the running step.
func (s *stepScreen) report(l steps.Line) {
	if s.trying != nil {
		s.tryReport(l)
		return
	}
	if l.Text != "" {
		s.log.add(logEntry{at: l.Time, level: l.Level, text: l.Text})
		if l.Level == steps.LevelSuccess {
			s.success = l.Text
		}
	}
	d := &s.details
	switch v := l.Detail.(type) {
	case *steps.DataKeyDetail:
		d.dataKey = v
	case *steps.HeaderDetail:
		d.header = v
	case *steps.ProgressDetail:
		d.progress = v
	case *steps.FilesDetail:
		d.files = v
	case *steps.CompareDetail:
		d.compare = v
	case *steps.WaitDetail:
		d.wait = v
	case *steps.PollDetail:
		d.poll = v
		s.checkRequested = false
	case *steps.RecordDetail:
		d.record = v
		s.checkRequested = false
	case *steps.DeletionDetail:
		d.deletion = v
	}
}

// end records how the run ended.
func (s *stepScreen) end(err error, now time.Time) {
	if s.trying != nil {
		s.tryEnd(err, now)
		return
	}
	s.ended = now
	s.checkRequested = false
	var pre *steps.PrerequisiteError
	switch {
	case err == nil:
		s.status = statusDone
	case errors.Is(err, context.Canceled):
		s.status = statusCancelled
		s.log.add(logEntry{at: now, level: steps.LevelWarn, text: "Cancelled."})
	default:
		s.status = statusFailed
		s.advice = explain(err, &s.c.keys)
		if errors.As(err, &pre) {
			s.missing = pre.Missing
		}
	}
}

// forgetStalePrerequisite sets a step refused for a missing step back to
// idle once that step has run: the refusal's advice ("needs step 1") no
// longer holds, and the screen says afresh what, if anything, is missing.
func (s *stepScreen) forgetStalePrerequisite() {
	if s.status == statusFailed && s.missing != 0 && s.c.progress.done[s.missing] {
		s.status = statusIdle
		s.advice = advice{}
	}
}

// forgetIfStale sets a step shown as done back to idle when the progress
// no longer has it: a step before it ran again.
func (s *stepScreen) forgetIfStale() {
	if s.status == statusDone && !s.c.progress.done[s.step.Number] {
		s.status = statusIdle
	}
}

// done reports whether the step counts as done: run in this session, in
// the saved progress, or before the clean-up ended the workshop.
func (s *stepScreen) done() bool {
	return s.status == statusDone || s.c.progress.counts(s.step.Number)
}

// SetSize gives the screen its room.
func (s *stepScreen) SetSize(width, height int) { s.width, s.height = width, height }

// Title is "Step n of 6".
func (s *stepScreen) Title() string {
	return fmt.Sprintf("Step %d of %d", s.step.Number, s.c.stepCount())
}

// Tab is the step's number, marked while it runs and once it is done.
func (s *stepScreen) Tab() (string, bool) {
	label := fmt.Sprint(s.step.Number)
	switch {
	case s.status == statusRunning:
		return s.c.spinner.View() + label, false
	case s.done():
		return s.c.theme.markDone + label, true
	}
	return label, false
}

// enter is the Enter key described for what it does now.
func (s *stepScreen) enter() key.Binding {
	k := &s.c.keys
	switch {
	case s.trying != nil:
		return enabled(k.Enter, false)
	case s.doneEarlier(), s.status == statusDone:
		return describe(k.Enter, "next")
	case s.status == statusIdle:
		return describe(k.Enter, "run step")
	case s.status == statusFailed, s.status == statusCancelled:
		return describe(k.Enter, "run again")
	}
	return enabled(k.Enter, false)
}

// ShortHelp is the step's keys for the help bar.
func (s *stepScreen) ShortHelp() []key.Binding {
	k := &s.c.keys
	failed := s.status == statusFailed || s.status == statusCancelled
	return []key.Binding{s.enter(), enabled(k.Retry, failed), enabled(k.Check, s.canCheckNow()), enabled(k.Try, s.tryOffered()), s.codeBinding(), k.Next, k.Prev}
}

// FullHelp is every key of the step screen.
func (s *stepScreen) FullHelp() [][]key.Binding {
	k := &s.c.keys
	retry := enabled(k.Retry, s.canRunAgain())
	if s.status == statusDone || s.doneEarlier() {
		retry = describe(retry, "run again")
	}
	return [][]key.Binding{
		append(s.predictionKeys(), s.enter(), k.Next, k.Prev, k.Jump),
		{retry, enabled(k.Check, s.canCheckNow()), enabled(k.Try, len(s.experiments()) > 0)},
		{s.codeBinding(), enabled(k.Close, s.code != nil)},
		{k.ScrollUp, k.ScrollDown, k.LogUp, k.LogDown},
	}
}
