package tui

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/assets"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// newPredictModel is a test model whose steps 3 and 5 ask their
// predictions, on a window of 100x30.
func newPredictModel(t *testing.T, done ...int) *Model {
	c := fixtureContent()
	c.predictions = fixturePredictions()
	m := newTestModelWith(t, "", c, done...)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	return m
}

// savedState is the progress in a workshop folder's state.json, for the
// backend of the test models.
func savedState(t *testing.T, dir string) steps.State {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".cse-workshop", "state.json"))
	if err != nil {
		t.Fatalf("read the progress: %v", err)
	}
	var c struct {
		Backends map[string]steps.State `json:"backends"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.Backends[""]
}

func TestStep5PredictionIsAnsweredWhileTheStepRunsAndRevealedOnTheRecord(t *testing.T) {
	m := newPredictModel(t)
	step5Countdown(m)
	s := m.steps[4]
	screen := ansi.Strip(m.render())
	if !s.predictionAsked() || !strings.Contains(screen, "Why do we wait for 2 minutes?") {
		t.Fatalf("step 5's wait began, but its question is not asked:\n%s", screen)
	}
	if !strings.Contains(screen, "left of 2:00") {
		t.Errorf("the question hides the countdown:\n%s", screen)
	}
	send(m, press(predictKey(m, 5, 1))...)
	if !onStep(m, 5) || s.status != statusRunning {
		t.Fatalf("after the answer, screen %s, step 5 status %v: want step 5, still running", m.screen().Title(), s.status)
	}
	if got, ok := m.c.progress.state.Predictions["step5-wait"]; !ok || got != 1 {
		t.Errorf("prediction kept = %d, %v; want choice 1", got, ok)
	}
	if m.w.State.Predictions != nil {
		t.Errorf("the workshop's state changed while step 5 runs: %v", m.w.State.Predictions)
	}
	feed(m, 5, step5Waiting()[3:], false, nil) // the countdown goes on
	if screen := ansi.Strip(m.render()); strings.Contains(screen, "Why do we wait") || strings.Contains(screen, "Your prediction") {
		t.Errorf("before the record, the answered question or its explanation shows:\n%s", screen)
	}

	feed(m, 5, step5Found(), false, nil)
	screen = ansi.Strip(m.render())
	for _, want := range []string{"Your prediction", "Right: CloudTrail shows the record a while after the call",
		"CloudTrail records calls with a lag.", "Source: Working with CloudTrail Event history"} {
		if !strings.Contains(screen, want) {
			t.Errorf("once the record arrived, the screen lacks %q:\n%s", want, screen)
		}
	}
	finish(m, 5, nil)
	if got := m.w.State.Predictions["step5-wait"]; got != 1 {
		t.Errorf("after the run, the workshop's prediction = %d, want 1", got)
	}
	m.saver.write()
	if got, ok := savedState(t, m.w.Dir).Predictions["step5-wait"]; !ok || got != 1 {
		t.Errorf("saved prediction = %d, %v; want 1", got, ok)
	}
	send(m, press("esc")...)
	if screen := ansi.Strip(m.render()); strings.Contains(screen, "Your prediction") || !strings.Contains(screen, "── Log") {
		t.Errorf("esc did not close the explanation and bring back the log:\n%s", screen)
	}
}

func TestPredictionNumbersAnswerAndEscLeavesItUnanswered(t *testing.T) {
	m := newPredictModel(t, 1, 2)
	send(m, press("3")...)
	if !m.steps[2].predictionAsked() {
		t.Fatal("step 3 does not ask its prediction before it runs")
	}
	send(m, press("1")...) // answers, does not go to step 1
	if !onStep(m, 3) {
		t.Fatalf("1 with the question open went to %s, want an answer on step 3", m.screen().Title())
	}
	choice, ok := m.c.progress.state.Predictions["step3-context"]
	if !ok {
		t.Fatal("1 with the question open did not answer it")
	}
	if screen, want := ansi.Strip(m.render()), "Your prediction: "+m.c.content.predictions[0].Choices[choice]; !strings.Contains(screen, want) {
		t.Errorf("after the answer, step 3 lacks %q:\n%s", want, screen)
	}
	// No step runs: the answer is written at once (the test does what
	// the command returned would).
	m.saver.write()
	if got := savedState(t, m.w.Dir).Predictions; got["step3-context"] != m.c.progress.state.Predictions["step3-context"] || len(got) != 1 {
		t.Errorf("saved predictions = %v, want step 3's answer", got)
	}

	m = newPredictModel(t, 1, 2)
	send(m, press("3", "esc")...)
	if m.steps[2].predictionAsked() {
		t.Fatal("esc did not close the question")
	}
	send(m, press("1")...)
	if !onStep(m, 1) {
		t.Errorf("1 after esc went to %s, want step 1", m.screen().Title())
	}
	if _, ok := m.c.progress.state.Predictions["step3-context"]; ok {
		t.Error("a skipped prediction was kept as an answer")
	}
}

func TestStep3PredictionLeftUnansweredIsRevealedAfterTheRun(t *testing.T) {
	m := newPredictModel(t, 1, 2)
	send(m, press("3")...)
	feedRun := func() {
		send(m, press("enter")...)
		feed(m, 3, stepLines(3), false, nil)
	}
	feedRun()
	if m.steps[2].predictionAsked() {
		t.Error("the question for before the run is still asked while it runs")
	}
	finish(m, 3, nil)
	screen := ansi.Strip(m.render())
	for _, want := range []string{"You did not predict. The answer: KMS refuses with InvalidCiphertextException", "Decrypt needs the same pairs"} {
		if !strings.Contains(screen, want) {
			t.Errorf("after step 3 ran, the screen lacks %q:\n%s", want, screen)
		}
	}
}

// TestAnswersAreKeptForALaterSession: the quiz's answers and score and
// the predictions are in the workshop folder's progress, and a new model
// over the same folder shows them on the summary.
func TestAnswersAreKeptForALaterSession(t *testing.T) {
	dir := t.TempDir()
	c := fixtureContent()
	c.predictions = fixturePredictions()
	open := func() (*Model, *steps.Workshop) {
		w, err := steps.Open(steps.Options{Dir: dir, Clock: clock.NewFake(t0)})
		if err != nil {
			t.Fatal(err)
		}
		if w.State.Done == nil { // steps 1 and 2 done: step 3 can run, and asks
			w.State.Done = map[int]time.Time{1: t0, 2: t0}
		}
		m := newModel(context.Background(), Options{Workshop: w, shuffle: testShuffle()}, c)
		send(m, tea.WindowSizeMsg{Width: 100, Height: 40})
		return m, w
	}
	m, w := open()
	send(m, press("3", predictKey(m, 3, 0))...) // wrong
	send(m, press("6", "n", quizKey(m, 0, 1), "enter", quizKey(m, 1, 0), quizKey(m, 1, 1))...)
	if err := m.saver.write(); err != nil {
		t.Fatal(err)
	}
	m.stop()
	w.Close()

	m, w = open()
	defer w.Close()
	defer m.stop()
	if right, answered := m.summary.quiz.score(); right != 1 || answered != 2 {
		t.Errorf("in the later session, score() = %d of %d, want 1 of 2", right, answered)
	}
	m.show(len(m.screens) - 1)
	screen := ansi.Strip(m.render())
	for _, want := range []string{"Quiz score: 1 of 2  right at the first try", "1 more right after a hint.",
		"you said KMS ignores it; the answer: KMS refuses with InvalidCiphertextException"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the summary of the later session lacks %q:\n%s", want, screen)
		}
	}
	text := m.summary.transcript()
	for _, want := range []string{"== Quiz: 1 of 2 right at the first try (2 answered, 1 more right after a hint)",
		`answered "In KMS", then after the hint "In the file's header": right after the hint`,
		`predicted "KMS ignores it": wrong; the answer is "KMS refuses with InvalidCiphertextException"`,
		"source: Decrypt, https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html"} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, text)
		}
	}
}

// With a short wait (--fast, --wait 0) the record comes before anyone could
// answer: the question stays, and the answer is revealed once given.
func TestStep5PredictionStaysAskedWhenTheRecordComesFirst(t *testing.T) {
	m := newPredictModel(t)
	step5Countdown(m)
	feed(m, 5, step5Found(), false, nil)
	finish(m, 5, nil)
	s := m.steps[4]
	screen := ansi.Strip(m.render())
	if !s.predictionAsked() || !strings.Contains(screen, "Why do we wait for 2 minutes?") || strings.Contains(screen, "You did not predict") {
		t.Fatalf("the record came before an answer, and the question is gone:\n%s", screen)
	}
	send(m, press(predictKey(m, 5, 1))...)
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "Right: CloudTrail shows the record a while after the call") {
		t.Errorf("after answering, the explanation is not shown:\n%s", screen)
	}
}

// When step 2's call is older than the wait, step 5 does not wait at all:
// the question still comes, with the record.
func TestStep5PredictionIsAskedWhenThereIsNoWait(t *testing.T) {
	m := newPredictModel(t)
	send(m, press("5", "enter")...)
	feed(m, 5, step5Found(), false, nil)
	finish(m, 5, nil)
	screen := ansi.Strip(m.render())
	if !m.steps[4].predictionAsked() || !strings.Contains(screen, "Why do we wait for 2 minutes?") {
		t.Fatalf("step 5 found the record without waiting, and never asked its question:\n%s", screen)
	}
}

// A step that cannot run yet asks nothing: its number keys still go to the
// missing step, as its message says.
func TestPredictionWaitsUntilTheStepCanRun(t *testing.T) {
	m := newPredictModel(t, 1)
	send(m, press("3")...)
	if m.steps[2].predictionAsked() {
		t.Fatal("step 3 asks its prediction while step 2 is missing")
	}
	send(m, press("2")...)
	if !onStep(m, 2) {
		t.Fatalf("2 on step 3 went to %s, want step 2", m.screen().Title())
	}
}

// When step 2 was longer ago than the wait, step 5 looks at once, with no
// countdown: its question is asked all the same.
func TestStep5PredictionIsAskedWhenTheWaitIsAlreadyOver(t *testing.T) {
	m := newPredictModel(t)
	runStep(m, 1)
	runStep(m, 2)
	send(m, press("5", "enter")...)
	feed(m, 5, []steps.Line{
		line(200, steps.LevelInfo, "GenerateDataKey was called 3m9s ago: looking for its record in CloudTrail now", nil),
		line(200, steps.LevelInfo, "attempt 1: not delivered yet", &steps.PollDetail{Attempt: 1}),
	}, false, nil)
	s := m.steps[4]
	if screen := ansi.Strip(m.render()); !s.predictionAsked() || !strings.Contains(screen, "Why do we wait for 2 minutes?") {
		t.Fatalf("step 5 runs without a wait, and its question is not asked:\n%s", screen)
	}
	feed(m, 5, step5Found(), false, nil)
	finish(m, 5, nil)
	if !s.predictionAsked() {
		t.Fatalf("the record came before an answer, and the question is gone:\n%s", ansi.Strip(m.render()))
	}
	send(m, press(predictKey(m, 5, 1))...)
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "Right: CloudTrail shows the record a while after the call") {
		t.Errorf("after answering, the explanation is not shown:\n%s", screen)
	}
}

// A progress file holding no choice for a prediction (edited by hand, or
// from a bank whose choices changed) counts it as not answered, in the
// transcript as on the summary.
func TestPredictionsOutOfRangeAreNotAnswered(t *testing.T) {
	m := newPredictModel(t)
	m.c.progress.state.Predictions = map[string]int{"step3-context": -3, "step5-wait": 9999999999}
	text := m.summary.transcript()
	if !strings.Contains(text, "== Predictions: 0 of 2 right (0 answered)") {
		t.Errorf("the transcript counts answers it cannot show:\n%s", text)
	}
	if strings.Count(text, "not answered; the answer is") != 2 {
		t.Errorf("the transcript shows an answer for an out-of-range choice:\n%s", text)
	}
}

// At 80x24 step 5's question shows whole while the step runs: every
// choice and the keys that answer it; the lesson gives up rows for it.
func TestStep5QuestionShowsWholeAt80x24(t *testing.T) {
	for _, theme := range []string{"", ThemeHighContrast} {
		c := fixtureContent()
		c.predictions = fixturePredictions()
		m := newTestModelWith(t, theme, c)
		send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
		step5Countdown(m)
		screen := ansi.Strip(m.render())
		for _, want := range append(slices.Clone(c.predictions[1].Choices), "Press 1-4 to predict") {
			if !strings.Contains(screen, want) {
				t.Errorf("theme %q: step 5's question at 80x24 lacks %q:\n%s", theme, want, screen)
			}
		}
	}
}

// At 80x24 the explanation of step 6's prediction shows to its end, the
// source's address and the way to close it included: the status gives up
// its details for it.
func TestLongExplanationShowsWholeAt80x24(t *testing.T) {
	c := fixtureContent()
	c.predictions = append(fixturePredictions(), assets.Prediction{
		ID: "step6-pending", Step: 6, Ask: assets.AskBeforeRun, Reveal: assets.RevealAtEnd,
		Prompt:  "Once step 6 has called ScheduleKeyDeletion, could a copy of encrypted_e.txt still be decrypted during the waiting period?",
		Choices: []string{"Yes: the key works as usual until the day it is deleted", "No: it is unusable while pending; the deletion can be cancelled"},
		Answer:  1,
		Explanation: "ScheduleKeyDeletion puts the key in the PendingDeletion state at once: every cryptographic call with it, Decrypt included, " +
			"fails with KMSInvalidStateException. Nothing is destroyed until the waiting period ends, so CancelKeyDeletion (then EnableKey) " +
			"brings the key back, and with it every file encrypted under it.",
		Source: assets.Source{Title: "ScheduleKeyDeletion", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html"},
	})
	m := newTestModelWith(t, "", c, 1, 2, 3, 4, 5)
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("6", predictKey(m, 6, 0))...)
	runStep(m, 6)
	screen := ansi.Strip(m.render())
	for _, want := range []string{"You predicted: Yes", "ScheduleKeyDeletion.html", "Press esc to close this", "Cleanup Successful"} {
		if !strings.Contains(screen, want) {
			t.Errorf("step 6's explanation at 80x24 lacks %q:\n%s", want, screen)
		}
	}
}
