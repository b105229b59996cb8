package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// TestChromeHeightsMatchTheDrawing: the layout knows the height of the
// header and of the footer without drawing them; it must be the drawing's,
// or the body would push the help bar off the screen or leave a gap.
func TestChromeHeightsMatchTheDrawing(t *testing.T) {
	for _, theme := range []string{ThemePlain, ThemeHighContrast, ThemeAuto} {
		for _, size := range []struct{ w, h int }{{50, 16}, {100, 30}, {140, 45}} {
			for _, notice := range []string{"", "A notice from the facilitator.", "A notice\non two lines."} {
				for _, full := range []bool{false, true} {
					name := fmt.Sprintf("%s-%dx%d-notice=%q-fullhelp=%v", theme, size.w, size.h, notice, full)
					t.Run(name, func(t *testing.T) {
						m := newTestModel(t, theme)
						send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
						send(m, press("enter")...)
						m.notice = notice
						m.help.ShowAll = full
						mode := modeFor(size.w, size.h)
						if got, want := headerHeight(mode), lipgloss.Height(m.headerView(mode)); got != want {
							t.Errorf("header height = %d, drawn %d", got, want)
						}
						if got, want := m.footerHeight(mode), lipgloss.Height(m.footerView(mode)); got != want {
							t.Errorf("footer height = %d, drawn %d", got, want)
						}
						checkSize(t, m.render(), size.w, size.h)
					})
				}
			}
		}
	}
}
