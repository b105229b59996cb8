package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	gossh "golang.org/x/crypto/ssh"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/steps"
)

const enter = "\r"

// predictionOf is the ID of step n's prediction, "" when it asks none.
func predictionOf(n int) string {
	for _, p := range assets.Predictions() {
		if p.Step == n {
			return p.ID
		}
	}
	return ""
}

// walkSteps runs steps from..6 on term, from the screen of step from,
// predicting where a step asks before it runs (steps 3 and 6; step 5 asks
// while it waits, which a typist who does not see the screen cannot
// time).
func walkSteps(r *testRoom, term *terminal, user string, from int) {
	r.t.Helper()
	for n := from; n <= 6; n++ {
		if n > from {
			term.press(enter) // on to step n
		}
		r.waitFor(user, fmt.Sprintf("the screen of step %d", n), func(a AttendeeStatus) bool { return a.Step == n })
		id := predictionOf(n)
		if id != "" && n != 5 {
			term.press("1")
			r.waitFor(user, "the prediction of step "+fmt.Sprint(n), func(a AttendeeStatus) bool { _, ok := a.Predictions[id]; return ok })
		}
		term.press(enter)
		r.waitFor(user, fmt.Sprintf("step %d done", n), func(a AttendeeStatus) bool { return a.Step == n && a.StepState == "done" })
	}
}

// answerQuiz answers every question from the quiz's screen: the first
// choice shown, then the second when the first was wrong.
func answerQuiz(r *testRoom, term *terminal, user string) AttendeeStatus {
	r.t.Helper()
	for range assets.Quiz() {
		term.press("1", "2", enter)
	}
	return r.waitFor(user, "the summary", func(a AttendeeStatus) bool { return a.Screen == "summary" })
}

// TestAttendeeEndToEnd drives one attendee over a real SSH connection
// through the six steps to the quiz score, and checks what they saw,
// what the room saw and what was kept in their folder.
func TestAttendeeEndToEnd(t *testing.T) {
	r := startRoom(t, Options{})
	term := r.connect("alice", newKey(t))
	term.waitText("The six steps")
	r.waitFor("alice", "the welcome screen", func(a AttendeeStatus) bool { return a.Connected && a.Screen == "welcome" })
	term.press(enter)
	walkSteps(r, term, "alice", 1)
	term.waitText("Cleanup Successful")
	term.press(enter)
	r.waitFor("alice", "the quiz", func(a AttendeeStatus) bool { return a.Screen == "quiz" })
	a := answerQuiz(r, term, "alice")

	quiz := assets.Quiz()
	if a.QuizAnswered != len(quiz) {
		t.Errorf("room sees %d of %d questions answered", a.QuizAnswered, len(quiz))
	}
	if len(a.Predictions) != 2 {
		t.Errorf("room sees predictions %v, want those of steps 3 and 6", a.Predictions)
	}
	term.waitText(fmt.Sprintf("Quiz score: %d of %d", a.QuizRight, a.QuizAnswered))
	term.press("q")
	term.waitEnd()

	// The answers are in alice's own folder, and nowhere else.
	entries, _ := os.ReadDir(filepath.Join(r.srv.opts.Dir, attendeesDir))
	if len(entries) != 1 {
		t.Fatalf("the room holds %d attendee folders, want 1", len(entries))
	}
	w := openAttendee(t, r, a)
	if len(w.State.Quiz) != len(quiz) || len(w.State.Predictions) != 2 {
		t.Errorf("alice's saved progress: quiz %v, predictions %v", w.State.Quiz, w.State.Predictions)
	}
}

// openAttendee opens an attendee's workshop folder once their session
// has let it go, over their demo account.
func openAttendee(t *testing.T, r *testRoom, a AttendeeStatus) *steps.Workshop {
	t.Helper()
	r.waitFor(a.Name, "disconnected", func(a AttendeeStatus) bool { return !a.Connected })
	r.srv.room.waitEmpty(10 * time.Second)
	dir := filepath.Join(r.srv.opts.Dir, attendeesDir, a.ID)
	fake, err := fakeaws.New(fakeaws.Options{AccountID: a.Account, Delivery: r.srv.opts.Delivery, StateFile: filepath.Join(dir, filepath.FromSlash(awsclient.StateFileName))})
	if err != nil {
		t.Fatal(err)
	}
	clients, err := awsclient.New(context.Background(), awsclient.Options{Fake: fake})
	if err != nil {
		t.Fatal(err)
	}
	w, err := steps.Open(steps.Options{Dir: dir, Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// TestAttendeesAreIsolated: two attendees, each their own demo account:
// B cannot see A's key, and B's CloudTrail has none of A's calls.
func TestAttendeesAreIsolated(t *testing.T) {
	r := startRoom(t, Options{})
	ta := r.connect("ann", newKey(t))
	tb := r.connect("bob", newKey(t))
	for _, x := range []struct {
		term *terminal
		user string
	}{{ta, "ann"}, {tb, "bob"}} {
		x.term.press(enter, enter)
		r.waitFor(x.user, "step 1 done", func(a AttendeeStatus) bool { return a.Step == 1 && a.StepState == "done" })
		x.term.press(enter, enter)
		r.waitFor(x.user, "step 2 done", func(a AttendeeStatus) bool { return a.Step == 2 && a.StepState == "done" })
	}
	var ann, bob AttendeeStatus
	for _, a := range r.srv.room.Attendees() {
		switch a.Name {
		case "ann":
			ann = a
		case "bob":
			bob = a
		}
	}
	if ann.Account == bob.Account || len(ann.Account) != 12 {
		t.Fatalf("accounts %q and %q, want two distinct 12-digit accounts", ann.Account, bob.Account)
	}
	ta.press("q")
	tb.press("q")
	wa := openAttendee(t, r, ann)
	wb := openAttendee(t, r, bob)
	if !strings.Contains(wa.State.KeyARN, ":"+ann.Account+":") || !strings.Contains(wb.State.KeyARN, ":"+bob.Account+":") {
		t.Errorf("key ARNs %s and %s are not in their owners' accounts", wa.State.KeyARN, wb.State.KeyARN)
	}
	ctx := context.Background()
	keys, err := wb.Clients.KMS.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || aws.ToString(keys.Keys[0].KeyArn) != wb.State.KeyARN {
		t.Errorf("bob's account lists %d keys, want his own only", len(keys.Keys))
	}
	events, err := wb.Clients.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Events) == 0 {
		t.Fatal("bob's CloudTrail is empty: the test shows nothing")
	}
	for _, e := range events.Events {
		if ev := aws.ToString(e.CloudTrailEvent); strings.Contains(ev, ann.Account) || strings.Contains(ev, wa.State.KeyARN) {
			t.Errorf("bob's CloudTrail holds a call of ann's: %s", ev)
		}
	}
	// Asked last: the refused call is in bob's CloudTrail too.
	if _, err := wb.Clients.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(wa.State.KeyARN)}); err == nil {
		t.Error("bob's account describes ann's key")
	}
}

// TestReconnectResumes: an attendee who disconnects, even in the middle
// of a step, comes back to where they were, with nothing half-done left.
func TestReconnectResumes(t *testing.T) {
	r := startRoom(t, Options{})
	key := newKey(t)
	term := r.connect("cleo", key)
	term.press(enter)
	walkStepsTo(r, term, "cleo", 4)
	// Step 5 waits long enough to be cut off in the middle.
	r.srv.room.SetAuditWait(time.Hour)
	term.press(enter, "5", enter)
	r.waitFor("cleo", "step 5 running", func(a AttendeeStatus) bool { return a.Step == 5 && a.StepState == "running" })
	term.close()
	r.waitFor("cleo", "disconnected", func(a AttendeeStatus) bool { return !a.Connected })

	r.srv.room.SetAuditWait(0)
	again := r.connect("cleo", key)
	a := r.waitFor("cleo", "back", func(a AttendeeStatus) bool { return a.Connected && a.Screen == "welcome" })
	if a.StepsDone != 4 {
		t.Errorf("after reconnecting, %d steps are done, want 4", a.StepsDone)
	}
	again.press(enter) // resume: the first step not done
	r.waitFor("cleo", "resumed at step 5", func(a AttendeeStatus) bool { return a.Step == 5 })
	again.press(enter)
	r.waitFor("cleo", "step 5 done", func(a AttendeeStatus) bool { return a.Step == 5 && a.StepState == "done" })
	again.press("q")
	again.waitEnd()
	dir := filepath.Join(r.srv.opts.Dir, attendeesDir, a.ID)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), ".tmp") || strings.HasPrefix(d.Name(), ".tmp")) {
			t.Errorf("a half-written file stayed: %s", p)
		}
		return nil
	})
}

// walkStepsTo runs steps 1..last from the screen of step 1.
func walkStepsTo(r *testRoom, term *terminal, user string, last int) {
	r.t.Helper()
	for n := 1; n <= last; n++ {
		if n > 1 {
			term.press(enter)
		}
		r.waitFor(user, fmt.Sprintf("step %d shown", n), func(a AttendeeStatus) bool { return a.Step == n })
		term.press(enter)
		r.waitFor(user, fmt.Sprintf("step %d done", n), func(a AttendeeStatus) bool { return a.Step == n && a.StepState == "done" })
	}
}

// TestSecondConnectionTakesOver: the same attendee connecting again
// closes the first window with a message; the second goes on.
func TestSecondConnectionTakesOver(t *testing.T) {
	r := startRoom(t, Options{})
	key := newKey(t)
	first := r.connect("dan", key)
	r.waitFor("dan", "connected", func(a AttendeeStatus) bool { return a.Screen == "welcome" })
	second := r.connect("dan", key)
	first.waitEnd()
	if !strings.Contains(first.text(), "You connected again from another window") {
		t.Errorf("the first window was not told why it closed:\n%s", tail(first.text(), 2000))
	}
	second.waitText("The six steps")
	second.press(enter, enter)
	r.waitFor("dan", "step 1 done in the second window", func(a AttendeeStatus) bool { return a.Step == 1 && a.StepState == "done" })
}

// TestRefusals: no command, no file copy, no port forwarding, no session
// without a terminal, and no entry without the passcode.
func TestRefusals(t *testing.T) {
	r := startRoom(t, Options{Passcode: "kms42"})
	key := newKey(t)
	answer := func(code string) gossh.AuthMethod {
		return gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
			a := make([]string, len(qs))
			for i := range a {
				a[i] = code
			}
			return a, nil
		})
	}
	if _, err := r.dial("eve", gossh.PublicKeys(key), answer("wrong")); err == nil {
		t.Error("a wrong passcode got in")
	}
	if _, err := r.dial("eve", gossh.PublicKeys(key)); err == nil {
		t.Error("a new key got in without the passcode")
	}
	if _, err := r.dial("eve", answer("wrong")); err == nil {
		t.Error("a wrong passcode got in without a key")
	}
	client, err := r.dial("eve", gossh.PublicKeys(key), answer("kms42"))
	if err != nil {
		t.Fatalf("the right passcode: %v", err)
	}
	defer client.Close()

	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("cat /etc/passwd")
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(string(out), "tutorial only") || strings.Contains(string(out), "root:") {
		t.Errorf("exec: err %v, output %q; want exit status 1 and a refusal", err, out)
	}
	sess, _ = client.NewSession()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		if err := sess.Wait(); err == nil {
			t.Error("the sftp subsystem was served")
		}
	}
	sess, _ = client.NewSession()
	out, err = sess.CombinedOutput("")
	if err == nil || !strings.Contains(string(out), "PTY") {
		t.Errorf("a shell without a terminal: err %v, output %q; want a refusal", err, out)
	}
	if c, err := client.Dial("tcp", r.addr); err == nil {
		c.Close()
		t.Error("local port forwarding was allowed")
	}
	if l, err := client.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Error("remote port forwarding was allowed")
	}

	// The passcode is asked once: the key that gave it gets in alone, and
	// it does so after the room restarts, since its folder exists now.
	term, err := openTerminal(t, client, nil)
	if err != nil {
		t.Fatal(err)
	}
	term.waitText("The six steps")
	again, err := r.dial("eve", gossh.PublicKeys(key))
	if err != nil {
		t.Fatalf("the admitted key was refused: %v", err)
	}
	again.Close()
}

// TestServeAWSIsRefused is in the main package; here: a panic in one
// session ends that session with a message, and the room goes on.
func TestPanicEndsOneSession(t *testing.T) {
	r := startRoom(t, Options{})
	r.srv.opts.testHookSession = func(name string) {
		if name == "boom" {
			panic("test panic")
		}
	}
	boom := r.connect("boom", newKey(t))
	boom.waitEnd()
	if !strings.Contains(boom.text(), "something went wrong on the server") {
		t.Errorf("the attendee was not told:\n%s", boom.text())
	}
	if !strings.Contains(r.logs.String(), "test panic") {
		t.Errorf("the panic was not logged:\n%s", r.logs.String())
	}
	ok := r.connect("fine", newKey(t))
	ok.waitText("The six steps")
}

// TestRoomFullAndIdle: past --max-sessions, an attendee is told the room
// is full; an idle attendee is told why the session closed.
func TestRoomFullAndIdle(t *testing.T) {
	r := startRoom(t, Options{MaxSessions: 1, IdleTimeout: 2 * time.Second})
	first := r.connect("fay", newKey(t))
	r.waitFor("fay", "connected", func(a AttendeeStatus) bool { return a.Connected })
	full := r.connect("gus", newKey(t))
	full.waitEnd()
	if !strings.Contains(full.text(), "The room is full") || !strings.Contains(full.text(), "Your progress is kept") {
		t.Errorf("a refused attendee saw:\n%s", full.text())
	}
	first.waitEnd()
	if !strings.Contains(first.text(), "No key was pressed for 2s") {
		t.Errorf("the idle attendee saw:\n%s", tail(first.text(), 2000))
	}
}

// TestFacilitatorOverSSH: the facilitator's key gets the room view; a line
// sent reaches the attendees; ending the room says goodbye to everyone.
func TestFacilitatorOverSSH(t *testing.T) {
	fkey := newKey(t)
	r := startRoom(t, Options{FacilitatorKeys: []gossh.PublicKey{fkey.PublicKey()}})
	att := r.connect("hal", newKey(t))
	r.waitFor("hal", "connected", func(a AttendeeStatus) bool { return a.Screen == "welcome" })
	view := r.connect("teacher", fkey)
	view.waitText("the room")
	view.waitText("hal")
	view.press("m")
	view.press("Break at 11")
	view.press(enter)
	att.waitText("From the facilitator: Break at 11")
	view.press("E", "y")
	att.waitEnd()
	view.waitEnd()
	if !strings.Contains(att.text(), "The workshop has ended") {
		t.Errorf("the attendee saw no goodbye:\n%s", tail(att.text(), 2000))
	}
	if slices.ContainsFunc(r.srv.room.Attendees(), func(a AttendeeStatus) bool { return a.Name == "teacher" }) {
		t.Error("the facilitator is counted as an attendee")
	}
}

// A Serve that starts after the server was stopped (its goroutine ran
// late, on a busy machine) returns at once instead of accepting for ever.
func TestServeAfterShutdown(t *testing.T) {
	srv, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(t.Context(), "bye"); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		ln.Close()
		t.Fatal("Serve after Shutdown kept accepting")
	}
}
