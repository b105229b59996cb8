package serve

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"cse-workshop/assets"
	"cse-workshop/internal/clock"
	"cse-workshop/tui"
)

// goodbyeGrace is how long a session that was told goodbye has to end by
// itself before it is cut.
const goodbyeGrace = 5 * time.Second

// Room is the attendees, connected or not, and what the facilitator does
// to all of them. It is safe for concurrent use.
type Room struct {
	dir   string
	clock clock.Clock
	log   *log.Logger
	max   int

	mu        sync.Mutex
	attendees map[string]*attendee // by ID
	auditWait *time.Duration
	ended     bool
	endedCh   chan struct{}
	goodbye   string
	empty     *sync.Cond // signalled when a session leaves
}

// attendee is one attendee of the room.
type attendee struct {
	id, name string
	dir      string // their workshop folder
	account  string // their demo AWS account

	// busy is held while their workshop folder is open: by a session, or
	// by a reset.
	busy sync.Mutex

	// Under Room.mu:
	live   *session // the connected session, nil when none
	status tui.Status
	since  time.Time // when they came to the step or screen they are on
	seen   time.Time // when they last connected
}

// session is one connected attendee's tutorial.
type session struct {
	cancel  func()
	mu      sync.Mutex
	program *tea.Program // nil until the tutorial starts
	goodbye string       // why the room ended the session, "" when it did not
}

// send hands a message to the session's tutorial without waiting; before
// the tutorial starts there is nobody to tell.
func (s *session) send(msg tea.Msg) {
	s.mu.Lock()
	p := s.program
	s.mu.Unlock()
	if p != nil {
		go p.Send(msg)
	}
}

// end tells the attendee goodbye and ends the session a moment later.
func (s *session) end(text string) {
	s.mu.Lock()
	s.goodbye = text
	p := s.program
	s.mu.Unlock()
	if p == nil {
		s.cancel()
		return
	}
	go p.Send(tui.GoodbyeMsg{Text: text})
	time.AfterFunc(goodbyeGrace, s.cancel)
}

func (s *session) goodbyeText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.goodbye
}

func newRoom(opts Options, l *log.Logger) *Room {
	r := &Room{
		dir:       filepath.Join(opts.Dir, attendeesDir),
		clock:     opts.Clock,
		log:       l,
		max:       opts.MaxSessions,
		attendees: map[string]*attendee{},
		auditWait: opts.AuditWait,
		endedCh:   make(chan struct{}),
	}
	r.empty = sync.NewCond(&r.mu)
	return r
}

// Errors of join.
var (
	errRoomFull  = errors.New("the room is full")
	errRoomEnded = errors.New("the workshop has ended")
)

// join makes s the attendee's session. A session of the same attendee
// still connected is told goodbye: the newest connection wins. The caller
// then takes a.busy, which the old session lets go once it has saved.
func (r *Room) join(id, name string, s *session) (*attendee, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil, errRoomEnded
	}
	a := r.attendees[id]
	if a == nil {
		a = &attendee{id: id, name: name, dir: filepath.Join(r.dir, id), account: accountID(id)}
	}
	old := a.live
	if old == nil && r.max > 0 && r.connectedLocked() >= r.max {
		return nil, errRoomFull
	}
	r.attendees[id] = a
	a.name = name
	a.live = s
	a.seen = r.clock.Now()
	if old != nil {
		old.end("You connected again from another window: this one is closed.")
	}
	return a, nil
}

// leave notes that s, a's session, has ended.
func (r *Room) leave(a *attendee, s *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.live == s {
		a.live = nil
	}
	r.empty.Broadcast()
}

// observe takes the status of a's tutorial in session s.
func (r *Room) observe(a *attendee, s *session, st tui.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.live != s {
		return // a session taken over, still saying goodbye
	}
	if st.Screen != a.status.Screen || st.Step != a.status.Step || a.since.IsZero() {
		a.since = r.clock.Now()
	}
	a.status = st
}

func (r *Room) connectedLocked() int {
	n := 0
	for _, a := range r.attendees {
		if a.live != nil {
			n++
		}
	}
	return n
}

// waitEmpty waits until no attendee is connected, or for at most d.
func (r *Room) waitEmpty(d time.Duration) {
	timer := time.AfterFunc(d, func() {
		r.mu.Lock()
		r.empty.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(d)
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.connectedLocked() > 0 && time.Now().Before(deadline) {
		r.empty.Wait()
	}
}

// AuditWait is step 5's wait the room set, nil for the default.
func (r *Room) AuditWait() *time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.auditWait
}

// SetAuditWait sets step 5's wait for every attendee, connected now or
// later, from their next run of step 5.
func (r *Room) SetAuditWait(d time.Duration) {
	r.mu.Lock()
	r.auditWait = &d
	live := r.liveLocked()
	r.mu.Unlock()
	for _, s := range live {
		s.send(tui.AuditWaitMsg{Wait: d})
	}
}

// Broadcast shows a line on every connected attendee's screen.
func (r *Room) Broadcast(text string) {
	r.mu.Lock()
	live := r.liveLocked()
	r.mu.Unlock()
	for _, s := range live {
		s.send(tui.NoticeMsg{Text: text})
	}
}

// End ends the workshop for everyone: each connected attendee sees the
// goodbye, and nobody can connect any more.
func (r *Room) End(goodbye string) {
	if goodbye == "" {
		goodbye = "The workshop has ended. Thank you for taking part!"
	}
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		return
	}
	r.ended = true
	r.goodbye = goodbye
	live := r.liveLocked()
	close(r.endedCh)
	r.mu.Unlock()
	r.log.Printf("the workshop ended for everyone")
	for _, s := range live {
		s.end(goodbye)
	}
}

// Ended is closed when the workshop has ended.
func (r *Room) Ended() <-chan struct{} { return r.endedCh }

// Reset starts an attendee's workshop over: a connected attendee is told
// and disconnected, and their workshop folder and demo account are
// emptied, so that their next connection starts at step 1.
func (r *Room) Reset(id string) error {
	r.mu.Lock()
	a := r.attendees[id]
	var live *session
	if a != nil {
		live = a.live
	}
	r.mu.Unlock()
	if a == nil {
		return fmt.Errorf("reset: no attendee %s", id)
	}
	if live != nil {
		live.end("The facilitator started your workshop over: connect again to begin at step 1.")
	}
	a.busy.Lock()
	defer a.busy.Unlock()
	if err := os.RemoveAll(a.dir); err != nil {
		return fmt.Errorf("reset %s: %w", a.name, err)
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return fmt.Errorf("reset %s: %w", a.name, err)
	}
	r.mu.Lock()
	a.status = tui.Status{}
	a.since = r.clock.Now()
	r.mu.Unlock()
	r.log.Printf("reset %s (%s)", a.name, a.id)
	return nil
}

func (r *Room) liveLocked() []*session {
	var live []*session
	for _, a := range r.attendees {
		if a.live != nil {
			live = append(live, a.live)
		}
	}
	return live
}

// AttendeeStatus is what the room view shows of one attendee.
type AttendeeStatus struct {
	ID, Name  string
	Account   string
	Connected bool
	Screen    string // tui.Status.Screen, "" before the tutorial started
	Step      int    // the step on screen, 0 on another screen
	StepState string // "running", "done", "failed", "cancelled" or ""
	OnStep    time.Duration
	StepsDone int
	// Experiments is how many experiments they tried.
	Experiments int
	// QuizRight and QuizAnswered are their quiz score: right at the first
	// try, of the questions answered.
	QuizRight, QuizAnswered int
	// QuizPicks are their first answers to the quiz, by question index,
	// -1 when not answered; Predictions theirs by prediction ID.
	QuizPicks   []int
	Predictions map[string]int
}

// Attendees is the room now, in the order of the names.
func (r *Room) Attendees() []AttendeeStatus {
	quiz := assets.Quiz()
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AttendeeStatus, 0, len(r.attendees))
	for _, a := range r.attendees {
		st := a.status
		as := AttendeeStatus{
			ID: a.id, Name: a.name, Account: a.account, Connected: a.live != nil,
			Screen: st.Screen, Step: st.Step, StepState: st.StepState,
			StepsDone: st.StepsDone, Experiments: len(st.Progress.Experiments),
			Predictions: st.Progress.Predictions, QuizPicks: make([]int, len(quiz)),
		}
		if !a.since.IsZero() {
			as.OnStep = now.Sub(a.since).Truncate(time.Second)
		}
		for i, q := range quiz {
			as.QuizPicks[i] = -1
			ans, ok := st.Progress.Quiz[i+1]
			if !ok || ans.Prompt != q.Prompt || len(ans.Picks) == 0 {
				continue
			}
			as.QuizPicks[i] = ans.Picks[0]
			as.QuizAnswered++
			if ans.Picks[0] == q.Answer {
				as.QuizRight++
			}
		}
		out = append(out, as)
	}
	slices.SortFunc(out, func(a, b AttendeeStatus) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}
