package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cse-workshop/awsclient"
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

// stepScreen is one step: its lesson, its log and what its last run showed.
type stepScreen struct {
	n      int
	status stepStatus
	lesson docPane
	log    logPane
	runs   int

	details stepDetails
	// success is the step's success line as it was reported.
	success string
	advice  awsclient.Advice
	err     error
	// missing is the step that must run first, when known.
	missing        int
	checkRequested bool
	started, ended time.Time
	// maskedKeys are the data key previews the runs showed; the
	// transcript leaves them out, even from the status lines.
	maskedKeys []string
}

// stepDetails are the latest details a run reported, one of each kind.
type stepDetails struct {
	dataKey  *steps.DataKeyDetail
	progress *steps.ProgressDetail
	files    *steps.FilesDetail
	compare  *steps.CompareDetail
	wait     *steps.WaitDetail
	poll     *steps.PollDetail
	record   *steps.RecordDetail
	deletion *steps.DeletionDetail
}

func newStepScreen(n int) *stepScreen {
	return &stepScreen{n: n, lesson: newDocPane(), log: newLogPane()}
}

// begin resets the screen for a new run, keeping earlier runs in the log.
func (s *stepScreen) begin(now time.Time) {
	s.runs++
	if s.runs > 1 {
		s.log.add(logEntry{at: now, level: steps.LevelInfo, text: fmt.Sprintf("%s run %d %s", "──", s.runs, "──")})
	}
	s.status = statusRunning
	s.details = stepDetails{}
	s.success, s.advice, s.err = "", awsclient.Advice{}, nil
	s.missing = 0
	s.checkRequested = false
	s.started, s.ended = now, time.Time{}
	s.log.offset = 0
}

// report takes one status line of the running step.
func (s *stepScreen) report(l steps.Line) {
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
		s.noteMaskedKey(v.MaskedDataKey)
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
	s.ended = now
	s.checkRequested = false
	var pre *steps.PrerequisiteError
	switch {
	case err == nil:
		s.status = statusDone
	case errors.Is(err, context.Canceled):
		s.status = statusCancelled
		s.log.add(logEntry{at: now, level: steps.LevelWarn, text: "Cancelled."})
	case errors.As(err, &pre):
		s.status = statusFailed
		s.err = err
		s.missing = pre.Missing
		s.advice = awsclient.Advice{
			What: fmt.Sprintf("Step %d needs step %d to have run first.", pre.Step, pre.Missing),
			Hint: fmt.Sprintf("press %d to go to step %d and run it, then come back", pre.Missing, pre.Missing),
		}
	default:
		s.status = statusFailed
		s.err = err
		s.advice = steps.Explain(err)
	}
}

func (s *stepScreen) noteMaskedKey(k string) {
	if k != "" && !slices.Contains(s.maskedKeys, k) {
		s.maskedKeys = append(s.maskedKeys, k)
	}
}

// redact hides the data key previews of a status line: even a masked
// preview stays off the disk.
func (s *stepScreen) redact(text string) string {
	for _, k := range s.maskedKeys {
		text = strings.ReplaceAll(text, k, "••••")
	}
	return text
}
