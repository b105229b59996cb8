package tui

import (
	"fmt"
	"regexp"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/glamour/v2"
	"github.com/charmbracelet/x/ansi"

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

// markdown renders markdown with glamour for a theme and width, keeping
// the results: rendering is slow and the same lesson is drawn many times.
type markdown struct {
	cache map[string]string
}

func newMarkdown() *markdown { return &markdown{cache: map[string]string{}} }

// maxCachedDocs bounds the cache; a resize makes new entries.
const maxCachedDocs = 64

func (md *markdown) render(t *theme, src string, width int) string {
	key := fmt.Sprintf("%s|%d|%s", t.name, width, src)
	if out, ok := md.cache[key]; ok {
		return out
	}
	out := src
	// Glamour sometimes lets a list item's line run one column past the
	// wrap width, and the pane would cut its last character: wrap a little
	// narrower until every line fits.
	for wrapW := width; wrapW > max(width-4, 0); wrapW-- {
		r, err := glamour.NewTermRenderer(glamour.WithStyles(t.glamour), glamour.WithWordWrap(wrapW))
		if err != nil {
			break
		}
		rendered, err := r.Render(src)
		if err != nil {
			break
		}
		out = indentListItems(trimBlankLines(rendered), width)
		if maxLineWidth(out) <= width {
			break
		}
	}
	if len(md.cache) >= maxCachedDocs {
		clear(md.cache)
	}
	md.cache[key] = out
	return out
}

// listItem is the start of a list item as glamour draws it: its indent
// and its bullet ("• ", or "1. " for a numbered list).
var listItem = regexp.MustCompile(`^( *)(• |- |\d+\. )`)

// indentListItems wraps each list item of rendered markdown under its
// first word, as a hanging indent: glamour starts a wrapped item's next
// lines under the bullet, where they read as text outside the list.
func indentListItems(s string, width int) string {
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); {
		m := listItem.FindStringSubmatch(stripANSI(lines[i]))
		if m == nil {
			out = append(out, lines[i])
			i++
			continue
		}
		indent, hang := len(m[1]), ansi.StringWidth(m[0])
		// The item's next lines: neither blank, nor another item, nor
		// indented further (a nested block).
		j := i + 1
		for ; j < len(lines); j++ {
			plain := stripANSI(lines[j])
			if strings.TrimSpace(plain) == "" || listItem.MatchString(plain) || len(plain)-len(strings.TrimLeft(plain, " ")) > indent {
				break
			}
		}
		if j == i+1 || width-hang < 10 {
			out = append(out, lines[i:j]...)
			i = j
			continue
		}
		words := []string{ansi.TruncateLeft(lines[i], hang, "")}
		for _, l := range lines[i+1 : j] {
			words = append(words, strings.TrimLeft(ansi.TruncateLeft(l, indent, ""), " "))
		}
		wrapped := strings.Split(ansi.Wrap(strings.Join(words, " "), width-hang, ""), "\n")
		for k, w := range wrapped {
			prefix := strings.Repeat(" ", hang)
			if k == 0 {
				prefix = ansi.Truncate(lines[i], hang, "")
			}
			out = append(out, prefix+strings.TrimRight(w, " "))
		}
		i = j
	}
	return strings.Join(out, "\n")
}

// trimBlankLines drops the blank lines glamour puts around a document and
// the spaces it pads lines with.
func trimBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	for len(lines) > 0 && strings.TrimSpace(stripANSI(lines[0])) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(stripANSI(lines[len(lines)-1])) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n")
}

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

// maxLineWidth is the width of the widest line of s, in cells.
func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}
