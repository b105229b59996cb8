package tui

import (
	"fmt"
	"image/color"
	"math"
	"reflect"
	"testing"
	"unsafe"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// relativeLuminance is WCAG 2's relative luminance of an sRGB colour.
func relativeLuminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v>>8) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrastRatio is WCAG 2's contrast ratio of two colours, 1 to 21.
func contrastRatio(a, b color.Color) float64 {
	la, lb := relativeLuminance(a), relativeLuminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// colourPair is a foreground drawn on a background, and where the theme
// uses it.
type colourPair struct {
	where  string
	fg, bg color.Color
}

// themePairs lists every foreground/background pair a theme draws: each
// style's text and border colours on the style's background or, without
// one, on the terminal's; the progress bar; and the lessons' styles.
func themePairs(t theme, terminal color.Color) []colourPair {
	isSet := func(c color.Color) bool {
		_, none := c.(lipgloss.NoColor)
		return c != nil && !none
	}
	var pairs []colourPair
	addStyle := func(where string, s lipgloss.Style) {
		bg := terminal
		if isSet(s.GetBackground()) {
			bg = s.GetBackground()
		}
		if fg := s.GetForeground(); isSet(fg) {
			pairs = append(pairs, colourPair{where, fg, bg})
		}
		for side, c := range []color.Color{s.GetBorderTopForeground(), s.GetBorderRightForeground(), s.GetBorderBottomForeground(), s.GetBorderLeftForeground()} {
			if isSet(c) {
				pairs = append(pairs, colourPair{fmt.Sprintf("%s border %d", where, side), c, terminal})
			}
		}
	}
	// The theme's fields are unexported: read them through their address.
	var addFields func(prefix string, v reflect.Value)
	addFields = func(prefix string, v reflect.Value) {
		for i := range v.NumField() {
			name := prefix + v.Type().Field(i).Name
			field := v.Field(i)
			switch f := reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Interface().(type) {
			case lipgloss.Style:
				addStyle(name, f)
			case help.Styles, markdownStyles:
				addFields(name+".", field)
			}
		}
	}
	addFields("", reflect.ValueOf(&t).Elem())
	for _, c := range []struct {
		where string
		c     color.Color
	}{{"progressFull", t.progressFull}, {"progressEmpty", t.progressEmpty}} {
		if isSet(c.c) {
			pairs = append(pairs, colourPair{c.where, c.c, terminal})
		}
	}
	return pairs
}

// The high-contrast theme is for a projector: every pair of colours it
// draws reaches 7:1 (WCAG 2, level AAA), on the terminal background each
// variant is made for.
func TestHighContrastReachesSevenToOne(t *testing.T) {
	for _, dark := range []bool{true, false} {
		for _, name := range []string{ThemeHighContrast, ThemeProjector} {
			th := newTheme(name, dark)
			terminal := highContrastLightPalette.background
			if dark {
				terminal = highContrastDarkPalette.background
			}
			pairs := themePairs(th, terminal)
			if len(pairs) < 20 {
				t.Fatalf("%s: found %d colour pairs, want every style's", th.name, len(pairs))
			}
			for _, p := range pairs {
				if r := contrastRatio(p.fg, p.bg); r < 7 {
					t.Errorf("%s (--theme %s): %s is %s on %s, contrast %.2f:1, want at least 7:1",
						th.name, name, p.where, hex(p.fg), hex(p.bg), r)
				}
			}
		}
	}
}

func TestContrastRatio(t *testing.T) {
	black, white := lipgloss.Color("#000000"), lipgloss.Color("#FFFFFF")
	if r := contrastRatio(black, white); math.Abs(r-21) > 0.01 {
		t.Errorf("contrast of black and white = %.2f, want 21", r)
	}
	if r := contrastRatio(white, white); r != 1 {
		t.Errorf("contrast of white and white = %.2f, want 1", r)
	}
	// WCAG's own example threshold: #767676 on white is just 4.5:1.
	if r := contrastRatio(lipgloss.Color("#767676"), white); math.Abs(r-4.54) > 0.01 {
		t.Errorf("contrast of #767676 on white = %.2f, want 4.54", r)
	}
}

// The old name of the high-contrast theme still works, and means it.
func TestProjectorIsAnAliasOfHighContrast(t *testing.T) {
	for _, dark := range []bool{true, false} {
		if a, b := newTheme(ThemeProjector, dark).name, newTheme(ThemeHighContrast, dark).name; a != b {
			t.Errorf("theme %q is %s, want %s", ThemeProjector, a, b)
		}
	}
}
