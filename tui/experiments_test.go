package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/steps"
)

// experimentLines are the lines of the wrong-context experiment, as the
// steps report them.
func experimentLines() []steps.Line {
	return []steps.Line{
		line(50, steps.LevelInfo, `calling KMS Decrypt on the encrypted data key of encrypted_e.txt (77 bytes), KMS key pinned to `+fixtureKeyARN+`, with encryption context {"aws-crypto-public-key":"A2LbJ7TXVLqv…","whatfor":"other"}`, nil),
		line(50, steps.LevelInfo, "KMS Decrypt refused: InvalidCiphertextException", nil),
		line(50, steps.LevelSuccess, `KMS refused with InvalidCiphertextException: the data key was made under {"whatfor":"usecase-3-cse"}, not {"whatfor":"other"}`,
			&steps.ExperimentDetail{
				Experiment: "wrong-context", Code: "InvalidCiphertextException", Answer: "InvalidCiphertextException", AsPredicted: true,
				Result: `KMS refused with InvalidCiphertextException: the data key was made under {"whatfor":"usecase-3-cse"}, not {"whatfor":"other"}`,
			}),
	}
}

// openWrongContext goes to step 3, opens its experiments and chooses the
// first, another encryption context, delivering its prompt as the
// background read would.
func openWrongContext(t testing.TB, m *Model) {
	t.Helper()
	send(m, press("3", "t")...)
	if _, ok := m.dialog().(*experimentsDialog); !ok {
		t.Fatalf("after t on step 3, dialog = %T, want the experiments", m.dialog())
	}
	e, _ := steps.GetExperiment("wrong-context")
	send(m, press("1")...)
	m.Update(promptCmd(m.w, e)())
}

// typeText presses the keys of s, one character at a time.
func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// clearInput empties a text input (ctrl+u deletes before the cursor).
func clearInput(m *Model) { m.Update(tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}) }

func TestTryItFlow(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d, ok := m.dialog().(*experimentsDialog)
	if !ok || d.chosen == nil || d.input.Value() != "whatfor=other" {
		t.Fatalf("after choosing, dialog %T asks for %v, want the context input starting with whatfor=other", m.dialog(), d.input.Value())
	}

	// Bad input is refused on the spot, with what to type, and runs nothing.
	clearInput(m)
	typeText(m, "whatfor")
	send(m, press("enter")...)
	if m.c.running != 0 || !strings.Contains(plainText(m.render()), "key=value") {
		t.Errorf("bad context: running %d, screen:\n%s\nwant nothing run and a message saying key=value", m.c.running, plainText(m.render()))
	}
	// q types a q: the input has the keyboard.
	clearInput(m)
	typeText(m, "whatfor=quiet")
	if got := d.input.Value(); got != "whatfor=quiet" {
		t.Errorf("typed whatfor=quiet, input holds %q", got)
	}
	send(m, press("enter")...)
	if m.dialog() != nil || m.c.running != 3 {
		t.Fatalf("after enter: dialog %T, running %d; want the experiment running on step 3", m.dialog(), m.c.running)
	}
	s := m.steps[2]
	if s.trying == nil || s.trying.input != "whatfor=quiet" || s.trying.e.ID != "wrong-context" {
		t.Fatalf("step 3 runs %+v, want wrong-context with the typed context", s.trying)
	}
	if !strings.Contains(plainText(m.render()), "Trying it") {
		t.Errorf("while it runs, the screen does not say so:\n%s", plainText(m.render()))
	}

	feed(m, 3, experimentLines(), false, nil)
	m.w.State.Experiments = map[string]time.Time{"wrong-context": t0}
	m.Update(stepDoneMsg{step: 3, run: m.runID})
	if _, ok := m.dialog().(*outcomeDialog); !ok {
		t.Fatalf("after the run, dialog = %T, want the outcome", m.dialog())
	}
	screen := plainText(m.render())
	for _, want := range []string{"You typed     whatfor=quiet", "InvalidCiphertextException", "As predicted", "Source: Encryption context"} {
		if !strings.Contains(screen, want) {
			t.Errorf("outcome screen lacks %q:\n%s", want, screen)
		}
	}
	if s.status != statusIdle {
		t.Errorf("step 3's status after an experiment = %v, want it unchanged (idle)", s.status)
	}

	send(m, press("enter")...)
	log := plainText(m.render())
	if m.dialog() != nil || !strings.Contains(log, "KMS Decrypt refused: InvalidCiphertextException") {
		t.Errorf("after closing the outcome, dialog %T; screen:\n%s\nwant the step's log with the experiment's lines", m.dialog(), log)
	}

	// The summary lists it as tried.
	send(m, press("6", "n", "n")...)
	if !onSummary(m) {
		t.Fatalf("not on the summary")
	}
	if got := plainText(experimentsView(m.c, 100)); !strings.Contains(got, "another encryption context — tried") {
		t.Errorf("summary's experiments:\n%s\nwant the context experiment tried", got)
	}
}

// The input starts with a suggestion, which the first character typed
// replaces: typing a context gives that context, not the two run together.
func TestTryItTypingReplacesTheSuggestion(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d := m.dialog().(*experimentsDialog)
	if !strings.Contains(plainText(m.render()), "type to replace it") {
		t.Errorf("the suggestion is not said to be one:\n%s", plainText(m.render()))
	}
	typeText(m, "whatfor=mine")
	if got := d.input.Value(); got != "whatfor=mine" {
		t.Errorf("typed whatfor=mine over the suggestion, input holds %q", got)
	}
	// Once edited, typing appends as usual.
	typeText(m, "2")
	if got := d.input.Value(); got != "whatfor=mine2" {
		t.Errorf("input holds %q, want whatfor=mine2", got)
	}
}

func TestTryItNamesTheMissingStep(t *testing.T) {
	m := newTestModel(t, "", 1)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("3", "t", "3")...)
	if m.c.running != 0 {
		t.Errorf("an experiment needing step 2 ran")
	}
	if got := plainText(m.render()); !strings.Contains(got, "It needs step 2 first") {
		t.Errorf("screen:\n%s\nwant it to name step 2", got)
	}
}

func TestTryItOnlyWhereThereAreExperiments(t *testing.T) {
	m := newTestModel(t, "", 1)
	send(m, press("1", "t")...)
	if m.dialog() != nil {
		t.Errorf("t on step 1 opened %T; step 1 has no experiment", m.dialog())
	}
	send(m, press("2", "t")...)
	if _, ok := m.dialog().(*experimentsDialog); !ok {
		t.Errorf("t on step 2 opened %T, want its experiments", m.dialog())
	}
}

func TestTryItCancelled(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, press("3", "t", "3")...) // disable the key: no input
	if m.c.running != 3 {
		t.Fatalf("running %d, want the experiment on step 3", m.c.running)
	}
	send(m, press("ctrl+c")...)
	m.Update(stepDoneMsg{step: 3, run: m.runID, err: fmt.Errorf("decrypt: %w", context.Canceled)})
	if got := plainText(m.render()); !strings.Contains(got, "Cancelled") || !strings.Contains(got, "put back") {
		t.Errorf("after ctrl+c, screen:\n%s\nwant the outcome saying it was cancelled and put back", got)
	}
}

// experimentScenarios are the experiment screens worth a snapshot.
func experimentScenarios(t testing.TB) []scenario {
	return []scenario{
		{name: "try-list", done: []int{1, 2}, build: func(m *Model) { send(m, press("3", "t")...) }},
		{name: "try-input", done: []int{1, 2}, build: func(m *Model) { openWrongContext(t, m) }},
		{name: "try-outcome", done: []int{1, 2}, build: func(m *Model) {
			openWrongContext(t, m)
			send(m, press("enter")...)
			feed(m, 3, experimentLines(), false, nil)
			m.Update(stepDoneMsg{step: 3, run: m.runID})
		}},
	}
}

func TestExperimentGolden(t *testing.T) {
	for _, sc := range experimentScenarios(t) {
		for _, size := range goldenSizes {
			name := fmt.Sprintf("%s-%dx%d", sc.name, size.w, size.h)
			t.Run(name, func(t *testing.T) {
				got := newScenarioModel(t, sc, size.w, size.h).render()
				checkSize(t, got, size.w, size.h)
				checkGolden(t, name, plainText(got))
			})
		}
	}
}

// A step's details fill a small window: what is left out is the end of
// the details, never the offer of its experiments or what Enter does.
func TestStatusCutToFitKeepsTheTryOfferAndTheNextKey(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {60, 18}} {
		m := newTestModel(t, "")
		send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
		runStep(m, 1)
		runStep(m, 2)
		screen := plainText(m.render())
		for _, want := range []string{"Press t to try it", "Press enter for the next step"} {
			if !strings.Contains(screen, want) {
				t.Errorf("step 2 done at %dx%d: the screen lacks %q:\n%s", size.w, size.h, want, screen)
			}
		}
	}
}

// While an experiment runs on a step whose details fill the window, the
// screen still says so, and how to cancel it.
func TestTryingItShowsOverAStepsDetails(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	runStep(m, 1)
	runStep(m, 2)
	send(m, press("t", "1")...) // a 5 KiB sample to KMS Encrypt: no input
	if m.c.running != 2 {
		t.Fatalf("running %d, want the experiment on step 2", m.c.running)
	}
	if screen := plainText(m.render()); !strings.Contains(screen, "Trying it") || !strings.Contains(screen, "ctrl+c cancels") {
		t.Errorf("an experiment runs, but the screen does not say so:\n%s", screen)
	}
}

// The help bar names the try key wherever the step offers experiments,
// even at 80 columns.
func TestHelpBarOffersTryIt(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	runStep(m, 1)
	bar := func() string {
		lines := strings.Split(strings.TrimRight(plainText(m.render()), "\n "), "\n")
		return lines[len(lines)-1]
	}
	if strings.Contains(bar(), "try it") {
		t.Errorf("step 1 has no experiment, but its help bar offers one: %q", bar())
	}
	runStep(m, 2)
	if !strings.Contains(bar(), "t try it") {
		t.Errorf("step 2 done: help bar %q, want t try it", bar())
	}
}

// A context can be pasted into the input, as from the lesson or the code
// view; control characters in it are dropped.
func TestTryItInputTakesAPaste(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d := m.dialog().(*experimentsDialog)
	clearInput(m)
	m.Update(tea.PasteMsg{Content: "{\"whatfor\":\x1b[31m\"pasted\"}"})
	if got := d.input.Value(); got != `{"whatfor":[31m"pasted"}` {
		t.Errorf("after a paste, the input holds %q, want the pasted text without its control characters", got)
	}
}

// A paste over the suggestion replaces it, as the first key typed does,
// and what is typed next goes on after the paste.
func TestTryItPasteReplacesTheSuggestion(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d := m.dialog().(*experimentsDialog)
	if d.input.Value() == "" {
		t.Fatal("the input has no suggestion to replace")
	}
	m.Update(tea.PasteMsg{Content: "whatfor=pasted"})
	typeText(m, "x")
	if got := d.input.Value(); got != "whatfor=pastedx" {
		t.Errorf("after a paste over the suggestion and an x, the input holds %q, want %q", got, "whatfor=pastedx")
	}
}

// The input takes the colours of the theme on screen, also when the
// theme changes while it is open (the terminal's background answered late).
func TestTryItInputFollowsTheTheme(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d := m.dialog().(*experimentsDialog)
	m.setTheme(false)
	_ = m.View()
	if got, want := d.input.styles.text.Render("x"), m.c.theme.value.Render("x"); got != want {
		t.Errorf("after the theme changed, the input draws its text as %q, want the theme's %q", got, want)
	}
}

// ctrl+v in the input does nothing and starts nothing: under serve, a
// clipboard read would be the server's clipboard, shown to an attendee.
func TestTryItInputIgnoresCtrlV(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	openWrongContext(t, m)
	d := m.dialog().(*experimentsDialog)
	clearInput(m)
	if _, cmd := m.Update(tea.KeyPressMsg{Code: 'v', Mod: tea.ModCtrl}); cmd != nil {
		t.Errorf("ctrl+v in the input issued a command: nothing should run")
	}
	if got := d.input.Value(); got != "" {
		t.Errorf("after ctrl+v, the input holds %q, want nothing", got)
	}
}
