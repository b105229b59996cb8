package tui

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// cellWidth is ansi.StringWidth(s): the cells s takes on the terminal.
// The frame measures every line it draws, after every message, and
// ansi.StringWidth looks for grapheme clusters at each character; a line
// of printable ASCII, SGR or hyperlink sequences and the themes' rules,
// marks and spinner (narrowRune), most of the tutorial's, is measured rune
// by rune instead. Anything else, such as a wide or a combining
// character, goes to ansi.StringWidth.
func cellWidth(s string) int {
	w := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			w++
		case c == ansi.ESC && i+1 < len(s) && s[i+1] == '[':
			// CSI: parameter bytes, then a final byte (SGR: "\x1b[1;31m").
			j := i + 2
			for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
				j++
			}
			if j == len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return ansi.StringWidth(s)
			}
			i = j
		case c == ansi.ESC && i+1 < len(s) && s[i+1] == ']':
			// OSC (a hyperlink): printable bytes up to BEL or ST.
			j := i + 2
			for j < len(s) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			switch {
			case j < len(s) && s[j] == ansi.BEL:
			case j+1 < len(s) && s[j] == ansi.ESC && s[j+1] == '\\':
				j++
			default:
				return ansi.StringWidth(s)
			}
			i = j
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !narrowRune(r) {
				return ansi.StringWidth(s)
			}
			w++
			i += size - 1
		default:
			return ansi.StringWidth(s)
		}
	}
	return w
}

// narrowRune reports whether r is one of the characters the themes draw
// with (rules, boxes, bars, marks, arrows, the spinner's dots): each one
// cell wide, and never part of a cluster with a neighbour but with a
// combining or joining character, which cellWidth hands over.
func narrowRune(r rune) bool {
	switch {
	case r >= 0x2500 && r <= 0x259f: // box drawing, blocks
		return true
	case r >= 0x2800 && r <= 0x28ff: // braille: the spinner
		return true
	case r >= 0x2190 && r <= 0x2193: // arrows
		return true
	}
	switch r {
	case '·', '—', '•', '…', '▶', '▸', '▼', '✓', '✗':
		return true
	}
	return false
}
