package tui

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// lineInput is a one-line text field: a prompt, the value, and a cursor
// in reverse video that does not blink. A value wider than the field
// scrolls sideways so that the cursor stays in view.
//
// It stands in for bubbles' textinput, whose ctrl+v reads the clipboard of
// the machine running the program: under serve, the facilitator's, not
// the attendee's. The learner's own terminal sends a paste as a bracketed
// paste (tea.PasteMsg), which the field takes; ctrl+v types nothing.
type lineInput struct {
	keys        lineKeys
	styles      lineStyles
	prompt      string
	placeholder string // shown while the value is empty
	charLimit   int    // the most characters the value holds; 0: no limit

	// widthInCells is the cells of the value shown, plus one more for the
	// cursor past its end; 0 shows all of it.
	widthInCells int

	value  []rune
	cursor int // where the next character goes: an index into value
	offset int // the first character shown
}

// lineStyles are a lineInput's looks, from the theme.
type lineStyles struct {
	prompt, text, placeholder, cursor lipgloss.Style
}

func newLineInput(keys lineKeys, styles lineStyles) lineInput {
	return lineInput{keys: keys, styles: styles}
}

// Value is the text typed, one line without control characters.
func (in *lineInput) Value() string { return string(in.value) }

// SetValue replaces the text, made one line and cut to the limit, and
// puts the cursor at its end.
func (in *lineInput) SetValue(s string) {
	in.value = in.value[:0]
	in.cursor = 0
	in.insert(oneLine(s))
	in.scroll()
}

// SetWidth sets the cells of the value shown, plus one for the cursor
// past its end.
func (in *lineInput) SetWidth(cells int) {
	in.widthInCells = max(cells, 0)
	in.scroll()
}

// Update edits the value with a key or a paste. It issues no command: no
// key reads a clipboard.
func (in *lineInput) Update(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		in.press(msg)
	case tea.PasteMsg:
		in.insert(oneLine(msg.Content))
	}
	in.scroll()
}

func (in *lineInput) press(msg tea.KeyPressMsg) {
	k := &in.keys
	switch {
	case key.Matches(msg, k.Left):
		in.cursor = max(in.cursor-1, 0)
	case key.Matches(msg, k.Right):
		in.cursor = min(in.cursor+1, len(in.value))
	case key.Matches(msg, k.WordLeft):
		in.cursor = in.wordStart()
	case key.Matches(msg, k.WordRight):
		in.cursor = in.wordEnd()
	case key.Matches(msg, k.Home):
		in.cursor = 0
	case key.Matches(msg, k.End):
		in.cursor = len(in.value)
	case key.Matches(msg, k.DeleteLeft):
		in.delete(max(in.cursor-1, 0), in.cursor)
	case key.Matches(msg, k.DeleteRight):
		in.delete(in.cursor, min(in.cursor+1, len(in.value)))
	case key.Matches(msg, k.DeleteWordLeft):
		in.delete(in.wordStart(), in.cursor)
	case key.Matches(msg, k.DeleteWordRight):
		in.delete(in.cursor, in.wordEnd())
	case key.Matches(msg, k.DeleteToHome):
		in.delete(0, in.cursor)
	case key.Matches(msg, k.DeleteToEnd):
		in.delete(in.cursor, len(in.value))
	default:
		// A key that types nothing (ctrl+v among them) has no text.
		in.insert(oneLine(msg.Text))
	}
}

// insert puts rs at the cursor, as much of it as the limit leaves room for.
func (in *lineInput) insert(rs []rune) {
	if in.charLimit > 0 {
		rs = rs[:min(len(rs), max(in.charLimit-len(in.value), 0))]
	}
	in.value = slices.Insert(in.value, in.cursor, rs...)
	in.cursor += len(rs)
}

// delete removes the characters from..to-1, before or after the cursor,
// and leaves the cursor at from.
func (in *lineInput) delete(from, to int) {
	in.value = slices.Delete(in.value, from, to)
	in.cursor = from
}

// wordStart is the start of the word before the cursor, as a shell's
// ctrl+w sees words: spaces, then what is not space.
func (in *lineInput) wordStart() int {
	i := in.cursor
	for i > 0 && unicode.IsSpace(in.value[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(in.value[i-1]) {
		i--
	}
	return i
}

// wordEnd is the end of the word after the cursor.
func (in *lineInput) wordEnd() int {
	i := in.cursor
	for i < len(in.value) && unicode.IsSpace(in.value[i]) {
		i++
	}
	for i < len(in.value) && !unicode.IsSpace(in.value[i]) {
		i++
	}
	return i
}

// oneLine is s as the field takes it, the same as bubbles' textinput did:
// a line break or a tab becomes a space; other control characters (the
// escape of an escape sequence among them) and invalid UTF-8 are dropped.
func oneLine(s string) []rune {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
		case r == '\r' || r == '\n' || r == '\t':
			rs = append(rs, ' ')
		case unicode.IsControl(r):
		default:
			rs = append(rs, r)
		}
	}
	return rs
}

// runeCells are the cells r takes on the terminal: two for most CJK and
// emoji, none for a combining mark.
func runeCells(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	return cellWidth(string(r))
}

// fieldCells are the cells the value may take, the cursor past its end
// included; 0: no limit.
func (in *lineInput) fieldCells() int {
	if in.widthInCells == 0 {
		return 0
	}
	return in.widthInCells + 1
}

// cursorCells are the cells of the cursor: the character under it, or one
// past the end.
func (in *lineInput) cursorCells() int {
	if in.cursor == len(in.value) {
		return 1
	}
	return max(runeCells(in.value[in.cursor]), 1)
}

// scroll moves the part of the value shown so that the cursor is in it,
// and shows as much of the value as fits: the field is never partly empty
// while characters are hidden on its left.
func (in *lineInput) scroll() {
	field := in.fieldCells()
	if field == 0 {
		in.offset = 0
		return
	}
	in.offset = min(in.offset, in.cursor)
	shown := in.cursorCells()
	for _, r := range in.value[in.offset:in.cursor] {
		shown += runeCells(r)
	}
	for in.offset < in.cursor && shown > field {
		shown -= runeCells(in.value[in.offset])
		in.offset++
	}
	tail := 0 // the cells from the offset to the end, cursor included
	for _, r := range in.value[in.offset:] {
		tail += runeCells(r)
	}
	if in.cursor == len(in.value) {
		tail++
	}
	for in.offset > 0 && tail+runeCells(in.value[in.offset-1]) <= field {
		in.offset--
		tail += runeCells(in.value[in.offset])
	}
}

// View is the prompt and the field, padded to the field's width.
func (in *lineInput) View() string {
	st := &in.styles
	if len(in.value) == 0 && in.placeholder != "" {
		return st.prompt.Render(in.prompt) + in.placeholderView()
	}
	field := in.fieldCells()
	// end is past the last character shown: as many as fit, the
	// cursor's always.
	end, cells := in.offset, 0
	for end < len(in.value) {
		c := runeCells(in.value[end])
		last := end + 1
		if last == len(in.value) && in.cursor == len(in.value) {
			c++ // the cursor past the end
		}
		if field != 0 && cells+c > field && end > in.cursor {
			break
		}
		end, cells = last, cells+c
	}
	if end == in.offset && in.cursor == len(in.value) {
		cells = 1 // nothing but the cursor past the end
	}
	var b strings.Builder
	b.WriteString(st.prompt.Render(in.prompt))
	b.WriteString(render(st.text, string(in.value[in.offset:in.cursor])))
	if in.cursor < len(in.value) {
		b.WriteString(st.cursor.Render(string(in.value[in.cursor])))
		b.WriteString(render(st.text, string(in.value[min(in.cursor+1, end):end])))
	} else {
		b.WriteString(st.cursor.Render(" "))
	}
	if field > cells {
		b.WriteString(st.text.Render(strings.Repeat(" ", field-cells)))
	}
	return b.String()
}

// placeholderView is the placeholder, under the cursor, cut to the field.
func (in *lineInput) placeholderView() string {
	st := &in.styles
	first, size := utf8.DecodeRuneInString(in.placeholder)
	rest := in.placeholder[size:]
	field := in.fieldCells()
	if field == 0 {
		return st.cursor.Render(string(first)) + render(st.placeholder, rest)
	}
	rest = ansi.Truncate(rest, max(field-runeCells(first), 0), "")
	pad := max(field-runeCells(first)-cellWidth(rest), 0)
	return st.cursor.Render(string(first)) + render(st.placeholder, rest+strings.Repeat(" ", pad))
}

// render is s in style st, or nothing for nothing.
func render(st lipgloss.Style, s string) string {
	if s == "" {
		return ""
	}
	return st.Render(s)
}
