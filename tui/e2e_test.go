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
	type result struct {
		m   *Model
		err error
	}
	done := make(chan result, 1)
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
		}, assetContent())
		done <- result{m, err}
	}()

	typeKeys := func(s string) {
		t.Helper()
		if _, err := io.WriteString(typist, s); err != nil {
			t.Fatalf("type %q: %v", s, err)
		}
	}
	next := func(what string) tea.Msg {
		t.Helper()
		select {
		case msg := <-events:
			return msg
		case r := <-done:
			t.Fatalf("the program ended (%v) while waiting for %s", r.err, what)
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		}
		return nil
	}

	const enter = "\r"
	typeKeys(enter) // welcome -> step 1
	for n := 1; n <= stepCount; n++ {
		if n > 1 {
			typeKeys(enter) // on to step n
		}
		typeKeys(enter) // run it
		msg := next(fmt.Sprintf("step %d", n))
		d, ok := msg.(stepDoneMsg)
		if !ok || d.step != n || d.err != nil {
			t.Fatalf("step %d ended with %#v, want success", n, msg)
		}
	}
	typeKeys(enter) // step 6 -> quiz
	quiz := assets.Quiz()
	for i, q := range quiz {
		// Answer right, except the first question, to see a score that
		// counts.
		choice := q.Answer
		if i == 0 {
			choice = (q.Answer + 1) % len(q.Choices)
		}
		typeKeys(fmt.Sprint(choice+1) + enter)
	}
	saved, ok := next("the transcript").(transcriptSavedMsg)
	if !ok || saved.err != nil {
		t.Fatalf("transcript: %#v", saved)
	}
	typeKeys("q")
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the program did not end after q")
	}
	typist.Close()
	if r.err != nil {
		t.Fatalf("runProgram: %v", r.err)
	}

	m := r.m
	if m.screen.kind != screenSummary {
		t.Errorf("final screen = %+v, want the summary", m.screen)
	}
	if right, answered := m.score(); right != len(quiz)-1 || answered != len(quiz) {
		t.Errorf("score = %d right of %d answered, want %d of %d", right, answered, len(quiz)-1, len(quiz))
	}
	m.width, m.height = 120, 40
	m.sync()
	screen := ansi.Strip(m.render())
	if want := fmt.Sprintf("Quiz score: %d of %d", len(quiz)-1, len(quiz)); !strings.Contains(screen, want) {
		t.Errorf("summary lacks %q:\n%s", want, screen)
	}
	text, err := os.ReadFile(saved.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Cleanup Successful", "GenerateDataKey API Called", "KMS", "GenerateDataKey", "LookupEvents", "ScheduleKeyDeletion"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if m.api.total() == 0 {
		t.Error("the API pane saw no AWS calls")
	}
}
