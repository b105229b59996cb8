package tui

import (
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/steps"
)

// TestPacedFramesDrawTheBackgroundLater: with a frame interval, a run's
// line that comes right after a frame is drawn with the next redraw, not
// at once; a key is drawn at once, with the line.
func TestPacedFramesDrawTheBackgroundLater(t *testing.T) {
	m := newTestModel(t, ThemePlain)
	m.pacer.interval = time.Hour // the redraw comes only when sent here
	send(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	send(m, press("enter", "enter")...) // step 1 runs
	frame := func() string { return ansi.Strip(m.View().Content) }
	if !strings.Contains(frame(), "Step 1 is running") {
		t.Fatalf("the key that ran step 1 was not drawn at once:\n%s", frame())
	}

	send(m, stepLineMsg{step: 1, run: m.runID, line: line(1, steps.LevelInfo, "first line of the run", nil)})
	if strings.Contains(frame(), "first line of the run") {
		t.Errorf("a line right after a frame was drawn at once, want it with the next redraw")
	}
	send(m, redrawMsg{})
	if !strings.Contains(frame(), "first line of the run") {
		t.Errorf("the redraw did not draw the line that came before it:\n%s", frame())
	}

	send(m, stepLineMsg{step: 1, run: m.runID, line: line(2, steps.LevelInfo, "second line of the run", nil)})
	send(m, press("down")...)
	if !strings.Contains(frame(), "second line of the run") {
		t.Errorf("a key after a line did not draw both at once:\n%s", frame())
	}
}

// TestPacerAsksOneRedrawPerBurst: the first message put off brings one
// redraw, after what is left of the interval; the others of the burst
// wait for it.
func TestPacerAsksOneRedrawPerBurst(t *testing.T) {
	p := framePacer{interval: 20 * time.Millisecond}
	t0 := time.Now()
	p.view(t0, func() tea.View { return tea.NewView("first") })

	line := stepLineMsg{}
	redraw := p.paced(line, t0.Add(5*time.Millisecond))
	if redraw == nil {
		t.Fatal("a line 5ms after a frame asked no redraw")
	}
	if got := p.view(t0.Add(5*time.Millisecond), func() tea.View { return tea.NewView("second") }); got.Content != "first" {
		t.Errorf("frame put off = %q, want the last drawn, %q", got.Content, "first")
	}
	if again := p.paced(line, t0.Add(6*time.Millisecond)); again != nil {
		t.Error("a second line before the redraw asked another redraw")
	}
	if msg := redraw(); msg != (redrawMsg{}) {
		t.Fatalf("redraw command = %#v, want a redrawMsg", msg)
	}
	if p.paced(redrawMsg{}, t0.Add(20*time.Millisecond)) != nil {
		t.Error("the redraw asked another redraw")
	}
	if got := p.view(t0.Add(20*time.Millisecond), func() tea.View { return tea.NewView("third") }); got.Content != "third" {
		t.Errorf("frame at the redraw = %q, want it drawn: %q", got.Content, "third")
	}
	if p.paced(line, t0.Add(45*time.Millisecond)) != nil || p.late {
		t.Error("a line an interval after the last frame was put off")
	}

	none := framePacer{}
	none.view(t0, func() tea.View { return tea.NewView("first") })
	if none.paced(line, t0) != nil || none.late {
		t.Error("without an interval, a line was put off")
	}
}

// TestSpinnerInterval: a slowed spinner stays slow when the theme is
// detected, which makes the spinner anew.
func TestSpinnerInterval(t *testing.T) {
	m := newModel(t.Context(), Options{Workshop: newTestModel(t, "").w, SpinnerInterval: 250 * time.Millisecond}, fixtureContent())
	defer m.stop()
	send(m, tea.BackgroundColorMsg{Color: white})
	if got := m.c.spinner.Spinner.FPS; got != 250*time.Millisecond {
		t.Errorf("spinner frame time after the theme was detected = %v, want 250ms", got)
	}
	if got := newTestModel(t, "").c.spinner.Spinner.FPS; got != spinner.Dot.FPS {
		t.Errorf("default spinner frame time = %v, want the spinner's own %v", got, spinner.Dot.FPS)
	}
}
