package tui

import (
	"flag"
	"fmt"
	"image/color"
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
		step := m.c.content.steps[n-1]
		if step.StartsWorkshop {
			w.State.KeyARN = fixtureKeyARN
		}
		if step.CleansUp {
			w.State.Done = map[int]time.Time{}
			w.State.KeyDeletionDate = t0.Add(7 * 24 * time.Hour)
		} else {
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

// scenario builds a screen worth a snapshot from fixed lines.
type scenario struct {
	name  string
	theme string
	done  []int // the steps the workshop folder holds as done
	build func(m *Model)
	// compact also draws the screen below the minimum comfortable size.
	compact bool
	// predictions gives steps 3 and 5 their predictions.
	predictions bool
}

var scenarios = []scenario{
	{name: "welcome", build: func(m *Model) {}, compact: true},
	{name: "welcome-progress", done: []int{1, 2}, build: func(m *Model) {}},
	{name: "step1-before", build: func(m *Model) { send(m, press("enter")...) }},
	{name: "step1-running", build: func(m *Model) {
		send(m, press("enter", "enter")...)
		feed(m, 1, stepLines(1)[:2], false, nil)
	}},
	{name: "step1-done", build: func(m *Model) { send(m, press("enter")...); runStep(m, 1) }},
	{name: "step2-done", build: func(m *Model) { runStep(m, 1); runStep(m, 2) }, compact: true},
	{name: "step2-large-file", build: func(m *Model) {
		runStep(m, 1)
		send(m, press("2", "enter")...)
		feed(m, 2, stepLines(2)[:3], false, nil)
		feed(m, 2, []steps.Line{line(11, steps.LevelInfo, "", &steps.ProgressDetail{DoneBytes: 300 << 20, TotalBytes: 800 << 20})}, false, nil)
	}},
	{name: "step3-failed", build: func(m *Model) {
		send(m, press("3", "enter")...)
		finish(m, 3, fmt.Errorf("step 3: %w", &steps.PrerequisiteError{Step: 3, Missing: 1}))
	}},
	{name: "step3-jump-missing", build: func(m *Model) { send(m, press("3")...) }},
	{name: "step4-done", build: func(m *Model) { runStep(m, 1); runStep(m, 2); runStep(m, 3); runStep(m, 4) }},
	{name: "step5-countdown", build: step5Countdown},
	{name: "step5-check-now", build: func(m *Model) { step5Countdown(m); send(m, press("c")...) }},
	{name: "step5-found", build: step5Done, compact: true},
	{name: "step6-done", build: func(m *Model) { runStep(m, 1); runStep(m, 6) }},
	{name: "quiz-question", build: func(m *Model) { send(m, press("6", "n")...) }},
	{name: "quiz-hint", build: func(m *Model) { send(m, press("6", "n", quizKey(m, 0, 2))...) }},
	{name: "quiz-answered", build: func(m *Model) { send(m, press("6", "n", quizKey(m, 0, 2), quizKey(m, 0, 3))...) }, compact: true},
	{name: "summary", build: func(m *Model) {
		for n := 1; n <= 4; n++ {
			runStep(m, n)
		}
		runStep(m, 6)
		for _, c := range fixtureCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("n", quizKey(m, 0, 1), "enter", quizKey(m, 1, 0), quizKey(m, 1, 1), "enter")...)
		m.Update(transcriptSavedMsg{path: "usecase-3/transcript-20261127-100500.txt"})
	}},
	{name: "step3-predict", done: []int{1, 2}, predictions: true, build: func(m *Model) { send(m, press("3")...) }, compact: true},
	{name: "step5-predict", predictions: true, build: step5Countdown, compact: true},
	{name: "step5-predict-revealed", predictions: true, build: func(m *Model) {
		step5Countdown(m)
		send(m, press(predictKey(m, 5, 0))...)
		feed(m, 5, step5Found(), false, nil)
	}},
	{name: "summary-predictions", predictions: true, build: func(m *Model) {
		runStep(m, 1)
		runStep(m, 2)
		send(m, press("3", predictKey(m, 3, 1))...)
		runStep(m, 3)
		send(m, press("6", "n", quizKey(m, 0, 1), "enter", quizKey(m, 1, 1), "enter")...)
		m.Update(transcriptSavedMsg{path: "usecase-3/transcript-20261127-100500.txt"})
	}},
	{name: "help", build: func(m *Model) { send(m, press("enter", "?")...) }},
	{name: "api-pane", build: func(m *Model) {
		runStep(m, 1)
		for _, c := range fixtureCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("a")...)
	}},
	{name: "api-pane-picked", build: func(m *Model) {
		runStep(m, 1)
		for _, c := range endpointCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("a", "up", "up")...)
	}},
	{name: "api-call-open", build: func(m *Model) {
		runStep(m, 1)
		for _, c := range endpointCalls() {
			m.Update(callMsg{call: c})
		}
		send(m, press("a", "up", "enter")...)
	}},
	{name: "endpoint", build: func(m *Model) {
		m.c.endpoint, m.c.plan.Region = fixtureEndpoint, "us-east-1"
		send(m, press("enter", "e")...)
	}, compact: true},
	{name: "welcome-endpoint", build: func(m *Model) { m.c.endpoint = fixtureEndpoint }},
	{name: "quit-while-running", build: func(m *Model) {
		send(m, press("enter", "enter")...)
		feed(m, 1, stepLines(1)[:1], false, nil)
		send(m, press("q")...)
	}},
	{name: "step-question", build: func(m *Model) {
		send(m, press("enter", "enter")...)
		m.Update(questionMsg{q: stepQuestion{text: "The workshop's KMS key " + fixtureKeyARN + " is scheduled for deletion. Cancel the deletion and use it again?", reply: make(chan bool, 1)}})
	}},
	{name: "live-confirm", build: func(m *Model) {
		m.c.live = true
		m.c.plan = steps.Plan{
			Account: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/alice", Region: "eu-west-1",
			Creates:  []string{`one symmetric KMS key ("Master key to encrypt objects written to S3")`, "one alias, alias/kms_key_cse_usecase_3"},
			CostNote: "A KMS key is billed monthly, prorated by the hour, until it is scheduled for deletion; the deletion then waits at least 7 days, unbilled, and step 6 schedules it.",
		}
		send(m, press("enter", "enter")...)
	}},
	{name: "high-contrast-welcome", theme: ThemeHighContrast, build: func(m *Model) {}},
	{name: "high-contrast-step2-done", theme: ThemeHighContrast, build: func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	{name: "high-contrast-quiz-answered", theme: ThemeHighContrast, build: func(m *Model) { send(m, press("6", "n", quizKey(m, 0, 1))...) }},
	{name: "plain-welcome", theme: ThemePlain, build: func(m *Model) {}},
	{name: "plain-step2-done", theme: ThemePlain, build: func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	{name: "plain-step5-found", theme: ThemePlain, build: step5Done},
}

// step5Countdown is step 5 waiting for CloudTrail, after one early look.
func step5Countdown(m *Model) {
	runStep(m, 1)
	runStep(m, 2)
	send(m, press("5", "enter")...)
	feed(m, 5, step5Waiting(), false, nil)
}

// step5Done is step 5 after it found the record.
func step5Done(m *Model) {
	runStep(m, 1)
	runStep(m, 2)
	send(m, press("5", "enter")...)
	feed(m, 5, append(step5Waiting(), step5Found()...), false, nil)
	finish(m, 5, nil)
}

// goldenSizes are the window sizes every screen is drawn at: the smallest
// comfortable terminal and a wide one.
var goldenSizes = []struct{ w, h int }{{80, 24}, {140, 45}}

// compactSize is the size below the minimum that the scenarios marked
// compact are drawn at too.
var compactSize = struct{ w, h int }{50, 16}

// newScenarioModel builds a scenario's screen at a window size.
func newScenarioModel(t *testing.T, sc scenario, width, height int) *Model {
	c := fixtureContent()
	if sc.predictions {
		c.predictions = fixturePredictions()
	}
	m := newTestModelWith(t, sc.theme, c, sc.done...)
	send(m, tea.WindowSizeMsg{Width: width, Height: height})
	sc.build(m)
	return m
}

// TestGolden draws every screen at fixed sizes and compares its text with
// the snapshot under testdata/.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		sizes := goldenSizes
		if sc.compact {
			sizes = append(sizes, compactSize)
		}
		for _, size := range sizes {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size.w, size.h)
			t.Run(name, func(t *testing.T) {
				got := newScenarioModel(t, sc, size.w, size.h).render()
				checkSize(t, got, size.w, size.h)
				checkGolden(t, name, plainText(got))
			})
		}
	}
}

// plainText is a screen as a reviewer reads it: no escape codes, no
// spaces at the ends of lines.
func plainText(screen string) string {
	lines := strings.Split(ansi.Strip(screen), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// themeScenarios are the screens drawn with their colours and styles, one
// per look: the default dark and light, high contrast, and plain (no
// colour, but bold and underline).
var themeScenarios = []struct {
	name, theme string
	background  color.Color // the terminal's answer to the background query; nil: none
}{
	{"theme-dark", ThemeAuto, black},
	{"theme-light", ThemeAuto, white},
	{"theme-high-contrast", ThemeHighContrast, nil},
	{"theme-plain", ThemePlain, nil},
}

// TestThemeGolden draws the screen that uses the most styles (step 5 with
// its record) in each theme, downsampled to 256 colours as a terminal
// would see it, and compares it with the snapshot under testdata/.
func TestThemeGolden(t *testing.T) {
	const width, height = 140, 45
	for _, th := range themeScenarios {
		t.Run(th.name, func(t *testing.T) {
			m := newTestModel(t, th.theme)
			send(m, tea.WindowSizeMsg{Width: width, Height: height})
			if th.background != nil {
				send(m, tea.BackgroundColorMsg{Color: th.background})
			}
			step5Done(m)
			var b strings.Builder
			w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ANSI256}
			if _, err := w.WriteString(m.render()); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, fmt.Sprintf("%s-step5-found-%dx%d", th.name, width, height), b.String())
		})
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

// checkGolden compares a screen with testdata/name.golden.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
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
