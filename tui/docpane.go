package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/viewport"
	"charm.land/glamour/v2"
	"github.com/charmbracelet/x/ansi"
)

// docPane is a scrollable text: a lesson, the welcome text, the summary.
// Its content is rebuilt only when its key (what, how wide, which theme)
// changes, so scrolling survives redraws.
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

// view draws the pane; when more text is below, its last line says so.
func (d *docPane) view(t *theme) string {
	out := d.vp.View()
	if d.vp.AtBottom() || d.vp.Height() < 3 {
		return out
	}
	lines := strings.Split(out, "\n")
	hint := t.notice.Render(truncate("↓/j more", d.vp.Width(), t))
	if t.name == ThemePlain {
		hint = t.notice.Render(truncate("(j: more)", d.vp.Width(), t))
	}
	lines[len(lines)-1] = hint
	return strings.Join(lines, "\n")
}

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
		out = trimBlankLines(rendered)
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

// maxLineWidth is the width of the widest line of s, in cells.
func maxLineWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}
