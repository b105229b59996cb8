package tui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/steps"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden snapshots under testdata/")

// finish ends the run of step n as steps.Run would: the workshop's progress
// is updated before the end of the run is reported.
func finish(m *Model, n int, err error) {
	w := m.w
	if err == nil {
		if w.State.Done == nil {
			w.State.Done = map[int]time.Time{}
		}
		switch n {
		case 1:
			w.State.KeyARN = fixtureKeyARN
		case 6:
			w.State.Done = map[int]time.Time{}
			w.State.KeyDeletionDate = t0.Add(7 * 24 * time.Hour)
		}
		if n != 6 {
			w.State.Done[n] = t0
		}
	}
	m.Update(stepDoneMsg{step: n, run: m.runID, err: err})
}

// runStep presses Enter on step n's screen and delivers its fixed lines.
func runStep(m *Model, n int) {
	send(m, press(fmt.Sprint(n), "enter")...)
	feed(m, n, stepLines(n), false, nil)
	finish(m, n, nil)
}

// scenarios build each screen worth a snapshot from fixed lines.
var scenarios = []struct {
	name  string
	theme string
	build func(m *Model)
}{
	{"welcome", "", func(m *Model) {}},
	{"welcome-progress", "", nil}, // built with steps 1 and 2 done, below
	{"step1-before", "", func(m *Model) { send(m, press("enter")...) }},
	{"step1-running", "", func(m *Model) {
		send(m, press("enter", "enter")...)
		feed(m, 1, stepLines(1)[:2], false, nil)
	}},
	{"step1-done", "", func(m *Model) { send(m, press("enter")...); runStep(m, 1) }},
	{"step2-done", "", func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	{"step2-large-file", "", func(m *Model) {
		runStep(m, 1)
		send(m, press("2", "enter")...)
		feed(m, 2, stepLines(2)[:2], false, nil)
		feed(m, 2, []steps.Line{line(11, steps.LevelInfo, "", &steps.ProgressDetail{DoneBytes: 300 << 20, TotalBytes: 800 << 20})}, false, nil)
	}},
	{"step3-failed", "", func(m *Model) {
		send(m, press("3", "enter")...)
		finish(m, 3, fmt.Errorf("step 3: %w", &steps.PrerequisiteError{Step: 3, Missing: 1}))
	}},
	{"step3-jump-missing", "", func(m *Model) { send(m, press("3")...) }},
	{"step4-done", "", func(m *Model) { runStep(m, 1); runStep(m, 2); runStep(m, 3); runStep(m, 4) }},
	{"step5-countdown", "", func(m *Model) {
		runStep(m, 1)
		runStep(m, 2)
		send(m, press("5", "enter")...)
		feed(m, 5, step5Waiting(), false, nil)
	}},
	{"step5-check-now", "", func(m *Model) {
		runStep(m, 1)
		runStep(m, 2)
		send(m, press("5", "enter")...)
		feed(m, 5, step5Waiting(), false, nil)
		send(m, press("c")...)
	}},
	{"step5-found", "", func(m *Model) {
		runStep(m, 1)
		runStep(m, 2)
		send(m, press("5", "enter")...)
		feed(m, 5, append(step5Waiting(), step5Found()...), false, nil)
		finish(m, 5, nil)
	}},
	{"step6-done", "", func(m *Model) { runStep(m, 1); runStep(m, 6) }},
	{"quiz-question", "", func(m *Model) { send(m, press("6", "n")...) }},
	{"quiz-answered", "", func(m *Model) { send(m, press("6", "n", "3")...) }},
	{"summary", "", func(m *Model) {
		for n := 1; n <= 4; n++ {
			runStep(m, n)
		}
		runStep(m, 6)
		for _, c := range fixtureCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("n", "2", "enter", "1", "enter")...)
		m.Update(transcriptSavedMsg{path: "usecase-3/transcript-20261127-100500.txt"})
	}},
	{"help", "", func(m *Model) { send(m, press("enter", "?")...) }},
	{"api-pane", "", func(m *Model) {
		runStep(m, 1)
		for _, c := range fixtureCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("a")...)
	}},
	{"quit-while-running", "", func(m *Model) {
		send(m, press("enter", "enter")...)
		feed(m, 1, stepLines(1)[:1], false, nil)
		send(m, press("q")...)
	}},
	{"step-question", "", func(m *Model) {
		send(m, press("enter", "enter")...)
		m.Update(questionMsg{q: stepQuestion{text: "The workshop's KMS key " + fixtureKeyARN + " is scheduled for deletion. Cancel the deletion and use it again?", reply: make(chan bool, 1)}})
	}},
	{"live-confirm", "", func(m *Model) {
		m.live = true
		m.plan = steps.Plan{
			Account: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/alice", Region: "eu-west-1",
			Creates:  []string{`one symmetric KMS key ("Master key to encrypt objects written to S3")`, "one alias, alias/kms_key_cse_usecase_3"},
			CostNote: "A KMS key is billed monthly, prorated by the hour, until it is scheduled for deletion; the deletion then waits at least 7 days, unbilled, and step 6 schedules it.",
		}
		send(m, press("enter", "enter")...)
	}},
	{"light-step2-done", "", func(m *Model) {
		m.Update(tea.BackgroundColorMsg{Color: white})
		runStep(m, 1)
		runStep(m, 2)
	}},
	{"projector-welcome", ThemeProjector, func(m *Model) {}},
	{"projector-step2-done", ThemeProjector, func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	{"projector-quiz-answered", ThemeProjector, func(m *Model) { send(m, press("6", "n", "2")...) }},
	{"plain-welcome", ThemePlain, func(m *Model) {}},
	{"plain-step2-done", ThemePlain, func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	{"plain-step5-found", ThemePlain, func(m *Model) {
		runStep(m, 1)
		runStep(m, 2)
		send(m, press("5", "enter")...)
		feed(m, 5, append(step5Waiting(), step5Found()...), false, nil)
		finish(m, 5, nil)
	}},
}

// goldenSizes are the window sizes every screen is drawn at: the smallest
// comfortable terminal, a wide one, and a compact one below 60x20.
var goldenSizes = []struct{ w, h int }{{80, 24}, {140, 45}, {50, 16}}

// TestGolden draws every screen at fixed sizes with a forced colour
// profile and compares it with the snapshot under testdata/.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		for _, size := range goldenSizes {
			if size.w == 50 && !(sc.name == "welcome" || sc.name == "step2-done" || sc.name == "step5-found" || sc.name == "quiz-answered") {
				continue
			}
			name := fmt.Sprintf("%s-%dx%d", sc.name, size.w, size.h)
			t.Run(name, func(t *testing.T) {
				var m *Model
				if sc.name == "welcome-progress" {
					m = newTestModel(t, sc.theme, 1, 2)
				} else {
					m = newTestModel(t, sc.theme)
				}
				send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
				if sc.build != nil {
					sc.build(m)
				}
				got := m.render()
				checkSize(t, got, size.w, size.h)
				checkGolden(t, name, got)
			})
		}
	}
}

// checkSize fails when a screen does not fill the window exactly.
func checkSize(t *testing.T, screen string, width, height int) {
	t.Helper()
	lines := strings.Split(screen, "\n")
	if len(lines) != height {
		t.Errorf("screen has %d lines, want %d", len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("line %d is %d columns wide, more than the window's %d: %q", i+1, w, width, ansi.Strip(l))
		}
	}
}

// checkGolden compares a screen, downsampled to 256 colours as a
// terminal would see it, with testdata/name.golden.
func checkGolden(t *testing.T, name, screen string) {
	t.Helper()
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ANSI256}
	if _, err := w.WriteString(screen); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	path := filepath.Join("testdata", name+".golden")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read snapshot: %v (run go test ./tui -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("screen %s differs from %s (run go test ./tui -update if the change is intended); text diff (-want +got):\n%s",
			name, path, cmp.Diff(strings.Split(ansi.Strip(string(want)), "\n"), strings.Split(ansi.Strip(got), "\n")))
	}
}

// TestViewDeclaresTerminalModes checks what View asks of the terminal.
func TestViewDeclaresTerminalModes(t *testing.T) {
	m := newTestModel(t, "")
	v := m.View()
	if !v.AltScreen {
		t.Error("View().AltScreen = false, want the alternate screen")
	}
	if v.MouseMode != tea.MouseModeCellMotion {
		t.Errorf("View().MouseMode = %v, want cell motion (for the wheel)", v.MouseMode)
	}
}
