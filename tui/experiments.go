package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// The experiments ("try it") of a step screen: the try key opens the list
// of the step's experiments; choosing one asks for its input when it needs
// one, then the root runs it in the background like a step, its lines in
// the step's log; its end opens the outcome, with the explanation and the
// AWS page it comes from.

// The requests of the experiments to the root (see component.go).
type (
	// runExperimentMsg asks to run an experiment of a step's screen.
	runExperimentMsg struct {
		step      int
		id, input string
	}
	// openDialogMsg asks to open a dialog over the screen.
	openDialogMsg struct{ dialog component }
)

// experimentPromptMsg carries the input an experiment asks for, read in
// the background (it may read the workshop's files).
type experimentPromptMsg struct {
	id     string
	prompt steps.Prompt
	err    error
}

// promptCmd reads an experiment's prompt from a copy of the workshop.
func promptCmd(w *steps.Workshop, e steps.Experiment) tea.Cmd {
	return func() (msg tea.Msg) {
		defer func() {
			if p := recover(); p != nil {
				msg = experimentPromptMsg{id: e.ID, err: fmt.Errorf("prepare %q: %v", e.Title, p)}
			}
		}()
		p, err := e.Prompt(w)
		return experimentPromptMsg{id: e.ID, prompt: p, err: err}
	}
}

// tryRun is the experiment a step screen runs, or ran last.
type tryRun struct {
	e     steps.Experiment
	input string
	wait  *steps.WaitDetail // the CloudTrail countdown, while it runs
	// detail is what it found, carried by its last line.
	detail *steps.ExperimentDetail
}

// tryBegin starts showing an experiment's run on the step screen: its
// lines go to the log; the step's own status and details stay.
func (s *stepScreen) tryBegin(e steps.Experiment, input string, now time.Time) {
	s.tries++
	s.trying = &tryRun{e: e, input: input}
	s.log.add(logEntry{at: now, level: steps.LevelInfo, text: "── try it: " + e.Title + " ──"})
	s.log.offset = 0
}

// tryReport takes one status line of the running experiment.
func (s *stepScreen) tryReport(l steps.Line) {
	if l.Text != "" {
		s.log.add(logEntry{at: l.Time, level: l.Level, text: l.Text})
	}
	switch d := l.Detail.(type) {
	case *steps.WaitDetail:
		s.trying.wait = d
	case *steps.ExperimentDetail:
		s.trying.wait, s.trying.detail = nil, d
	}
}

// tryEnd ends the experiment's run and opens its outcome.
func (s *stepScreen) tryEnd(err error, now time.Time) {
	run := s.trying
	s.trying = nil
	if errors.Is(err, context.Canceled) {
		s.log.add(logEntry{at: now, level: steps.LevelWarn, text: "Cancelled."})
	}
	s.c.send(openDialogMsg{newOutcomeDialog(s.c, run.e, run.input, run.detail, err)})
}

// tryStatusLine is the status line while an experiment runs.
func (s *stepScreen) tryStatusLine() string {
	t, k := &s.c.theme, &s.c.keys
	line := s.c.spinner.View() + " " + t.bold.Render("Trying it")
	if w := s.trying.wait; w != nil && w.Remaining > 0 {
		line += t.text.Render(fmt.Sprintf(", %s left of the CloudTrail wait", clockDuration(w.Remaining)))
	}
	return line + t.subtle.Render(" "+t.dash+" "+k.Interrupt.Help().Key+" cancels")
}

// tryHint offers the step's experiments once the step is done: "Press t
// to try it: 3 experiments.", or "" when there is nothing to offer now.
func (s *stepScreen) tryHint(width int) string {
	if !s.tryOffered() {
		return ""
	}
	n := len(s.experiments())
	what := "1 experiment."
	if n > 1 {
		what = fmt.Sprintf("%d experiments.", n)
	}
	return fitWidth(s.c.theme.press(s.c.keys.Try, " to try it: "+what), width)
}

// tryOffered reports whether the step offers its experiments now: it has
// some, it is done, and neither it nor one of them runs.
func (s *stepScreen) tryOffered() bool {
	return len(s.experiments()) > 0 && s.trying == nil && s.status != statusRunning && (s.status == statusDone || s.doneEarlier())
}

// experiments are the step's experiments.
func (s *stepScreen) experiments() []steps.Experiment { return steps.ExperimentsOf(s.step.Number) }

// openExperiments opens the list of the step's experiments.
func (s *stepScreen) openExperiments() {
	switch {
	case len(s.experiments()) == 0:
	case s.c.running != 0:
		s.c.send(noticeMsg{text: fmt.Sprintf("Step %d is running: wait for it, or press %s to cancel it.", s.c.running, s.c.keys.Interrupt.Help().Key), warn: true})
	default:
		s.c.send(openDialogMsg{newExperimentsDialog(s.c, s.step)})
	}
}

// startExperiment runs an experiment in the background, on its step's
// screen, as a step runs. Experiments that change the key's state on real
// AWS ask first themselves (Workshop.Confirm).
func (m *Model) startExperiment(msg runExperimentMsg) tea.Cmd {
	switch {
	case m.c.running != 0:
		m.setNotice(fmt.Sprintf("Step %d is still running: wait for it, or press %s to cancel it.", m.c.running, m.c.keys.Interrupt.Help().Key), true)
		return nil
	case m.w == nil:
		m.setNotice("No workshop is open.", true)
		return nil
	}
	e, ok := steps.GetExperiment(msg.id)
	if !ok {
		return nil
	}
	m.steps[msg.step-1].tryBegin(e, msg.input, m.c.clock.Now())
	id, input := msg.id, msg.input
	run := func(ctx context.Context, w *steps.Workshop, _ int, r steps.Reporter) error {
		return steps.RunExperiment(ctx, w, id, input, r)
	}
	return m.startRun(msg.step, run)
}

// experimentsDialog lists a step's experiments and asks for the input of
// the one chosen.
type experimentsDialog struct {
	c             *common
	step          steps.Step
	list          []steps.Experiment
	cursor        int
	width, height int

	// chosen is the experiment whose input is asked, nil while listing.
	chosen  *steps.Experiment
	loading bool // its prompt is being read
	prompt  steps.Prompt
	input   lineInput
	// suggested: the input still holds the prompt's default, untouched;
	// the first character typed replaces it, as in a selected field.
	suggested bool
	problem   string // why the choice or the input cannot run
}

func newExperimentsDialog(c *common, step steps.Step) *experimentsDialog {
	return &experimentsDialog{c: c, step: step, list: steps.ExperimentsOf(step.Number)}
}

// choice is the binding of the number keys that choose an experiment.
func (d *experimentsDialog) choice() key.Binding { return numberKeys(len(d.list), "choose") }

// Update moves in the list, chooses, and edits the input.
func (d *experimentsDialog) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case experimentPromptMsg:
		if d.chosen == nil || msg.id != d.chosen.ID {
			return nil
		}
		d.loading = false
		if msg.err != nil {
			d.chosen = nil
			d.problem = d.problemOf(msg.err)
			return nil
		}
		d.prompt = msg.prompt
		d.input = newPromptInput(d.c, msg.prompt)
		d.suggested = msg.prompt.Default != ""
		return nil
	case tea.KeyPressMsg:
		if d.chosen != nil {
			return d.updateInput(msg)
		}
		return d.updateList(msg)
	case tea.PasteMsg:
		// The input drops control characters and keeps its length limit.
		if d.chosen != nil && !d.loading {
			d.edit(msg, true)
		}
	}
	return nil
}

func (d *experimentsDialog) updateList(msg tea.KeyPressMsg) tea.Cmd {
	k := &d.c.keys
	switch {
	case key.Matches(msg, k.No), key.Matches(msg, k.Try):
		d.c.send(closeDialogMsg{d})
	case key.Matches(msg, k.ScrollUp):
		d.cursor = max(d.cursor-1, 0)
		d.problem = ""
	case key.Matches(msg, k.ScrollDown):
		d.cursor = min(d.cursor+1, len(d.list)-1)
		d.problem = ""
	case key.Matches(msg, k.Enter):
		return d.choose(d.cursor)
	case key.Matches(msg, d.choice()):
		d.cursor = number(d.choice(), msg.String()) - 1
		return d.choose(d.cursor)
	case key.Matches(msg, k.Quit):
		d.c.send(askQuitMsg{})
	}
	return nil
}

// choose runs experiment i, or asks for its input first.
func (d *experimentsDialog) choose(i int) tea.Cmd {
	e := d.list[i]
	if m := e.Missing(d.c.progress.state); m != 0 {
		d.problem = d.problemOf(&steps.ExperimentPrerequisiteError{Experiment: e.Title, Missing: m})
		return nil
	}
	if !e.AsksInput() {
		d.c.send(closeDialogMsg{d})
		d.c.send(runExperimentMsg{step: d.step.Number, id: e.ID})
		return nil
	}
	if d.c.workshop == nil {
		return nil
	}
	d.chosen, d.loading, d.problem = &e, true, ""
	// A copy, with the progress as the screens know it: no step runs, but
	// the prompt is read in the background.
	snapshot := *d.c.workshop
	snapshot.State = d.c.progress.state
	return promptCmd(&snapshot, e)
}

func (d *experimentsDialog) updateInput(msg tea.KeyPressMsg) tea.Cmd {
	k := &d.c.keys
	switch {
	case d.loading:
		if key.Matches(msg, k.No) {
			d.chosen, d.loading = nil, false
		}
		return nil
	case key.Matches(msg, escape(k.No)):
		// Escape: back to the list (n types an n).
		d.chosen, d.problem = nil, ""
		return nil
	case key.Matches(msg, k.Enter):
		value := d.input.Value()
		if err := d.prompt.Check(value); err != nil {
			d.problem = err.Error()
			return nil
		}
		d.c.send(closeDialogMsg{d})
		d.c.send(runExperimentMsg{step: d.step.Number, id: d.chosen.ID, input: value})
		return nil
	}
	d.edit(msg, msg.Text != "")
	return nil
}

// edit passes a key or a paste to the input. One that types text (types)
// replaces the suggestion, if the input still holds it; any edit keeps
// what is there from then on.
func (d *experimentsDialog) edit(msg tea.Msg, types bool) {
	d.problem = ""
	if d.suggested && types {
		d.input.SetValue("")
	}
	d.suggested = false
	d.input.Update(msg)
}

// problemOf says why an experiment cannot run, naming the key that goes
// to a missing step.
func (d *experimentsDialog) problemOf(err error) string {
	var pre *steps.ExperimentPrerequisiteError
	switch {
	case errors.As(err, &pre) && pre.Missing == d.step.Number:
		return fmt.Sprintf("It needs this step to have run: press %s, then %s to run step %d.",
			d.c.keys.No.Help().Key, d.c.keys.Enter.Help().Key, pre.Missing)
	case errors.As(err, &pre):
		return fmt.Sprintf("It needs step %d first: press %s, then %s to go there.",
			pre.Missing, d.c.keys.No.Help().Key, nth(d.c.keys.Jump, pre.Missing))
	}
	a := explain(err, &d.c.keys)
	if a.hint != "" {
		return a.what + " (hint: " + a.hint + ")"
	}
	return a.what
}

// escape is b without its keys that type a character (n of "n/esc"):
// the keys that still work while a text input has the keyboard.
func escape(b key.Binding) key.Binding {
	var keys []string
	for _, k := range b.Keys() {
		if len([]rune(k)) > 1 {
			keys = append(keys, k)
		}
	}
	b.SetKeys(keys...)
	b.SetHelp(strings.Join(keys, "/"), b.Help().Desc)
	return b
}

// newPromptInput is the input for a prompt, styled by the theme, holding
// the prompt's default with the cursor at its end.
func newPromptInput(c *common, p steps.Prompt) lineInput {
	in := newLineInput(c.keys.Line, promptStyles(&c.theme))
	in.prompt = "> "
	in.placeholder = p.Placeholder
	in.charLimit = 256
	in.SetValue(p.Default)
	return in
}

// promptStyles are the looks of a prompt's input in theme t.
func promptStyles(t *theme) lineStyles {
	return lineStyles{prompt: t.help.ShortKey, text: t.value, placeholder: t.subtle, cursor: t.cursor}
}

func (d *experimentsDialog) View() string {
	width := min(d.width, maxReadingWidth)
	if d.chosen != nil {
		return fitHeight(d.inputView(width), d.height)
	}
	return fitHeight(d.listView(width), d.height)
}

// listView lists the experiments, with what each predicts and whether it
// was tried or what it needs.
func (d *experimentsDialog) listView(width int) string {
	t, k := &d.c.theme, &d.c.keys
	var b strings.Builder
	b.WriteString(t.heading.Render(truncate(fmt.Sprintf("Try it %s step %d: %s", t.dash, d.step.Number, d.step.Title), width, t)) + "\n")
	b.WriteString(t.text.Render(text.Wrap("Each experiment makes a real call and shows what AWS answers, and why.", width)) + "\n\n")
	tried := d.c.progress.state.Experiments
	for i, e := range d.list {
		mark, style := "  ", t.text
		if i == d.cursor {
			mark, style = t.markCurrent+" ", t.bold
		}
		status := ""
		switch m := e.Missing(d.c.progress.state); {
		case m != 0:
			status = t.warn.Render(fmt.Sprintf("  needs step %d", m))
		case !tried[e.ID].IsZero():
			status = t.success.Render("  " + t.markDone + " tried")
		}
		label := nth(d.choice(), i+1) + "  "
		b.WriteString(mark + t.help.ShortKey.Render(label) + style.Render(wrapIndent(e.Title, width-6-ansi.StringWidth(status), 5)) + status + "\n")
		b.WriteString(t.subtle.Render("     "+wrapIndent(e.Expect, width-5, 5)) + "\n")
	}
	if d.c.live {
		b.WriteString("\n" + t.text.Render(text.Wrap("On your AWS account, an experiment that changes the key's state asks first, and always puts the key back.", width)) + "\n")
	}
	if d.problem != "" {
		b.WriteString("\n" + t.warn.Render(text.Wrap(t.markWarn+" "+d.problem, width)) + "\n")
	}
	b.WriteString("\n" + keyChoices(t, describe(k.Enter, "try it"), describe(k.No, "close")))
	return b.String()
}

// inputView asks for the chosen experiment's input.
func (d *experimentsDialog) inputView(width int) string {
	t, k := &d.c.theme, &d.c.keys
	e := d.chosen
	var b strings.Builder
	b.WriteString(t.heading.Render(truncate("Try it "+t.dash+" "+e.Title, width, t)) + "\n")
	b.WriteString(t.text.Render(text.Wrap("Predicted: "+e.Expect, width)) + "\n\n")
	if d.loading {
		b.WriteString(t.subtle.Render("Reading " + steps.EncryptedFile + "…"))
		return b.String()
	}
	d.input.SetWidth(max(width-4, 10))
	d.input.styles = promptStyles(&d.c.theme) // the theme may change while it is open
	b.WriteString(t.bold.Render(d.prompt.Label) + "\n" + d.input.View() + "\n")
	if d.suggested {
		b.WriteString(t.subtle.Render(text.Wrap("A suggestion: type to replace it, or press "+k.Enter.Help().Key+" to use it.", width)) + "\n")
	}
	if d.problem != "" {
		b.WriteString(t.warn.Render(text.Wrap(t.markWarn+" "+d.problem, width)) + "\n")
	}
	b.WriteString("\n" + keyChoices(t, describe(k.Enter, "run it"), describe(escape(k.No), "back")) + "\n\n")
	for _, h := range d.prompt.Help {
		b.WriteString(t.subtle.Render(wrapIndent(h, width, 2)) + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (d *experimentsDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *experimentsDialog) Title() string             { return "Try it" }

func (d *experimentsDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	if d.chosen != nil {
		return []key.Binding{describe(k.Enter, "run it"), describe(escape(k.No), "back")}
	}
	return []key.Binding{describe(k.Enter, "try it"), d.choice(), describe(k.No, "close"), k.Quit}
}

func (d *experimentsDialog) FullHelp() [][]key.Binding {
	k := &d.c.keys
	return [][]key.Binding{d.ShortHelp(), {describe(k.ScrollUp, "previous"), describe(k.ScrollDown, "next")}}
}

// outcomeDialog shows how an experiment ended: what AWS answered, why,
// and the AWS page that says so.
type outcomeDialog struct {
	c             *common
	e             steps.Experiment
	input         string
	detail        *steps.ExperimentDetail // nil when it did not reach an outcome
	err           error
	doc           docPane
	width, height int
}

func newOutcomeDialog(c *common, e steps.Experiment, input string, detail *steps.ExperimentDetail, err error) *outcomeDialog {
	return &outcomeDialog{c: c, e: e, input: input, detail: detail, err: err, doc: newDocPane()}
}

// Update closes the outcome, or opens the list again to try another.
func (d *outcomeDialog) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := &d.c.keys
		switch {
		case key.Matches(msg, k.Enter), key.Matches(msg, k.No):
			d.c.send(closeDialogMsg{d})
		case key.Matches(msg, k.Try):
			d.c.send(closeDialogMsg{d})
			if st, ok := steps.Get(d.e.Step); ok {
				d.c.send(openDialogMsg{newExperimentsDialog(d.c, st)})
			}
		case key.Matches(msg, k.Quit):
			d.c.send(askQuitMsg{})
		default:
			d.doc.scrollKey(msg, k)
		}
	case tea.MouseWheelMsg:
		d.doc.wheel(msg)
	}
	return nil
}

func (d *outcomeDialog) View() string {
	t := &d.c.theme
	width := min(d.width, maxReadingWidth)
	d.doc.set(fmt.Sprintf("outcome|%s|%d", t.name, width), width, d.height, d.text)
	return d.doc.view(t, &d.c.keys)
}

// text draws the outcome.
func (d *outcomeDialog) text(width int) string {
	t, k := &d.c.theme, &d.c.keys
	kv := newKV(t, width, 13)
	var b strings.Builder
	b.WriteString(t.heading.Render(truncate("Try it "+t.dash+" "+d.e.Title, width, t)) + "\n")
	if d.input != "" {
		b.WriteString(kv.row("You typed", d.input, false))
	}
	b.WriteString(kv.row("Predicted", d.e.Expect, false))
	switch det := d.detail; {
	case det != nil:
		b.WriteString(kv.row("Outcome", det.Answer, true))
		verdict := t.success.Render(text.Wrap(t.markSuccess+" As predicted: "+det.Result, width))
		if !det.AsPredicted {
			verdict = t.warn.Render(text.Wrap(t.markWarn+" Not as predicted: "+det.Result, width))
		}
		b.WriteString(verdict + "\n")
		if det.Restored != "" {
			b.WriteString(t.text.Render(text.Wrap("Put back: "+det.Restored+".", width)) + "\n")
		}
	case errors.Is(d.err, context.Canceled):
		b.WriteString(t.warn.Render(text.Wrap(t.markWarn+" Cancelled. Whatever it changed was put back (see the log).", width)) + "\n")
	default:
		var pre *steps.ExperimentPrerequisiteError
		what, hint := explain(d.err, k).what, explain(d.err, k).hint
		if errors.As(d.err, &pre) {
			hint = fmt.Sprintf("close this, then press %s to go to step %d and run it", nth(k.Jump, pre.Missing), pre.Missing)
		}
		b.WriteString(t.failure.Render(text.Wrap(t.markError+" "+what, width)) + "\n")
		if hint != "" {
			b.WriteString(t.text.Render(text.Wrap("hint: "+hint, width)) + "\n")
		}
	}
	b.WriteString("\n" + t.rule("Why", width) + "\n")
	b.WriteString(t.text.Render(text.Wrap(d.e.Explanation, width)) + "\n")
	b.WriteString(t.subtle.Render("Source: ") + t.text.Render(d.e.Source.Title) + "\n")
	b.WriteString(t.subtle.Render(text.Wrap(d.e.Source.URL, width)) + "\n\n")
	b.WriteString(keyChoices(t, describe(k.Enter, "close"), describe(k.Try, "try another")))
	return b.String()
}

func (d *outcomeDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *outcomeDialog) Title() string             { return "Try it" }

func (d *outcomeDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	return []key.Binding{describe(k.Enter, "close"), describe(k.Try, "try another"), k.Quit}
}

func (d *outcomeDialog) FullHelp() [][]key.Binding {
	k := &d.c.keys
	return [][]key.Binding{d.ShortHelp(), scrollKeys(k)}
}

// experimentsView lists every experiment for the summary, tried or not.
func experimentsView(c *common, width int) string {
	t := &c.theme
	tried := c.progress.state.Experiments
	var b strings.Builder
	for _, e := range steps.Experiments() {
		mark, style, state := t.markTodo, t.subtle, "not tried"
		if at := tried[e.ID]; !at.IsZero() {
			mark, style, state = t.markDone, t.success, "tried"
		}
		b.WriteString(style.Render(fmt.Sprintf("%s %d ", mark, e.Step)) + t.text.Render(truncate(e.Title, max(width-18, 10), t)) +
			style.Render(" "+t.dash+" "+state) + "\n")
	}
	b.WriteString(t.subtle.Render(text.Wrap(fmt.Sprintf("On a step's screen, %s opens its experiments.", c.keys.Try.Help().Key), width)) + "\n")
	return b.String()
}
