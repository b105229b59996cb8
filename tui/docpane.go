package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/assets"
)

// docPane is a scrollable text: a lesson, the welcome text, the summary.
// Its content is rebuilt only when its key (what, how wide, which theme)
// changes, so scrolling survives redraws, and only when it is drawn or
// scrolled, so a resize costs nothing for the screens out of sight.
type docPane struct {
	vp  viewport.Model
	key string
}

func newDocPane() docPane {
	vp := viewport.New()
	vp.MouseWheelEnabled = false // the root routes the wheel
	return docPane{vp: vp}
}

// set sizes the pane and, when key changed, replaces its content.
func (d *docPane) set(key string, width, height int, render func(width int) string) {
	width, height = max(width, 1), max(height, 1)
	d.vp.SetWidth(width)
	d.vp.SetHeight(height)
	if d.key != key {
		d.key = key
		d.vp.SetContent(render(width))
	}
}

// view draws the pane; when more text is below, its last line says so,
// and names the key that scrolls down.
func (d *docPane) view(t *theme, k *keyMap) string {
	out := d.vp.View()
	if d.vp.AtBottom() || d.vp.Height() < 3 {
		return out
	}
	lines := strings.Split(out, "\n")
	more := k.ScrollDown.Help().Key + " more"
	if t.name == ThemePlain {
		more = "(" + k.ScrollDown.Help().Key + ": more)"
	}
	lines[len(lines)-1] = t.notice.Render(truncate(more, d.vp.Width(), t))
	return strings.Join(lines, "\n")
}

// scrollKey scrolls the pane for the scroll keys: a line, or with the log
// keys (on screens without a log) a page. It reports whether msg was one.
func (d *docPane) scrollKey(msg tea.KeyPressMsg, k *keyMap) bool {
	page := max(d.vp.Height()-2, 1)
	switch {
	case key.Matches(msg, k.ScrollUp):
		d.vp.ScrollUp(1)
	case key.Matches(msg, k.ScrollDown):
		d.vp.ScrollDown(1)
	case key.Matches(msg, k.LogUp):
		d.vp.ScrollUp(page)
	case key.Matches(msg, k.LogDown):
		d.vp.ScrollDown(page)
	default:
		return false
	}
	return true
}

// wheelLines is how far one notch of the mouse wheel scrolls.
const wheelLines = 3

// wheel scrolls the pane for the mouse wheel.
func (d *docPane) wheel(msg tea.MouseWheelMsg) {
	switch msg.Button {
	case tea.MouseWheelUp:
		d.vp.ScrollUp(wheelLines)
	case tea.MouseWheelDown:
		d.vp.ScrollDown(wheelLines)
	}
}

// scrollKeys are the scroll keys of a screen whose only text is a docPane,
// for its help.
func scrollKeys(k *keyMap) []key.Binding { return []key.Binding{k.ScrollUp, k.ScrollDown} }

// sourcesView lists the AWS documentation pages behind a text: each title,
// then its address whole (cut into lines, never shortened), so that a
// learner can read it and type it or click it. It is "" without sources.
func sourcesView(t *theme, sources []assets.Source, width int) string {
	if len(sources) == 0 {
		return ""
	}
	width = max(width, 10)
	lines := []string{t.rule("Sources", width)}
	for _, s := range sources {
		lines = append(lines, wrapStyled(t.markInfo+" "+s.Title, width, t.text)...)
		link := t.link.Hyperlink(s.URL)
		for rest := s.URL; rest != ""; {
			n := min(len(rest), width-2)
			if cut := strings.LastIndex(rest[:n], "/"); n < len(rest) && cut > n/2 {
				n = cut + 1 // cut after a slash, where an address reads best
			}
			lines = append(lines, "  "+link.Render(rest[:n]))
			rest = rest[n:]
		}
	}
	return strings.Join(lines, "\n")
}
