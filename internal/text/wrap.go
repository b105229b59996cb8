package text

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Wrap word-wraps plain text to width columns. It breaks lines at spaces
// only, never inside a command line option or at a hyphen, so that
// commands and names stay whole where they fit; a word longer than a line
// is cut after its last '/', ':' or '_' that fits (ARNs, paths, names of
// algorithm suites), else anywhere.
func Wrap(s string, width int) string {
	width = max(width, 1)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, wrapParagraph(para, width)...)
	}
	return strings.Join(out, "\n")
}

func wrapParagraph(s string, width int) []string {
	if ansi.StringWidth(s) <= width {
		return []string{s}
	}
	// Keep the paragraph's indentation on its continuation lines.
	body := strings.TrimLeft(s, " ")
	indent := s[:len(s)-len(body)]
	if len(indent) >= width/2 {
		indent = ""
	}
	var lines []string
	line := indent
	lineW := len(indent)
	flush := func() {
		lines = append(lines, strings.TrimRight(line, " "))
		line, lineW = indent, len(indent)
	}
	for _, word := range strings.Fields(body) {
		w := ansi.StringWidth(word)
		sep := 0
		if lineW > len(indent) {
			sep = 1
		}
		if lineW+sep+w <= width {
			if sep == 1 {
				line += " "
			}
			line += word
			lineW += sep + w
			continue
		}
		if lineW > len(indent) {
			flush()
		}
		for lineW+w > width {
			room := width - lineW
			cut := breakAt(word, room)
			line += ansi.Cut(word, 0, cut)
			lineW += cut
			flush()
			word = ansi.Cut(word, cut, w)
			w -= cut
		}
		line += word
		lineW += w
	}
	if lineW > len(indent) {
		flush()
	}
	return lines
}

// breakAt is where to cut a word too long for room columns: after the last
// '/', ':' or '_' within room, or at room.
func breakAt(word string, room int) int {
	prefix := ansi.Cut(word, 0, room)
	if i := strings.LastIndexAny(prefix, "/:_"); i > room/3 {
		return ansi.StringWidth(prefix[:i+1])
	}
	return max(room, 1)
}
