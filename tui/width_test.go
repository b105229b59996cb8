package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// widthCases are lines cellWidth must measure as ansi.StringWidth does:
// those it measures itself and those it hands over.
var widthCases = []string{
	"",
	"plain ASCII text",
	"\x1b[1mbold\x1b[0m and \x1b[38;5;123mcolour\x1b[m",
	"\x1b]8;;https://docs.aws.amazon.com/kms/\x07a link\x1b]8;;\x07",
	"\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\ after",
	"│ box ─ drawing ─",
	"wide 漢字 and emoji 🔑",
	"e\u0301 combining",
	"tab\there",
	"unfinished \x1b[38;5",
	"\x1b[ 00A intermediate before parameters",
	"unfinished link \x1b]8;;https://",
	"\x1b(B charset",
	"\x1b",
	"del\x7f",
	"▶\ufe0f emoji presentation",
	"─\u0301 combining on a rule",
	"✓\u200d✗ joined",
	"⣾ spinner · dot — dash • bullet … → ← ↑ ↓ ▸ ▼",
}

func TestCellWidthIsStringWidth(t *testing.T) {
	for _, s := range widthCases {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, want %d", s, got, want)
		}
	}
	// Every line the tutorial draws, in every theme.
	for _, theme := range []string{ThemeAuto, ThemeHighContrast, ThemePlain} {
		for _, sc := range scenarios {
			sc.theme = theme
			m := newScenarioModel(t, sc, 140, 45)
			if theme == ThemeAuto {
				send(m, tea.BackgroundColorMsg{Color: black})
			}
			for i, line := range strings.Split(m.render(), "\n") {
				if got, want := cellWidth(line), ansi.StringWidth(line); got != want {
					t.Errorf("%s, %s, line %d: cellWidth = %d, want %d: %q", theme, sc.name, i+1, got, want, line)
				}
			}
		}
	}
}

func FuzzCellWidth(f *testing.F) {
	for _, s := range widthCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
			t.Errorf("cellWidth(%q) = %d, want %d", s, got, want)
		}
	})
}

// TestNarrowRunesAreOneCell: the characters cellWidth counts itself are
// one cell wide for ansi.StringWidth too, alone and between others.
func TestNarrowRunesAreOneCell(t *testing.T) {
	for r := rune(0); r <= 0x2fff; r++ {
		if !narrowRune(r) {
			continue
		}
		for _, s := range []string{string(r), "a" + string(r) + "b", string(r) + string(r), "\x1b[1m" + string(r) + "\x1b[0m"} {
			if got, want := cellWidth(s), ansi.StringWidth(s); got != want {
				t.Errorf("cellWidth(%q) = %d, want %d", s, got, want)
			}
		}
	}
}
