package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"cse-workshop/assets"
	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// Predict, then see: a step asks what the learner expects before it shows
// what happens (assets.Prediction). The question takes the log's place in
// the step's side, under the status; the number keys answer it while the
// step keeps running, and esc leaves it unanswered. Once the step has
// shown the answer, the explanation and its source sit there beside the
// learner's answer, right or not, until esc closes them. The answers are
// kept in the progress; the summary and the transcript list them.

// prediction is a step's prediction as its screen shows it.
type prediction struct {
	assets.Prediction
	order   []int // the choice shown at each position
	skipped bool  // left unanswered: esc, or the step ran first
	closed  bool  // the explanation was read and closed
}

// newPrediction is step n's prediction, or nil when it asks none.
func newPrediction(c *common, n int) *prediction {
	for _, p := range c.content.predictions {
		if p.Step == n {
			return &prediction{Prediction: p, order: shuffledOrder(c, len(p.Choices))}
		}
	}
	return nil
}

// predicted is the choice the learner predicted, if any, in this session
// or an earlier one.
func (s *stepScreen) predicted() (int, bool) {
	p := s.prediction
	if p == nil {
		return 0, false
	}
	return answerTo(s.c.progress.state, p.Prediction)
}

// answerTo is the learner's answer to p kept in st, if it is one of p's
// choices: a value the progress file holds for no choice is no answer.
func answerTo(st steps.State, p assets.Prediction) (int, bool) {
	choice, ok := st.Predictions[p.ID]
	return choice, ok && choice >= 0 && choice < len(p.Choices)
}

// predictionAsked reports whether the question is on screen, waiting for
// the number keys: before the step runs, or once its wait began.
func (s *stepScreen) predictionAsked() bool {
	p := s.prediction
	if p == nil || p.skipped || s.predictionRevealed() {
		return false
	}
	if _, ok := s.predicted(); ok {
		return false
	}
	switch p.Ask {
	case assets.AskBeforeRun:
		// Not while an earlier step is missing: the step cannot run, and
		// the number keys must still go to the step that is missing.
		return s.status != statusRunning && s.c.progress.missing(s.step.Number) == 0
	case assets.AskAtWait:
		// Once the step runs, waiting or already looking (its wait may
		// be over before it starts: the learner took longer than it since
		// step 2), and still after the record came: with a short wait it
		// comes before anyone could answer, and the question is worth
		// asking all the same.
		return s.status == statusRunning || s.details.record != nil
	}
	return false
}

// predictionRevealed reports whether the step has shown what the
// prediction was about: its run ended, or it found the record. A step done
// in an earlier session shows the answer given then.
func (s *stepScreen) predictionRevealed() bool {
	p := s.prediction
	if p == nil {
		return false
	}
	if s.doneEarlier() {
		_, ok := s.predicted()
		return ok
	}
	switch p.Reveal {
	case assets.RevealAtEnd:
		return s.status == statusDone
	case assets.RevealAtRecord:
		// The question asked at the wait is answered (or skipped) first.
		_, answered := s.predicted()
		return s.details.record != nil && (answered || p.skipped || p.Ask != assets.AskAtWait)
	}
	return false
}

// beginPrediction readies the prediction for a run: a question meant for
// before the run is left unanswered if it was, and the explanation shows
// again at the end.
func (s *stepScreen) beginPrediction() {
	p := s.prediction
	if p == nil {
		return
	}
	p.closed = false
	if _, ok := s.predicted(); !ok && p.Ask == assets.AskBeforeRun {
		p.skipped = true
	}
}

// predictKey handles the prediction's keys: while it is asked, a number
// answers it and esc skips it; esc closes its explanation. The other
// numbers still go to their steps.
func (s *stepScreen) predictKey(msg tea.KeyPressMsg) bool {
	p, k := s.prediction, &s.c.keys
	switch {
	case p == nil:
		return false
	case s.predictionAsked() && key.Matches(msg, k.Predict):
		pos := number(k.Predict, msg.String()) - 1
		if pos >= len(p.order) {
			return false
		}
		s.c.send(predictionMsg{id: p.ID, choice: p.order[pos]})
	case s.predictionAsked() && key.Matches(msg, k.Skip):
		p.skipped = true
	case s.predictionRevealed() && !p.closed && key.Matches(msg, k.Skip):
		p.closed = true
	default:
		return false
	}
	return true
}

// predictionKeys are the prediction's keys for the full help, those that
// do nothing now left out. The panel itself names them, so the short help
// keeps its room for the step's own keys.
func (s *stepScreen) predictionKeys() []key.Binding {
	k := &s.c.keys
	switch {
	case s.predictionAsked():
		return []key.Binding{k.Predict, k.Skip}
	case s.predictionRevealed() && !s.prediction.closed:
		return []key.Binding{describe(k.Skip, "close the explanation")}
	}
	return nil
}

// withPrediction is a step's status before its first run, with the
// question under it when the step asks one before it runs, or once
// answered, the answer.
func (s *stepScreen) withPrediction(status string, width int) string {
	if s.predictionAsked() {
		return status + "\n" + s.predictionView(width)
	}
	if choice, ok := s.predicted(); ok && s.prediction.Ask == assets.AskBeforeRun && !s.predictionRevealed() {
		t := &s.c.theme
		return status + "\n" + t.subtle.Render(text.Wrap("Your prediction: "+s.prediction.Choices[choice]+". Run the step to see.", width))
	}
	return status
}

// minStatusBesidePrediction is the fewest rows of a step's status above
// its prediction: its first line and what Enter does. The rest comes back
// once the explanation is closed.
const minStatusBesidePrediction = 2

// besidePrediction is the side of a step screen with the prediction in
// the log's place, or "" when the prediction shows nothing. The
// prediction gets the room it needs, the status what is left, at least
// minStatusBesidePrediction lines.
func (s *stepScreen) besidePrediction(status string, width, height int) string {
	panel := s.predictionView(width)
	if panel == "" || height < 2 {
		return ""
	}
	statusH := min(lipgloss.Height(status), max(height-lipgloss.Height(panel), min(minStatusBesidePrediction, height-1)), height-1)
	return s.statusFit(width, statusH) + "\n" + fitHeight(panel, height-statusH)
}

// predictionView is the question, or the explanation beside the answer,
// under a rule; "" when neither shows.
func (s *stepScreen) predictionView(width int) string {
	t, k := &s.c.theme, &s.c.keys
	p := s.prediction
	var b strings.Builder
	switch {
	case s.predictionAsked():
		title := "Predict, then run the step"
		switch {
		case s.status == statusRunning && s.details.record == nil:
			title = "Predict, while it waits"
		case p.Ask == assets.AskAtWait:
			title = "Predict, then see why"
		}
		b.WriteString(t.rule(title, width) + "\n")
		b.WriteString(t.bold.Render(text.Wrap(p.Prompt, width)) + "\n")
		for pos, choice := range p.order {
			label := nth(k.Predict, pos+1) + ") "
			b.WriteString("  " + t.help.ShortKey.Render(label) +
				t.choice.Render(wrapIndent(p.Choices[choice], width-len(label)-2, len(label)+2)) + "\n")
		}
		keys := nth(k.Predict, 1) + "-" + nth(k.Predict, len(p.order))
		b.WriteString(t.subtle.Render(text.Wrap(fmt.Sprintf("Press %s to predict, %s to skip.", keys, k.Skip.Help().Key), width)))
	case s.predictionRevealed() && !p.closed:
		b.WriteString(t.rule("Your prediction", width) + "\n")
		answer := p.Choices[p.Answer]
		switch choice, ok := s.predicted(); {
		case !ok:
			b.WriteString(t.text.Render(text.Wrap("You did not predict. The answer: "+answer, width)))
		case choice == p.Answer:
			b.WriteString(t.right.Render(text.Wrap(t.markSuccess+" Right: "+answer, width)))
		default:
			b.WriteString(t.wrong.Render(text.Wrap(t.markError+" You predicted: "+p.Choices[choice], width)) + "\n" +
				t.right.Render(text.Wrap("The answer: "+answer, width)))
		}
		b.WriteString("\n" + t.text.Render(text.Wrap(p.Explanation, width)) + "\n")
		b.WriteString(t.subtle.Render(text.Wrap("Source: "+p.Source.Title+", "+p.Source.URL, width)) + "\n")
		b.WriteString(t.subtle.Render(text.Wrap(fmt.Sprintf("Press %s to close this and see the log.", k.Skip.Help().Key), width)))
	default:
		return ""
	}
	return b.String()
}

// predictionsView lists the predictions and the learner's answers on the
// summary; "" when the workshop asks none.
func (s *summaryScreen) predictionsView(width int) string {
	t := &s.c.theme
	var b strings.Builder
	for _, p := range s.c.content.predictions {
		head := fmt.Sprintf("Step %d: ", p.Step)
		choice, ok := answerTo(s.c.progress.state, p)
		mark, style, verdict := t.markTodo, t.subtle, "not answered; the answer: "+p.Choices[p.Answer]
		switch {
		case ok && choice == p.Answer:
			mark, style, verdict = t.markSuccess, t.success, "right: "+p.Choices[choice]
		case ok:
			mark, style, verdict = t.markError, t.failure, fmt.Sprintf("you said %s; the answer: %s", p.Choices[choice], p.Choices[p.Answer])
		}
		b.WriteString(style.Render(mark+" "+head) + t.text.Render(wrapIndent(p.Prompt, width-len(head)-2, len(head)+2)) + "\n")
		b.WriteString(strings.Repeat(" ", len(head)+2) + style.Render(wrapIndent(verdict, width-len(head)-2, len(head)+2)) + "\n")
	}
	return b.String()
}

// writePredictionRecord writes the predictions and the learner's answers.
func (s *summaryScreen) writePredictionRecord(b *strings.Builder) {
	ps := s.c.content.predictions
	if len(ps) == 0 {
		return
	}
	right, answered := 0, 0
	for _, p := range ps {
		if choice, ok := answerTo(s.c.progress.state, p); ok {
			answered++
			if choice == p.Answer {
				right++
			}
		}
	}
	fmt.Fprintf(b, "\n== Predictions: %d of %d right (%d answered)\n", right, len(ps), answered)
	for _, p := range ps {
		fmt.Fprintf(b, "step %d. %s\n", p.Step, p.Prompt)
		choice, ok := answerTo(s.c.progress.state, p)
		switch {
		case !ok:
			fmt.Fprintf(b, "   not answered; the answer is %q\n", p.Choices[p.Answer])
		case choice == p.Answer:
			fmt.Fprintf(b, "   predicted %q: right\n", p.Choices[choice])
		default:
			fmt.Fprintf(b, "   predicted %q: wrong; the answer is %q\n", p.Choices[choice], p.Choices[p.Answer])
		}
		fmt.Fprintf(b, "   source: %s, %s\n", p.Source.Title, p.Source.URL)
	}
}
