package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// The dialogs open over a screen and take every key but Ctrl-C until they
// are answered; the screen under them stays the current one.

// keyChoices draws the answers of a dialog, each key with what it does.
func keyChoices(t *theme, bindings ...key.Binding) string {
	parts := make([]string, len(bindings))
	for i, b := range bindings {
		parts[i] = t.help.ShortKey.Render(b.Help().Key) + t.text.Render(" "+b.Help().Desc)
	}
	return strings.Join(parts, t.text.Render("   "))
}

// dialogBox draws a dialog's box in the middle of its room.
func dialogBox(t *theme, width, height int, body string) string {
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, t.dialog.Render(body))
}

// dialogTextWidth is the width of a dialog's text in a room of width.
func dialogTextWidth(width int) int { return min(width-6, 70) }

// confirmDialog asks before anything is created in a real AWS account.
type confirmDialog struct {
	c             *common
	step          int // the step that runs once the learner agrees
	width, height int
}

func newConfirmDialog(c *common, step int) *confirmDialog { return &confirmDialog{c: c, step: step} }

// Update runs the step on yes, and goes back to its screen on no.
func (d *confirmDialog) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := &d.c.keys
	switch {
	case key.Matches(k, keys.Yes):
		d.c.send(closeDialogMsg{d})
		d.c.send(liveConfirmedMsg{d.step})
	case key.Matches(k, keys.No):
		d.c.send(closeDialogMsg{d})
		d.c.send(noticeMsg{text: "Nothing was created."})
	case key.Matches(k, keys.Quit):
		d.c.send(askQuitMsg{})
	}
	return nil
}

// View lists what will be created, in which account, and what it costs.
func (d *confirmDialog) View() string {
	t := &d.c.theme
	width := min(d.width, maxReadingWidth)
	p := d.c.plan
	var b strings.Builder
	b.WriteString(t.heading.Render("Before anything is created in your AWS account") + "\n\n")
	kv := newKV(t, width, 10)
	b.WriteString(kv.row("Account", orUnknown(p.Account), true))
	b.WriteString(kv.row("Caller", orUnknown(p.CallerARN), false))
	b.WriteString(kv.row("Region", orUnknown(p.Region), true))
	if d.c.planErr != nil {
		adv := explain(d.c.planErr, &d.c.keys)
		b.WriteString(t.warn.Render(text.Wrap("Could not read the account: "+adv.what, width)) + "\n")
		if adv.hint != "" {
			b.WriteString(t.text.Render(text.Wrap("hint: "+adv.hint, width)) + "\n")
		}
	}
	b.WriteString("\n")
	if p.Reuses != "" {
		b.WriteString(t.bold.Render(text.Wrap("Step 1 reuses this workshop's KMS key "+p.Reuses+" if it still exists; otherwise it creates:", width)) + "\n")
	} else {
		b.WriteString(t.bold.Render("Step 1 will create:") + "\n")
	}
	creates := p.Creates
	if len(creates) == 0 {
		creates = []string{"one symmetric KMS key", "one alias, " + steps.AliasName}
	}
	for _, c := range creates {
		b.WriteString(t.text.Render("  "+t.markInfo+" "+wrapIndent(c, width-4, 4)) + "\n")
	}
	note := p.CostNote
	if note == "" {
		note = "A KMS key is billed monthly, prorated by the hour, until it is scheduled for deletion; the deletion then waits at least 7 days, unbilled. Step 6 schedules it."
	}
	b.WriteString("\n" + t.bold.Render("What it costs:") + "\n")
	b.WriteString(t.text.Render(text.Wrap(note, width)) + "\n\n")
	b.WriteString(t.notice.Render("Go ahead?") + "  " + keyChoices(t,
		describe(d.c.keys.Yes, fmt.Sprintf("yes, run step %d", d.step)),
		describe(d.c.keys.No, "no, go back")))
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func (d *confirmDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *confirmDialog) Title() string             { return "Confirm" }

func (d *confirmDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	return []key.Binding{describe(k.Yes, "go ahead"), describe(k.No, "go back"), k.Quit}
}

func (d *confirmDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

// questionDialog shows a running step's yes/no question.
type questionDialog struct {
	c             *common
	q             stepQuestion
	step          int
	width, height int
}

func newQuestionDialog(c *common, q stepQuestion) *questionDialog {
	return &questionDialog{c: c, q: q, step: c.running}
}

// Update answers the question; quitting answers no first.
func (d *questionDialog) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := &d.c.keys
	switch {
	case key.Matches(k, keys.Yes):
		d.answer(true)
	case key.Matches(k, keys.No):
		d.answer(false)
	case key.Matches(k, keys.Quit):
		d.answer(false)
		d.c.send(askQuitMsg{})
	}
	return nil
}

// answer replies to the step and closes the dialog.
func (d *questionDialog) answer(yes bool) {
	// The reply channel has room for the answer: this never blocks.
	d.q.reply <- yes
	d.c.send(closeDialogMsg{d})
}

func (d *questionDialog) View() string {
	t := &d.c.theme
	width := dialogTextWidth(d.width)
	body := t.bold.Render(fmt.Sprintf("Step %d asks:", d.step)) + "\n\n" + t.text.Render(text.Wrap(d.q.text, width)) + "\n\n" +
		keyChoices(t, d.c.keys.Yes, d.c.keys.No)
	return dialogBox(t, d.width, d.height, body)
}

func (d *questionDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *questionDialog) Title() string             { return "" }

func (d *questionDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	return []key.Binding{k.Yes, k.No, k.Quit}
}

func (d *questionDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }

// quitDialog asks before quitting with a step running or a live key left.
type quitDialog struct {
	c             *common
	cleanup       int // the step that cleans up, 0 if none
	width, height int
}

func newQuitDialog(c *common, cleanup int) *quitDialog { return &quitDialog{c: c, cleanup: cleanup} }

// Update quits on yes (or the quit key again) and stays on no.
func (d *quitDialog) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := &d.c.keys
	switch {
	case key.Matches(k, keys.Yes), key.Matches(k, keys.Quit):
		d.c.send(quitMsg{})
	case key.Matches(k, keys.No):
		d.c.send(closeDialogMsg{d})
	}
	return nil
}

func (d *quitDialog) View() string {
	t := &d.c.theme
	width := dialogTextWidth(d.width)
	var lines []string
	if n := d.c.running; n != 0 {
		lines = append(lines, t.warn.Render(text.Wrap(fmt.Sprintf("Step %d is still running. Quitting cancels it.", n), width)))
	}
	if d.c.liveKeyReminder() != "" {
		// The commands are printed after the screen is restored, where
		// they can be copied; here, only what the learner must know.
		lines = append(lines, t.warn.Render(text.Wrap(fmt.Sprintf(
			"The workshop's KMS key %s is still live in your AWS account, billed monthly until it is scheduled for deletion.",
			d.c.progress.state.KeyARN), width)))
		if d.cleanup != 0 {
			lines = append(lines, t.text.Render(text.Wrap(fmt.Sprintf(
				"Stay, then press %s to run the clean-up step now; or quit, and the commands that delete it are printed.",
				nth(d.c.keys.Jump, d.cleanup)), width)))
		}
	}
	lines = append(lines, "", t.bold.Render("Quit the tutorial?")+"  "+keyChoices(t, d.ShortHelp()...))
	return dialogBox(t, d.width, d.height, strings.Join(lines, "\n"))
}

func (d *quitDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *quitDialog) Title() string             { return "" }

func (d *quitDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	return []key.Binding{describe(k.Yes, "quit"), describe(k.No, "stay")}
}

func (d *quitDialog) FullHelp() [][]key.Binding { return [][]key.Binding{d.ShortHelp()} }
