package tui

import (
	"fmt"
	"testing"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/steps"
)

// BenchmarkViewLog draws a step screen whose log has had n lines: the cost
// must not grow with the history, only with the window.
func BenchmarkViewLog(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			m := newTestModel(b, "")
			send(m, tea.WindowSizeMsg{Width: 140, Height: 45})
			send(m, press("enter", "enter")...)
			for i := range n {
				m.Update(stepLineMsg{step: 1, run: m.runID, line: line(i, steps.LevelInfo, fmt.Sprintf("status line %d of a long session", i), nil)})
			}
			b.ResetTimer()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkFrameDuringRun is what a status line of a run costs: the
// message, and the frame drawn after it, in the default theme at the size
// of a served attendee's terminal.
func BenchmarkFrameDuringRun(b *testing.B) {
	m := newTestModel(b, "")
	send(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	send(m, press("enter", "enter")...)
	i := 0
	for b.Loop() {
		m.Update(stepLineMsg{step: 1, run: m.runID, line: line(i, steps.LevelInfo, fmt.Sprintf("status line %d of the run", i), nil)})
		_ = m.View()
		i++
	}
}
