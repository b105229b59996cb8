package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"cse-workshop/steps"
)

// Theme names accepted by Options.Theme.
const (
	ThemeAuto = "auto"
	// ThemeHighContrast is for a room: full-strength colours, every pair of
	// them at least 7:1 (WCAG AAA), bold text and more air. It cannot make
	// the font larger; the terminal's own zoom does.
	ThemeHighContrast = "high-contrast"
	// ThemeProjector is the old name of ThemeHighContrast, still accepted.
	ThemeProjector = "projector"
	ThemePlain     = "plain"
)

// theme holds every style of the tutorial, so that the three looks (the
// default, high contrast and plain) differ in this file only.
type theme struct {
	name string // "dark", "light", "high-contrast-dark", "high-contrast-light", "plain"

	// Markers: ASCII words in plain, symbols elsewhere.
	markInfo, markSuccess, markWarn, markError string
	markCurrent, markDone, markTodo            string
	dash, ellipsis                             string

	// gap is the number of blank lines between sections; pad the columns
	// left and right of each pane's text. High contrast spaces both out.
	gap, pad int

	border lipgloss.Border

	text, subtle, bold   lipgloss.Style
	title, screenTitle   lipgloss.Style
	badgeDemo, badgeLive lipgloss.Style
	heading              lipgloss.Style
	label, value         lipgloss.Style
	cursor               lipgloss.Style // a text input's: the value's, reversed
	highlight            lipgloss.Style // the facts the lesson is about
	notice, warn         lipgloss.Style
	link                 lipgloss.Style // the address of a documentation page
	success, failure     lipgloss.Style
	successBox, failBox  lipgloss.Style
	infoBox              lipgloss.Style
	successBar           lipgloss.Style
	dialog               lipgloss.Style
	pane, paneTitle      lipgloss.Style
	logTime              lipgloss.Style
	logInfo, logSuccess  lipgloss.Style
	logWarn, logError    lipgloss.Style
	choice, chosen       lipgloss.Style
	right, wrong         lipgloss.Style
	spinner              lipgloss.Style
	progressFull         color.Color
	progressEmpty        color.Color
	progressFullChar     rune
	progressEmptyChar    rune
	help                 help.Styles
	md                   markdownStyles // the lessons
}

// palette is what differs between the coloured themes.
type palette struct {
	text, subtle, accent, info, success, warn, failure, highlightFG, highlightBG color.Color
	// onColour is text on a coloured background (badges, the success bar).
	onColour color.Color
	// background is the terminal background the palette is drawn for:
	// text without a background of its own stands on it.
	background color.Color
	// The lessons' own colours: their text, the chip of their title and
	// their other headings.
	lessonText, titleFG, titleBG, lessonHeading color.Color
}

var (
	darkPalette = palette{
		text: lipgloss.Color("#E4E4E4"), subtle: lipgloss.Color("#9E9E9E"),
		accent: lipgloss.Color("#FFAF5F"), info: lipgloss.Color("#5FAFFF"),
		success: lipgloss.Color("#5FD787"), warn: lipgloss.Color("#FFD75F"),
		failure:     lipgloss.Color("#FF6B6B"),
		highlightFG: lipgloss.Color("#1C1C1C"), highlightBG: lipgloss.Color("#FFD75F"),
		onColour: lipgloss.Color("#1C1C1C"), background: lipgloss.Color("#1C1C1C"),
		lessonText: lipgloss.Color("252"), lessonHeading: lipgloss.Color("39"),
		titleFG: lipgloss.Color("228"), titleBG: lipgloss.Color("63"),
	}
	lightPalette = palette{
		text: lipgloss.Color("#1C1C1C"), subtle: lipgloss.Color("#5F5F5F"),
		accent: lipgloss.Color("#AF5F00"), info: lipgloss.Color("#005FAF"),
		success: lipgloss.Color("#00875F"), warn: lipgloss.Color("#875F00"),
		failure:     lipgloss.Color("#AF0000"),
		highlightFG: lipgloss.Color("#000000"), highlightBG: lipgloss.Color("#FFD75F"),
		onColour: lipgloss.Color("#FFFFFF"), background: lipgloss.Color("#FFFFFF"),
		lessonText: lipgloss.Color("234"), lessonHeading: lipgloss.Color("27"),
		titleFG: lipgloss.Color("228"), titleBG: lipgloss.Color("63"),
	}
	// The high-contrast palettes have no grey: everything is full
	// strength, and every colour reaches 7:1 against the background and
	// against the text drawn on it (theme_test.go measures it).
	highContrastDarkPalette = palette{
		text: lipgloss.Color("#FFFFFF"), subtle: lipgloss.Color("#FFFFFF"),
		accent: lipgloss.Color("#FFAF00"), info: lipgloss.Color("#5FD7FF"),
		success: lipgloss.Color("#00FF5F"), warn: lipgloss.Color("#FFFF00"),
		failure:     lipgloss.Color("#FF8787"),
		highlightFG: lipgloss.Color("#000000"), highlightBG: lipgloss.Color("#FFFF00"),
		onColour: lipgloss.Color("#000000"), background: lipgloss.Color("#000000"),
	}
	highContrastLightPalette = palette{
		text: lipgloss.Color("#000000"), subtle: lipgloss.Color("#000000"),
		accent: lipgloss.Color("#8700AF"), info: lipgloss.Color("#0000AF"),
		success: lipgloss.Color("#005F00"), warn: lipgloss.Color("#5F3F00"),
		failure:     lipgloss.Color("#AF0000"),
		highlightFG: lipgloss.Color("#FFFFFF"), highlightBG: lipgloss.Color("#000000"),
		onColour: lipgloss.Color("#FFFFFF"), background: lipgloss.Color("#FFFFFF"),
	}
)

// newTheme builds the theme called name ("auto", "high-contrast" or its old
// name "projector", or "plain") for a dark or light terminal.
func newTheme(name string, dark bool) theme {
	switch name {
	case ThemePlain:
		return plainTheme()
	case ThemeHighContrast, ThemeProjector:
		if dark {
			return colourTheme("high-contrast-dark", highContrastDarkPalette, true)
		}
		return colourTheme("high-contrast-light", highContrastLightPalette, true)
	default:
		if dark {
			return colourTheme("dark", darkPalette, false)
		}
		return colourTheme("light", lightPalette, false)
	}
}

func colourTheme(name string, p palette, highContrast bool) theme {
	s := lipgloss.NewStyle
	t := theme{
		name:     name,
		markInfo: "•", markSuccess: "✓", markWarn: "!", markError: "✗",
		markCurrent: "▸", markDone: "✓", markTodo: "·",
		dash: "—", ellipsis: "…",
		gap: 1, pad: 1,
		border:            lipgloss.RoundedBorder(),
		progressFullChar:  '█',
		progressEmptyChar: '░',
	}
	t.text = s().Foreground(p.text)
	t.subtle = s().Foreground(p.subtle)
	t.bold = s().Foreground(p.text).Bold(true)
	t.title = s().Foreground(p.accent).Bold(true)
	t.screenTitle = s().Foreground(p.text).Bold(true)
	t.badgeDemo = s().Foreground(p.onColour).Background(p.info).Bold(true).Padding(0, 1)
	t.badgeLive = s().Foreground(p.onColour).Background(p.warn).Bold(true).Padding(0, 1)
	t.heading = s().Foreground(p.accent).Bold(true)
	t.label = s().Foreground(p.subtle)
	t.value = s().Foreground(p.text).Bold(true)
	t.cursor = t.value.Reverse(true)
	t.highlight = s().Foreground(p.highlightFG).Background(p.highlightBG).Bold(true)
	t.notice = s().Foreground(p.info).Bold(true)
	t.link = s().Foreground(p.info).Underline(true)
	t.warn = s().Foreground(p.warn).Bold(true)
	t.success = s().Foreground(p.success).Bold(true)
	t.failure = s().Foreground(p.failure).Bold(true)
	t.successBox = s().Foreground(p.success).Bold(true).
		Border(lipgloss.ThickBorder()).BorderForeground(p.success).Padding(0, 1)
	t.failBox = s().Foreground(p.text).
		Border(lipgloss.ThickBorder()).BorderForeground(p.failure).Padding(0, 1)
	t.infoBox = s().Border(t.border).BorderForeground(p.info).Padding(0, 1)
	t.successBar = s().Foreground(p.onColour).Background(p.success).Bold(true)
	t.dialog = s().Foreground(p.text).
		Border(lipgloss.DoubleBorder()).BorderForeground(p.accent).Padding(1, 2)
	t.pane = s().Border(t.border).BorderForeground(p.subtle)
	t.paneTitle = s().Foreground(p.accent).Bold(true)
	t.logTime = s().Foreground(p.subtle)
	t.logInfo = s().Foreground(p.info)
	t.logSuccess = s().Foreground(p.success).Bold(true)
	t.logWarn = s().Foreground(p.warn).Bold(true)
	t.logError = s().Foreground(p.failure).Bold(true)
	t.choice = s().Foreground(p.text)
	t.chosen = s().Foreground(p.accent).Bold(true)
	t.right = s().Foreground(p.success).Bold(true)
	t.wrong = s().Foreground(p.failure).Bold(true)
	t.spinner = s().Foreground(p.accent).Bold(true)
	t.progressFull = p.success
	t.progressEmpty = p.subtle
	t.help = help.Styles{
		ShortKey:       s().Foreground(p.accent).Bold(true),
		ShortDesc:      s().Foreground(p.subtle),
		ShortSeparator: s().Foreground(p.subtle),
		Ellipsis:       s().Foreground(p.subtle),
		FullKey:        s().Foreground(p.accent).Bold(true),
		FullDesc:       s().Foreground(p.subtle),
		FullSeparator:  s().Foreground(p.subtle),
	}
	lesson := s().Foreground(p.lessonText)
	t.md = markdownStyles{
		text: lesson, strong: lesson.Bold(true), emph: lesson.Italic(true),
		// Code in the lessons is names (APIs, files, fields): colour them,
		// no chips, which would make a paragraph of names hard to read.
		code:  s().Foreground(p.info),
		link:  t.link,
		title: s().Foreground(p.titleFG).Background(p.titleBG).Bold(true).Padding(0, 1),
		// The headings below the title say their level with marks.
		heading: s().Foreground(p.lessonHeading).Bold(true), headingMarks: true,
		codeBlock: t.subtle,
		bullet:    "•", nestIndent: 2,
	}
	if highContrast {
		// Readable from the back of a room: bold everywhere, no faint
		// text, more air between the parts of the screen, and no colour
		// but the palette's, in the lesson too.
		t.gap, t.pad = 2, 2
		t.text = t.text.Bold(true)
		t.label = t.label.Bold(true)
		t.logTime = t.logTime.Bold(true)
		t.logInfo = t.logInfo.Bold(true)
		t.choice = t.choice.Bold(true)
		t.help.ShortDesc = t.help.ShortDesc.Bold(true)
		t.help.FullDesc = t.help.FullDesc.Bold(true)
		t.progressEmptyChar = '─'
		accent := s().Foreground(p.accent).Bold(true)
		t.md = markerlessMarkdown(t.text, accent, accent, t.link.Bold(true))
	}
	return t
}

// plainTheme is for NO_COLOR: no colour at all; structure comes from
// spacing, bold and ASCII markers, so that it reads the same in a log file.
func plainTheme() theme {
	s := lipgloss.NewStyle
	b := s().Bold(true)
	t := theme{
		name:     ThemePlain,
		markInfo: "[..]", markSuccess: "[OK]", markWarn: "[!!]", markError: "[XX]",
		markCurrent: ">", markDone: "+", markTodo: "-",
		dash: "-", ellipsis: "...",
		gap: 1, pad: 1,
		border:            lipgloss.ASCIIBorder(),
		progressFullChar:  '#',
		progressEmptyChar: '.',
	}
	t.text, t.subtle, t.bold = s(), s(), b
	t.title, t.screenTitle, t.heading = b, b, b
	t.badgeDemo = b.Padding(0, 1).Border(lipgloss.ASCIIBorder(), false, true)
	t.badgeLive = t.badgeDemo
	t.label, t.value = s(), b
	t.cursor = b.Reverse(true)
	t.highlight = b.Underline(true)
	t.notice, t.warn = b, b
	t.link = s().Underline(true)
	t.success, t.failure = b, b
	t.successBox = b.Border(lipgloss.ASCIIBorder()).Padding(0, 1)
	t.failBox = s().Border(lipgloss.ASCIIBorder()).Padding(0, 1)
	t.infoBox = s().Border(lipgloss.ASCIIBorder()).Padding(0, 1)
	t.successBar = b.Reverse(true)
	t.dialog = s().Border(lipgloss.ASCIIBorder()).Padding(1, 2)
	t.pane = s().Border(t.border)
	t.paneTitle = b
	t.logTime = s()
	t.logInfo, t.logSuccess, t.logWarn, t.logError = s(), b, b, b
	t.choice, t.chosen = s(), b
	t.right, t.wrong = b, b
	t.spinner = b
	t.progressFull, t.progressEmpty = lipgloss.NoColor{}, lipgloss.NoColor{}
	t.help = help.Styles{
		ShortKey: b, ShortDesc: s(), ShortSeparator: s(), Ellipsis: s(),
		FullKey: b, FullDesc: s(), FullSeparator: s(),
	}
	t.md = markerlessMarkdown(s(), b, s(), t.link)
	return t
}

// markerlessMarkdown draws markdown without the markers of the source (#,
// **, `): bold says what they said. Nested lists stand further in, to be
// told apart without colour.
func markerlessMarkdown(text, heading, code, link lipgloss.Style) markdownStyles {
	return markdownStyles{
		text: text, strong: text.Bold(true), emph: text.Italic(true),
		code: code, link: link,
		title: heading, heading: heading,
		codeBlock: code,
		bullet:    "•", nestIndent: 4,
	}
}

// level returns the marker and style of a status line's level.
func (t theme) level(l steps.Level) (string, lipgloss.Style) {
	switch l {
	case steps.LevelSuccess:
		return t.markSuccess, t.logSuccess
	case steps.LevelWarn:
		return t.markWarn, t.logWarn
	case steps.LevelError:
		return t.markError, t.logError
	default:
		return t.markInfo, t.logInfo
	}
}

func hex(c color.Color) string {
	r, g, b, _ := c.RGBA()
	const digits = "0123456789ABCDEF"
	out := []byte{'#', 0, 0, 0, 0, 0, 0}
	for i, v := range []uint32{r >> 8, g >> 8, b >> 8} {
		out[1+2*i] = digits[v>>4]
		out[2+2*i] = digits[v&0xF]
	}
	return string(out)
}

// press is "Press KEY" and the rest of the sentence, the key named as the
// keymap names it.
func (t *theme) press(b key.Binding, rest string) string {
	return t.text.Render("Press ") + t.help.ShortKey.Render(b.Help().Key) + t.text.Render(rest)
}
