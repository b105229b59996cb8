package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Screen output rules: every line fits the window (nothing assumes 80
// columns); text is sentence case; keys are named as the help bar names
// them; markers and colours come from the theme only.

// layoutMode is how the screen is divided. The zero value is invalid.
type layoutMode int

const (
	layoutCompact layoutMode = iota + 1 // below 60x20: one pane at a time
	layoutStacked                       // lesson above, log below
	layoutWide                          // lesson | log, from 120 columns
)

// Window sizes where the layout changes.
const (
	compactBelowWidth  = 60
	compactBelowHeight = 20
	wideFromWidth      = 120
)

// rect is a part of the screen, in cells.
type rect struct{ w, h int }

// layout is how the current window is divided; View and the component
// sizing in sync both read it, so they always agree.
type layout struct {
	mode          layoutMode
	width, height int
	bodyH         int
	api           rect // zero when the API pane is hidden
	// For screens with two parts: the text (lesson, welcome) and the side
	// (status and log, diagrams). In compact mode only one shows.
	text, side rect
	divider    bool // wide: a column between text and side
}

func (m *Model) layout() layout {
	t := &m.theme
	l := layout{width: max(m.width, 1), height: max(m.height, 1)}
	switch {
	case m.width < compactBelowWidth || m.height < compactBelowHeight:
		l.mode = layoutCompact
	case m.width >= wideFromWidth:
		l.mode = layoutWide
	default:
		l.mode = layoutStacked
	}
	chrome := lipgloss.Height(m.headerView(l.mode)) + lipgloss.Height(m.footerView(l.mode))
	gaps := 0
	if l.mode != layoutCompact {
		gaps = 2 * (t.gap - 1) // the projector's extra air around the body
	}
	l.bodyH = max(l.height-chrome-gaps, 1)
	bodyH := l.bodyH
	if m.showAPI && m.screen.kind != screenConfirm {
		switch l.mode {
		case layoutCompact:
			l.api = rect{l.width, bodyH}
			return l
		default:
			h := min(max(6, bodyH/3), 12)
			l.api = rect{l.width, h}
			bodyH -= h
		}
	}
	w := l.width - 2*t.pad
	switch {
	case m.screen.kind == screenQuiz || m.screen.kind == screenSummary || m.screen.kind == screenConfirm:
		// One part, at a width comfortable to read.
		l.text = rect{min(w, maxReadingWidth), bodyH}
	case l.mode == layoutWide:
		l.divider = true
		textW := l.textWidthWide(w)
		if m.screen.kind == screenWelcome {
			// The diagrams are drawn for a fixed width: give them all of it.
			textW = min(textW, w-3-m.content.diagramWidth())
		}
		l.text = rect{textW, bodyH}
		l.side = rect{w - textW - 3, bodyH}
	case l.mode == layoutStacked && m.screen.kind == screenStep:
		s := m.stepViews[m.screen.step]
		var sideH int
		if s.status == statusIdle && s.runs == 0 {
			sideH = min(lipgloss.Height(m.statusView(s, w, l.mode))+1, bodyH/2)
		} else {
			// The lesson was read: the run gets most of the room.
			sideH = bodyH - max(bodyH/4, 3)
		}
		l.text = rect{w, max(bodyH-sideH, 3)}
		l.side = rect{w, max(bodyH-l.text.h, 0)}
	case l.mode == layoutCompact && m.screen.kind == screenStep:
		s := m.stepViews[m.screen.step]
		l.text = rect{w, bodyH}
		l.side = rect{w, bodyH}
		if s.status == statusIdle && s.runs == 0 {
			// The line that says how to run the step sits under the
			// lesson: the lesson scrolls in the room above it.
			l.text.h = max(bodyH-lipgloss.Height(m.statusLine(s, w)), 1)
		}
	default:
		l.text = rect{w, bodyH}
		l.side = rect{w, bodyH}
	}
	return l
}

// maxReadingWidth is the widest a screen of text gets.
const maxReadingWidth = 100

// textWidthWide is the width of the text column in the wide layout:
// about half, and never a line longer than is comfortable to read.
func (l layout) textWidthWide(w int) int {
	return min(max(w*45/100, 50), 90)
}

// sync sizes the components for the window and the current screen. It
// runs after every Update; it only computes.
func (m *Model) sync() {
	l := m.layout()
	m.help.SetWidth(l.width - 2*m.theme.pad)
	t := &m.theme
	switch m.screen.kind {
	case screenWelcome:
		m.welcome.set(fmt.Sprintf("welcome|%s|%d|%v|%d", t.name, l.text.w, m.resumeOffered, l.mode), l.text.w, l.text.h,
			func(width int) string { return m.welcomeText(width, l.mode != layoutWide) })
	case screenStep:
		s := m.stepViews[m.screen.step]
		src := m.content.lessons[s.n]
		m.syncLesson(s, src, l.text.w, l.text.h)
	case screenQuiz:
		m.quiz.doc.set(fmt.Sprintf("quiz|%s|%d|%d|%v", t.name, l.text.w, m.quiz.current, m.quiz.answers), l.text.w, m.bodyHeightFor(l),
			func(width int) string { return m.quizText(width) })
	case screenSummary:
		m.summary.doc.set(fmt.Sprintf("summary|%s|%d|%d|%s|%v|%v", t.name, l.text.w, m.api.total(), m.summary.path, m.summary.saveErr, m.summary.saving), l.text.w, m.bodyHeightFor(l),
			func(width int) string { return m.summaryText(width) })
	}
}

func (m *Model) syncLesson(s *stepScreen, src string, width, height int) {
	t := &m.theme
	s.lesson.set(fmt.Sprintf("lesson|%s|%d", t.name, width), width, height,
		func(w int) string { return m.md.render(t, src, w) })
}

// bodyHeightFor is the height of a one-part screen's body.
func (m *Model) bodyHeightFor(l layout) int {
	return max(l.bodyH-l.api.h, 1)
}

// View draws the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "cse-workshop"
	return v
}

// render draws the screen as a string of exactly the window's size.
func (m *Model) render() string {
	l := m.layout()
	t := &m.theme
	parts := []string{m.headerView(l.mode)}
	for range t.gap - 1 {
		if l.mode != layoutCompact {
			parts = append(parts, "")
		}
	}
	body := m.bodyView(l)
	parts = append(parts, fitHeight(body, l.bodyH))
	for range t.gap - 1 {
		if l.mode != layoutCompact {
			parts = append(parts, "")
		}
	}
	parts = append(parts, m.footerView(l.mode))
	return fitScreen(strings.Join(parts, "\n"), l.width, l.height)
}

// bodyView draws what is between the header and the help bar.
func (m *Model) bodyView(l layout) string {
	if m.quitAsked {
		return m.quitDialogView(l)
	}
	if m.question != nil {
		return m.questionView(l)
	}
	if l.mode == layoutCompact && l.api.h > 0 {
		return m.padded(m.api.view(&m.theme, l.width-2*m.theme.pad, l.api.h))
	}
	var main string
	switch m.screen.kind {
	case screenWelcome:
		main = m.welcomeView(l)
	case screenConfirm:
		main = m.confirmView(l)
	case screenStep:
		main = m.stepView(l)
	case screenQuiz:
		main = m.padded(m.quiz.doc.view(&m.theme))
	case screenSummary:
		main = m.padded(m.summary.doc.view(&m.theme))
	}
	if l.api.h > 0 {
		main = fitHeight(main, l.bodyH-l.api.h) + "\n" + m.padded(m.api.view(&m.theme, l.width-2*m.theme.pad, l.api.h))
	}
	return main
}

// padded indents a block by the theme's side padding.
func (m *Model) padded(s string) string {
	if m.theme.pad == 0 {
		return s
	}
	pad := strings.Repeat(" ", m.theme.pad)
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// columns joins the text and the side of the wide layout.
func (m *Model) columns(l layout, text, side string) string {
	t := &m.theme
	h := l.text.h
	left := strings.Split(fitHeight(text, h), "\n")
	right := strings.Split(fitHeight(side, h), "\n")
	divider := " " + t.subtle.Render(t.verticalRule()) + " "
	pad := strings.Repeat(" ", t.pad)
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pad)
		b.WriteString(padLine(left[i], l.text.w))
		b.WriteString(divider)
		b.WriteString(padLine(right[i], l.side.w))
	}
	return b.String()
}

// padLine cuts or pads one line to exactly width columns. Joining columns
// this way costs one width measure per line, which keeps View cheap.
func padLine(s string, width int) string {
	w := ansi.StringWidth(s)
	switch {
	case w > width:
		return ansi.Truncate(s, width, "")
	case w < width:
		return s + strings.Repeat(" ", width-w)
	}
	return s
}

// headerView is the title, the backend badge and where the learner is.
func (m *Model) headerView(mode layoutMode) string {
	t := &m.theme
	width := max(m.width-2*t.pad, 1)
	badge := m.badgeView(mode == layoutCompact)
	title := "cse-workshop " + t.dash + " envelope encryption with AWS KMS"
	room := width - lipgloss.Width(badge) - 1
	if room < lipgloss.Width(title) {
		title = "cse-workshop"
	}
	if mode == layoutCompact {
		title = m.screenName()
	}
	first := t.title.Render(truncate(title, max(room, 0), t))
	spaces := max(width-lipgloss.Width(first)-lipgloss.Width(badge), 1)
	line := ansi.Truncate(first+strings.Repeat(" ", spaces)+badge, width, "")
	if mode == layoutCompact {
		return m.padded(line)
	}
	return m.padded(line) + "\n" + m.padded(m.trackerView(width))
}

// screenName is the current screen in a few words, for the compact header.
func (m *Model) screenName() string {
	switch m.screen.kind {
	case screenStep:
		return fmt.Sprintf("Step %d of %d", m.screen.step, stepCount)
	case screenConfirm:
		return "Confirm"
	case screenQuiz:
		return "Quiz"
	case screenSummary:
		return "Summary"
	}
	return "cse-workshop"
}

// badgeView names the backend: the demo, or the real account and region.
func (m *Model) badgeView(short bool) string {
	t := &m.theme
	if !m.live {
		if short {
			return t.badgeDemo.Render("DEMO")
		}
		text := "DEMO " + t.dash + " simulated AWS, offline"
		if m.fast {
			// A facilitator's reminder that waits are shortened.
			text += ", fast"
		}
		return t.badgeDemo.Render(text)
	}
	acct := m.plan.Account
	if acct == "" {
		acct = "?"
	}
	if short {
		return t.badgeLive.Render("AWS " + acct)
	}
	return t.badgeLive.Render(fmt.Sprintf("AWS account %s region %s", acct, m.plan.Region))
}

// trackerView shows every screen in order, the current one marked and the
// steps done ticked.
func (m *Model) trackerView(width int) string {
	t := &m.theme
	cur := m.screen
	if cur.kind == screenConfirm {
		cur = m.prevScreen
	}
	var parts []string
	for _, id := range order {
		var label string
		switch id.kind {
		case screenWelcome:
			label = "welcome"
		case screenStep:
			label = fmt.Sprintf("%d", id.step)
			switch {
			case m.running == id.step:
				label = m.spinner.View() + label
			case m.stepDone(id.step):
				label = t.markDone + label
			}
		case screenQuiz:
			label = "quiz"
		case screenSummary:
			label = "summary"
		}
		switch {
		case id == cur:
			parts = append(parts, t.chosen.Render(t.markCurrent+label))
		case id.kind == screenStep && m.stepDone(id.step):
			parts = append(parts, t.success.Render(" "+label))
		default:
			parts = append(parts, t.subtle.Render(" "+label))
		}
	}
	return ansi.Truncate(strings.Join(parts, " "), width, "")
}

// footerView is the notice line and the help bar.
func (m *Model) footerView(mode layoutMode) string {
	t := &m.theme
	width := max(m.width-2*t.pad, 1)
	keys := m.helpKeyMap()
	var lines []string
	if n := m.noticeText(); n != "" {
		style := t.notice
		if m.noticeWarn {
			style = t.warn
		}
		lines = append(lines, m.padded(style.Render(truncate(n, width, t))))
	} else if mode != layoutCompact {
		lines = append(lines, "")
	}
	h := m.help
	h.SetWidth(width)
	bar := h.View(helpKeys{keys})
	if !h.ShowAll {
		bar = shortHelpFit(h, helpKeys{keys}.ShortHelp(), width)
	}
	lines = append(lines, m.padded(bar))
	return strings.Join(lines, "\n")
}

// shortHelpFit is the one-line help bar in width columns: the keys that
// fit, then the ellipsis when some do not. The help bubble alone lets the
// last key overflow when only the ellipsis would not fit, and the screen's
// edge then cuts it mid-way, leaving a dangling separator.
func shortHelpFit(h help.Model, bindings []key.Binding, width int) string {
	var on []key.Binding
	for _, b := range bindings {
		if b.Enabled() {
			on = append(on, b)
		}
	}
	h.SetWidth(0) // measured here, not cut by the bubble
	tail := " " + h.Styles.Ellipsis.Inline(true).Render(h.Ellipsis)
	for n := len(on); n > 0; n-- {
		bar := h.ShortHelpView(on[:n])
		if n < len(on) {
			bar += tail
		}
		if lipgloss.Width(bar) <= width {
			return bar
		}
	}
	return ""
}

// noticeText is the one line under the body: a warning, or what runs.
func (m *Model) noticeText() string {
	if m.notice != "" {
		return m.notice
	}
	if m.running != 0 && !(m.screen.kind == screenStep && m.screen.step == m.running) {
		return fmt.Sprintf("Step %d is running in the background.", m.running)
	}
	return ""
}

// fitScreen cuts or pads s to exactly width x height cells.
func fitScreen(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, line := range lines {
		if ansi.StringWidth(line) > width {
			lines[i] = ansi.Truncate(line, width, "")
		}
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// rule is a horizontal line with a title: "── Log ───────".
func (m *Model) rule(title string, width int) string { return m.theme.rule(title, width) }

func (t *theme) rule(title string, width int) string {
	h := t.horizontalRule()
	lead := h + h + " "
	if title == "" {
		return t.subtle.Render(strings.Repeat(h, max(width, 0)))
	}
	titleW := ansi.StringWidth(title)
	rest := max(width-ansi.StringWidth(lead)-titleW-1, 0)
	return t.subtle.Render(lead) + t.paneTitle.Render(title) + " " + t.subtle.Render(strings.Repeat(h, rest))
}

func (t *theme) horizontalRule() string {
	if t.name == ThemePlain {
		return "-"
	}
	return "─"
}

func (t *theme) arrow() string {
	if t.name == ThemePlain {
		return "->"
	}
	return "→"
}

func (t *theme) verticalRule() string {
	if t.name == ThemePlain {
		return "|"
	}
	return "│"
}

func stripANSI(s string) string { return ansi.Strip(s) }
