package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// logCapacity bounds each step's log: older lines are dropped, so memory
// and the cost of drawing stay flat however long a session runs.
const logCapacity = 2000

// ring is a fixed-capacity buffer that keeps the newest items. It grows
// as items come, up to its capacity: a served room holds hundreds of
// sessions, each with a log per step and an API pane, most of them short.
type ring[T any] struct {
	items    []T
	capacity int
	start    int // index of the oldest item
	n        int
	dropped  int // how many items were pushed out
}

func newRing[T any](capacity int) ring[T] {
	return ring[T]{capacity: capacity}
}

func (r *ring[T]) push(v T) {
	if r.capacity <= 0 {
		return
	}
	if len(r.items) < r.capacity {
		// Not full yet, so not wrapped: the oldest is the first.
		r.items = append(r.items, v)
		r.n++
		return
	}
	r.items[r.start] = v
	r.start = (r.start + 1) % len(r.items)
	r.dropped++
}

func (r *ring[T]) len() int { return r.n }

// at returns the i-th item, 0 being the oldest kept.
func (r *ring[T]) at(i int) T { return r.items[(r.start+i)%len(r.items)] }

// logEntry is one status line as the log keeps it.
type logEntry struct {
	at    time.Time
	level steps.Level
	text  string

	// drawn is the entry's lines as last drawn, in the theme drawnTheme at
	// drawnWidth: an entry never changes, and every frame draws the visible
	// ones again (in a served room, that was a third of the drawing).
	drawn      []string
	drawnTheme string
	drawnWidth int
}

// lines is the entry drawn by renderLogEntry, kept until the theme or the
// width changes. The slice is shared: callers copy it before appending.
func (e *logEntry) lines(t *theme, width int) []string {
	if e.drawn == nil || e.drawnTheme != t.name || e.drawnWidth != width {
		e.drawn, e.drawnTheme, e.drawnWidth = slices.Clip(renderLogEntry(t, *e, width)), t.name, width
	}
	return e.drawn
}

// logPane is a scrollable view of a step's status lines. Drawing it costs
// the number of visible lines, never the length of the history.
type logPane struct {
	entries ring[*logEntry]
	// offset is how many entries the view is scrolled up from the newest;
	// 0 follows new lines as they arrive.
	offset int
}

func newLogPane() logPane { return logPane{entries: newRing[*logEntry](logCapacity)} }

func (p *logPane) add(e logEntry) {
	p.entries.push(&e)
	if p.offset > 0 {
		// Keep the lines the reader is looking at in place.
		p.offset = min(p.offset+1, p.entries.len()-1)
	}
}

// scroll moves the view n entries towards older lines (n < 0: newer).
func (p *logPane) scroll(n int) {
	p.offset = max(0, min(p.offset+n, p.entries.len()-1))
}

// rows is how many lines the newest entries fill at width, up to limit.
func (p *logPane) rows(t *theme, width, limit int) int {
	n := 0
	for i := p.entries.len() - 1; i >= 0 && n < limit; i-- {
		n += len(p.entries.at(i).lines(t, width))
	}
	return min(n, limit)
}

// view draws the pane in exactly height lines of at most width columns.
func (p *logPane) view(t *theme, k *keyMap, width, height int) string {
	if height <= 0 || width <= 0 {
		return ""
	}
	if p.entries.len() == 0 {
		return fitHeight(t.subtle.Render(truncate("No status lines yet.", width, t)), height)
	}
	rows := height
	if p.offset > 0 {
		rows-- // for the line that says how many are below
	}
	// Walk back from the newest visible entry while whole entries fit: the
	// pane starts at the start of a line, never with the tail of one.
	var lines []string
	newest := p.entries.len() - 1 - p.offset
	for i := newest; i >= 0; i-- {
		rendered := p.entries.at(i).lines(t, width)
		if len(lines)+len(rendered) > rows {
			if len(lines) == 0 {
				lines = slices.Clone(rendered[:rows]) // taller than the pane: its start
			}
			break
		}
		lines = slices.Concat(rendered, lines)
	}
	// Scrolled up to the oldest line with room left: fill the pane with
	// the lines after it, as a pager does, rather than leave it blank.
	below := p.offset
	for i := newest + 1; i < p.entries.len() && len(lines) < rows; i++ {
		lines = append(lines, p.entries.at(i).lines(t, width)...)
		if len(lines) <= rows {
			below--
		}
	}
	if len(lines) > rows {
		lines = lines[:rows]
	}
	if below > 0 {
		for len(lines) < rows {
			lines = append(lines, "")
		}
		lines = append(lines, t.notice.Render(truncate(fmt.Sprintf("%d newer lines below %s %s", below, t.dash, k.LogDown.Help().Key), width, t)))
	}
	return fitHeight(strings.Join(lines, "\n"), height)
}

// renderLogEntry draws one entry: time, level marker, text, wrapped under
// the text's first column.
func renderLogEntry(t *theme, e logEntry, width int) []string {
	mark, style := t.level(e.level)
	stamp := text.Clock(e.at)
	prefixWidth := len(stamp) + 1 + ansi.StringWidth(mark) + 1
	textWidth := width - prefixWidth
	textStyle := t.text
	if e.level != steps.LevelInfo {
		textStyle = style
	}
	if textWidth < 10 {
		// Too narrow for columns: drop the time.
		return wrapStyled(mark+" "+text.OneLine(e.text), width, style)
	}
	wrapped := strings.Split(text.Wrap(text.OneLine(e.text), textWidth), "\n")
	out := make([]string, len(wrapped))
	for i, w := range wrapped {
		if i == 0 {
			out[i] = t.logTime.Render(stamp) + " " + style.Render(mark) + " " + textStyle.Render(w)
			continue
		}
		out[i] = strings.Repeat(" ", prefixWidth) + textStyle.Render(w)
	}
	return out
}

func wrapStyled(s string, width int, style interface{ Render(...string) string }) []string {
	parts := strings.Split(text.Wrap(s, width), "\n")
	for i := range parts {
		parts[i] = style.Render(parts[i])
	}
	return parts
}

// fitHeight pads or cuts s to exactly h lines.
func fitHeight(s string, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// truncate cuts plain text to width columns, marking the cut.
func truncate(s string, width int, t *theme) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, t.ellipsis)
}
