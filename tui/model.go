package tui

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// preflightMsg carries the live plan (account, what will be created, the
// cost), or why it could not be read.
type preflightMsg struct {
	plan steps.Plan
	err  error
}

// Model is the root of the tutorial, after soft-serve's UI: it routes
// messages (the window size to every screen, the keys to the dialog or
// the screen on top, a run's lines to its step), handles the keys that
// work everywhere, switches screens, runs the steps, and draws the frame
// around the components.
type Model struct {
	c     *common
	w     *steps.Workshop
	run   runFunc
	alive context.Context // cancelled when the tutorial ends; every run derives from it
	stop  context.CancelFunc

	width, height int
	fast          bool // waits are shortened (--fast)
	themeName     string
	bgKnown       bool // the terminal answered the background colour query
	help          help.Model
	// trackerDrawn and helpBarDrawn keep the tracker and the help bar
	// between frames.
	trackerDrawn, helpBarDrawn drawnOnce

	// screens is the tutorial's order: welcome, the steps, quiz, summary.
	screens []screen
	current int // index in screens
	steps   []*stepScreen
	summary *summaryScreen
	// dialogs open over the screen, the last on top; it takes the keys.
	dialogs  []component
	question *questionDialog // a running step's question, while open
	quitAsk  *quitDialog     // the quit question, while open

	showAPI bool
	api     *apiPane

	// doneAtCleanup is progress.atCleanup: the steps done when the
	// clean-up step ended the workshop.
	doneAtCleanup map[int]bool

	runID     int
	runCancel context.CancelFunc
	events    chan stepEvent
	runExited chan struct{} // closed when the last run's goroutine has returned

	calls     <-chan awsclient.Call
	questions chan stepQuestion // a running step's yes/no questions
	preflight func(ctx context.Context) (steps.Plan, error)

	// saver writes the learner's answers; answersPending says some wait
	// for the running step to end (answers.go).
	saver          *progressSaver
	answersPending bool

	liveConfirmed bool
	interrupted   bool // Ctrl-C cancelled a step; a second one quits
	quitting      bool // waiting for a cancelled step before quitting
	notice        string
	noticeWarn    bool

	// The room's (room.go): who watches, what it last saw, the wait it
	// set for step 5, and the goodbye shown in place of the tutorial.
	observer  func(Status)
	observed  *Status
	auditWait *time.Duration
	goodbye   string

	pacer           framePacer
	spinnerInterval time.Duration // between the spinner's frames; 0: its own
}

// newModel builds the tutorial over a workshop. Nothing runs until Init.
func newModel(ctx context.Context, opts Options, c content) *Model {
	alive, stop := context.WithCancel(ctx)
	m := &Model{
		c:         &common{content: c, md: newMarkdown(), clock: clock.Real{}, workshop: opts.Workshop, mode: layoutStacked},
		w:         opts.Workshop,
		run:       steps.Run,
		alive:     alive,
		stop:      stop,
		themeName: opts.Theme,
		observer:  opts.Observe,
		fast:      opts.Fast,
		help:      help.New(),
		api:       newAPIPane(),
		saver:     &progressSaver{},
		width:     80,
		height:    24,
	}
	m.pacer.interval = opts.FrameInterval
	m.spinnerInterval = opts.SpinnerInterval
	if m.themeName == "" {
		m.themeName = ThemeAuto
	}
	m.c.cwd, _ = os.Getwd()
	m.c.noEndpointNote = opts.NoEndpointNote
	m.c.shuffle = rand.Shuffle
	if opts.shuffle != nil {
		m.c.shuffle = opts.shuffle
	}
	m.setTheme(true)
	if w := m.w; w != nil {
		if w.Clock != nil {
			m.c.clock = w.Clock
		}
		m.c.progress = copyProgress(w, nil)
		// A step's question (reuse a key pending deletion?) is asked on
		// this screen: the terminal's input belongs to the program.
		m.questions = make(chan stepQuestion)
		w.Confirm = askOnScreen(m.questions)
		if cl := w.Clients; cl != nil {
			m.c.live = cl.Live
			m.c.plan.Region = cl.Region
			m.c.endpoint = cl.Endpoint
			// Preflight reads the workshop's state: give it a copy, taken
			// before anything runs.
			snapshot := *w
			snapshot.State = m.c.progress.state
			m.preflight = func(ctx context.Context) (steps.Plan, error) { return steps.Preflight(ctx, &snapshot) }
			m.calls = m.subscribe(cl.Calls)
		}
	}
	m.screens = append(m.screens, newWelcomeScreen(m.c))
	for _, s := range c.steps {
		v := newStepScreen(m.c, s)
		m.steps = append(m.steps, v)
		m.screens = append(m.screens, v)
	}
	quiz := newQuizScreen(m.c)
	m.summary = newSummaryScreen(m.c, m.steps, quiz, m.api)
	m.screens = append(m.screens, quiz, m.summary)
	return m
}

// subscribe lists the calls made so far in the API pane and returns the
// channel of the calls to come.
func (m *Model) subscribe(rec *awsclient.Recorder) <-chan awsclient.Call {
	if rec == nil {
		return nil
	}
	for _, call := range rec.Calls() {
		m.api.add(call)
	}
	// A step makes a few calls at a time, read as they come; the buffer
	// is per session, and a served room holds hundreds of them.
	ch := make(chan awsclient.Call, 128)
	missed := m.api.missed
	rec.Subscribe(func(call awsclient.Call) {
		// Called from the SDK's goroutine: never block it.
		select {
		case ch <- call:
		default:
			missed.Add(1)
		}
	})
	return ch
}

// preflightCmd reads the live plan in the background.
func preflightCmd(ctx context.Context, preflight func(context.Context) (steps.Plan, error)) tea.Cmd {
	return func() (msg tea.Msg) {
		defer func() {
			if p := recover(); p != nil {
				msg = preflightMsg{err: fmt.Errorf("read the AWS account: %v", p)}
			}
		}()
		plan, err := preflight(ctx)
		return preflightMsg{plan: plan, err: err}
	}
}

func (m *Model) setTheme(dark bool) {
	c := m.c
	c.theme = newTheme(m.themeName, dark)
	plain := c.theme.name == ThemePlain
	c.keys = newKeyMap(len(c.content.steps), c.content.maxChoices(), plain)
	m.help.Styles = c.theme.help
	m.help.Ellipsis = c.theme.ellipsis
	m.help.ShortSeparator = " " + c.theme.markTodo + " "
	s := spinner.Dot
	if plain {
		s = spinner.Line
	}
	// The frames carry no padding; the screens place the spinner.
	frames := make([]string, len(s.Frames))
	for i, f := range s.Frames {
		frames[i] = strings.TrimSpace(f)
	}
	s.Frames = frames
	if m.spinnerInterval > 0 {
		s.FPS = m.spinnerInterval
	}
	c.spinner = spinner.New(spinner.WithSpinner(s), spinner.WithStyle(c.theme.spinner))
}

// screen is the screen shown.
func (m *Model) screen() screen { return m.screens[m.current] }

// dialog is the dialog on top, or nil.
func (m *Model) dialog() component {
	if len(m.dialogs) == 0 {
		return nil
	}
	return m.dialogs[len(m.dialogs)-1]
}

// Init starts listening for AWS calls and, for the auto theme, asks the
// terminal for its background colour.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitForCallCmd(m.alive, m.calls), waitForQuestionCmd(m.alive, m.questions)}
	if m.themeName == ThemeAuto {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	if m.c.live && m.preflight != nil {
		cmds = append(cmds, preflightCmd(m.alive, m.preflight))
	}
	return tea.Batch(cmds...)
}

// Update routes a message, then handles what the components asked for
// while they handled it, in the order asked, so that a key's effect
// shows in the next frame.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmds := []tea.Cmd{m.pacer.paced(msg, time.Now()), m.route(msg)}
	for len(m.c.requests) > 0 {
		req := m.c.requests[0]
		m.c.requests = m.c.requests[1:]
		cmds = append(cmds, m.handleRequest(req))
	}
	m.resize()
	m.observe()
	return m, tea.Batch(cmds...)
}

// route hands a message to whoever it is for.
func (m *Model) route(msg tea.Msg) tea.Cmd {
	if cmd, ok := m.routeRoom(msg); ok {
		return cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.sizeAll()
	case tea.BackgroundColorMsg:
		if !m.bgKnown && m.themeName == ThemeAuto {
			m.bgKnown = true
			m.setTheme(msg.IsDark())
		}
	case tea.KeyPressMsg:
		return m.updateKey(msg)
	case tea.MouseWheelMsg:
		return m.updateWheel(msg)
	case spinner.TickMsg:
		if m.c.running != 0 {
			var cmd tea.Cmd
			m.c.spinner, cmd = m.c.spinner.Update(msg)
			return cmd
		}
	case stepLineMsg:
		if msg.run == m.runID {
			m.steps[msg.step-1].Update(msg)
			return waitForStepEventCmd(m.alive, m.events)
		}
	case stepDoneMsg:
		return m.finishRun(msg)
	case transcriptSavedMsg:
		return m.summary.Update(msg)
	case progressSavedMsg:
		if msg.err != nil {
			m.setNotice("Your answers were not saved: "+msg.err.Error(), true)
		}
	case experimentPromptMsg, tea.PasteMsg:
		// A prompt read in the background, or text pasted into an
		// experiment's input.
		if d := m.dialog(); d != nil {
			return d.Update(msg)
		}
	default:
		return m.routeSession(msg)
	}
	return nil
}

// routeSession handles the messages of the session around the screens:
// AWS calls, a step's questions, the live plan, the quit timeout.
func (m *Model) routeSession(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case callMsg:
		m.api.add(msg.call)
		return waitForCallCmd(m.alive, m.calls)
	case questionMsg:
		m.question = newQuestionDialog(m.c, msg.q)
		m.dialogs = append(m.dialogs, m.question)
		return waitForQuestionCmd(m.alive, m.questions)
	case preflightMsg:
		region := m.c.plan.Region
		m.c.plan, m.c.planErr = msg.plan, msg.err
		if m.c.plan.Region == "" {
			m.c.plan.Region = region
		}
	case quitTimeoutMsg:
		if m.quitting {
			return tea.Quit
		}
	}
	return nil
}

// sizeAll gives every screen its room for the window.
func (m *Model) sizeAll() {
	l := m.layout()
	m.c.mode = l.mode
	r := m.room(l)
	for _, s := range m.screens {
		s.SetSize(r.w, r.h)
	}
}

// updateKey handles a key: Ctrl-C always; then an open dialog takes every
// key; then the keys that work on every screen; then the screen's own.
func (m *Model) updateKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.c.keys
	switch {
	case key.Matches(msg, k.Interrupt):
		return m.interrupt()
	case m.goodbye != "":
		return m.quit()
	case m.quitting:
		return nil
	case m.dialog() != nil:
		return m.dialog().Update(msg)
	}
	m.clearNotice()
	switch {
	case key.Matches(msg, k.Quit):
		return m.askQuit()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
	case key.Matches(msg, k.API):
		m.showAPI = !m.showAPI
		m.api.unselect()
		return nil
	case key.Matches(msg, k.Endpoint):
		m.openEndpoint()
		return nil
	case m.showAPI && m.apiKey(msg):
		return nil
	}
	return m.screen().Update(msg)
}

// updateWheel hands the mouse wheel to the screen, at the screen's own
// coordinates.
func (m *Model) updateWheel(msg tea.MouseWheelMsg) tea.Cmd {
	if m.dialog() != nil {
		return nil
	}
	l := m.layout()
	msg.X -= m.c.theme.pad
	msg.Y -= strings.Count(m.headerView(l.mode), "\n") + 1 + m.gapLines(l.mode)
	return m.screen().Update(msg)
}

// handleRequest does what a component asked.
func (m *Model) handleRequest(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case moveMsg:
		return m.move(msg.delta)
	case goToStepMsg:
		return m.goTo(msg.step)
	case resumeMsg:
		if n := m.c.progress.resumeStep(len(m.steps)); n != 0 && !msg.quiz {
			return m.goTo(n)
		}
		// All done: the screen after the last step.
		return m.show(m.stepIndex(len(m.steps)) + 1)
	case runStepMsg:
		return m.startStep(msg.step)
	case runExperimentMsg:
		return m.startExperiment(msg)
	case openDialogMsg:
		m.dialogs = append(m.dialogs, msg.dialog)
	case startOverMsg:
		return m.startOver()
	case liveConfirmedMsg:
		m.liveConfirmed = true
		return m.startStep(msg.step)
	case closeDialogMsg:
		m.closeDialog(msg.dialog)
	case noticeMsg:
		m.setNotice(msg.text, msg.warn)
	case askQuitMsg:
		return m.askQuit()
	case quitMsg:
		return m.quit()
	case quizAnswersMsg, predictionMsg:
		return m.keepAnswers(msg)
	}
	return nil
}

// move goes to the next (+1) or previous (-1) screen in order.
func (m *Model) move(delta int) tea.Cmd {
	i := m.current + delta
	if i < 0 || i >= len(m.screens) {
		return nil
	}
	return m.show(i)
}

// goTo shows step n's screen.
func (m *Model) goTo(n int) tea.Cmd { return m.show(m.stepIndex(n)) }

// stepIndex is where step n is in the order.
func (m *Model) stepIndex(n int) int { return slices.Index(m.screens, screen(m.steps[n-1])) }

// show switches to screens[i] and tells it so.
func (m *Model) show(i int) tea.Cmd {
	m.current = i
	return m.screen().Update(shownMsg{})
}

// startOver forgets the progress (the next run saves it) and goes to the
// first step. A live key is kept, so that step 1 reuses it and the
// clean-up step still deletes it.
func (m *Model) startOver() tea.Cmd {
	if m.c.running != 0 {
		m.setNotice(fmt.Sprintf("Step %d is running: wait for it before starting over.", m.c.running), true)
		return nil
	}
	m.w.Reset()
	m.doneAtCleanup = nil
	m.c.progress = copyProgress(m.w, nil)
	return m.goTo(1)
}

// startStep runs step n in the background, after the live confirmation.
func (m *Model) startStep(n int) tea.Cmd {
	if m.c.running != 0 {
		m.setNotice(fmt.Sprintf("Step %d is still running: wait for it, or press %s to cancel it.", m.c.running, m.c.keys.Interrupt.Help().Key), true)
		return nil
	}
	if m.w == nil {
		m.setNotice("No workshop is open.", true)
		return nil
	}
	if m.c.live && !m.liveConfirmed {
		m.dialogs = append(m.dialogs, newConfirmDialog(m.c, n))
		return nil
	}
	m.steps[n-1].begin(m.c.clock.Now())
	return m.startRun(n, m.run)
}

// startRun runs run for step n's screen in the background: a step, or
// one of its experiments.
func (m *Model) startRun(n int, run runFunc) tea.Cmd {
	if m.goodbye != "" {
		return nil
	}
	if m.auditWait != nil {
		m.w.AuditWait = m.auditWait
	}
	ctx, cancel := context.WithCancel(m.alive)
	m.runCancel = cancel
	m.c.running = n
	m.runID++
	m.interrupted = false
	m.events = make(chan stepEvent, eventBuffer)
	m.runExited = make(chan struct{})
	return tea.Batch(
		runStepCmd(ctx, m.alive, m.runAfterSave(run), m.w, n, m.runID, m.events, m.runExited),
		waitForStepEventCmd(m.alive, m.events),
		m.c.spinner.Tick,
	)
}

// finishRun records how a run ended.
func (m *Model) finishRun(msg stepDoneMsg) tea.Cmd {
	if msg.run != m.runID || m.c.running == 0 {
		return nil
	}
	m.c.running = 0
	if m.question != nil {
		// A question of the run is moot now.
		m.closeDialog(m.question)
	}
	if m.runCancel != nil {
		m.runCancel()
		m.runCancel = nil
	}
	m.events = nil
	finished := m.steps[msg.step-1]
	if msg.err == nil && finished.step.CleansUp {
		// Merged, not replaced: cleaning up again finds no progress.
		if m.doneAtCleanup == nil {
			m.doneAtCleanup = map[int]bool{}
		}
		maps.Copy(m.doneAtCleanup, m.c.progress.done)
	}
	// The run is over, so the workshop's state is ours to read: the step's
	// goroutine wrote it before sending this message.
	var save tea.Cmd
	if m.answersPending {
		save = m.saveAnswers()
	}
	m.c.progress = copyProgress(m.w, m.doneAtCleanup)
	finished.Update(msg)
	if msg.err == nil && !finished.step.CleansUp {
		// Running a step again makes the results of the steps after it
		// stale (the workshop forgot them): offer to run them again.
		m.doneAtCleanup = nil
		m.c.progress.atCleanup = nil
		for _, s := range m.steps {
			if s != finished {
				s.forgetIfStale()
			}
		}
	}
	if m.quitting {
		return tea.Quit
	}
	if m.interrupted {
		// The notice said the step was being cancelled: say how it ended
		// (it may have ended on its own first).
		m.clearNotice()
		if finished.status == statusCancelled {
			m.setNotice(fmt.Sprintf("Step %d cancelled. Press %s again to quit.", msg.step, m.c.keys.Interrupt.Help().Key), true)
		}
	}
	return save
}

// closeDialog closes a dialog, wherever it is in the stack.
func (m *Model) closeDialog(d component) {
	for i, open := range m.dialogs {
		if open == d {
			m.dialogs = append(m.dialogs[:i], m.dialogs[i+1:]...)
			break
		}
	}
	switch d {
	case component(m.question):
		m.question = nil
	case component(m.quitAsk):
		m.quitAsk = nil
	}
}

// interrupt is Ctrl-C: it cancels a running step, and quits when nothing
// runs or when pressed again.
func (m *Model) interrupt() tea.Cmd {
	if m.quitting {
		// Already waiting for the step to stop: stop waiting.
		return tea.Quit
	}
	if m.c.running != 0 && !m.interrupted {
		m.interrupted = true
		m.runCancel()
		m.setNotice(fmt.Sprintf("Cancelling step %d. Press %s again to quit.", m.c.running, m.c.keys.Interrupt.Help().Key), true)
		return nil
	}
	return m.quit()
}

// askQuit quits, asking first when a step runs or a live key would stay.
func (m *Model) askQuit() tea.Cmd {
	if m.c.running != 0 || m.c.liveKeyReminder() != "" {
		if m.quitAsk == nil {
			m.quitAsk = newQuitDialog(m.c, m.cleanupStep())
			m.dialogs = append(m.dialogs, m.quitAsk)
		}
		return nil
	}
	return m.quit()
}

// cleanupStep is the number of the step that cleans up, or 0.
func (m *Model) cleanupStep() int {
	for _, s := range m.steps {
		if s.step.CleansUp {
			return s.step.Number
		}
	}
	return 0
}

// quit cancels any running step and ends the program once it has stopped.
func (m *Model) quit() tea.Cmd {
	if m.quitAsk != nil {
		m.closeDialog(m.quitAsk)
	}
	if m.c.running != 0 {
		m.quitting = true
		m.runCancel()
		m.setNotice(fmt.Sprintf("Stopping step %d…", m.c.running), true)
		return quitTimeoutCmd()
	}
	m.stop()
	return tea.Quit
}

func (m *Model) setNotice(s string, warn bool) { m.notice, m.noticeWarn = s, warn }
func (m *Model) clearNotice()                  { m.notice, m.noticeWarn = "", false }

// openEndpoint shows the lines for the learner's own AWS CLI, or says why
// there are none.
func (m *Model) openEndpoint() {
	if m.c.endpoint == "" {
		m.setNotice(endpointNotice(m.c), false)
		return
	}
	m.dialogs = append(m.dialogs, newEndpointDialog(m.c))
}

// apiKey handles the keys of the API pane while it is shown: the scroll
// keys pick a call, and Enter opens the call picked. It reports whether
// msg was one; Enter with no call picked is the screen's.
func (m *Model) apiKey(msg tea.KeyPressMsg) bool {
	k := &m.c.keys
	switch {
	case key.Matches(msg, k.ScrollUp):
		m.api.pickOlder()
	case key.Matches(msg, k.ScrollDown):
		m.api.pickNewer()
	case key.Matches(msg, k.Enter):
		call, number, ok := m.api.picked()
		if !ok {
			return false
		}
		m.dialogs = append(m.dialogs, newCallDialog(m.c, number, call))
	default:
		return false
	}
	return true
}
