package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Screen output rules: every line fits the window (nothing assumes 80
// columns); text is sentence case; keys are named as the keymap names
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

func modeFor(width, height int) layoutMode {
	switch {
	case width < compactBelowWidth || height < compactBelowHeight:
		return layoutCompact
	case width >= wideFromWidth:
		return layoutWide
	}
	return layoutStacked
}

// rect is a part of the screen, in cells.
type rect struct{ w, h int }

// layout is how the window is divided between the frame and the body;
// View and the sizing of the components both read it, so they agree.
type layout struct {
	mode          layoutMode
	width, height int
	bodyH         int  // between the header and the help bar
	api           rect // zero when the API pane is hidden
}

func (m *Model) layout() layout {
	l := layout{width: max(m.width, 1), height: max(m.height, 1), mode: modeFor(m.width, m.height)}
	chrome := headerHeight(l.mode) + m.footerHeight(l.mode)
	l.bodyH = max(l.height-chrome-2*m.gapLines(l.mode), 1)
	if m.showAPI && m.dialog() == nil {
		if l.mode == layoutCompact {
			l.api = rect{l.width, l.bodyH}
		} else {
			l.api = rect{l.width, min(max(6, l.bodyH/3), 12)}
		}
	}
	return l
}

// headerHeight is the height of headerView(mode), known without drawing
// it (layout runs after every message): the title line, and below it the
// tracker but in a compact window.
func headerHeight(mode layoutMode) int {
	if mode == layoutCompact {
		return 1
	}
	return 2
}

// footerHeight is the height of footerView(mode), drawn only when that
// height depends on it: the full help, or a notice of several lines.
func (m *Model) footerHeight(mode layoutMode) int {
	notice := m.noticeText()
	switch {
	case m.help.ShowAll || strings.Contains(notice, "\n"):
		return lipgloss.Height(m.footerView(mode))
	case notice != "" || mode != layoutCompact:
		return 2 // the notice line (blank when there is none), the help bar
	}
	return 1
}

// gapLines is the blank lines between the header, the body and the help
// bar: the high-contrast theme's extra air, none in a compact window.
func (m *Model) gapLines(mode layoutMode) int {
	if mode == layoutCompact {
		return 0
	}
	return max(m.c.theme.gap-1, 0)
}

// room is the size of a component's body: the window's width inside the
// padding, the body's height above the API pane.
func (m *Model) room(l layout) rect {
	return rect{max(l.width-2*m.c.theme.pad, 1), max(l.bodyH-l.api.h, 1)}
}

// maxReadingWidth is the widest a screen of text gets.
const maxReadingWidth = 100

// textWidthWide is the width of the text column in the wide layout:
// about half, and never a line longer than is comfortable to read.
func textWidthWide(w int) int {
	return min(max(w*45/100, 50), 90)
}

// resize gives the components on screen their room, which changes with
// the window, the notice, the help and the API pane.
func (m *Model) resize() {
	l := m.layout()
	m.c.mode = l.mode
	m.help.SetWidth(l.width - 2*m.c.theme.pad)
	r := m.room(l)
	m.screen().SetSize(r.w, r.h)
	for _, d := range m.dialogs {
		d.SetSize(r.w, l.bodyH)
	}
}

// View draws the whole screen, or gives the frame drawn last while the
// pacer puts a background message's frame off.
func (m *Model) View() tea.View { return m.pacer.view(time.Now(), m.draw) }

func (m *Model) draw() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "cse-workshop"
	return v
}

// render draws the screen as a string of exactly the window's size.
func (m *Model) render() string {
	if m.goodbye != "" {
		return m.goodbyeView()
	}
	l := m.layout()
	gap := strings.Repeat("\n", m.gapLines(l.mode))
	s := m.headerView(l.mode) + gap + "\n" + fitHeight(m.bodyView(l), l.bodyH) + "\n" + gap + m.footerView(l.mode)
	return fitScreen(s, l.width, l.height)
}

// bodyView draws what is between the header and the help bar: a dialog,
// or the screen and below it the API pane.
func (m *Model) bodyView(l layout) string {
	t := &m.c.theme
	if d := m.dialog(); d != nil {
		return m.padded(d.View())
	}
	api := m.padded(m.api.view(t, &m.c.keys, l.width-2*t.pad, l.api.h))
	if l.mode == layoutCompact && l.api.h > 0 {
		return api
	}
	main := m.padded(m.screen().View())
	if l.api.h > 0 {
		main = fitHeight(main, l.bodyH-l.api.h) + "\n" + api
	}
	return main
}

// padded indents a block by the theme's side padding.
func (m *Model) padded(s string) string {
	if m.c.theme.pad == 0 {
		return s
	}
	pad := strings.Repeat(" ", m.c.theme.pad)
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n")
}

// columns joins two columns of h lines, of leftW and rightW cells, with a
// divider between them.
func columns(t *theme, h int, left string, leftW int, right string, rightW int) string {
	l := strings.Split(fitHeight(left, h), "\n")
	r := strings.Split(fitHeight(right, h), "\n")
	divider := " " + t.subtle.Render(t.verticalRule()) + " "
	var b strings.Builder
	for i := range h {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(padLine(l[i], leftW))
		b.WriteString(divider)
		b.WriteString(padLine(r[i], rightW))
	}
	return b.String()
}

// padLine cuts or pads one line to exactly width columns. Joining columns
// this way costs one width measure per line, which keeps View cheap.
func padLine(s string, width int) string {
	w := cellWidth(s)
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
	t := &m.c.theme
	width := max(m.width-2*t.pad, 1)
	badge := m.badgeView(mode == layoutCompact)
	title := "cse-workshop " + t.dash + " envelope encryption with AWS KMS"
	room := width - lipgloss.Width(badge) - 1
	if room < lipgloss.Width(title) {
		title = "cse-workshop"
	}
	if mode == layoutCompact {
		title = m.title()
	}
	first := t.title.Render(truncate(title, max(room, 0), t))
	spaces := max(width-lipgloss.Width(first)-lipgloss.Width(badge), 1)
	line := ansi.Truncate(first+strings.Repeat(" ", spaces)+badge, width, "")
	if mode == layoutCompact {
		return m.padded(line)
	}
	return m.padded(line) + "\n" + m.padded(m.trackerView(width))
}

// title names what is on screen in a few words, for the compact header:
// the dialog's name, or the screen's.
func (m *Model) title() string {
	if d := m.dialog(); d != nil && d.Title() != "" {
		return d.Title()
	}
	return m.screen().Title()
}

// badgeView names the backend: the demo, or the real account and region.
func (m *Model) badgeView(short bool) string {
	t := &m.c.theme
	if !m.c.live {
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
	acct := m.c.plan.Account
	if acct == "" {
		acct = "?"
	}
	if short {
		return t.badgeLive.Render("AWS " + acct)
	}
	return t.badgeLive.Render(fmt.Sprintf("AWS account %s region %s", acct, m.c.plan.Region))
}

// trackerView shows every screen in order, the current one marked and the
// steps done ticked.
func (m *Model) trackerView(width int) string {
	t := &m.c.theme
	var from strings.Builder
	fmt.Fprintf(&from, "%s\x00%d\x00%d", t.name, width, m.current)
	for _, sc := range m.screens {
		label, done := sc.Tab()
		fmt.Fprintf(&from, "\x00%s\x00%t", label, done)
	}
	return m.trackerDrawn.get(from.String(), func() string { return m.drawTracker(width) })
}

func (m *Model) drawTracker(width int) string {
	t := &m.c.theme
	parts := make([]string, len(m.screens))
	for i, sc := range m.screens {
		label, done := sc.Tab()
		switch {
		case i == m.current:
			parts[i] = t.chosen.Render(t.markCurrent + label)
		case done:
			parts[i] = t.success.Render(" " + label)
		default:
			parts[i] = t.subtle.Render(" " + label)
		}
	}
	return ansi.Truncate(strings.Join(parts, " "), width, "")
}

// drawnOnce keeps a part of the frame as last drawn, with a description of
// what it was drawn from. The tracker and the help bar change a few times a
// session but were drawn again for every frame, and a served room draws
// thousands of frames a minute.
type drawnOnce struct {
	from, drawn string
	ok          bool
}

// get is the part drawn from what from describes: as kept, or drawn now.
func (d *drawnOnce) get(from string, draw func() string) string {
	if !d.ok || d.from != from {
		d.from, d.drawn, d.ok = from, draw(), true
	}
	return d.drawn
}

// footerView is the notice line and the help bar.
func (m *Model) footerView(mode layoutMode) string {
	t := &m.c.theme
	width := max(m.width-2*t.pad, 1)
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
	var bar string
	switch {
	case !h.ShowAll:
		bindings, keep := m.ShortHelp(), m.rootKeys()
		var from strings.Builder
		fmt.Fprintf(&from, "%s\x00%d\x00%d", t.name, width, keep)
		for _, b := range bindings {
			fmt.Fprintf(&from, "\x00%t\x00%s\x00%s", b.Enabled(), b.Help().Key, b.Help().Desc)
		}
		bar = m.helpBarDrawn.get(from.String(), func() string { return shortHelpFit(h, bindings, keep, width) })
	case mode == layoutCompact:
		// No room for more rows: the columns that fit.
		bar = h.View(m)
	default:
		bar = fullHelpFit(h, m.FullHelp(), width)
	}
	lines = append(lines, m.padded(bar))
	return strings.Join(lines, "\n")
}

// ShortHelp is the help bar: the keys of the dialog or the screen, then
// the root's own.
func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.quitting:
		return nil
	case m.dialog() != nil:
		return m.dialog().ShortHelp()
	}
	k := &m.c.keys
	if m.showAPI {
		// The pane's keys and the way out first: the screen's are
		// the ones a narrow bar leaves out.
		return append(append(m.api.shortHelp(k), describe(k.API, "hide calls"), k.Help, k.Quit), m.api.screenKeys(m.screen().ShortHelp(), k)...)
	}
	return append(m.screen().ShortHelp(), k.API, k.Help, k.Quit)
}

// FullHelp is the help the help key opens, in columns: the dialog's or
// the screen's, then the root's own.
func (m *Model) FullHelp() [][]key.Binding {
	k := &m.c.keys
	interrupt := enabled(k.Interrupt, m.c.running != 0)
	switch {
	case m.quitting:
		return [][]key.Binding{{interrupt}}
	case m.dialog() != nil:
		return append(m.dialog().FullHelp(), []key.Binding{interrupt})
	}
	endpoint := enabled(k.Endpoint, m.c.endpoint != "")
	if m.showAPI {
		var screen [][]key.Binding
		for _, g := range m.screen().FullHelp() {
			screen = append(screen, m.api.screenKeys(g, k))
		}
		return append(append([][]key.Binding{m.api.shortHelp(k)}, screen...), []key.Binding{describe(k.API, "hide calls"), endpoint, k.Help, k.Quit, interrupt})
	}
	return append(m.screen().FullHelp(), []key.Binding{k.API, endpoint, k.Help, k.Quit, interrupt})
}

// rootKeys are the keys the help bar ends with on every screen (none in a
// dialog or while quitting): the way out is among them.
func (m *Model) rootKeys() int {
	if m.quitting || m.dialog() != nil {
		return 0
	}
	return 3 // API, Help, Quit: see ShortHelp
}

// shortHelpFit is the one-line help bar in width columns: the keys that
// fit, then the ellipsis when some do not. The last keep bindings (the
// root's, quit among them) stay while the screen's own are dropped from
// the end; they go last, the quit key last of all. The help bubble alone
// lets the last key overflow when only the ellipsis would not fit, and
// the screen's edge then cuts it mid-way, leaving a dangling separator.
func shortHelpFit(h help.Model, bindings []key.Binding, keep, width int) string {
	keep = min(keep, len(bindings))
	var own, kept []key.Binding
	for i, b := range bindings {
		switch {
		case !b.Enabled():
		case i < len(bindings)-keep:
			own = append(own, b)
		default:
			kept = append(kept, b)
		}
	}
	h.SetWidth(0) // measured here, not cut by the bubble
	ellipsis := h.Styles.Ellipsis.Inline(true).Render(h.Ellipsis)
	// n of the screen's own keys and the kept ones from k, in the order
	// they give way: the screen's from its end, but its first (the main
	// action); then the kept ones, but quit; then the main action.
	type cut struct{ n, k int }
	cuts := []cut{{len(own), 0}}
	for n := len(own) - 1; n >= 1; n-- {
		cuts = append(cuts, cut{n, 0})
	}
	for k := 1; k < len(kept); k++ {
		cuts = append(cuts, cut{min(1, len(own)), k})
	}
	for k := 0; k < len(kept); k++ {
		cuts = append(cuts, cut{0, max(k, len(kept)-1)})
	}
	if bar := h.ShortHelpView(append(slices.Clip(own), kept...)); lipgloss.Width(bar) <= width {
		return bar
	}
	for _, c := range cuts[1:] {
		var parts []string
		if c.n > 0 {
			parts = append(parts, h.ShortHelpView(own[:c.n]))
		}
		if c.n < len(own) || c.k > 0 {
			parts = append(parts, ellipsis) // where keys were left out
		}
		if c.k < len(kept) {
			parts = append(parts, h.ShortHelpView(kept[c.k:]))
		}
		if bar := strings.Join(parts, " "); lipgloss.Width(bar) <= width {
			return bar
		}
	}
	return ""
}

// fullHelpFit is the full help in width columns: its columns side by
// side while they fit, the others in rows below. The help bubble alone
// drops the columns past the edge, and with them the root's own keys,
// quit among them.
func fullHelpFit(h help.Model, groups [][]key.Binding, width int) string {
	measure := h
	measure.SetWidth(0) // measured here, not cut by the bubble
	var rows []string
	var row [][]key.Binding
	for _, g := range groups {
		if !slices.ContainsFunc(g, key.Binding.Enabled) {
			continue
		}
		wider := append(slices.Clip(row), g)
		if len(row) > 0 && lipgloss.Width(measure.FullHelpView(wider)) > width {
			rows = append(rows, h.FullHelpView(row))
			wider = [][]key.Binding{g}
		}
		row = wider
	}
	if len(row) > 0 {
		rows = append(rows, h.FullHelpView(row))
	}
	return strings.Join(rows, "\n")
}

// noticeText is the one line under the body: a warning, or what runs.
func (m *Model) noticeText() string {
	if m.notice != "" {
		return m.notice
	}
	if n := m.c.running; n != 0 && m.screen() != m.steps[n-1] {
		return fmt.Sprintf("Step %d is running in the background.", n)
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
		if cellWidth(line) > width {
			lines[i] = ansi.Truncate(line, width, "")
		}
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// rule is a horizontal line with a title: "── Log ───────".
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
