package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
)

// The markdown the lessons use reads as a learner expects, in every theme:
// without its markers, wrapped to the column, lists hanging under their
// text.
func TestMarkdownDrawsTheLessonsSubset(t *testing.T) {
	tests := []struct {
		name, src string
		width     int
		want      string // without styles
	}{
		{"paragraph fills the width", "One **KMS key**, a symmetric\nkey that never leaves AWS KMS.\n", 30,
			"One KMS key, a symmetric key\nthat never leaves AWS KMS."},
		{"title on its chip, and paragraph", "# Step 1 · Create\n\nText.\n", 30,
			" Step 1 · Create \n\nText."},
		{"wrapped item hangs under its text", "- `CreateKey`: symmetric, `ENCRYPT_DECRYPT`, with a description\n- short\n", 30,
			"• CreateKey: symmetric,\n  ENCRYPT_DECRYPT, with a\n  description\n• short"},
		{"nested list", "- parent item\n  - child item that wraps at the width\n- next\n", 24,
			"• parent item\n  • child item that\n    wraps at the width\n• next"},
		{"numbered list", "1. first\n2. second\n", 30,
			"1. first\n2. second"},
		{"list after a paragraph, then text", "What can go wrong:\n\n- one\n- two\n\n**On success:** `done`\n", 30,
			"What can go wrong:\n\n• one\n• two\n\nOn success: done"},
		{"snake_case and escapes stay as written", "alias kms_key_cse_usecase_3 costs \\*nothing\\*\n", 40,
			"alias kms_key_cse_usecase_3 costs\n*nothing*"},
		{"emphasis", "renamed *customer master keys* and _CMKs_\n", 40,
			"renamed customer master keys and CMKs"},
		{"hyphenated names stay whole", "the context holds aws-crypto-public-key, added\n", 24,
			"the context holds\naws-crypto-public-key,\nadded"},
		{"a word wider than the line is cut", "see https://docs.aws.amazon.com/kms/\n", 12,
			"see\nhttps://docs\n.aws.amazon.\ncom/kms/"},
		{"link shows its address", "read [the guide](https://example.com/g) now\n", 38,
			"read the guide https://example.com/g\nnow"},
		{"fenced code as written", "Run:\n\n```\naws kms  list-keys\n```\n", 30,
			"Run:\n\n  aws kms  list-keys"},
		{"lower heading", "## Why\n\nBecause.\n", 30,
			"## Why\n\nBecause."},
	}
	th := newTheme(ThemeAuto, true)
	for _, tt := range tests {
		got := ansi.Strip(renderMarkdown(&th.md, tt.src, tt.width))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: render(%q, %d) differs (-want +got):\n%s", tt.name, tt.src, tt.width, diff)
		}
	}
}

// Each theme draws the markers' meaning in its own way: the coloured
// themes colour code and put the title on a chip; the plain theme shows
// no markdown marker at all, bold where the source said **.
func TestMarkdownStylesPerTheme(t *testing.T) {
	src := "# Title\n\nSome **bold** and `code`.\n\n## Below\n"
	dark := newTheme(ThemeAuto, true)
	out := renderMarkdown(&dark.md, src, 40)
	for _, want := range []string{dark.md.strong.Render("bold"), dark.md.code.Render("code"), dark.md.title.Render("Title"), dark.md.heading.Render("## Below")} {
		if !strings.Contains(out, want) {
			t.Errorf("dark theme: output lacks %q:\n%q", want, out)
		}
	}
	plain := newTheme(ThemePlain, true)
	out = renderMarkdown(&plain.md, src, 40)
	if want := "\x1b[1mbold\x1b[m"; !strings.Contains(out, want) {
		t.Errorf("plain theme: output lacks bold %q:\n%q", want, out)
	}
	if got := ansi.Strip(out); strings.Contains(got, "#") || strings.Contains(got, "*") || strings.Contains(got, "`") {
		t.Errorf("plain theme shows a markdown marker:\n%s", got)
	}
}

// No lesson shows a marker of its source, in any theme, at any width a
// lesson column takes.
func TestLessonsShowNoMarkdownMarkers(t *testing.T) {
	c := assetContent()
	docs := map[string]string{"welcome": c.welcome}
	for n, lesson := range c.lessons {
		docs[fmt.Sprintf("lesson %d", n)] = lesson
	}
	for _, name := range []string{ThemeAuto, ThemeHighContrast, ThemePlain} {
		th := newTheme(name, true)
		for width := 30; width <= 100; width += 7 {
			for doc, src := range docs {
				out := ansi.Strip(renderMarkdown(&th.md, src, width))
				for _, marker := range []string{"**", "`", "# ", "- "} {
					if strings.Contains(out, marker) {
						t.Errorf("%s, %s theme, %d columns: shows %q:\n%s", doc, name, width, marker, out)
					}
				}
			}
		}
	}
}

// A lesson is short enough to be read on one screen of a common terminal
// (70 columns of text, 20 lines), before its sources.
func TestLessonsFitOneScreen(t *testing.T) {
	const columns, maxLines = 70, 20
	c := assetContent()
	docs := map[string]string{"welcome": c.welcome}
	for n, lesson := range c.lessons {
		docs[fmt.Sprintf("lesson %d", n)] = lesson
	}
	th := newTheme(ThemeAuto, true)
	for doc, src := range docs {
		if lines := strings.Split(renderMarkdown(&th.md, src, columns), "\n"); len(lines) > maxLines {
			t.Errorf("%s renders to %d lines at %d columns, want at most %d", doc, len(lines), columns, maxLines)
		}
	}
}

// In a room every attendee shows the same lessons: a second tutorial in the
// process renders none that the first already drew.
func TestLessonsAreRenderedOnceForEveryTutorialOfTheProcess(t *testing.T) {
	th := newTheme(ThemeAuto, true)
	src := "# A lesson drawn by two tutorials\n\nOnly **one** of them renders it."
	first, second := newMarkdown(), newMarkdown()
	a := first.render(&th, src, 57)
	renderedDocs.mu.Lock()
	before := renderedDocs.rendered
	renderedDocs.mu.Unlock()
	if b := second.render(&th, src, 57); b != a {
		t.Errorf("the second tutorial drew the lesson differently:\n%s\n%s", a, b)
	}
	renderedDocs.mu.Lock()
	after := renderedDocs.rendered
	renderedDocs.mu.Unlock()
	if after != before {
		t.Errorf("the second tutorial rendered the lesson again (%d renders)", after-before)
	}
}
