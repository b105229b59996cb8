package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// TestScreensNameKeysAsTheKeymapDoes rebinds keys and finds every screen
// naming the new keys, and the keys doing what they did.
func TestScreensNameKeysAsTheKeymapDoes(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 60}) // the whole welcome text
	k := &m.c.keys
	k.Enter = key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "run / continue"))
	k.Retry = key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "retry"))
	k.Check = key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "check now"))
	k.Jump = key.NewBinding(key.WithKeys("f1", "f2", "f3", "f4", "f5", "f6"), key.WithHelp("f1-f6", "go to step"))
	k.Interrupt = key.NewBinding(key.WithKeys("ctrl+x"), key.WithHelp("ctrl+x", "cancel step / quit"))
	screen := func() string { return ansi.Strip(m.render()) }
	want := func(when string, wants ...string) {
		t.Helper()
		s := screen()
		for _, w := range wants {
			if !strings.Contains(s, w) {
				t.Errorf("%s: screen lacks %q:\n%s", when, w, s)
			}
		}
		for _, old := range []string{"Press enter", "Press c ", "Press r ", "press 1 ", "ctrl+c"} {
			if strings.Contains(s, old) {
				t.Errorf("%s: screen names the old key in %q:\n%s", when, old, s)
			}
		}
	}

	want("welcome", "space    run a step", "l        step 5: look in CloudTrail now", "f1-f6    go to a step", "ctrl+x cancels a running step")
	send(m, press("f3")...)
	if !onStep(m, 3) {
		t.Fatalf("f3 went to %s, want step 3", m.screen().Title())
	}
	want("step 3 before step 1", "press f1 to go there", "Press space to run step 3.")

	send(m, press("f5", "space")...)
	feed(m, 5, step5Waiting(), false, nil)
	want("step 5 waiting", "Press l to look again now.", "l check now", "ctrl+x cancels")
	send(m, press("l")...)
	want("step 5 after l", "Looking in CloudTrail now")
	finish(m, 5, errors.New("throttled"))
	want("step 5 failed", "Press t to retry.", "t retry")
}

// TestStepsAreKnownByTheirFieldsNotTheirNumbers runs a workshop of three
// steps whose second waits for the audit trail and whose third cleans up:
// the screens follow the steps' fields and count.
func TestStepsAreKnownByTheirFieldsNotTheirNumbers(t *testing.T) {
	c := fixtureContent()
	c.steps = []steps.Step{
		{Number: 1, Title: "Make a key", Success: "made", StartsWorkshop: true},
		{Number: 2, Title: "Wait for the audit trail", Success: "found", WaitsForAudit: true},
		{Number: 3, Title: "Clean up", Success: "cleaned", CleansUp: true},
	}
	w := &steps.Workshop{Dir: t.TempDir(), Clock: clock.NewFake(t0), CheckNow: make(chan struct{}, 1)}
	m := newModel(context.Background(), Options{Workshop: w}, c)
	t.Cleanup(m.stop)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 60})
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "1  2  3  quiz  summary") || !strings.Contains(screen, "step 2: look in CloudTrail now") {
		t.Errorf("welcome of a 3-step workshop lacks its tracker or the audit step's key:\n%s", screen)
	}

	send(m, press("1", "enter")...)
	finish(m, 1, nil)
	send(m, press("2", "enter")...)
	feed(m, 2, step5Waiting(), false, nil)
	send(m, press("c")...)
	if len(w.CheckNow) != 1 {
		t.Error("c on the step that waits for the audit trail did not ask it to look now")
	}
	finish(m, 2, nil)

	send(m, press("3", "enter")...)
	feed(m, 3, stepLines(6), false, nil)
	finish(m, 3, nil)
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "Press enter for the quiz.") {
		t.Errorf("the last step, done, does not lead to the quiz:\n%s", screen)
	}
	send(m, press("enter", "n", "4")...)
	if !onSummary(m) {
		t.Fatalf("after the quiz, n and 4: screen = %s, want the summary (there is no step 4)", m.screen().Title())
	}
	screen := ansi.Strip(m.render())
	for _, want := range []string{"✓ 1 Make a key — done", "✓ 2 Wait for the audit trail — done", "✓ 3 Clean up — done", "Cleaned up:"} {
		if !strings.Contains(screen, want) {
			t.Errorf("summary lacks %q:\n%s", want, screen)
		}
	}
}

// TestRecordSaysWhenItBecameVisible: the record view tells when the record
// became visible in event history apart from when the tool looked, in the
// words of the log line beside it ("2m", not "2m0s").
func TestRecordSaysWhenItBecameVisible(t *testing.T) {
	m := newTestModel(t, "")
	th := &m.c.theme
	tests := []struct {
		rec  steps.RecordDetail
		want string
	}{
		{steps.RecordDetail{VisibleAt: t0.Add(2 * time.Minute), FoundAt: t0.Add(3 * time.Minute)}, "Visible            2m after the call\n"},
		{steps.RecordDetail{NotSeenAt: t0.Add(2 * time.Minute), FoundAt: t0.Add(125 * time.Second)}, "Visible            between 2m and 2m5s after the call\n"},
	}
	for _, tt := range tests {
		r := tt.rec
		r.EventName, r.EventID, r.KeyARN, r.EventTime = "GenerateDataKey", "e1", fixtureKeyARN, t0
		view := ansi.Strip(recordView(th, &r, 80, newKV(th, 80, 18), false))
		if !strings.Contains(view, tt.want) || !strings.Contains(view, "(when this tool looked)") {
			t.Errorf("record view:\n%s\nwant the line %q, and when the tool looked apart from it", view, tt.want)
		}
		if strings.Contains(view, "lag") {
			t.Errorf("record view:\n%s\nwant no \"lag\", which read as the delivery time", view)
		}
	}
}

// The log starts at the start of an entry, never with the wrapped tail of
// one cut by the pane's top edge.
func TestLogStartsAtAWholeLine(t *testing.T) {
	m := newTestModel(t, "")
	th, k := &m.c.theme, &m.c.keys
	p := newLogPane()
	long := strings.Repeat("a long status line that wraps ", 4)
	for i := range 5 {
		p.add(logEntry{at: t0.Add(time.Duration(i) * time.Second), level: steps.LevelInfo, text: fmt.Sprint(i, " ", long)})
	}
	for height := 1; height <= 12; height++ {
		lines := strings.Split(ansi.Strip(p.view(th, k, 60, height)), "\n")
		if len(lines) != height {
			t.Fatalf("log view of height %d has %d lines", height, len(lines))
		}
		if !strings.HasPrefix(lines[0], "10:00:0") {
			t.Errorf("log view of height %d starts with %q, want the start of an entry (its time)", height, lines[0])
		}
		if height >= 4 && !strings.Contains(strings.Join(lines, "\n"), "10:00:04") {
			t.Errorf("log view of height %d lacks the newest entry:\n%s", height, strings.Join(lines, "\n"))
		}
	}
}

// The log keeps each entry as it drew it last, and draws it again when the
// window's width or the theme changes: the view is always what a new pane
// would draw.
func TestLogRedrawsOnWidthAndThemeChange(t *testing.T) {
	k := &newTestModel(t, "").c.keys
	fill := func(p *logPane) {
		for i := range 8 {
			p.add(logEntry{at: t0.Add(time.Duration(i) * time.Second), level: steps.Level(i % 3), text: fmt.Sprint(i, " ", strings.Repeat("wrapping words ", i+1))})
		}
	}
	kept := newLogPane()
	fill(&kept)
	for _, step := range []struct {
		theme  string
		width  int
		height int
	}{
		{ThemeAuto, 80, 12}, {ThemeAuto, 40, 12}, {ThemeAuto, 40, 30}, {ThemePlain, 40, 12}, {ThemeHighContrast, 100, 6}, {ThemeAuto, 80, 12},
	} {
		th := newTheme(step.theme, true)
		fresh := newLogPane()
		fill(&fresh)
		want := fresh.view(&th, k, step.width, step.height)
		for range 2 {
			if got := kept.view(&th, k, step.width, step.height); got != want {
				t.Fatalf("%s at %dx%d, after other sizes and themes:\n%s\nwant what a new pane draws:\n%s", step.theme, step.width, step.height, got, want)
			}
		}
	}
}

// A list item that wraps goes on under its first word, not under the
// bullet, in every theme; nested items keep their own indent.
func TestWrappedListItemsHangUnderTheirText(t *testing.T) {
	src := "Intro text.\n\n- `GenerateDataKey` on the alias, with the encryption context and the public key of the signature\n  - a nested item that also wraps because it is long enough to wrap\n- short\n\nAfter the list.\n"
	for _, name := range []string{ThemeAuto, ThemeHighContrast, ThemePlain} {
		th := newTheme(name, true)
		out := ansi.Strip(newMarkdown().render(&th, src, 40))
		lines := strings.Split(out, "\n")
		var item []string
		for i, l := range lines {
			if strings.HasPrefix(l, "• GenerateDataKey") {
				item = lines[i:]
				break
			}
		}
		if len(item) < 3 {
			t.Fatalf("%s: no wrapped item in:\n%s", name, out)
		}
		if !strings.HasPrefix(item[1], "  ") || strings.HasPrefix(item[1], "   ") {
			t.Errorf("%s: a wrapped item's next line %q does not start under its text:\n%s", name, item[1], out)
		}
		flat := strings.Join(strings.Fields(out), " ")
		for _, want := range []string{"public key of the signature", "long enough to wrap", "After the list."} {
			if !strings.Contains(flat, want) {
				t.Errorf("%s: rendering lost %q:\n%s", name, want, out)
			}
		}
		for _, l := range lines {
			if strings.Contains(l, "wrap") && !strings.Contains(l, "•") && !strings.HasPrefix(l, "    ") {
				t.Errorf("%s: the nested item's next line %q does not hang under its text:\n%s", name, l, out)
			}
			if ansi.StringWidth(l) > 40 {
				t.Errorf("%s: line %q is wider than 40", name, l)
			}
		}
	}
}
