package tui

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// driver runs a model as the program would: it executes the commands
// Update returns, in goroutines, and feeds their messages back in order.
type driver struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
	quit bool // a command returned tea.Quit
}

func newDriver(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 1024)}
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	d.exec(m.Init())
	return d
}

func (d *driver) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		switch msg := msg.(type) {
		case tea.BatchMsg:
			for _, c := range msg {
				d.exec(c)
			}
		case nil:
		default:
			d.msgs <- msg
		}
	}()
}

// press sends keys through Update.
func (d *driver) press(keys ...string) {
	for _, k := range keys {
		d.handle(keyMsg(k))
	}
}

func (d *driver) handle(msg tea.Msg) {
	if _, ok := msg.(tea.QuitMsg); ok {
		d.quit = true
		return
	}
	if _, ok := msg.(spinner.TickMsg); ok && d.m.c.running == 0 {
		return
	}
	_, cmd := d.m.Update(msg)
	d.exec(cmd)
}

// until handles messages until cond holds. The deadline only guards
// against a hang; nothing is measured.
func (d *driver) until(what string, cond func(*Model) bool) {
	d.t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond(d.m) {
		select {
		case msg := <-d.msgs:
			d.handle(msg)
		case <-deadline:
			d.t.Fatalf("never reached: %s; screen:\n%s", what, ansi.Strip(d.m.render()))
		}
	}
}

func (d *driver) screen() string { return ansi.Strip(d.m.render()) }

// script is a fake step: it reports fixed lines, then returns err.
func script(lines []steps.Line, err error) runFunc {
	return func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		for _, l := range lines {
			r.Report(l)
		}
		if err == nil {
			if w.State.Done == nil {
				w.State.Done = map[int]time.Time{}
			}
			w.State.Done[n] = t0
		}
		return err
	}
}

func TestRunStepStreamsLinesAndShowsSuccess(t *testing.T) {
	m := newTestModel(t, "")
	m.run = script(stepLines(1), nil)
	d := newDriver(t, m)
	d.press("enter", "enter")
	if m.c.running != 1 {
		t.Fatalf("after Enter on step 1, running = %d, want 1", m.c.running)
	}
	d.until("step 1 done", func(m *Model) bool { return m.steps[0].status == statusDone })
	s := m.steps[0]
	if got, want := s.log.entries.len(), len(stepLines(1)); got != want {
		t.Errorf("log holds %d lines, want %d", got, want)
	}
	screen := d.screen()
	for _, want := range []string{"created alias alias/kms_key_cse_usecase_3", "KMS Master Key with alias name kms_key_cse_usecase_3 successfully created", "Press enter for the next step"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen after step 1 lacks %q:\n%s", want, screen)
		}
	}
	if !m.c.progress.done[1] {
		t.Error("done[1] = false after a successful run, want the workshop's progress copied")
	}
	d.press("enter")
	if !onStep(m, 2) {
		t.Errorf("Enter after success went to %s, want step 2", m.screen().Title())
	}
}

func TestFailedStepShowsAdviceAndRetries(t *testing.T) {
	m := newTestModel(t, "")
	fail := errors.New("decrypt encrypted_e.txt: the file is damaged or was tampered with")
	attempts := 0
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		attempts++
		if attempts == 1 {
			r.Report(line(20, steps.LevelInfo, "decrypting encrypted_e.txt", nil))
			return fmt.Errorf("step 3: %w", fail)
		}
		return script(stepLines(3), nil)(ctx, w, n, r)
	}
	d := newDriver(t, m)
	d.press("3", "enter")
	d.until("step 3 failed", func(m *Model) bool { return m.steps[2].status == statusFailed })
	if screen := d.screen(); !strings.Contains(screen, "the file is damaged or was tampered with") || !strings.Contains(screen, "Press r to retry") {
		t.Errorf("failed step screen lacks the error or the retry key:\n%s", screen)
	}
	d.press("r")
	d.until("step 3 done", func(m *Model) bool { return m.steps[2].status == statusDone })
	if attempts != 2 {
		t.Errorf("step ran %d times, want 2 (one retry)", attempts)
	}
	if screen := d.screen(); !strings.Contains(screen, "run 2") {
		t.Errorf("log after a retry does not mark the second run:\n%s", screen)
	}
}

func TestJumpWarnsOfMissingPrerequisite(t *testing.T) {
	tests := []struct {
		done    []int
		jump    string
		missing int
	}{
		{nil, "3", 1},
		{[]int{1}, "3", 2},
		{[]int{1}, "6", 0},
		{[]int{1, 2}, "5", 0},
		{nil, "1", 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("done=%v/jump=%s", tc.done, tc.jump), func(t *testing.T) {
			m := newTestModel(t, "", tc.done...)
			send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
			send(m, press(tc.jump)...)
			n := int(tc.jump[0] - '0')
			if !onStep(m, n) {
				t.Fatalf("after %s, screen = %s, want step %d", tc.jump, m.screen().Title(), n)
			}
			screen := ansi.Strip(m.render())
			warning := fmt.Sprintf("needs step %d first", tc.missing)
			if tc.missing == 0 {
				if strings.Contains(screen, "needs step") {
					t.Errorf("jump to step %d with %v done warns, want no warning:\n%s", n, tc.done, screen)
				}
				return
			}
			if !strings.Contains(screen, warning) {
				t.Errorf("jump to step %d with %v done: screen lacks %q:\n%s", n, tc.done, warning, screen)
			}
		})
	}
}

func TestRefusalForAMissingStepIsForgottenOnceItRan(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	send(m, press("3", "enter")...)
	finish(m, 3, fmt.Errorf("step 3: %w", &steps.PrerequisiteError{Step: 3, Missing: 1}))
	runStep(m, 1) // as the hint says: go to step 1 and run it, then come back
	send(m, press("3")...)
	screen := ansi.Strip(m.render())
	if strings.Contains(screen, "needs step 1") {
		t.Errorf("back on step 3 after step 1 ran, the screen still says step 1 is missing:\n%s", screen)
	}
	if !strings.Contains(screen, "needs step 2 first") || !strings.Contains(screen, "Press enter to run step 3") {
		t.Errorf("back on step 3 after step 1 ran, screen lacks what is missing now (step 2) or how to run step 3:\n%s", screen)
	}
}

func TestQuitWhileRunningAsksThenCancels(t *testing.T) {
	m := newTestModel(t, "")
	cancelled := make(chan struct{})
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		r.Report(line(1, steps.LevelInfo, "creating a symmetric KMS key", nil))
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}
	d := newDriver(t, m)
	d.press("enter", "enter")
	d.until("the step's first line", func(m *Model) bool { return m.steps[0].log.entries.len() == 1 })

	d.press("q")
	if m.quitAsk == nil {
		t.Fatal("q while a step runs did not ask first")
	}
	if screen := d.screen(); !strings.Contains(screen, "Quit the tutorial?") {
		t.Errorf("quit question not on screen:\n%s", screen)
	}
	d.press("n")
	if m.quitAsk != nil || m.c.running != 1 {
		t.Fatalf("after n: quit question open = %v, running = %d; want the question closed and the step running", m.quitAsk != nil, m.c.running)
	}
	select {
	case <-cancelled:
		t.Fatal("answering no cancelled the step")
	default:
	}

	d.press("q", "y")
	<-cancelled // the step's context is cancelled
	d.until("the program quits", func(m *Model) bool { return d.quit })
	if m.steps[0].status != statusCancelled {
		t.Errorf("step status after quitting = %v, want cancelled", m.steps[0].status)
	}
}

func TestCtrlCCancelsStepThenQuits(t *testing.T) {
	m := newTestModel(t, "")
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		<-ctx.Done()
		return fmt.Errorf("step 2: encrypt plaintext_u.txt: %w", ctx.Err())
	}
	d := newDriver(t, m)
	d.press("2", "enter")
	d.press("ctrl+c")
	d.until("step 2 cancelled", func(m *Model) bool { return m.steps[1].status == statusCancelled })
	if d.quit {
		t.Fatal("the first Ctrl-C quit; want it to cancel the step only")
	}
	if screen := d.screen(); !strings.Contains(screen, "Cancelled") {
		t.Errorf("cancelled step screen does not say so:\n%s", screen)
	}
	// Once cancelled, the notice says so, and still how to quit.
	if screen := d.screen(); strings.Contains(screen, "Cancelling") || !strings.Contains(screen, "Step 2 cancelled. Press ctrl+c again to quit.") {
		t.Errorf("after the step stopped, the notice does not say it is cancelled and how to quit:\n%s", screen)
	}
	d.press("ctrl+c")
	d.until("the program quits", func(m *Model) bool { return d.quit })
}

func TestCheckNowSignalsStep5(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	checked := make(chan struct{})
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		for _, l := range step5Waiting() {
			r.Report(l)
		}
		select {
		case <-w.CheckNow:
			close(checked)
		case <-ctx.Done():
			return ctx.Err()
		}
		for _, l := range step5Found() {
			r.Report(l)
		}
		return nil
	}
	d := newDriver(t, m)
	d.press("5", "enter")
	d.until("the countdown", func(m *Model) bool { return m.steps[4].details.poll != nil })
	if screen := d.screen(); !strings.Contains(screen, "left of 2:00") || !strings.Contains(screen, "not delivered yet") {
		t.Errorf("step 5 screen lacks the countdown or the look:\n%s", screen)
	}
	d.press("c", "c") // the second press must not block
	<-checked
	d.until("step 5 done", func(m *Model) bool { return m.steps[4].status == statusDone })
	screen := d.screen()
	for _, want := range []string{`"whatfor":"usecase-3-cse"}`, `{"aws-crypto-public-key":`, "public key of the", "2m12s", "GenerateDataKey API Called"} {
		if !strings.Contains(screen, want) {
			t.Errorf("step 5 screen lacks %q:\n%s", want, screen)
		}
	}
}

func TestQuizScoresAndExplains(t *testing.T) {
	m := newTestModel(t, "")
	d := newDriver(t, m)
	d.press("6", "n")
	if !onQuiz(m) {
		t.Fatalf("screen after step 6 and n = %s, want the quiz", m.screen().Title())
	}
	quiz := m.summary.quiz
	d.press("enter") // before an answer: nothing moves
	if quiz.current != 0 {
		t.Fatalf("Enter before answering moved to question %d", quiz.current+1)
	}
	// The choices are shuffled: the key of the right answer follows it.
	d.press(quizKey(m, 0, 1)) // right
	d.press(quizKey(m, 0, 0)) // a second answer does not replace the first
	if got := quiz.picks[0]; !slices.Equal(got, []int{1}) {
		t.Errorf("picks of question 1 = %v, want [1] (the first press)", got)
	}
	if screen := d.screen(); !strings.Contains(screen, "Right.") || !strings.Contains(screen, "CloudTrail records calls with a lag.") {
		t.Errorf("answered question lacks the verdict or the explanation:\n%s", screen)
	}
	d.press("enter", quizKey(m, 1, 3)) // question 2, wrong twice
	d.press(quizKey(m, 1, 2))
	screen := d.screen()
	want := []string{
		"Not quite: the answer is " + quizKey(m, 1, 1) + ".", "Why not the others:",
		quizKey(m, 1, 0) + ") KMS keeps no data keys.", quizKey(m, 1, 3) + ") Then nobody could decrypt.",
	}
	for _, w := range want {
		if !strings.Contains(screen, w) {
			t.Errorf("wrong answer screen lacks %q:\n%s", w, screen)
		}
	}
	if right, answered := quiz.score(); right != 1 || answered != 2 {
		t.Errorf("score() = %d right of %d answered, want 1 of 2", right, answered)
	}
	if !strings.Contains(screen, "Press enter for your score.") || strings.Contains(screen, "the your") {
		t.Errorf("the last question does not say Enter shows the score:\n%s", screen)
	}
	d.press("enter")
	if !onSummary(m) {
		t.Fatalf("Enter after the last answer went to %s, want the summary", m.screen().Title())
	}
	d.until("transcript saved", func(m *Model) bool { return m.summary.path != "" || m.summary.saveErr != nil })
	if m.summary.saveErr != nil {
		t.Fatalf("save transcript: %v", m.summary.saveErr)
	}
	if screen := d.screen(); !strings.Contains(screen, "Quiz score: 1 of 2  right at the first try") {
		t.Errorf("summary lacks the score:\n%s", screen)
	}
}

// TestQuizShuffleKeepsTheAnswer: with the choices shuffled, the key that
// shows the right answer scores, whatever its number, and the screen
// shows each choice beside the key that picks it.
func TestQuizShuffleKeepsTheAnswer(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	send(m, press("6", "n")...)
	quiz := m.summary.quiz
	q := m.c.content.quiz[0]
	if slices.Equal(quiz.order[0], []int{0, 1, 2, 3}) && slices.Equal(quiz.order[1], []int{0, 1, 2, 3}) {
		t.Fatalf("orders %v: the seeded shuffle left the choices in place", quiz.order)
	}
	screen := ansi.Strip(m.render())
	for choice, text := range q.Choices {
		if want := quizKey(m, 0, choice) + ") " + text; !strings.Contains(screen, want) {
			t.Errorf("question lacks %q, the choice beside the key that picks it:\n%s", want, screen)
		}
	}
	send(m, press(quizKey(m, 0, q.Answer))...)
	if right, answered := quiz.score(); right != 1 || answered != 1 {
		t.Errorf("after the key of the right answer, score() = %d of %d, want 1 of 1", right, answered)
	}
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "Right.") {
		t.Errorf("the right answer, shuffled, is not called right:\n%s", screen)
	}
}

// TestQuizWrongFirstAnswerGetsAHintAndOneRetry: the hint, not the
// explanation, after a wrong answer; the retry then shows the
// explanation; the score counts the first answer only.
func TestQuizWrongFirstAnswerGetsAHintAndOneRetry(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	send(m, press("6", "n", quizKey(m, 0, 0))...)
	screen := ansi.Strip(m.render())
	for _, want := range []string{"Not this one.", "Hint: Which service writes the record, and when?", "to pick again"} {
		if !strings.Contains(screen, want) {
			t.Errorf("after a wrong first answer, the screen lacks %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "CloudTrail records calls with a lag.") || strings.Contains(screen, "Why not the others") {
		t.Errorf("the explanation shows before the retry:\n%s", screen)
	}
	quiz := m.summary.quiz
	send(m, press("enter")...) // no moving on before the retry
	if quiz.current != 0 {
		t.Fatalf("Enter before the retry moved to question %d", quiz.current+1)
	}
	send(m, press(quizKey(m, 0, 0))...) // the same wrong answer again: ignored
	if got := quiz.picks[0]; !slices.Equal(got, []int{0}) {
		t.Errorf("after picking the same wrong answer again, picks = %v, want [0]", got)
	}
	send(m, press(quizKey(m, 0, 1))...) // right, at the retry
	screen = ansi.Strip(m.render())
	for _, want := range []string{"Right, after the hint.", "The score counts first answers only.", "CloudTrail records calls with a lag."} {
		if !strings.Contains(screen, want) {
			t.Errorf("after the retry, the screen lacks %q:\n%s", want, screen)
		}
	}
	if right, answered := quiz.score(); right != 0 || answered != 1 {
		t.Errorf("score() = %d right of %d answered, want 0 of 1: a retry does not score", right, answered)
	}
	if n := quiz.afterHint(); n != 1 {
		t.Errorf("afterHint() = %d, want 1", n)
	}
	send(m, press(quizKey(m, 0, 2))...) // a third answer: ignored
	if got := quiz.picks[0]; !slices.Equal(got, []int{0, 1}) {
		t.Errorf("picks of question 1 = %v, want [0 1]", got)
	}
}

func TestTranscriptIsPrivateAndHoldsNoKeyMaterial(t *testing.T) {
	m := newTestModel(t, "")
	m.run = script(stepLines(2), nil)
	d := newDriver(t, m)
	d.press("1")
	m.run = script(stepLines(1), nil)
	d.press("enter")
	d.until("step 1 done", func(m *Model) bool { return m.steps[0].status == statusDone })
	m.run = script(stepLines(2), nil)
	d.press("2", "enter")
	d.until("step 2 done", func(m *Model) bool { return m.steps[1].status == statusDone })
	for _, c := range fixtureCalls() {
		d.handle(callMsg{call: c})
	}
	d.press("6", "n", quizKey(m, 0, 1), "enter", quizKey(m, 1, 0), quizKey(m, 1, 2), "enter")
	d.until("transcript saved", func(m *Model) bool { return m.summary.path != "" || m.summary.saveErr != nil })
	if m.summary.saveErr != nil {
		t.Fatal(m.summary.saveErr)
	}
	if dir := filepath.Dir(m.summary.path); dir != m.w.Dir {
		t.Errorf("transcript saved in %s, want the workshop folder %s", dir, m.w.Dir)
	}
	if name := filepath.Base(m.summary.path); name != "transcript-20261127-100000.txt" {
		t.Errorf("transcript named %s, want transcript-20261127-100000.txt (from the clock)", name)
	}
	fi, err := os.Stat(m.summary.path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("transcript mode = %v, want 0600", perm)
	}
	b, err := os.ReadFile(m.summary.path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"Module run was successful !!", "created alias alias/kms_key_cse_usecase_3",
		"GenerateDataKey", "LookupEvents", "Quiz: 1 of 2 right at the first try",
		`answered "CloudTrail delivers events asynchronously": right at the first try`,
		`answered "In KMS", then after the hint "On a server": wrong; the answer is "In the file's header"`,
		"written:  Fri 27 Nov 2026 10:00:00 UTC", // a date as every other date of the workshop reads
	} {
		if !strings.Contains(text, want) {
			t.Errorf("transcript lacks %q:\n%s", want, text)
		}
	}
	// Of the data key, the screens and the transcript show its size only.
	if !strings.Contains(text, "returned a data key: 32 bytes, in memory only") {
		t.Errorf("transcript lacks the data key's status line:\n%s", text)
	}
}

func TestResumeOffersToContinueOrStartOver(t *testing.T) {
	m := newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "steps 1 and 2") || !strings.Contains(screen, "continue with step 3") {
		t.Errorf("welcome with progress does not offer to continue:\n%s", screen)
	}
	send(m, press("enter")...)
	if !onStep(m, 3) {
		t.Errorf("Enter on the welcome screen with steps 1 and 2 done went to %s, want step 3", m.screen().Title())
	}

	m = newTestModel(t, "", 1, 2)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	send(m, press("s")...)
	if !onStep(m, 1) {
		t.Errorf("s (start over) went to %s, want step 1", m.screen().Title())
	}
	if len(m.w.State.Done) != 0 || len(m.c.progress.done) != 0 {
		t.Errorf("after start over, progress = %v, want none", m.w.State.Done)
	}

	m = newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	if screen := ansi.Strip(m.render()); strings.Contains(screen, "Welcome back") {
		t.Errorf("welcome without progress offers to continue:\n%s", screen)
	}
}

// TestWelcomeAfterTheCleanUpOffersToGoThroughAgain: the clean-up clears
// the progress but its own step, so "continue with step 1, or start over
// from step 1" offered one thing twice.
// quizAllAnswered marks every quiz question of m answered, right.
func quizAllAnswered(m *Model) {
	m.c.progress.state.Quiz = map[int]steps.QuizAnswer{}
	for i, q := range m.c.content.quiz {
		m.c.progress.state.Quiz[i+1] = steps.QuizAnswer{Prompt: q.Prompt, Picks: []int{q.Answer}}
	}
}

func TestWelcomeAfterTheCleanUpOffersToGoThroughAgain(t *testing.T) {
	m := newTestModel(t, "", 6)
	quizAllAnswered(m)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "Step 6 cleaned up this workshop folder last time") ||
		!strings.Contains(screen, "Press enter to go through the workshop again from step 1") {
		t.Errorf("welcome after the clean-up does not say so, or how to go through again:\n%s", screen)
	}
	if strings.Contains(screen, "start over") || strings.Contains(screen, "continue") {
		t.Errorf("welcome after the clean-up offers to continue or start over, the same thing twice:\n%s", screen)
	}
	send(m, press("enter")...)
	if !onStep(m, 1) {
		t.Errorf("Enter on the welcome screen after the clean-up went to %s, want step 1", m.screen().Title())
	}
}

// Back after the clean-up with the quiz not finished (an attendee who
// dropped during the quiz): the quiz is what comes next.
func TestWelcomeAfterTheCleanUpGoesOnWithAnUnfinishedQuiz(t *testing.T) {
	m := newTestModel(t, "", 6)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	screen := ansi.Strip(m.render())
	words := strings.Join(strings.Fields(strings.ReplaceAll(screen, "│", "")), " ")
	if !strings.Contains(words, "the quiz is next, 0 of its 2 questions answered") ||
		!strings.Contains(words, "Press enter to go on with the quiz, or 1 to go through the workshop again") ||
		!strings.Contains(screen, "enter go on with the quiz") {
		t.Errorf("welcome after the clean-up, quiz unfinished, does not offer the quiz:\n%s", screen)
	}
	send(m, press("enter")...)
	if _, ok := m.screen().(*quizScreen); !ok {
		t.Errorf("Enter went to %s, want the quiz", m.screen().Title())
	}
}

func TestLiveModeConfirmsBeforeRunning(t *testing.T) {
	m := newTestModel(t, "")
	m.c.live = true
	m.c.plan = steps.Plan{Account: "123456789012", CallerARN: "arn:aws:iam::123456789012:user/alice", Region: "eu-west-1"}
	ran := 0
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error { ran++; return nil }
	d := newDriver(t, m)
	d.press("enter", "enter")
	if !confirming(m) {
		t.Fatalf("Enter on step 1 in live mode went to %s, want the confirmation", m.title())
	}
	screen := d.screen()
	for _, want := range []string{"123456789012", "arn:aws:iam::123456789012:user/alice", "eu-west-1", "alias/kms_key_cse_usecase_3", "7 days"} {
		if !strings.Contains(screen, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, screen)
		}
	}
	d.press("esc")
	if confirming(m) || !onStep(m, 1) || m.c.running != 0 {
		t.Fatalf("after esc: screen %s, running %d; want step 1, nothing running", m.title(), m.c.running)
	}
	d.press("enter", "y")
	d.until("step 1 done", func(m *Model) bool { return m.steps[0].status == statusDone })
	if ran != 1 {
		t.Errorf("step ran %d times, want 1", ran)
	}
	d.press("r")
	if confirming(m) {
		t.Error("asked again after the learner agreed once")
	}
}

func TestStepQuestionIsAskedOnScreen(t *testing.T) {
	m := newTestModel(t, "")
	answers := make(chan bool, 1)
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		answers <- w.Confirm(ctx, "Cancel the deletion and use the key again?")
		return nil
	}
	d := newDriver(t, m)
	d.press("enter", "enter")
	d.until("the question", func(m *Model) bool { return m.question != nil })
	if screen := d.screen(); !strings.Contains(screen, "Cancel the deletion and use the key again?") {
		t.Errorf("question not on screen:\n%s", screen)
	}
	d.press("y")
	if got := <-answers; !got {
		t.Error("Confirm returned false after y")
	}
	d.until("step 1 done", func(m *Model) bool { return m.steps[0].status == statusDone })
}

func TestAPIPaneListsCallsAsTheyHappen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clients, err := awsclient.New(ctx, awsclient.Options{Dir: dir, Clock: clock.NewAuto(t0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clients.Close() })
	w := &steps.Workshop{Dir: dir, Clients: clients, Clock: clock.NewFake(t0), CheckNow: make(chan struct{}, 1)}
	m := newModel(ctx, Options{Workshop: w}, fixtureContent())
	t.Cleanup(m.stop)
	d := newDriver(t, m)
	d.press("a")
	if screen := d.screen(); !strings.Contains(screen, "No AWS calls yet.") {
		t.Errorf("empty API pane:\n%s", screen)
	}
	// Real SDK calls against the demo backend, from another goroutine, as
	// a step makes them.
	go func() {
		clients.Identity(ctx)
		clients.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
	}()
	d.until("two calls", func(m *Model) bool { return m.api.total() == 2 })
	screen := d.screen()
	for _, want := range []string{"AWS calls (2)", "GetCallerIdentity", "ListAliases", "OK"} {
		if !strings.Contains(screen, want) {
			t.Errorf("API pane lacks %q:\n%s", want, screen)
		}
	}
	d.press("a")
	if screen := d.screen(); strings.Contains(screen, "AWS calls (4)") {
		t.Errorf("a did not hide the API pane:\n%s", screen)
	}
}

func TestLogScrollsAndKeepsBoundedHistory(t *testing.T) {
	p := newLogPane()
	th := newTheme(ThemeAuto, true)
	keys := newKeyMap(6, 4, false)
	for i := range logCapacity + 500 {
		p.add(logEntry{at: t0, level: steps.LevelInfo, text: fmt.Sprintf("line %d", i)})
	}
	if p.entries.len() != logCapacity || p.entries.dropped != 500 {
		t.Fatalf("log keeps %d lines, dropped %d; want %d kept, 500 dropped", p.entries.len(), p.entries.dropped, logCapacity)
	}
	if got := p.entries.at(0).text; got != "line 500" {
		t.Errorf("oldest kept line = %q, want line 500", got)
	}
	view := ansi.Strip(p.view(&th, &keys, 60, 5))
	if !strings.Contains(view, fmt.Sprintf("line %d", logCapacity+499)) {
		t.Errorf("log at the bottom does not show the newest line:\n%s", view)
	}
	p.scroll(10)
	view = ansi.Strip(p.view(&th, &keys, 60, 5))
	if strings.Contains(view, fmt.Sprintf("line %d", logCapacity+499)) || !strings.Contains(view, "10 newer lines below") {
		t.Errorf("scrolled log still shows the newest line or lacks the hint:\n%s", view)
	}
	p.add(logEntry{at: t0, level: steps.LevelInfo, text: "new"})
	if p.offset != 11 {
		t.Errorf("offset after a new line while scrolled = %d, want 11 (the view stays put)", p.offset)
	}
	p.scroll(-100)
	if p.offset != 0 {
		t.Errorf("offset after scrolling past the bottom = %d, want 0", p.offset)
	}
}

func TestCompactLayoutBelowMinimum(t *testing.T) {
	m := newTestModel(t, "")
	for _, size := range []struct{ w, h int }{{40, 12}, {59, 30}, {100, 19}} {
		send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
		if l := m.layout(); l.mode != layoutCompact {
			t.Errorf("layout at %dx%d = %v, want compact", size.w, size.h, l.mode)
		}
		checkSize(t, m.render(), size.w, size.h)
	}
	send(m, tea.WindowSizeMsg{Width: 120, Height: 30})
	if l := m.layout(); l.mode != layoutWide {
		t.Errorf("layout at 120x30 = %v, want wide", l.mode)
	}
	send(m, tea.WindowSizeMsg{Width: 119, Height: 30})
	if l := m.layout(); l.mode != layoutStacked {
		t.Errorf("layout at 119x30 = %v, want stacked", l.mode)
	}
}

func TestPanicInStepBecomesAnError(t *testing.T) {
	m := newTestModel(t, "")
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error { panic("boom") }
	d := newDriver(t, m)
	d.press("enter", "enter")
	d.until("step 1 failed", func(m *Model) bool { return m.steps[0].status == statusFailed })
	if screen := d.screen(); !strings.Contains(screen, "internal error: boom") {
		t.Errorf("a panicking step's screen lacks the error:\n%s", screen)
	}
}

func TestBackgroundColourPicksThemeOnce(t *testing.T) {
	m := newTestModel(t, ThemeAuto)
	send(m, tea.BackgroundColorMsg{Color: white})
	if m.c.theme.name != "light" {
		t.Errorf("theme after a white background = %s, want light", m.c.theme.name)
	}
	send(m, tea.BackgroundColorMsg{Color: black})
	if m.c.theme.name != "light" {
		t.Errorf("theme after a second answer = %s, want it unchanged (detected once)", m.c.theme.name)
	}
	p := newTestModel(t, ThemePlain)
	send(p, tea.BackgroundColorMsg{Color: white})
	if p.c.theme.name != ThemePlain {
		t.Errorf("plain theme after a background answer = %s, want plain", p.c.theme.name)
	}
}

var (
	white = color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	black = color.RGBA{A: 0xff}
)

func TestMouseWheelScrollsWhatIsUnderIt(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 24})
	send(m, press("enter", "enter")...)
	var lines []steps.Line
	for i := range 40 {
		lines = append(lines, line(i, steps.LevelInfo, fmt.Sprintf("line %d", i), nil))
	}
	feed(m, 1, lines, true, nil)
	s := m.steps[0]

	send(m, tea.MouseWheelMsg{X: 10, Y: 20, Button: tea.MouseWheelUp})
	if s.log.offset != 3 {
		t.Errorf("wheel up over the log: offset = %d, want 3 lines older", s.log.offset)
	}
	if s.lesson.vp.YOffset() != 0 {
		t.Errorf("wheel over the log scrolled the lesson to %d", s.lesson.vp.YOffset())
	}
	send(m, tea.MouseWheelMsg{X: 10, Y: 3, Button: tea.MouseWheelDown})
	if s.lesson.vp.YOffset() == 0 {
		t.Error("wheel down over the lesson did not scroll it")
	}
	if s.log.offset != 3 {
		t.Errorf("wheel over the lesson moved the log to offset %d", s.log.offset)
	}
	send(m, press("pgdown")...)
	if s.log.offset != 0 {
		t.Errorf("pgdn: log offset = %d, want 0 (back at the newest line)", s.log.offset)
	}
}

func TestHelpBarNeverCutsAKeyInHalf(t *testing.T) {
	screens := []struct {
		name  string
		done  []int
		build func(m *Model)
	}{
		{"welcome with progress", []int{1, 2}, func(m *Model) {}},
		{"step 3 failed", nil, func(m *Model) {
			send(m, press("3", "enter")...)
			finish(m, 3, fmt.Errorf("step 3: %w", &steps.PrerequisiteError{Step: 3, Missing: 1}))
		}},
		{"step 2 done", nil, func(m *Model) { runStep(m, 1); runStep(m, 2) }},
	}
	for _, sc := range screens {
		for width := 40; width <= 100; width++ {
			m := newTestModel(t, "", sc.done...)
			send(m, tea.WindowSizeMsg{Width: width, Height: 24})
			sc.build(m)
			lines := strings.Split(ansi.Strip(m.render()), "\n")
			bar := strings.TrimSpace(lines[len(lines)-1])
			if !strings.HasSuffix(bar, "q quit") && !strings.HasSuffix(bar, "…") {
				t.Errorf("%s at %d columns: help bar = %q, want it to end on a whole key or the ellipsis", sc.name, width, bar)
			}
		}
	}
}

// TestFullHelpShowsEveryKey: the help that says "all keys" shows them
// all, however narrow the window for the theme's margins: columns that do
// not fit beside the others go below them.
func TestFullHelpShowsEveryKey(t *testing.T) {
	for _, theme := range []string{"", ThemeProjector} {
		for _, width := range []int{60, 80, 100} {
			m := newTestModel(t, theme)
			send(m, tea.WindowSizeMsg{Width: width, Height: 30})
			runStep(m, 1)
			send(m, press("?")...)
			screen := ansi.Strip(m.render())
			for _, want := range []string{"r run again", "pgdn log: newer", "a API calls", "q quit"} {
				if !strings.Contains(screen, want) {
					t.Errorf("theme %q, %d columns: full help lacks %q:\n%s", theme, width, want, screen)
				}
			}
			if strings.Contains(screen, "…") {
				t.Errorf("theme %q, %d columns: full help cut with an ellipsis:\n%s", theme, width, screen)
			}
		}
	}
}

func TestCompactLessonShowsItsLastLineAndTheMoreHint(t *testing.T) {
	for _, missing := range []bool{false, true} {
		m := newTestModel(t, "")
		var lesson strings.Builder
		for i := range 30 {
			fmt.Fprintf(&lesson, "Paragraph %d of the lesson.\n\n", i)
		}
		lesson.WriteString("On success: the last line.\n")
		m.c.content.lessons[1], m.c.content.lessons[3] = lesson.String(), lesson.String()
		send(m, tea.WindowSizeMsg{Width: 59, Height: 19})
		n := "1"
		if missing {
			n = "3" // two status lines: the warning and how to run it
		}
		send(m, press(n)...)
		if screen := ansi.Strip(m.render()); !strings.Contains(screen, "↓/j more") {
			t.Errorf("compact step %s before its run lacks the hint that more text is below:\n%s", n, screen)
		}
		for range 100 {
			send(m, press("j")...)
		}
		if screen := ansi.Strip(m.render()); !strings.Contains(screen, "On success: the last line.") {
			t.Errorf("compact step %s scrolled to the bottom hides the lesson's last line:\n%s", n, screen)
		}
	}
}

func TestLessonsFitTheirColumn(t *testing.T) {
	c := assetContent()
	docs := map[string]string{"welcome": c.welcome}
	for n, lesson := range c.lessons {
		docs[fmt.Sprintf("lesson %d", n)] = lesson
	}
	// Every width a lesson column takes in common terminals; the themes
	// share the wrapping, so one is enough (rendering is slow).
	for _, name := range []string{ThemeAuto} {
		th := newTheme(name, true)
		md := newMarkdown()
		for width := 40; width <= 100; width++ {
			for doc, src := range docs {
				for _, l := range strings.Split(md.render(&th, src, width), "\n") {
					if w := ansi.StringWidth(l); w > width {
						t.Errorf("%s, %s theme, %d columns: a line is %d wide and loses its end: %q", doc, name, width, w, ansi.Strip(l))
					}
				}
			}
		}
	}
}

func TestSummaryCountsStepsDoneInAnEarlierSession(t *testing.T) {
	m := newTestModel(t, "", 1, 2, 3, 4, 5)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 40})
	runStep(m, 6) // ends the workshop: the saved progress is cleared
	runStep(m, 6) // and again, with no progress left to clear
	send(m, press("enter", "n")...)
	if !onSummary(m) {
		t.Fatalf("screen = %s, want the summary", m.screen().Title())
	}
	screen := ansi.Strip(m.render())
	for n, title := range []string{"Create the KMS key", "Encrypt plaintext_u.txt", "Decrypt encrypted_e.txt", "Compare the original", "Find the GenerateDataKey"} {
		var row string
		for _, l := range strings.Split(screen, "\n") {
			if strings.Contains(l, title) {
				row = l
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(row), "done") {
			t.Errorf("summary row of step %d, done yesterday = %q, want it done", n+1, strings.TrimSpace(row))
		}
	}

	// A new workshop begins with step 1: the old progress no longer counts.
	send(m, press("1", "enter")...)
	feed(m, 1, stepLines(1), false, nil)
	finish(m, 1, nil)
	if m.steps[1].done() {
		t.Error("after step 1 of a new workshop, step 2 still counts as done")
	}
}

func TestLogScrolledToTheTopStaysFull(t *testing.T) {
	th := newTheme(ThemeAuto, true)
	keys := newKeyMap(6, 4, false)
	p := newLogPane()
	for i := range 7 {
		p.add(logEntry{at: t0, level: steps.LevelInfo, text: fmt.Sprintf("line %d", i)})
	}
	p.scroll(100) // pgup, pgup, ...: as far as it goes
	view := strings.Split(ansi.Strip(p.view(&th, &keys, 60, 5)), "\n")
	want := []string{"line 0", "line 1", "line 2", "line 3", "3 newer lines below"}
	for i, w := range want {
		if !strings.Contains(view[i], w) {
			t.Errorf("log scrolled to the top, row %d = %q, want %q (the pane full from the oldest line)", i+1, view[i], w)
		}
	}

	small := newLogPane()
	for i := range 3 {
		small.add(logEntry{at: t0, level: steps.LevelInfo, text: fmt.Sprintf("line %d", i)})
	}
	small.scroll(2)
	if view := ansi.Strip(small.view(&th, &keys, 60, 5)); !strings.Contains(view, "line 2") || strings.Contains(view, "below") {
		t.Errorf("a log that fits, scrolled up, hides lines or claims some below:\n%s", view)
	}
}

// A step done in an earlier session says so, and Enter moves on instead of
// running it again (step 5 would wait two minutes); the retry key still
// runs it.
func TestStepDoneEarlierMovesOn(t *testing.T) {
	m := newTestModel(t, "", 1, 2, 3, 4, 5)
	ran := make(chan int, 4)
	m.run = func(ctx context.Context, w *steps.Workshop, n int, r steps.Reporter) error {
		ran <- n
		return nil
	}
	d := newDriver(t, m)
	d.press("3")
	if screen := d.screen(); !strings.Contains(screen, "Done in an earlier session") || strings.Contains(screen, "to run step 3") {
		t.Errorf("step 3, done earlier, does not say so:\n%s", screen)
	}
	d.press("enter")
	d.until("step 4", func(m *Model) bool { return onStep(m, 4) })
	d.press("r")
	d.until("step 4 run again", func(m *Model) bool { return m.steps[3].status == statusDone })
	select {
	case n := <-ran:
		if n != 4 {
			t.Errorf("ran step %d, want only step 4 (by the retry key)", n)
		}
	default:
		t.Error("the retry key did not run step 4 again")
	}
	select {
	case n := <-ran:
		t.Errorf("also ran step %d", n)
	default:
	}
}

// Every lesson, the welcome text and every quiz explanation name the AWS
// documentation pages they rest on, title and address whole.
func TestScreensShowTheirSources(t *testing.T) {
	c := fixtureContent()
	checks := []struct {
		name    string
		keys    func(m *Model) []string
		sources []assets.Source
	}{
		{"welcome", func(*Model) []string { return nil }, c.welcomeSources},
		{"step 1", func(*Model) []string { return []string{"enter"} }, c.lessonSources[1]},
		{"quiz explanation", func(m *Model) []string { return []string{"6", "n", quizKey(m, 0, 1)} }, c.quiz[0].Sources},
	}
	for _, tt := range checks {
		m := newTestModel(t, "")
		send(m, tea.WindowSizeMsg{Width: 100, Height: 60}) // room for an address on one line
		send(m, press(tt.keys(m)...)...)
		screen := ansi.Strip(m.render())
		for _, s := range tt.sources {
			if !strings.Contains(screen, s.Title) || !strings.Contains(screen, s.URL) {
				t.Errorf("%s does not show its source %q at %s:\n%s", tt.name, s.Title, s.URL, screen)
			}
		}
	}
}

// Step 5's countdown never claims what did not happen: after Ctrl-C it says
// the wait stopped (no bar frozen mid-way), and after the check key it says
// the wait was cut short (no bar jumping to 100%).
func TestStep5CountdownAfterCancelOrCheckNow(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	step5Countdown(m)
	m.Update(stepDoneMsg{step: 5, run: m.runID, err: context.Canceled})
	screen := ansi.Strip(m.render())
	if !strings.Contains(screen, "stopped with 1:21 left of 2:00") || strings.Contains(screen, "32%") {
		t.Errorf("step 5 cancelled mid-wait:\n%s\nwant \"stopped with 1:21 left of 2:00\" and no progress bar", screen)
	}

	m = newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	step5Countdown(m)
	send(m, press("c")...)
	feed(m, 5, []steps.Line{line(43, steps.LevelInfo, "checking now, 1m20s before the wait is over",
		&steps.WaitDetail{Remaining: 80 * time.Second, Total: 2 * time.Minute, CheckedEarly: true})}, false, nil)
	screen = ansi.Strip(m.render())
	if !strings.Contains(screen, "cut short with 1:20 left of 2:00") || strings.Contains(screen, "100%") {
		t.Errorf("step 5 after check now:\n%s\nwant \"cut short with 1:20 left of 2:00\" and no bar at 100%%", screen)
	}
}

// Under NO_COLOR (the plain theme) the lessons read as text: bold says
// what the markdown's markers said, and no **, ` or # shows.
func TestPlainThemeShowsNoMarkdownMarkers(t *testing.T) {
	for _, keys := range [][]string{nil, {"enter"}} {
		m := newTestModel(t, ThemePlain)
		send(m, tea.WindowSizeMsg{Width: 100, Height: 40})
		send(m, press(keys...)...)
		screen := ansi.Strip(m.render())
		for _, marker := range []string{"**", "`", "# "} {
			if strings.Contains(screen, marker) {
				t.Errorf("plain screen shows the markdown marker %q:\n%s", marker, screen)
			}
		}
		if !strings.Contains(screen, "on this machine") && !strings.Contains(screen, "says why in") {
			t.Errorf("plain screen lacks the lesson's text:\n%s", screen)
		}
	}
}

// However narrow the window, the help bar keeps the way out: the screen's
// own keys give way first.
func TestHelpBarKeepsQuit(t *testing.T) {
	for _, size := range []struct{ w, h int }{{60, 18}, {50, 16}, {80, 24}} {
		m := newTestModel(t, "")
		send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
		step5Done(m)
		lines := strings.Split(ansi.Strip(m.render()), "\n")
		if bar := lines[len(lines)-1]; !strings.Contains(bar, "q quit") || !strings.Contains(bar, "enter next") {
			t.Errorf("help bar at %dx%d = %q, want the main key and q quit", size.w, size.h, bar)
		}
	}
}

// After a run, the stacked layout keeps a few lines of the lesson (not
// one), and step 5 keeps its encryption context in sight, with the API
// pane open too.
func TestRunLeavesRoomForTheLessonAndTheContext(t *testing.T) {
	for _, size := range []struct{ w, h int }{{100, 30}, {80, 24}} {
		for _, api := range []bool{false, true} {
			m := newTestModel(t, "")
			send(m, tea.WindowSizeMsg{Width: size.w, Height: size.h})
			step5Done(m)
			if api {
				send(m, press("a")...)
			}
			screen := ansi.Strip(m.render())
			for _, want := range []string{"Step lesson", "This step does one thing", "Encryption context", `"whatfor":`} {
				if !strings.Contains(screen, want) {
					t.Errorf("step 5 done at %dx%d (API pane %v) lacks %q:\n%s", size.w, size.h, api, want, screen)
				}
			}
		}
	}
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 100, Height: 30})
	runStep(m, 1)
	send(m, press("a")...)
	if screen := ansi.Strip(m.render()); !strings.Contains(screen, "first point") {
		t.Errorf("step 1 done at 100x30 with the API pane shows one line of its lesson:\n%s", screen)
	}
}
