package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// summaryScreen is the end: what happened, every AWS call, the score, and
// where the transcript went. It reads the other parts of the session (the
// steps, the quiz, the API pane) and saves the transcript when shown.
type summaryScreen struct {
	c             *common
	width, height int
	doc           docPane

	steps []*stepScreen
	quiz  *quizScreen
	api   *apiPane

	saving  bool
	path    string // the transcript, once saved
	saveErr error
}

func newSummaryScreen(c *common, steps []*stepScreen, quiz *quizScreen, api *apiPane) *summaryScreen {
	return &summaryScreen{c: c, doc: newDocPane(), steps: steps, quiz: quiz, api: api}
}

// Update saves the transcript when the screen is shown, and handles its keys.
func (s *summaryScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case shownMsg:
		return s.saveCmd()
	case transcriptSavedMsg:
		s.saving = false
		s.path, s.saveErr = msg.path, msg.err
	case tea.KeyPressMsg:
		if !s.pane().scrollKey(msg, &s.c.keys) {
			navKey(s.c, msg, false, true, true)
		}
	case tea.MouseWheelMsg:
		s.pane().wheel(msg)
	}
	return nil
}

// saveCmd writes the session's transcript in the background.
func (s *summaryScreen) saveCmd() tea.Cmd {
	w := s.c.workshop
	if w == nil || w.Dir == "" {
		return nil
	}
	s.saving = true
	return saveTranscriptCmd(w.Dir, s.path, s.c.clock, s.transcript())
}

// pane is the summary, sized and rendered for the window.
func (s *summaryScreen) pane() *docPane {
	t := &s.c.theme
	w := min(s.width, maxReadingWidth)
	key := fmt.Sprintf("summary|%s|%d|%d|%d|%s|%v|%v|%v|%v|%d", t.name, w, s.api.total(), s.c.running, s.path, s.saveErr, s.saving,
		s.quiz.picks, s.c.progress.state.Predictions, len(s.c.progress.state.Experiments))
	s.doc.set(key, w, s.height, s.text)
	return &s.doc
}

func (s *summaryScreen) View() string { return s.pane().view(&s.c.theme, &s.c.keys) }

// text draws the summary.
func (s *summaryScreen) text(width int) string {
	t := &s.c.theme
	var b strings.Builder
	section := func(title string) {
		if b.Len() > 0 {
			b.WriteString(strings.Repeat("\n", t.gap))
		}
		b.WriteString(t.rule(title, width) + "\n")
	}

	b.WriteString(s.scoreView(width))
	if p := s.predictionsView(width); p != "" {
		section("Your predictions")
		b.WriteString(p)
	}
	section("What you did")
	for _, st := range s.steps {
		b.WriteString(s.stepRow(st, width) + "\n")
	}
	section("Try it")
	b.WriteString(experimentsView(s.c, width))
	section("In AWS")
	b.WriteString(s.resourcesView(width))
	section(fmt.Sprintf("Every AWS call (%d)", s.api.total()))
	b.WriteString(s.callsView(width))
	b.WriteString("\n" + t.press(s.c.keys.Quit, " to quit."))
	return b.String()
}

// scoreView is the quiz score and where the transcript is.
func (s *summaryScreen) scoreView(width int) string {
	t := &s.c.theme
	var b strings.Builder
	right, answered := s.quiz.score()
	if answered == 0 {
		b.WriteString(t.bold.Render("Quiz: not taken.") + "\n")
	} else {
		total := len(s.quiz.picks)
		b.WriteString(t.highlight.Render(fmt.Sprintf(" Quiz score: %d of %d ", right, total)) + t.text.Render(" right at the first try") + "\n")
		var more []string
		if n := s.quiz.afterHint(); n > 0 {
			more = append(more, fmt.Sprintf("%d more right after a hint", n))
		}
		if answered < total {
			more = append(more, fmt.Sprintf("%d of %d answered", answered, total))
		}
		if len(more) > 0 {
			b.WriteString(t.text.Render(text.Wrap(strings.Join(more, "; ")+".", width)) + "\n")
		}
	}
	switch {
	case s.saveErr != nil:
		b.WriteString(t.failure.Render(text.Wrap(s.saveErr.Error(), width)) + "\n")
	case s.path != "":
		b.WriteString(t.text.Render("Transcript saved to ") + t.value.Render(text.Wrap(s.displayPath(s.path), max(width-20, 10))) + "\n")
	case s.saving:
		b.WriteString(t.text.Render("Saving the transcript…") + "\n")
	}
	return b.String()
}

// stepRow is one step: its number, its title and how it ended.
func (s *summaryScreen) stepRow(st *stepScreen, width int) string {
	t := &s.c.theme
	mark, style, state := t.markTodo, t.subtle, "not run"
	switch {
	case st.status == statusRunning:
		mark, style, state = t.markInfo, t.notice, "running"
	case st.done():
		mark, style, state = t.markDone, t.success, "done"
	case st.status == statusFailed:
		mark, style, state = t.markError, t.failure, "failed"
	case st.status == statusCancelled:
		mark, style, state = t.markWarn, t.warn, "cancelled"
	}
	return style.Render(fmt.Sprintf("%s %d ", mark, st.step.Number)) + t.text.Render(truncate(st.step.Title, max(width-16, 10), t)) +
		style.Render(" "+t.dash+" "+state)
}

// resourcesView is what the session made in AWS and what it cleaned up.
func (s *summaryScreen) resourcesView(width int) string {
	t := &s.c.theme
	var b strings.Builder
	kv := newKV(t, width, 14)
	created, cleaned := s.resources()
	if len(created) == 0 {
		b.WriteString(t.text.Render(text.Wrap("Nothing was created in this session.", width)) + "\n")
	}
	for _, r := range created {
		b.WriteString(kv.row(r[0], r[1], false))
	}
	if len(cleaned) > 0 {
		b.WriteString(t.success.Render(t.markSuccess+" Cleaned up:") + "\n")
		for _, c := range cleaned {
			b.WriteString(t.text.Render("  "+wrapIndent(c, width-2, 2)) + "\n")
		}
	} else if len(created) > 0 {
		b.WriteString(t.warn.Render(text.Wrap(t.markWarn+" Not cleaned up yet: "+s.cleanupPromise(), width)) + "\n")
	}
	if r := s.c.liveKeyReminder(); r != "" {
		b.WriteString(t.warn.Render(text.Wrap(r, width)) + "\n")
	}
	return b.String()
}

// cleanupPromise says which step cleans up and what it does.
func (s *summaryScreen) cleanupPromise() string {
	for _, st := range s.steps {
		if st.step.CleansUp {
			return fmt.Sprintf("step %d schedules the key's deletion and deletes the alias and the files.", st.step.Number)
		}
	}
	return "the key's deletion is not scheduled."
}

// callsView lists every AWS call kept.
func (s *summaryScreen) callsView(width int) string {
	t := &s.c.theme
	var b strings.Builder
	if n := s.api.unlisted(); n > 0 {
		b.WriteString(t.subtle.Render(fmt.Sprintf("(%d are not listed)", n)) + "\n")
	}
	calls := s.api.all()
	if len(calls) == 0 {
		b.WriteString(t.text.Render("None.") + "\n")
	}
	for i, c := range calls {
		b.WriteString(callRow(t, s.api.calls.dropped+i+1, c, width, false) + "\n")
	}
	return b.String()
}

// resources lists what the session made in AWS (label, value) and what it
// cleaned up, from the steps' details and the workshop's state.
func (s *summaryScreen) resources() (created [][2]string, cleaned []string) {
	keyARN := s.c.progress.state.KeyARN
	var deletion *steps.DeletionDetail
	cleanedUp := false
	for _, st := range s.steps {
		if d := st.details.deletion; st.step.CleansUp && d != nil {
			deletion, keyARN = d, d.KeyARN
			cleanedUp = st.status == statusDone
		}
	}
	for _, st := range s.steps {
		if d := st.details.dataKey; keyARN == "" && d != nil {
			keyARN = d.KeyARN
		}
	}
	if keyARN == "" {
		return nil, nil
	}
	created = append(created, [2]string{"KMS key", keyARN}, [2]string{"Alias", steps.AliasName})
	if cleanedUp {
		cleaned = append(cleaned,
			fmt.Sprintf("the KMS key is scheduled for deletion on %s", text.Date(deletion.DeletionDate)),
			"the alias "+steps.AliasName+" is deleted",
			"the files "+steps.EncryptedFile+" and "+steps.CycledFile+" are deleted")
	}
	return created, cleaned
}

// displayPath shows a path relative to the working directory when that is
// shorter.
func (s *summaryScreen) displayPath(p string) string {
	if rel, err := filepath.Rel(s.c.cwd, p); err == nil && !strings.HasPrefix(rel, "..") && len(rel) < len(p) {
		return rel
	}
	return p
}

func (s *summaryScreen) SetSize(width, height int) { s.width, s.height = width, height }
func (s *summaryScreen) Title() string             { return "Summary" }
func (s *summaryScreen) Tab() (string, bool)       { return "summary", false }

func (s *summaryScreen) ShortHelp() []key.Binding { return []key.Binding{s.c.keys.Prev} }

func (s *summaryScreen) FullHelp() [][]key.Binding {
	k := &s.c.keys
	return [][]key.Binding{{k.Prev, k.Jump}, scrollKeys(k)}
}
