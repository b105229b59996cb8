package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestLessonRedrawnWhenItChanges: the lesson, drawn once and kept while
// the run beside it changes, is drawn again when it scrolls, when the
// window changes size and when the theme changes.
func TestLessonRedrawnWhenItChanges(t *testing.T) {
	c := fixtureContent()
	c.lessons[1] = "# A long lesson\n\n" + strings.Repeat("A paragraph that wraps over a few lines of the lesson's column, and there are many of them.\n\n", 20)
	m := newTestModelWith(t, "", c)
	send(m, tea.WindowSizeMsg{Width: 120, Height: 20})
	send(m, press("enter")...) // step 1's lesson
	s := m.steps[0]
	lesson := func() string {
		return ansi.Strip(s.lessonView.view(s.lessonPane(s.layout()), &m.c.theme, &m.c.keys))
	}
	first := lesson()
	top := strings.TrimSpace(strings.SplitN(first, "\n", 2)[0])
	if top == "" || !strings.Contains(ansi.Strip(m.View().Content), top) {
		t.Fatalf("the frame does not show the lesson's first line %q", top)
	}

	send(m, press("down", "down")...)
	scrolled := lesson()
	if scrolled == first {
		t.Error("the lesson scrolled two lines but was drawn as before")
	}

	send(m, tea.WindowSizeMsg{Width: 160, Height: 30})
	wider := lesson()
	if wider == scrolled || maxLineWidth(wider) <= maxLineWidth(scrolled) {
		t.Errorf("the window grew but the lesson kept its width (%d columns)", maxLineWidth(wider))
	}

	dark := s.lessonView.view(s.lessonPane(s.layout()), &m.c.theme, &m.c.keys)
	send(m, tea.BackgroundColorMsg{Color: white})
	if light := s.lessonView.view(s.lessonPane(s.layout()), &m.c.theme, &m.c.keys); light == dark {
		t.Errorf("the theme changed to %s but the lesson kept its colours", m.c.theme.name)
	}
}

// maxLineWidth is the width of the widest line of s, in cells.
func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}
