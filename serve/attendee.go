package serve

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/runner"
	"cse-workshop/steps"
	"cse-workshop/tui"
)

// noEndpointNote is what the tutorial says to an attendee who asks for
// the demo's endpoint: the server's loopback is not theirs to reach.
const noEndpointNote = "Over SSH, the demo answers the tutorial only: your own AWS CLI cannot reach it. Run cse-workshop on your own machine to try that."

// frameRate is how many frames a second an attendee's tutorial draws at
// most. A room serves hundreds of tutorials from one process: each frame
// drawn costs the server a drawing and a terminal update, while a person
// sees no difference above a few tens a second over SSH.
const frameRate = 30

// backgroundFrameInterval is the least time between two frames drawn for
// what happens in the background (a run's lines, the AWS calls): ten a
// second, enough to read a log as it grows. A key press is drawn at once,
// and flushed at the next of frameRate's ticks.
const backgroundFrameInterval = 100 * time.Millisecond

// spinnerInterval is the time between the frames of an attendee's
// spinner: four a second, not ten. Each is a frame drawn and sent, and
// while step 5 waits the whole room sits watching it.
const spinnerInterval = 250 * time.Millisecond

// serveAttendee runs the tutorial for one attendee until they quit, they
// connect again elsewhere, they stay idle too long, or the room ends.
func (s *Server) serveAttendee(sess ssh.Session, id string) {
	if id == "" {
		id = userID(sess.User())
	}
	name := sess.User()
	if s.opts.testHookSession != nil {
		s.opts.testHookSession(name)
	}
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	me := &session{cancel: cancel}
	a, err := s.room.join(id, name, me)
	switch {
	case errors.Is(err, errRoomFull):
		s.log.Printf("refused %s: the room is full (%d sessions)", name, s.opts.MaxSessions)
		screen(sess, "The room is full",
			fmt.Sprintf("All %d places are taken right now. Your progress is kept: try again in a few minutes, or ask the facilitator.", s.opts.MaxSessions))
		_ = sess.Exit(1)
		return
	case errors.Is(err, errRoomEnded):
		screen(sess, "The workshop has ended", "Thank you for taking part! Your progress is kept.")
		_ = sess.Exit(0)
		return
	}
	defer s.room.leave(a, me)

	// The session before this one, if any, saves and lets go first.
	a.busy.Lock()
	defer a.busy.Unlock()
	if ctx.Err() != nil {
		return // taken over in turn, or gone, while waiting
	}
	w, closeWorkshop, err := s.openWorkshop(ctx, a)
	if err != nil {
		s.log.Printf("open the workshop of %s: %v", name, err)
		var b strings.Builder
		runner.PrintError(&b, err)
		screen(sess, "Your workshop could not be opened", b.String())
		_ = sess.Exit(1)
		return
	}
	defer closeWorkshop()
	s.log.Printf("%s (%s) joined, demo account %s", name, id, a.account)

	err = tui.Run(ctx, s.tutorialOptions(ctx, sess, w, a, me))
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && ctx.Err() == nil {
		s.log.Printf("the tutorial of %s ended: %v", name, err)
	}
	if bye := me.goodbyeText(); bye != "" {
		// The goodbye screen was on the alternate screen: say it again
		// where it stays.
		fmt.Fprintf(sess, "\r\n%s\r\nYour progress is kept.\r\n", bye)
	}
	_ = sess.Exit(0)
}

// openWorkshop opens a's workshop folder over a's own demo AWS account.
func (s *Server) openWorkshop(ctx context.Context, a *attendee) (*steps.Workshop, func(), error) {
	fake, err := fakeaws.New(fakeaws.Options{
		AccountID: a.account,
		Clock:     s.opts.Clock,
		Delivery:  s.opts.Delivery,
		StateFile: filepath.Join(a.dir, filepath.FromSlash(awsclient.StateFileName)),
		// Atomic, not forced to disk: a room's hundreds of accounts
		// would queue on the disk at every key change.
		SkipSync: true,
		ErrorLog: s.log,
	})
	if err != nil {
		return nil, nil, err
	}
	// No endpoint: the attendee is remote and must not reach the
	// server's loopback.
	clients, err := awsclient.New(ctx, awsclient.Options{Fake: fake, Clock: s.opts.Clock, Dir: a.dir})
	if err != nil {
		return nil, nil, err
	}
	w, err := steps.Open(steps.Options{
		Dir:       a.dir,
		Clients:   clients,
		Clock:     s.opts.Clock,
		Fast:      s.opts.Fast,
		AuditWait: s.room.AuditWait(),
	})
	if err != nil {
		return nil, nil, err
	}
	closeAll := func() {
		if err := clients.Close(); err != nil {
			s.log.Printf("save the demo account of %s: %v", a.name, err)
		}
		if err := w.Close(); err != nil {
			s.log.Printf("close the workshop of %s: %v", a.name, err)
		}
	}
	return w, closeAll, nil
}

// tutorialOptions run the tutorial on the attendee's terminal: their
// window size, colour profile and environment, never the server's.
func (s *Server) tutorialOptions(ctx context.Context, sess ssh.Session, w *steps.Workshop, a *attendee, me *session) tui.Options {
	pty, winch, _ := sess.Pty()
	env := append(sess.Environ(), "TERM="+pty.Term)
	var lastKey atomic.Int64
	lastKey.Store(time.Now().UnixNano())
	popts := append(bubbletea.MakeOptions(sess),
		tea.WithoutSignalHandler(),
		tea.WithFPS(frameRate),
		tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			switch msg.(type) {
			case tea.KeyPressMsg, tea.MouseClickMsg, tea.MouseWheelMsg:
				lastKey.Store(time.Now().UnixNano())
			case tea.SuspendMsg:
				// Ctrl-Z would stop the server's program, not the
				// attendee's terminal.
				return nil
			}
			return msg
		}),
	)
	return tui.Options{
		Workshop:        w,
		Theme:           s.opts.Theme,
		Fast:            s.opts.Fast,
		Input:           sess,
		Output:          sess,
		Environ:         env,
		ProgramOptions:  popts,
		NoEndpointNote:  noEndpointNote,
		FrameInterval:   backgroundFrameInterval,
		SpinnerInterval: spinnerInterval,
		Observe:         func(st tui.Status) { s.room.observe(a, me, st) },
		Started: func(p *tea.Program) {
			me.mu.Lock()
			me.program = p
			me.mu.Unlock()
			if wait := s.room.AuditWait(); wait != nil {
				go p.Send(tui.AuditWaitMsg{Wait: *wait})
			}
			go forwardWindowSizes(ctx, p, winch)
			if s.opts.IdleTimeout > 0 {
				go s.endWhenIdle(ctx, me, &lastKey)
			}
		},
	}
}

// forwardWindowSizes tells the tutorial each new size of the attendee's
// window.
func forwardWindowSizes(ctx context.Context, p *tea.Program, winch <-chan ssh.Window) {
	for {
		select {
		case <-ctx.Done():
			return
		case w, ok := <-winch:
			if !ok {
				return
			}
			p.Send(tea.WindowSizeMsg{Width: w.Width, Height: w.Height})
		}
	}
}

// endWhenIdle ends the session once no key was pressed for the idle
// timeout.
func (s *Server) endWhenIdle(ctx context.Context, me *session, lastKey *atomic.Int64) {
	timeout := s.opts.IdleTimeout
	tick := time.NewTicker(min(max(timeout/4, 50*time.Millisecond), 30*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if now.Sub(time.Unix(0, lastKey.Load())) >= timeout {
				me.end(fmt.Sprintf("No key was pressed for %s, so this session is closed to make room for others.\nConnect again to go on where you were.", timeout))
				return
			}
		}
	}
}

// screen shows an attendee a message in place of the tutorial, where it
// stays after the connection closes.
func screen(sess ssh.Session, title, text string) {
	width := 72
	if pty, _, ok := sess.Pty(); ok && pty.Window.Width > 0 {
		width = min(width, pty.Window.Width-2)
	}
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Width(max(width, 20))
	body := lipgloss.NewStyle().Bold(true).Render(title) + "\n\n" + strings.TrimSpace(text)
	out := box.Render(body)
	fmt.Fprint(sess, "\r\n"+strings.ReplaceAll(out, "\n", "\r\n")+"\r\n")
}
