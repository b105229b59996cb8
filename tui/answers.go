package tui

import (
	"context"
	"maps"
	"sync"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/steps"
)

// The learner's answers, the quiz's and the predictions', are kept in the
// workshop's progress (steps.State). A running step owns the workshop's
// state, so answers given while a step runs (step 5's prediction) reach it
// when the run ends. The file is written in the background, in the order
// the answers came, and before the next step starts.

type (
	// quizAnswersMsg asks to keep the quiz's answers, by question number.
	quizAnswersMsg struct{ answers map[int]steps.QuizAnswer }
	// predictionMsg asks to keep the answer to a prediction.
	predictionMsg struct {
		id     string
		choice int
	}
	// progressSavedMsg says whether the answers were written.
	progressSavedMsg struct{ err error }
)

// keepAnswers takes an answer into the screens' copy of the progress and
// saves it, now or once the running step ends.
func (m *Model) keepAnswers(req tea.Msg) tea.Cmd {
	st := &m.c.progress.state
	switch req := req.(type) {
	case quizAnswersMsg:
		st.Quiz = req.answers
	case predictionMsg:
		// A new map: the old one may be on its way to the disk.
		p := maps.Clone(st.Predictions)
		if p == nil {
			p = map[string]int{}
		}
		p[req.id] = req.choice
		st.Predictions = p
	}
	if m.c.running != 0 {
		m.answersPending = true
		return nil
	}
	return m.saveAnswers()
}

// saveAnswers puts the answers in the workshop's state and writes a copy of
// it in the background. Call it only when no step runs.
func (m *Model) saveAnswers() tea.Cmd {
	m.answersPending = false
	if m.w == nil {
		return nil
	}
	m.w.State.Quiz = m.c.progress.state.Clone().Quiz
	m.w.State.Predictions = maps.Clone(m.c.progress.state.Predictions)
	snapshot := *m.w
	snapshot.State = m.w.State.Clone()
	saver := m.saver
	saver.keep(&snapshot)
	return func() tea.Msg { return progressSavedMsg{err: saver.write()} }
}

// runAfterSave is the run of a step, after the answers kept before it are
// written: the step's own save, at its end, must come last.
func (m *Model) runAfterSave(run runFunc) runFunc {
	saver := m.saver
	return func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		// An error here is the step's too: it saves the same state at
		// its end, and says so if that fails.
		_ = saver.write()
		return run(ctx, w, n, r)
	}
}

// saveAnswersAtExit writes what is left once the program has ended: the
// answers given while the last step ran, and a write whose command did
// not run. It does nothing while a step that did not stop may still
// write the state.
func (m *Model) saveAnswersAtExit() error {
	if m.runExited != nil {
		select {
		case <-m.runExited:
		default:
			return nil
		}
	}
	if m.answersPending {
		m.saveAnswers()
	}
	return m.saver.write()
}

// progressSaver writes copies of the workshop in order, the latest last;
// keep never waits for the disk.
type progressSaver struct {
	writing sync.Mutex // held while writing, so that the writes land in order
	mu      sync.Mutex
	next    *steps.Workshop // the latest copy, not written yet
}

// keep holds a copy of the workshop for the next write.
func (s *progressSaver) keep(w *steps.Workshop) {
	s.mu.Lock()
	s.next = w
	s.mu.Unlock()
}

// write writes the copy kept last, if it was not written yet.
func (s *progressSaver) write() error {
	s.writing.Lock()
	defer s.writing.Unlock()
	s.mu.Lock()
	w := s.next
	s.next = nil
	s.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Save()
}
