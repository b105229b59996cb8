package serve

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/assets"
)

// press sends keys to the room view as a terminal would.
func (v *roomView) press(keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "down":
			msg = tea.KeyPressMsg{Code: tea.KeyDown}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		v.Update(msg)
	}
}

func (v *roomView) screen() string { return ansi.Strip(v.render()) }

// TestRoomViewSeesTwoAttendees: the facilitator sees each attendee's step,
// state and quiz score, and the room's answers to a quiz question, with
// the right answer revealed on a key.
func TestRoomViewSeesTwoAttendees(t *testing.T) {
	r := startRoom(t, Options{})
	ann := r.connect("ann", newKey(t))
	bob := r.connect("bob", newKey(t))
	ann.press(enter, enter)
	r.waitFor("ann", "step 1 done", func(a AttendeeStatus) bool { return a.Step == 1 && a.StepState == "done" })
	bob.press(enter, "6", "n") // the facilitator's shortcut to step 6, then the quiz
	r.waitFor("bob", "the quiz", func(a AttendeeStatus) bool { return a.Screen == "quiz" })
	bob.press("1")
	b := r.waitFor("bob", "an answer", func(a AttendeeStatus) bool { return a.QuizAnswered == 1 })

	v := newRoomView(r.srv.room, false)
	v.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	screen := v.screen()
	quiz := assets.Quiz()
	for _, want := range []string{
		"2 connected, 2 attendees",
		"ann", "1 Create the KMS key", "done", "1/6",
		"bob", "quiz", "0/6",
		"Quiz 1 of", quiz[0].Prompt, "1 answered",
		"(r reveals the right answer)",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("room view lacks %q:\n%s", want, screen)
		}
	}
	if want := []string{"0/1", "1/1"}[b.QuizRight]; !strings.Contains(screen, want) {
		t.Errorf("room view lacks bob's score %s:\n%s", want, screen)
	}
	// Bob's answer is the one bar of length > 0, beside his choice.
	pick := b.QuizPicks[0]
	barLine := lineWith(screen, string(rune('A'+pick))+") ")
	if !strings.Contains(barLine, "█") || !strings.HasSuffix(strings.TrimSpace(barLine), " 1") {
		t.Errorf("the bar of choice %c is %q, want one answer", 'A'+pick, barLine)
	}
	if strings.Contains(screen, "✓") {
		t.Error("the right answer shows before r")
	}
	v.press("r")
	right := lineWith(v.screen(), "✓ ")
	if !strings.Contains(right, string(rune('A'+quiz[0].Answer))+") ") {
		t.Errorf("after r, the mark is on %q, want choice %c", right, 'A'+quiz[0].Answer)
	}
	v.press("l")
	if !strings.Contains(v.screen(), "Quiz 2 of") {
		t.Errorf("→ did not show the next poll:\n%s", v.screen())
	}
}

func lineWith(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestRoomViewControls: the facilitator sets step 5's wait, and resets an
// attendee, who is told and starts over at the next connection.
func TestRoomViewControls(t *testing.T) {
	r := startRoom(t, Options{})
	key := newKey(t)
	ivy := r.connect("ivy", key)
	ivy.press(enter, enter)
	a := r.waitFor("ivy", "step 1 done", func(a AttendeeStatus) bool { return a.Step == 1 && a.StepState == "done" })

	v := newRoomView(r.srv.room, false)
	v.press("w", "4", "5", "s", "enter")
	if d := r.srv.room.AuditWait(); d == nil || *d != 45*time.Second {
		t.Errorf("after w 45s, the room's wait is %v", d)
	}
	ivy.waitText("The facilitator set step 5's wait to 45s.")
	v.press("x", "y")
	ivy.waitEnd()
	if !strings.Contains(ivy.text(), "The facilitator started your workshop over") {
		t.Errorf("ivy was not told:\n%s", tail(ivy.text(), 2000))
	}
	if entries, err := os.ReadDir(r.srv.room.dir + "/" + a.ID); err != nil || len(entries) != 0 {
		t.Errorf("ivy's folder after the reset: %v, %v; want empty", entries, err)
	}
	again := r.connect("ivy", key)
	again.waitText("The six steps")
	if a := r.waitFor("ivy", "back", func(a AttendeeStatus) bool { return a.Connected && a.Screen == "welcome" }); a.StepsDone != 0 {
		t.Errorf("after the reset, %d steps are done, want 0", a.StepsDone)
	}
}
