package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// welcomeScreen is the first screen: what envelope encryption is, the
// keys, and, when the workshop folder holds progress, the offer to resume.
type welcomeScreen struct {
	c             *common
	width, height int
	resumeOffered bool
	doc           docPane
	docView       paneView
}

func newWelcomeScreen(c *common) *welcomeScreen {
	return &welcomeScreen{c: c, resumeOffered: len(c.progress.done) > 0, doc: newDocPane()}
}

// Update handles the welcome screen's keys: Enter starts or resumes.
func (s *welcomeScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		s.updateKey(msg)
	case tea.MouseWheelMsg:
		s.pane().wheel(msg)
	}
	return nil
}

func (s *welcomeScreen) updateKey(msg tea.KeyPressMsg) {
	k := &s.c.keys
	switch {
	case key.Matches(msg, k.Enter):
		_, _, quiz := s.quizNext()
		s.resumeOffered = false
		s.c.send(resumeMsg{quiz: quiz})
	case s.offersStartOver() && key.Matches(msg, k.StartOver):
		if n := s.c.running; n != 0 {
			s.c.send(noticeMsg{fmt.Sprintf("Step %d is running: wait for it before starting over.", n), true})
			return
		}
		s.resumeOffered = false
		s.c.send(startOverMsg{})
	case s.pane().scrollKey(msg, k):
	default:
		navKey(s.c, msg, true, false, true)
	}
}

// textWidth is the width of the text column; in a wide window the
// diagrams, drawn for a fixed width, get all they need beside it.
func (s *welcomeScreen) textWidth() int {
	if s.c.mode != layoutWide {
		return s.width
	}
	return min(textWidthWide(s.width), s.width-3-s.c.content.diagramWidth())
}

// pane is the welcome text, sized and rendered for the window.
func (s *welcomeScreen) pane() *docPane {
	t := &s.c.theme
	w := s.textWidth()
	wide := s.c.mode == layoutWide
	key := fmt.Sprintf("welcome|%s|%d|%v|%v|%d", t.name, w, s.resumeOffered, wide, s.c.progress.resumeStep(s.c.stepCount()))
	s.doc.set(key, w, s.height, func(width int) string { return s.text(width, !wide) })
	return &s.doc
}

// View is the text, and beside it in a wide window the diagrams.
func (s *welcomeScreen) View() string {
	t := &s.c.theme
	text := s.docView.view(s.pane(), t, &s.c.keys)
	if s.c.mode != layoutWide {
		return text
	}
	w := s.textWidth()
	return columns(t, s.height, text, w, s.diagramsView(s.width-w-3), s.width-w-3)
}

// text is the welcome screen's scrolling text: the offer to resume, what
// envelope encryption is, and, when the diagrams have no column of their
// own, the diagrams.
func (s *welcomeScreen) text(width int, withDiagrams bool) string {
	t := &s.c.theme
	var parts []string
	if s.resumeOffered {
		parts = append(parts, s.resumeView(width))
	}
	parts = append(parts, s.c.md.render(t, s.c.content.welcome, width))
	if withDiagrams {
		parts = append(parts, s.diagramsView(width))
	}
	parts = append(parts, s.keyListView(width))
	if src := sourcesView(t, s.c.content.welcomeSources, width); src != "" {
		parts = append(parts, src)
	}
	return strings.Join(parts, strings.Repeat("\n", t.gap+1))
}

// resumeView offers to continue where the learner stopped, or, when the
// last thing done was the clean-up, to go through the workshop again.
func (s *welcomeScreen) resumeView(width int) string {
	t, k := &s.c.theme, &s.c.keys
	if answered, total, ok := s.quizNext(); ok {
		body := t.bold.Render("Welcome back.") + " " + t.text.Render(fmt.Sprintf(
			"You went through the %d steps; the quiz is next, %d of its %d questions answered.", s.c.stepCount(), answered, total)) + "\n" +
			t.press(k.Enter, " to go on with the quiz, or ") +
			t.help.ShortKey.Render(nth(k.Jump, 1)) + t.text.Render(" to go through the workshop again from step 1.")
		return t.infoBox.Width(min(width, 76)).Render(body)
	}
	if n := s.cleanedUp(); n != 0 {
		body := t.bold.Render("Welcome back.") + " " + t.text.Render(fmt.Sprintf(
			"Step %d cleaned up this workshop folder last time.", n)) + "\n" +
			t.press(k.Enter, " to go through the workshop again from step 1.")
		return t.infoBox.Width(min(width, 76)).Render(body)
	}
	var names []string
	for _, n := range slices.Sorted(maps.Keys(s.c.progress.done)) {
		names = append(names, fmt.Sprint(n))
	}
	done := "step " + names[0]
	if len(names) > 1 {
		done = "steps " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	body := t.bold.Render("Welcome back.") + " " + t.text.Render(fmt.Sprintf(
		"This workshop folder holds your progress: %s done.", done)) + "\n" +
		t.press(k.Enter, " to continue with "+s.next()+", or ") +
		t.help.ShortKey.Render(k.StartOver.Help().Key) + t.text.Render(" to start over from step 1.")
	return t.infoBox.Width(min(width, 76)).Render(body)
}

// cleanedUp is the number of the clean-up step when it is all the progress
// holds (it clears the rest): the workshop begins again at step 1, so
// continuing and starting over are the same. It is 0 otherwise.
func (s *welcomeScreen) cleanedUp() int {
	cleanup := 0
	for _, st := range s.c.content.steps {
		switch {
		case !s.c.progress.done[st.Number]:
		case st.CleansUp:
			cleanup = st.Number
		default:
			return 0
		}
	}
	return cleanup
}

// quizNext reports whether the learner, back after the clean-up, has
// the quiz left to finish, with how many of its questions are answered.
func (s *welcomeScreen) quizNext() (answered, total int, ok bool) {
	total = len(s.c.content.quiz)
	answered = len(s.c.progress.state.Quiz)
	return answered, total, s.resumeOffered && s.cleanedUp() != 0 && answered < total
}

// offersStartOver reports whether the start-over key does something here.
func (s *welcomeScreen) offersStartOver() bool { return s.resumeOffered && s.cleanedUp() == 0 }

// next is where Enter goes: the first step not done, or the quiz.
func (s *welcomeScreen) next() string {
	if n := s.c.progress.resumeStep(s.c.stepCount()); n != 0 {
		return fmt.Sprintf("step %d", n)
	}
	return "the quiz"
}

// diagramsView draws the two envelope-encryption pictures.
func (s *welcomeScreen) diagramsView(width int) string {
	t := &s.c.theme
	return strings.Join([]string{
		t.rule("Encrypting", width),
		t.text.Render(s.c.content.encryptDiagram),
		"",
		t.rule("Decrypting", width),
		t.text.Render(s.c.content.decryptDiagram),
	}, "\n")
}

// keyListView lists the main keys, from the key map.
func (s *welcomeScreen) keyListView(width int) string {
	t, k := &s.c.theme, &s.c.keys
	rows := []struct{ key, what string }{
		{k.Enter.Help().Key, "run a step, continue"},
		{k.Next.Help().Key + "  " + k.Prev.Help().Key, "next / previous screen"},
		{k.Jump.Help().Key, "go to a step (a facilitator's shortcut)"},
		{k.Retry.Help().Key, "run a failed step again"},
	}
	for _, st := range s.c.content.steps {
		if st.WaitsForAudit {
			rows = append(rows, struct{ key, what string }{k.Check.Help().Key, fmt.Sprintf("step %d: look in CloudTrail now", st.Number)})
		}
	}
	rows = append(rows, struct{ key, what string }{k.API.Help().Key, "show every AWS call, open one to read it"})
	if s.c.endpoint != "" {
		rows = append(rows, struct{ key, what string }{k.Endpoint.Help().Key, "use your own AWS CLI on this demo account"})
	}
	rows = append(rows, []struct{ key, what string }{
		{k.Help.Help().Key, "all keys"},
		{k.Quit.Help().Key, "quit (" + k.Interrupt.Help().Key + " cancels a running step)"},
	}...)
	lines := []string{t.rule("Keys", width)}
	for _, r := range rows {
		lines = append(lines, t.help.FullKey.Render(fmt.Sprintf("%-8s", r.key))+" "+t.text.Render(truncate(r.what, max(width-9, 1), t)))
	}
	return strings.Join(lines, "\n")
}

func (s *welcomeScreen) SetSize(width, height int) { s.width, s.height = width, height }
func (s *welcomeScreen) Title() string             { return "cse-workshop" }
func (s *welcomeScreen) Tab() (string, bool)       { return "welcome", false }

// enter is the Enter key described for where it goes.
func (s *welcomeScreen) enter() key.Binding {
	if !s.resumeOffered {
		return describe(s.c.keys.Enter, "start")
	}
	if _, _, ok := s.quizNext(); ok {
		return describe(s.c.keys.Enter, "go on with the quiz")
	}
	if s.cleanedUp() != 0 {
		return describe(s.c.keys.Enter, "start again")
	}
	if n := s.c.progress.resumeStep(s.c.stepCount()); n != 0 {
		return describe(s.c.keys.Enter, fmt.Sprintf("continue at step %d", n))
	}
	return describe(s.c.keys.Enter, "continue to the quiz")
}

func (s *welcomeScreen) ShortHelp() []key.Binding {
	k := &s.c.keys
	return []key.Binding{s.enter(), enabled(k.StartOver, s.offersStartOver()), k.Next}
}

func (s *welcomeScreen) FullHelp() [][]key.Binding {
	k := &s.c.keys
	return [][]key.Binding{
		{s.enter(), k.Next, k.Jump, enabled(k.StartOver, s.offersStartOver())},
		scrollKeys(k),
	}
}
