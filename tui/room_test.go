package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// TestObserverSeesStepsAndAnswers: a room watching the tutorial is told
// the screen, the step's state and the answers as they change, and only
// when they change.
func TestObserverSeesStepsAndAnswers(t *testing.T) {
	m := newTestModel(t, "")
	var seen []Status
	m.observer = func(s Status) { seen = append(seen, s) }
	m.run = script(stepLines(1), nil)
	d := newDriver(t, m)
	if len(seen) == 0 || seen[len(seen)-1].Screen != "welcome" {
		t.Fatalf("first status = %+v, want the welcome screen", seen)
	}
	before := len(seen)
	d.handle(NoticeMsg{Text: "nothing that changes the status"})
	if len(seen) != before {
		t.Errorf("a message that changes nothing was observed: %+v", seen[before:])
	}
	d.press("1", "enter")
	d.until("step 1 done", func(m *Model) bool { return m.c.running == 0 && m.steps[0].status == statusDone })
	last := seen[len(seen)-1]
	if last.Screen != "step" || last.Step != 1 || last.StepState != "done" || last.Progress.Done[1].IsZero() {
		t.Errorf("status after step 1 = %+v, want step 1 done", last)
	}
	if !hasState(seen, "running") {
		t.Error("the run of step 1 was never observed as running")
	}
	d.press("6", "n", quizKey(m, 0, 1))
	last = seen[len(seen)-1]
	if last.Screen != "quiz" || len(last.Progress.Quiz[1].Picks) != 1 {
		t.Errorf("status after a quiz answer = %+v, want the quiz with answer 1", last)
	}
	// The observer's copy is its own.
	last.Progress.Quiz[1] = steps.QuizAnswer{}
	if len(m.c.progress.state.Quiz[1].Picks) != 1 {
		t.Error("changing the observed progress changed the tutorial's")
	}
}

// After the clean-up, the progress keeps only step 6, but the learner sees
// six steps done, and so does the room.
func TestObserverCountsTheStepsTheLearnerSeesDone(t *testing.T) {
	m := newTestModel(t, "")
	var last Status
	m.observer = func(s Status) { last = s }
	for n := 1; n <= 6; n++ {
		runStep(m, n)
	}
	m.w.State.Done = map[int]time.Time{6: t0} // as the clean-up leaves it
	m.c.progress.state = m.w.State.Clone()
	send(m, press("n")...)
	if last.StepsDone != 6 {
		t.Errorf("observed %d steps done after all six ran, want 6", last.StepsDone)
	}
}

func hasState(seen []Status, state string) bool {
	for _, s := range seen {
		if s.StepState == state {
			return true
		}
	}
	return false
}

// TestRoomMessages: the facilitator's line shows, the step 5 wait reaches
// the next run, and the goodbye replaces the screen and ends the program.
func TestRoomMessages(t *testing.T) {
	m := newTestModel(t, "")
	var waited *time.Duration
	m.run = func(_ context.Context, w *steps.Workshop, n int, _ steps.Reporter) error {
		waited = w.AuditWait
		return nil
	}
	d := newDriver(t, m)
	d.handle(NoticeMsg{Text: "Break in 5 minutes"})
	if !strings.Contains(d.screen(), "From the facilitator: Break in 5 minutes") {
		t.Errorf("the facilitator's line is not on screen:\n%s", d.screen())
	}
	d.handle(AuditWaitMsg{Wait: 30 * time.Second})
	d.press("5", "enter")
	d.until("step 5 ran", func(m *Model) bool { return m.runID > 0 && m.c.running == 0 })
	if waited == nil || *waited != 30*time.Second {
		t.Errorf("step 5 ran with AuditWait %v, want 30s", waited)
	}
	d.handle(GoodbyeMsg{Text: "Thank you for coming."})
	if s := d.screen(); !strings.Contains(s, "Thank you for coming.") || !strings.Contains(s, "Your progress is kept.") {
		t.Errorf("goodbye screen:\n%s", s)
	}
	d.press("x")
	d.until("quit", func(*Model) bool { return d.quit })
}

// TestEnvironNoColor: NO_COLOR in the learner's environment, not the
// process's, makes the tutorial plain.
func TestEnvironNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	draw := func(env []string) string {
		w := &steps.Workshop{Dir: t.TempDir(), Clock: clock.NewFake(t0), CheckNow: make(chan struct{}, 1)}
		var out bytes.Buffer
		err := Run(context.Background(), Options{
			Workshop: w, Theme: ThemeHighContrast, Environ: env,
			Input: strings.NewReader("q"), Output: &out,
			ProgramOptions: []tea.ProgramOption{
				tea.WithWindowSize(100, 30), tea.WithColorProfile(colorprofile.TrueColor), tea.WithoutSignalHandler(),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := draw([]string{"TERM=xterm-256color"}); !strings.Contains(out, "38;2;") {
		t.Fatal("without NO_COLOR the tutorial drew no colour: the test shows nothing")
	}
	if out := draw([]string{"TERM=xterm-256color", "NO_COLOR=1"}); strings.Contains(out, "38;2;") {
		t.Error("with NO_COLOR in the learner's environment the tutorial drew colours")
	}
}
