package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// session is the tutorial running as a real bubbletea program, with a
// typist at its keyboard.
type session struct {
	t      *testing.T
	ctx    context.Context
	typist *io.PipeWriter
	events chan tea.Msg // the ends of runs and the saved transcript
	done   chan sessionResult
}

type sessionResult struct {
	m   *Model
	err error
}

// startSession runs the tutorial over a workshop in a real program, on a
// window of 120x40 and without a terminal.
func startSession(ctx context.Context, t *testing.T, w *steps.Workshop) *session {
	// The filter sees every message before the model does: it tells the
	// typist when a step has ended or the transcript is saved.
	events := make(chan tea.Msg, 64)
	filter := func(_ tea.Model, msg tea.Msg) tea.Msg {
		switch msg.(type) {
		case stepDoneMsg, transcriptSavedMsg:
			events <- msg
		}
		return msg
	}
	keys, typist := io.Pipe()
	s := &session{t: t, ctx: ctx, typist: typist, events: events, done: make(chan sessionResult, 1)}
	go func() {
		m, err := runProgram(ctx, Options{
			Workshop: w,
			Theme:    ThemePlain,
			Input:    keys,
			Output:   io.Discard,
			ProgramOptions: []tea.ProgramOption{
				tea.WithWindowSize(120, 40),
				tea.WithFilter(filter),
				tea.WithoutSignalHandler(),
			},
			shuffle: reverseShuffle,
		}, assetContent())
		s.done <- sessionResult{m, err}
	}()
	return s
}

// reverseShuffle shows the choices last first, so that the typist, who
// does not see the screen, knows which key picks which choice.
func reverseShuffle(n int, swap func(i, j int)) {
	for i := range n / 2 {
		swap(i, n-1-i)
	}
}

// choiceKey is the key of choice c of n under reverseShuffle.
func choiceKey(c, n int) string { return fmt.Sprint(n - c) }

// typeKeys types s.
func (s *session) typeKeys(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.typist, keys); err != nil {
		s.t.Fatalf("type %q: %v", keys, err)
	}
}

// next waits for the next end of a run or saved transcript.
func (s *session) next(what string) tea.Msg {
	s.t.Helper()
	select {
	case msg := <-s.events:
		return msg
	case r := <-s.done:
		s.t.Fatalf("the program ended (%v) while waiting for %s", r.err, what)
	case <-s.ctx.Done():
		s.t.Fatalf("gave up waiting for %s", what)
	}
	return nil
}

// quit presses q and waits for the program to end.
func (s *session) quit() *Model {
	s.t.Helper()
	s.typeKeys("q")
	var r sessionResult
	select {
	case r = <-s.done:
	case <-s.ctx.Done():
		s.t.Fatal("the program did not end after q")
	}
	s.typist.Close()
	if r.err != nil {
		s.t.Fatalf("runProgram: %v", r.err)
	}
	return r.m
}

const enter = "\r"

// TestTutorialEndToEnd drives the whole tutorial through a real bubbletea
// program, keys in and screens out without a terminal, over the real steps
// and the demo AWS, on a clock that makes every wait instant.
func TestTutorialEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	clk := clock.NewAuto(t0)
	clients, err := awsclient.New(ctx, awsclient.Options{Dir: dir, Clock: clk, Delivery: fakeaws.FastDelivery})
	if err != nil {
		t.Fatal(err)
	}
	defer clients.Close()
	w, err := steps.Open(steps.Options{Dir: dir, Clients: clients, Clock: clk, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	s := startSession(ctx, t, w)

	s.typeKeys(enter) // welcome -> step 1
	for i, step := range steps.All() {
		if i > 0 {
			s.typeKeys(enter) // on to the step
		}
		s.typeKeys(enter) // run it
		msg := s.next(fmt.Sprintf("step %d", step.Number))
		if d, ok := msg.(stepDoneMsg); !ok || d.step != step.Number || d.err != nil {
			t.Fatalf("step %d ended with %#v, want success", step.Number, msg)
		}
	}
	s.typeKeys(enter) // the last step -> quiz
	quiz := assets.Quiz()
	for i, q := range quiz {
		// Answer right, except the first question, to see a score that
		// counts: a wrong answer, then the right one after the hint.
		if i == 0 {
			s.typeKeys(choiceKey((q.Answer+1)%len(q.Choices), len(q.Choices)))
		}
		s.typeKeys(choiceKey(q.Answer, len(q.Choices)) + enter)
	}
	saved, ok := s.next("the transcript").(transcriptSavedMsg)
	if !ok || saved.err != nil {
		t.Fatalf("transcript: %#v", saved)
	}
	m := s.quit()
	checkSummary(t, m, len(quiz)-1, len(quiz))
	checkTranscript(t, saved.path, "Cleanup Successful", "GenerateDataKey API Called", "KMS", "GenerateDataKey", "LookupEvents", "ScheduleKeyDeletion",
		"right after the hint", "== Predictions: 0 of 3 right (0 answered)")
	checkSavedQuiz(t, w, quiz)
}

// checkSavedQuiz checks that the quiz's answers are in the workshop
// folder's progress once the program has ended.
func checkSavedQuiz(t *testing.T, w *steps.Workshop, quiz []assets.Question) {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := steps.Open(steps.Options{Dir: w.Dir, Clients: w.Clients, Clock: w.Clock})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := len(again.State.Quiz); got != len(quiz) {
		t.Fatalf("the progress holds %d quiz answers, want %d", got, len(quiz))
	}
	if a := again.State.Quiz[1]; len(a.Picks) != 2 || a.Picks[1] != quiz[0].Answer {
		t.Errorf("saved answer to question 1 = %+v, want a wrong pick, then %d", a, quiz[0].Answer)
	}
}

// checkSummary checks that the tutorial ended on the summary with a score
// of right of answered, and saw AWS calls.
func checkSummary(t *testing.T, m *Model, right, answered int) {
	t.Helper()
	if !onSummary(m) {
		t.Errorf("final screen = %s, want the summary", m.screen().Title())
	}
	if r, a := m.summary.quiz.score(); r != right || a != answered {
		t.Errorf("score = %d right of %d answered, want %d of %d", r, a, right, answered)
	}
	if m.api.total() == 0 {
		t.Error("the API pane saw no AWS calls")
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	screen := ansi.Strip(m.render())
	if want := fmt.Sprintf("Quiz score: %d of %d", right, answered); !strings.Contains(screen, want) {
		t.Errorf("summary lacks %q:\n%s", want, screen)
	}
}

// checkTranscript checks that the transcript at path holds every want.
func checkTranscript(t *testing.T, path string, wants ...string) {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(string(text), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
}
