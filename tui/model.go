package tui

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// screenKind is one kind of screen of the tutorial. The zero value is invalid.
type screenKind int

const (
	screenWelcome screenKind = iota + 1
	screenConfirm            // live mode: what will be created, before it is
	screenStep
	screenQuiz
	screenSummary
)

// screenID names a screen; step is 1 to 6 for screenStep.
type screenID struct {
	kind screenKind
	step int
}

// stepCount is the number of workshop steps.
const stepCount = 6

// order is the path n and p walk: welcome, the six steps, quiz, summary.
var order = []screenID{
	{kind: screenWelcome},
	{screenStep, 1}, {screenStep, 2}, {screenStep, 3}, {screenStep, 4}, {screenStep, 5}, {screenStep, 6},
	{kind: screenQuiz},
	{kind: screenSummary},
}

// content is what the screens show: the embedded assets in the program,
// fixed texts in tests.
type content struct {
	welcome                        string
	encryptDiagram, decryptDiagram string
	lessons                        map[int]string
	steps                          []steps.Step
	quiz                           []assets.Question
}

func assetContent() content {
	c := content{welcome: assets.Welcome(), lessons: map[int]string{}, steps: steps.All(), quiz: assets.Quiz()}
	c.encryptDiagram, c.decryptDiagram = assets.Diagrams()
	for n := 1; n <= stepCount; n++ {
		c.lessons[n] = assets.Lesson(n)
	}
	return c
}

// diagramWidth is the width of the widest line of the diagrams.
func (c content) diagramWidth() int {
	w := 0
	for _, l := range strings.Split(c.encryptDiagram+"\n"+c.decryptDiagram, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

// stepInfo returns the title and success line of step n.
func (c content) stepInfo(n int) steps.Step {
	for _, s := range c.steps {
		if s.Number == n {
			return s
		}
	}
	return steps.Step{Number: n, Title: fmt.Sprintf("Step %d", n)}
}

// preflightMsg carries the live plan (account, what will be created, the
// cost), or why it could not be read.
type preflightMsg struct {
	plan steps.Plan
	err  error
}

// Model is the root of the tutorial: it owns the screens, routes messages
// to them and switches between them.
type Model struct {
	w       *steps.Workshop
	content content
	run     runFunc
	clock   clock.Clock

	// alive is cancelled when the tutorial ends; every step's context
	// derives from it.
	alive context.Context
	stop  context.CancelFunc

	width, height int
	cwd           string // to show paths relative to it
	fast          bool   // waits are shortened (--fast)
	themeName     string
	theme         theme
	bgKnown       bool // the terminal answered the background colour query
	md            *markdown
	keys          keyMap
	help          help.Model
	spinner       spinner.Model

	screen     screenID
	prevScreen screenID // where the live confirmation returns to
	welcome    docPane
	stepViews  [stepCount + 1]*stepScreen // index 1 to 6
	quiz       quizScreen
	summary    summaryScreen
	showAPI    bool
	api        apiPane

	// The progress as this screen knows it: copied from the workshop at
	// start and after each run, never read while a step may write it.
	done  map[int]bool
	state steps.State
	// doneAtCleanup are the steps done, in any session, when step 6 ended
	// the workshop and cleared its progress: the summary still counts them.
	doneAtCleanup map[int]bool
	resumeOffered bool

	running   int // the step running now, 0 when none
	runID     int
	runCancel context.CancelFunc
	events    chan stepEvent
	// runExited is closed when the last run's goroutine has returned.
	runExited chan struct{}

	calls <-chan awsclient.Call

	live          bool
	liveConfirmed bool
	pendingStep   int // the step the live confirmation will run
	plan          steps.Plan
	planErr       error
	preflight     func(ctx context.Context) (steps.Plan, error)

	questions chan stepQuestion // a running step's yes/no questions
	question  *stepQuestion     // the one on screen

	quitAsked   bool // the quit question is open
	interrupted bool // Ctrl-C cancelled a step; a second one quits
	quitting    bool // waiting for a cancelled step before quitting
	notice      string
	noticeWarn  bool
}

// newModel builds the tutorial over a workshop. Nothing runs until Init.
func newModel(ctx context.Context, opts Options, c content) *Model {
	alive, stop := context.WithCancel(ctx)
	m := &Model{
		w:         opts.Workshop,
		content:   c,
		run:       steps.Run,
		clock:     clock.Real{},
		alive:     alive,
		stop:      stop,
		themeName: opts.Theme,
		fast:      opts.Fast,
		md:        newMarkdown(),
		keys:      newKeyMap(),
		help:      help.New(),
		screen:    screenID{kind: screenWelcome},
		done:      map[int]bool{},
		api:       newAPIPane(),
		width:     80,
		height:    24,
	}
	if m.themeName == "" {
		m.themeName = ThemeAuto
	}
	m.cwd, _ = os.Getwd()
	m.setTheme(true)
	m.welcome = newDocPane()
	for n := 1; n <= stepCount; n++ {
		m.stepViews[n] = newStepScreen(n)
	}
	m.quiz = newQuizScreen(len(c.quiz))
	m.summary = summaryScreen{doc: newDocPane()}
	if w := m.w; w != nil {
		if w.Clock != nil {
			m.clock = w.Clock
		}
		m.copyState()
		m.resumeOffered = len(m.done) > 0
		// A step's question (reuse a key pending deletion?) is asked on
		// this screen: the terminal's input belongs to the program.
		m.questions = make(chan stepQuestion)
		w.Confirm = askOnScreen(m.questions)
		if cl := w.Clients; cl != nil {
			m.live = cl.Live
			m.plan.Region = cl.Region
			// Preflight reads the workshop's state: give it a copy, taken
			// before anything runs.
			snapshot := *w
			snapshot.State = m.state
			m.preflight = func(ctx context.Context) (steps.Plan, error) { return steps.Preflight(ctx, &snapshot) }
			if cl.Calls != nil {
				for _, call := range cl.Calls.Calls() {
					m.api.add(call)
				}
				ch := make(chan awsclient.Call, 1024)
				missed := m.api.missed
				cl.Calls.Subscribe(func(call awsclient.Call) {
					// Called from the SDK's goroutine: never block it.
					select {
					case ch <- call:
					default:
						missed.Add(1)
					}
				})
				m.calls = ch
			}
		}
	}
	return m
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

// copyState takes the workshop's progress. Call it only when no step runs.
func (m *Model) copyState() {
	m.state = m.w.State
	m.state.Done = maps.Clone(m.w.State.Done)
	m.done = map[int]bool{}
	for n := range m.w.State.Done {
		m.done[n] = true
	}
}

// stepDone reports whether step n is done: in the saved progress, in
// this session, or before step 6 ended the workshop (and cleared the
// progress).
func (m *Model) stepDone(n int) bool {
	return m.done[n] || m.stepViews[n].status == statusDone || m.doneAtCleanup[n]
}

// missing returns the step that must run before step n, by the workshop's
// own rule, applied to this screen's copy of the progress.
func (m *Model) missing(n int) int {
	snapshot := &steps.Workshop{State: m.state}
	return snapshot.Missing(n)
}

func (m *Model) setTheme(dark bool) {
	m.theme = newTheme(m.themeName, dark)
	m.help.Styles = m.theme.help
	m.help.Ellipsis = m.theme.ellipsis
	m.help.ShortSeparator = " " + m.theme.markTodo + " "
	s := spinner.Dot
	if m.theme.name == ThemePlain {
		s = spinner.Line
	}
	// The frames carry no padding; the screens place the spinner.
	frames := make([]string, len(s.Frames))
	for i, f := range s.Frames {
		frames[i] = strings.TrimSpace(f)
	}
	s.Frames = frames
	m.spinner = spinner.New(spinner.WithSpinner(s), spinner.WithStyle(m.theme.spinner))
	m.keys = newKeyMap()
	if m.theme.name == ThemePlain {
		// ASCII only, so the help reads the same in any terminal or log.
		m.keys.Next.SetHelp("n", "next")
		m.keys.Prev.SetHelp("p", "back")
		m.keys.ScrollUp.SetHelp("k/up", "scroll text up")
		m.keys.ScrollDown.SetHelp("j/down", "scroll text down")
	}
}

// Init starts listening for AWS calls and, for the auto theme, asks the
// terminal for its background colour.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitForCallCmd(m.alive, m.calls), waitForQuestionCmd(m.alive, m.questions)}
	if m.themeName == ThemeAuto {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	if m.live && m.preflight != nil {
		cmds = append(cmds, preflightCmd(m.alive, m.preflight))
	}
	return tea.Batch(cmds...)
}

// Update routes a message: window size and global keys here, the rest to
// the screen it belongs to.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		if !m.bgKnown && m.themeName == ThemeAuto {
			m.bgKnown = true
			m.setTheme(msg.IsDark())
		}
	case tea.KeyPressMsg:
		cmds = append(cmds, m.handleKey(msg))
	case tea.MouseWheelMsg:
		m.handleWheel(msg)
	case spinner.TickMsg:
		if m.running != 0 {
			var cmd tea.Cmd
			m.spinner, cmd = m.spinner.Update(msg)
			cmds = append(cmds, cmd)
		}
	case stepLineMsg:
		if msg.run == m.runID {
			m.stepViews[msg.step].report(msg.line)
			cmds = append(cmds, waitForStepEventCmd(m.alive, m.events))
		}
	case stepDoneMsg:
		cmds = append(cmds, m.finishRun(msg))
	case callMsg:
		m.api.add(msg.call)
		cmds = append(cmds, waitForCallCmd(m.alive, m.calls))
	case questionMsg:
		q := msg.q
		m.question = &q
		cmds = append(cmds, waitForQuestionCmd(m.alive, m.questions))
	case preflightMsg:
		region := m.plan.Region
		m.plan, m.planErr = msg.plan, msg.err
		if m.plan.Region == "" {
			m.plan.Region = region
		}
	case transcriptSavedMsg:
		m.summary.saving = false
		m.summary.path, m.summary.saveErr = msg.path, msg.err
	case quitTimeoutMsg:
		if m.quitting {
			return m, tea.Quit
		}
	}
	m.sync()
	return m, tea.Batch(cmds...)
}

// handleKey applies a key press: open questions first, then the keys that
// work everywhere, then the current screen's.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if key.Matches(msg, k.Interrupt) {
		return m.interrupt()
	}
	if m.quitting {
		return nil
	}
	if m.question != nil {
		switch {
		case key.Matches(msg, k.Yes):
			m.answer(true)
		case key.Matches(msg, k.No):
			m.answer(false)
		case key.Matches(msg, k.Quit):
			m.answer(false)
			return m.askQuit()
		}
		return nil
	}
	if m.quitAsked {
		switch {
		case key.Matches(msg, k.Yes), key.Matches(msg, k.Quit):
			return m.quit()
		case key.Matches(msg, k.No):
			m.quitAsked = false
		}
		return nil
	}
	if m.screen.kind == screenConfirm {
		switch {
		case key.Matches(msg, k.Yes):
			m.liveConfirmed = true
			n := m.pendingStep
			m.screen = screenID{screenStep, n}
			return m.startStep(n)
		case key.Matches(msg, k.No):
			m.screen = m.prevScreen
			m.setNotice("Nothing was created.", false)
		case key.Matches(msg, k.Quit):
			return m.askQuit()
		}
		return nil
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
		return nil
	case key.Matches(msg, k.LogUp):
		m.scrollLog(+1)
		return nil
	case key.Matches(msg, k.LogDown):
		m.scrollLog(-1)
		return nil
	case key.Matches(msg, k.ScrollUp):
		m.scrollDoc(-1)
		return nil
	case key.Matches(msg, k.ScrollDown):
		m.scrollDoc(+1)
		return nil
	}

	switch m.screen.kind {
	case screenWelcome:
		switch {
		case key.Matches(msg, k.Enter):
			m.resumeOffered = false
			return m.goTo(m.resumeTarget())
		case m.resumeOffered && key.Matches(msg, k.StartOver):
			if m.running != 0 {
				m.setNotice(fmt.Sprintf("Step %d is running: wait for it before starting over.", m.running), true)
				return nil
			}
			// Forget the progress (the next run saves it); a live key is
			// kept so that step 1 reuses it and step 6 still deletes it.
			m.w.Reset()
			m.copyState()
			m.doneAtCleanup = nil
			m.resumeOffered = false
			return m.goTo(screenID{screenStep, 1})
		}
	case screenStep:
		if cmd, ok := m.stepKey(msg); ok {
			return cmd
		}
	case screenQuiz:
		if cmd, ok := m.quizKey(msg); ok {
			return cmd
		}
	}

	switch {
	case key.Matches(msg, k.Next):
		return m.move(+1)
	case key.Matches(msg, k.Prev):
		return m.move(-1)
	case key.Matches(msg, k.Jump) && m.screen.kind != screenQuiz:
		return m.goTo(screenID{screenStep, int(msg.Text[0] - '0')})
	}
	return nil
}

// scrollLog scrolls the current step's log by a page: +1 older, -1 newer.
func (m *Model) scrollLog(pages int) {
	switch m.screen.kind {
	case screenStep:
		l := m.layout()
		page := max(l.side.h/2, 1)
		m.stepViews[m.screen.step].log.scroll(pages * page)
	default:
		// Screens without a log scroll their text instead.
		for range max(m.layout().bodyH-2, 1) {
			m.scrollDoc(-pages)
		}
	}
}

// scrollDoc scrolls the current screen's text by a line: +1 down.
func (m *Model) scrollDoc(lines int) {
	var d *docPane
	switch m.screen.kind {
	case screenWelcome:
		d = &m.welcome
	case screenStep:
		d = &m.stepViews[m.screen.step].lesson
	case screenQuiz:
		d = &m.quiz.doc
	case screenSummary:
		d = &m.summary.doc
	default:
		return
	}
	if lines > 0 {
		d.vp.ScrollDown(lines)
	} else {
		d.vp.ScrollUp(-lines)
	}
}

// handleWheel scrolls what is under the mouse: the log or the text.
func (m *Model) handleWheel(msg tea.MouseWheelMsg) {
	const linesPerNotch = 3
	dir := 0
	switch msg.Button {
	case tea.MouseWheelUp:
		dir = -1
	case tea.MouseWheelDown:
		dir = +1
	default:
		return
	}
	if m.screen.kind == screenStep && m.overLog(msg.X, msg.Y) {
		m.stepViews[m.screen.step].log.scroll(-dir * linesPerNotch)
		return
	}
	m.scrollDoc(dir * linesPerNotch)
}

// overLog reports whether a cell is over the step screen's status and log
// (the side), as opposed to the lesson.
func (m *Model) overLog(x, y int) bool {
	l := m.layout()
	header := lipgloss.Height(m.headerView(l.mode)) + max(m.theme.gap-1, 0)
	switch l.mode {
	case layoutWide:
		return x >= m.theme.pad+l.text.w
	case layoutStacked:
		return y >= header+l.text.h
	default:
		s := m.stepViews[m.screen.step]
		return s.runs > 0
	}
}

// stepKey handles the keys of a step screen.
func (m *Model) stepKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	n := m.screen.step
	s := m.stepViews[n]
	switch {
	case key.Matches(msg, k.Enter):
		switch s.status {
		case statusDone:
			return m.move(+1), true
		case statusRunning:
			return nil, true
		default:
			return m.startStep(n), true
		}
	case key.Matches(msg, k.Retry):
		if s.status == statusFailed || s.status == statusCancelled || s.status == statusDone {
			return m.startStep(n), true
		}
		return nil, true
	case key.Matches(msg, k.Check):
		if n == 5 && m.running == 5 && m.w != nil && m.w.CheckNow != nil {
			// Non-blocking: if a request is already pending, this one
			// adds nothing.
			select {
			case m.w.CheckNow <- struct{}{}:
			default:
			}
			s.checkRequested = true
		}
		return nil, true
	}
	return nil, false
}

// resumeTarget is where Enter on the welcome screen goes: the first step
// not done, or the quiz when all are.
func (m *Model) resumeTarget() screenID {
	for n := 1; n <= stepCount; n++ {
		if !m.done[n] {
			return screenID{screenStep, n}
		}
	}
	return screenID{kind: screenQuiz}
}

// move goes to the next (+1) or previous (-1) screen in order.
func (m *Model) move(delta int) tea.Cmd {
	cur := m.screen
	if cur.kind == screenConfirm {
		cur = m.prevScreen
	}
	for i, id := range order {
		if id == cur {
			j := i + delta
			if j < 0 || j >= len(order) {
				return nil
			}
			return m.goTo(order[j])
		}
	}
	return nil
}

// goTo switches screens, warning when a step's prerequisites are missing.
func (m *Model) goTo(id screenID) tea.Cmd {
	m.screen = id
	switch id.kind {
	case screenStep:
		s := m.stepViews[id.step]
		s.missing = 0
		if s.status != statusRunning && !m.done[id.step] {
			s.missing = m.missing(id.step)
		}
	case screenSummary:
		return m.saveTranscript()
	}
	return nil
}

// startStep runs step n in the background, after the live confirmation.
func (m *Model) startStep(n int) tea.Cmd {
	if m.running != 0 {
		m.setNotice(fmt.Sprintf("Step %d is still running: wait for it, or press Ctrl-C to cancel it.", m.running), true)
		return nil
	}
	if m.w == nil {
		m.setNotice("No workshop is open.", true)
		return nil
	}
	if m.live && !m.liveConfirmed {
		m.pendingStep = n
		m.prevScreen = m.screen
		m.screen = screenID{kind: screenConfirm}
		return nil
	}
	s := m.stepViews[n]
	s.begin(m.clock.Now())
	ctx, cancel := context.WithCancel(m.alive)
	m.runCancel = cancel
	m.running = n
	m.runID++
	m.interrupted = false
	m.events = make(chan stepEvent, eventBuffer)
	m.runExited = make(chan struct{})
	return tea.Batch(
		runStepCmd(ctx, m.alive, m.run, m.w, n, m.runID, m.events, m.runExited),
		waitForStepEventCmd(m.alive, m.events),
		m.spinner.Tick,
	)
}

// finishRun records how a run ended.
func (m *Model) finishRun(msg stepDoneMsg) tea.Cmd {
	if msg.run != m.runID || m.running == 0 {
		return nil
	}
	m.running = 0
	m.question = nil // a question of the run is moot now
	if m.runCancel != nil {
		m.runCancel()
		m.runCancel = nil
	}
	m.events = nil
	if msg.err == nil && msg.step == 6 {
		// Merged, not replaced: running step 6 again finds no progress.
		if m.doneAtCleanup == nil {
			m.doneAtCleanup = map[int]bool{}
		}
		maps.Copy(m.doneAtCleanup, m.done)
	}
	// The run is over, so the workshop's state is ours to read: the step's
	// goroutine wrote it before sending this message.
	m.copyState()
	s := m.stepViews[msg.step]
	s.end(msg.err, m.clock.Now())
	if msg.err == nil && msg.step != 6 {
		// Running a step again makes the results of the steps after it
		// stale (the workshop forgot them): offer to run them again.
		m.doneAtCleanup = nil
		for n := 1; n <= stepCount; n++ {
			if v := m.stepViews[n]; n != msg.step && v.status == statusDone && !m.done[n] {
				v.status = statusIdle
			}
		}
	}
	if m.quitting {
		return tea.Quit
	}
	return nil
}

// answer replies to the step's question and closes it.
func (m *Model) answer(yes bool) {
	// The reply channel has room for the answer: this never blocks.
	m.question.reply <- yes
	m.question = nil
}

// interrupt is Ctrl-C: it cancels a running step, and quits when nothing
// runs or when pressed again.
func (m *Model) interrupt() tea.Cmd {
	if m.quitting {
		// Already waiting for the step to stop: stop waiting.
		return tea.Quit
	}
	if m.running != 0 && !m.interrupted && !m.quitting {
		m.interrupted = true
		m.runCancel()
		m.setNotice(fmt.Sprintf("Cancelling step %d. Press Ctrl-C again to quit.", m.running), true)
		return nil
	}
	return m.quit()
}

// askQuit quits, asking first when a step runs or a live key would stay.
func (m *Model) askQuit() tea.Cmd {
	if m.running != 0 || m.liveKeyReminder() != "" {
		m.quitAsked = true
		return nil
	}
	return m.quit()
}

// quit cancels any running step and ends the program once it has stopped.
func (m *Model) quit() tea.Cmd {
	m.quitAsked = false
	if m.running != 0 {
		m.quitting = true
		m.runCancel()
		m.setNotice(fmt.Sprintf("Stopping step %d…", m.running), true)
		return quitTimeoutCmd()
	}
	m.stop()
	return tea.Quit
}

// liveKeyReminder is the clean-up advice for a real KMS key left behind,
// or "" when there is none.
func (m *Model) liveKeyReminder() string {
	if !m.live || m.running != 0 || m.w == nil {
		return ""
	}
	return m.w.LiveKeyReminder()
}

func (m *Model) setNotice(s string, warn bool) { m.notice, m.noticeWarn = s, warn }
func (m *Model) clearNotice()                  { m.notice, m.noticeWarn = "", false }

// saveTranscript writes the session's transcript in the background.
func (m *Model) saveTranscript() tea.Cmd {
	if m.w == nil || m.w.Dir == "" {
		return nil
	}
	m.summary.saving = true
	return saveTranscriptCmd(m.w.Dir, m.summary.path, m.clock, m.transcript())
}

// helpKeyMap is the key map with only the keys that do something now
// enabled, and Enter described for what it does here: the help bar shows
// exactly these.
func (m *Model) helpKeyMap() keyMap {
	k := m.keys
	for _, b := range []*key.Binding{
		&k.Enter, &k.Next, &k.Prev, &k.Jump, &k.Answer, &k.Retry, &k.Check, &k.StartOver,
		&k.API, &k.ScrollUp, &k.ScrollDown, &k.LogUp, &k.LogDown, &k.Help, &k.Quit,
		&k.Interrupt, &k.Yes, &k.No,
	} {
		b.SetEnabled(false)
	}
	on := func(bs ...*key.Binding) {
		for _, b := range bs {
			b.SetEnabled(true)
		}
	}
	if m.running != 0 {
		on(&k.Interrupt)
	}
	switch {
	case m.quitting:
		return k
	case m.question != nil:
		k.Yes.SetHelp("y", "yes")
		k.No.SetHelp("n/esc", "no")
		on(&k.Yes, &k.No, &k.Quit)
		return k
	case m.quitAsked:
		k.Yes.SetHelp("y", "quit")
		k.No.SetHelp("n/esc", "stay")
		on(&k.Yes, &k.No)
		return k
	case m.screen.kind == screenConfirm:
		k.Yes.SetHelp("y/enter", "go ahead")
		k.No.SetHelp("n/esc", "go back")
		on(&k.Yes, &k.No, &k.Quit)
		return k
	}
	on(&k.API, &k.Help, &k.Quit, &k.ScrollUp, &k.ScrollDown)
	switch m.screen.kind {
	case screenWelcome:
		on(&k.Enter, &k.Next, &k.Jump)
		if m.resumeOffered {
			target := m.resumeTarget()
			if target.kind == screenStep {
				k.Enter.SetHelp("enter", fmt.Sprintf("continue at step %d", target.step))
			} else {
				k.Enter.SetHelp("enter", "continue to the quiz")
			}
			on(&k.StartOver)
		} else {
			k.Enter.SetHelp("enter", "start")
		}
	case screenStep:
		on(&k.Next, &k.Prev, &k.Jump, &k.LogUp, &k.LogDown)
		s := m.stepViews[m.screen.step]
		switch s.status {
		case statusIdle:
			k.Enter.SetHelp("enter", "run step")
			on(&k.Enter)
		case statusDone:
			k.Enter.SetHelp("enter", "next")
			on(&k.Enter)
		case statusFailed, statusCancelled:
			k.Enter.SetHelp("enter", "run again")
			on(&k.Enter, &k.Retry)
		}
		if m.screen.step == 5 && m.running == 5 {
			on(&k.Check)
		}
	case screenQuiz:
		on(&k.Next, &k.Prev)
		switch {
		case m.quiz.current >= len(m.content.quiz):
		case m.quiz.answers[m.quiz.current] < 0:
			on(&k.Answer)
		case m.quiz.current == len(m.content.quiz)-1:
			k.Enter.SetHelp("enter", "see your score")
			on(&k.Enter)
		default:
			k.Enter.SetHelp("enter", "next question")
			on(&k.Enter)
		}
	case screenSummary:
		on(&k.Prev, &k.Jump)
	}
	return k
}
