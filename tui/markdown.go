package tui

import (
	"strconv"
	"strings"
	"sync"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// This file draws the lessons' markdown in the terminal: the part of
// markdown they use (headings, paragraphs, **strong**, *emphasis*, `code`,
// links, bullet and numbered lists, nested, and fenced code), wrapped to a
// width, in a theme's markdownStyles.
//
// It is written here rather than taken from a markdown library: the
// libraries register syntax highlighters, styles and HTML sanitiser tables
// when the program starts, and every command (encrypt, decrypt, mock-aws)
// paid that start-up cost though only the tutorial draws markdown.

// markdownStyles are how a theme draws markdown.
type markdownStyles struct {
	text, strong, emph, code, link lipgloss.Style
	// title is a level-1 heading, the lesson's name; its horizontal
	// padding is part of its look (a chip in the coloured themes).
	title lipgloss.Style
	// heading is any other heading; headingMarks puts "## " before it,
	// where colour alone would not say which level it is.
	heading      lipgloss.Style
	headingMarks bool
	codeBlock    lipgloss.Style
	bullet       string
	// nestIndent is how far right of its parent's bullet a nested list's
	// bullet stands.
	nestIndent int
}

// markdown renders markdown for a theme and width, keeping the results:
// the same lesson is drawn on every frame, and in a room by every
// attendee. The results are kept once for the process (renderedDocs), since
// a theme's name says all its markdown styles: every session shares them.
type markdown struct {
	docs *docCache
}

func newMarkdown() *markdown { return &markdown{docs: &renderedDocs} }

// maxCachedDocs bounds the cache; a resize makes new entries.
const maxCachedDocs = 512

// docCache is rendered markdown by theme name, width and source. It is
// safe for concurrent use.
type docCache struct {
	mu       sync.Mutex
	docs     map[string]string
	rendered int // renders done, for tests
}

// renderedDocs is the process's one docCache.
var renderedDocs docCache

func (md *markdown) render(t *theme, src string, width int) string {
	c := md.docs
	key := t.name + "|" + strconv.Itoa(width) + "|" + src
	c.mu.Lock()
	out, ok := c.docs[key]
	c.mu.Unlock()
	if ok {
		return out
	}
	// Rendered outside the lock: two sessions may render the same
	// document at once, and keep the same result.
	out = renderMarkdown(&t.md, src, width)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil || len(c.docs) >= maxCachedDocs {
		c.docs = map[string]string{}
	}
	c.docs[key] = out
	c.rendered++
	return out
}

// blockKind is what a block of markdown is.
type blockKind int

const (
	blockParagraph blockKind = iota + 1
	blockHeading
	blockItem // one list item; its nested items are blocks of their own
	blockCode // fenced code, drawn as written
)

// block is one block of a markdown document.
type block struct {
	kind   blockKind
	level  int    // a heading's level (1 to 6), an item's depth (0 at the top)
	marker string // an item's "-" or "3."
	text   string // inline markdown; for code, its lines
	// tight is an item that follows another without a blank line: no
	// blank line goes between them on screen either.
	tight bool
}

// parseMarkdown splits a document into blocks.
func parseMarkdown(src string) []block {
	var (
		blocks []block
		open   = -1   // the paragraph or item that the next line continues
		blank  = true // a blank line came since the last block
		// indents are the columns of the markers of the list items
		// enclosing the next one, outermost first.
		indents []int
	)
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.ReplaceAll(lines[i], "\t", "    ")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			open, blank = -1, true
			continue
		}
		if fence := codeFence(trimmed); fence != "" {
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[i]), fence); i++ {
				code = append(code, strings.TrimRight(lines[i], " \t"))
			}
			blocks = append(blocks, block{kind: blockCode, text: strings.Join(code, "\n")})
			open, blank = -1, false
			continue
		}
		if level, text, ok := headingLine(trimmed); ok {
			blocks = append(blocks, block{kind: blockHeading, level: level, text: text})
			open, blank = -1, false
			continue
		}
		if indent, marker, text, ok := itemLine(line); ok {
			inList := len(blocks) > 0 && blocks[len(blocks)-1].kind == blockItem
			if !inList {
				indents = indents[:0]
			}
			for len(indents) > 0 && indents[len(indents)-1] >= indent {
				indents = indents[:len(indents)-1]
			}
			blocks = append(blocks, block{kind: blockItem, level: len(indents), marker: marker, text: text, tight: inList && !blank})
			indents = append(indents, indent)
			open, blank = len(blocks)-1, false
			continue
		}
		if open >= 0 {
			blocks[open].text += " " + trimmed
			continue
		}
		blocks = append(blocks, block{kind: blockParagraph, text: trimmed})
		open, blank = len(blocks)-1, false
	}
	return blocks
}

// codeFence is the fence that opens a code block on this line, or "".
func codeFence(trimmed string) string {
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(trimmed, f) {
			return f
		}
	}
	return ""
}

// headingLine reads "## Title" (closing #s allowed).
func headingLine(trimmed string) (level int, text string, ok bool) {
	for level < len(trimmed) && trimmed[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(trimmed) && trimmed[level] != ' ') {
		return 0, "", false
	}
	text = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trimmed[level:]), "#"))
	return level, text, true
}

// itemLine reads a list item's first line: "- text", "* text", "+ text"
// or "12. text", after any indent.
func itemLine(line string) (indent int, marker, text string, ok bool) {
	rest := strings.TrimLeft(line, " ")
	indent = len(line) - len(rest)
	switch {
	case strings.HasPrefix(rest, "- "), strings.HasPrefix(rest, "* "), strings.HasPrefix(rest, "+ "):
		marker, text = rest[:1], rest[2:]
	default:
		digits := 0
		for digits < len(rest) && digits < 9 && rest[digits] >= '0' && rest[digits] <= '9' {
			digits++
		}
		if digits == 0 || !(strings.HasPrefix(rest[digits:], ". ") || strings.HasPrefix(rest[digits:], ") ")) {
			return 0, "", "", false
		}
		marker, text = rest[:digits]+".", rest[digits+2:]
	}
	text = strings.TrimSpace(text)
	return indent, marker, text, text != ""
}

// spanKind is how a run of inline text is drawn.
type spanKind int

const (
	spanText spanKind = iota
	spanStrong
	spanEmph
	spanStrongEmph
	spanCode
	spanLink
)

// span is a run of inline text of one kind; a link's carries its address.
type span struct {
	kind spanKind
	url  string
	text string
}

// parseInline splits inline markdown into spans, without its markers.
func parseInline(s string) []span {
	var (
		spans        []span
		cur          strings.Builder
		strong, emph bool
	)
	kind := func() spanKind {
		switch {
		case strong && emph:
			return spanStrongEmph
		case strong:
			return spanStrong
		case emph:
			return spanEmph
		}
		return spanText
	}
	flush := func() {
		if cur.Len() > 0 {
			spans = append(spans, span{kind: kind(), text: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isPunct(s[i+1]):
			cur.WriteByte(s[i+1])
			i += 2
			continue
		case c == '`':
			n := 1
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			ticks := s[i : i+n]
			if end := strings.Index(s[i+n:], ticks); end >= 0 {
				flush()
				code := s[i+n : i+n+end]
				if len(code) > 2 && code[0] == ' ' && code[len(code)-1] == ' ' {
					code = code[1 : len(code)-1]
				}
				spans = append(spans, span{kind: spanCode, text: code})
				i += n + end + n
				continue
			}
		case c == '[':
			if mid := strings.Index(s[i:], "]("); mid > 0 {
				if end := strings.IndexByte(s[i+mid:], ')'); end > 0 {
					flush()
					// The address follows the text, for terminals that
					// cannot follow a link.
					url, text := s[i+mid+2:i+mid+end], s[i+1:i+mid]
					spans = append(spans, span{kind: spanLink, url: url, text: text})
					if text != url {
						spans = append(spans, span{text: " "}, span{kind: spanLink, url: url, text: url})
					}
					i += mid + end + 1
					continue
				}
			}
		case c == '*' || c == '_':
			n := 1
			if i+1 < len(s) && s[i+1] == c {
				n = 2
			}
			on := &emph
			if n == 2 {
				on = &strong
			}
			if delimiterToggles(s, i, n, *on) {
				flush()
				*on = !*on
				i += n
				continue
			}
		}
		cur.WriteByte(c)
		i++
	}
	flush()
	return spans
}

// delimiterToggles reports whether the n-character run of * or _ at s[i]
// closes the emphasis it marks (when active) or opens it: it opens before
// a word and only when closed later, it closes after a word, and _ never
// does either inside a word (snake_case names stay whole).
func delimiterToggles(s string, i, n int, active bool) bool {
	before, after := byte(' '), byte(' ')
	if i > 0 {
		before = s[i-1]
	}
	if i+n < len(s) {
		after = s[i+n]
	}
	if s[i] == '_' && (isWordByte(before) && isWordByte(after)) {
		return false
	}
	if active {
		return before != ' '
	}
	if after == ' ' || i+n >= len(s) {
		return false
	}
	closing := strings.Index(s[i+n:], s[i:i+n])
	return closing > 0 && s[i+n+closing-1] != ' '
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !isWordByte(c)
}

// renderMarkdown draws a document at a width: lines never wider than it
// (a word longer than a line is cut), no blank line at either end.
func renderMarkdown(st *markdownStyles, src string, width int) string {
	width = max(width, 1)
	var out []string
	for i, b := range parseMarkdown(src) {
		if i > 0 && !b.tight {
			out = append(out, "")
		}
		switch b.kind {
		case blockParagraph:
			out = append(out, wrapSpans(st, parseInline(b.text), width)...)
		case blockHeading:
			out = append(out, headingLines(st, b, width)...)
		case blockItem:
			indent := strings.Repeat(" ", b.level*st.nestIndent)
			marker := st.bullet
			if marker == "" || b.marker[len(b.marker)-1] == '.' {
				marker = b.marker
			}
			hang := ansi.StringWidth(indent + marker + " ")
			for j, l := range wrapSpans(st, parseInline(b.text), max(width-hang, 1)) {
				prefix := strings.Repeat(" ", hang)
				if j == 0 {
					prefix = indent + st.text.Render(marker+" ")
				}
				out = append(out, prefix+l)
			}
		case blockCode:
			for _, l := range strings.Split(b.text, "\n") {
				for _, part := range strings.Split(ansi.Hardwrap(l, max(width-2, 1), true), "\n") {
					out = append(out, "  "+st.codeBlock.Render(part))
				}
			}
		}
	}
	return strings.Join(out, "\n")
}

// headingLines draws a heading: its text without inline markers, wrapped,
// in the heading's style.
func headingLines(st *markdownStyles, b block, width int) []string {
	var plain strings.Builder
	for _, s := range parseInline(b.text) {
		plain.WriteString(s.text)
	}
	style, text := st.heading, plain.String()
	if b.level == 1 {
		style = st.title
	} else if st.headingMarks {
		text = strings.Repeat("#", b.level) + " " + text
	}
	pad := style.GetHorizontalFrameSize()
	lines := wrapSpans(&markdownStyles{}, []span{{text: text}}, max(width-pad, 1))
	for i, l := range lines {
		lines[i] = style.Render(ansi.Strip(l))
	}
	return lines
}

// piece is a part of a word in one style.
type piece struct {
	kind spanKind
	url  string
	text string
}

// word is what a line does not break: pieces with no space between them;
// space is the piece of blank that goes before it on a line, in the style
// of the text it stood in.
type word struct {
	space  piece
	pieces []piece
	width  int
}

// words cuts spans at their spaces.
func words(spans []span) []word {
	var (
		out     []word
		cur     word
		pending *piece // the space seen since the last word
	)
	end := func() {
		if len(cur.pieces) > 0 {
			out = append(out, cur)
		}
		cur = word{}
	}
	for _, s := range spans {
		for j, part := range strings.Split(s.text, " ") {
			if j > 0 {
				end()
				pending = &piece{kind: s.kind, url: s.url, text: " "}
			}
			if part == "" {
				continue
			}
			if len(cur.pieces) == 0 && pending != nil {
				cur.space = *pending
			}
			cur.pieces = append(cur.pieces, piece{kind: s.kind, url: s.url, text: part})
			cur.width += ansi.StringWidth(part)
		}
	}
	end()
	return out
}

// wrapSpans fills lines of at most width cells with the words of spans
// and draws each line in st.
func wrapSpans(st *markdownStyles, spans []span, width int) []string {
	var (
		lines [][]piece
		line  []piece
		used  int
	)
	newLine := func() {
		if len(line) > 0 {
			lines = append(lines, line)
		}
		line, used = nil, 0
	}
	for _, w := range words(spans) {
		if used > 0 && used+1+w.width > width {
			newLine()
		}
		if used > 0 {
			line = append(line, w.space)
			used++
		}
		if w.width <= width-used {
			line = append(line, w.pieces...)
			used += w.width
			continue
		}
		// A word wider than the line: cut it, cell by cell.
		for _, p := range w.pieces {
			for _, r := range p.text {
				rw := ansi.StringWidth(string(r))
				if used+rw > width && used > 0 {
					newLine()
				}
				line = append(line, piece{kind: p.kind, url: p.url, text: string(r)})
				used += rw
			}
		}
	}
	newLine()
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = drawPieces(st, l)
	}
	return out
}

// drawPieces draws a line: each run of pieces of one kind in its style.
func drawPieces(st *markdownStyles, line []piece) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		j, text := i+1, line[i].text
		for ; j < len(line) && line[j].kind == line[i].kind && line[j].url == line[i].url; j++ {
			text += line[j].text
		}
		b.WriteString(st.style(line[i]).Render(text))
		i = j
	}
	return b.String()
}

// style is the style of a piece of inline text.
func (st *markdownStyles) style(p piece) lipgloss.Style {
	switch p.kind {
	case spanStrong:
		return st.strong
	case spanEmph:
		return st.emph
	case spanStrongEmph:
		return st.strong.Italic(true)
	case spanCode:
		return st.code
	case spanLink:
		return st.link.Hyperlink(p.url)
	}
	return st.text
}
