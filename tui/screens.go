package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// welcomeText is the welcome screen's scrolling text: the offer to resume,
// what envelope encryption is, and, when the diagrams have no column of
// their own, the diagrams.
func (m *Model) welcomeText(width int, withDiagrams bool) string {
	t := &m.theme
	var parts []string
	if m.resumeOffered {
		parts = append(parts, m.resumeView(width))
	}
	parts = append(parts, m.md.render(t, m.content.welcome, width))
	if withDiagrams {
		parts = append(parts, m.diagramsView(width))
	}
	parts = append(parts, m.keyListView(width))
	return strings.Join(parts, strings.Repeat("\n", t.gap+1))
}

// resumeView offers to continue where the learner stopped.
func (m *Model) resumeView(width int) string {
	t := &m.theme
	var doneSteps []int
	for n := range m.done {
		doneSteps = append(doneSteps, n)
	}
	slices.Sort(doneSteps)
	names := make([]string, len(doneSteps))
	for i, n := range doneSteps {
		names[i] = fmt.Sprint(n)
	}
	target := m.resumeTarget()
	next := "the quiz"
	if target.kind == screenStep {
		next = fmt.Sprintf("step %d", target.step)
	}
	done := "step " + names[0]
	if len(names) > 1 {
		done = "steps " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	body := t.bold.Render("Welcome back.") + " " + t.text.Render(fmt.Sprintf(
		"This workshop folder holds your progress: %s done.", done)) + "\n" +
		t.text.Render("Press ") + t.help.ShortKey.Render("enter") + t.text.Render(" to continue with "+next+", or ") +
		t.help.ShortKey.Render("s") + t.text.Render(" to start over from step 1.")
	box := t.infoBox.Width(min(width, 76))
	return box.Render(body)
}

// diagramsView draws the two envelope-encryption pictures.
func (m *Model) diagramsView(width int) string {
	t := &m.theme
	return strings.Join([]string{
		m.rule("Encrypting", width),
		t.text.Render(m.content.encryptDiagram),
		"",
		m.rule("Decrypting", width),
		t.text.Render(m.content.decryptDiagram),
	}, "\n")
}

// keyListView lists the main keys, from the key map.
func (m *Model) keyListView(width int) string {
	t := &m.theme
	k := m.keys
	rows := []struct{ key, what string }{
		{"enter", "run a step, continue"},
		{k.Next.Help().Key + "  " + k.Prev.Help().Key, "next / previous screen"},
		{k.Jump.Help().Key, "go to a step (a facilitator's shortcut)"},
		{k.Retry.Help().Key, "run a failed step again"},
		{k.Check.Help().Key, "step 5: look in CloudTrail now"},
		{k.API.Help().Key, "show every AWS call"},
		{k.Help.Help().Key, "all keys"},
		{k.Quit.Help().Key, "quit (ctrl+c cancels a running step)"},
	}
	lines := []string{m.rule("Keys", width)}
	for _, r := range rows {
		lines = append(lines, t.help.FullKey.Render(fmt.Sprintf("%-8s", r.key))+" "+t.text.Render(truncate(r.what, max(width-9, 1), t)))
	}
	return strings.Join(lines, "\n")
}

// welcomeView is the welcome screen: the text, and beside it in a wide
// window the diagrams.
func (m *Model) welcomeView(l layout) string {
	if l.mode != layoutWide {
		return m.padded(m.welcome.view(&m.theme))
	}
	return m.columns(l, m.welcome.view(&m.theme), m.diagramsView(l.side.w))
}

// confirmView asks before anything is created in a real AWS account.
func (m *Model) confirmView(l layout) string {
	t := &m.theme
	width := min(l.width-2*t.pad, 100)
	p := m.plan
	unknown := func(s string) string {
		if s == "" {
			return "(unknown)"
		}
		return s
	}
	var b strings.Builder
	b.WriteString(t.heading.Render("Before anything is created in your AWS account") + "\n\n")
	kv := newKV(t, width, 10)
	b.WriteString(kv.row("Account", unknown(p.Account), true))
	b.WriteString(kv.row("Caller", unknown(p.CallerARN), false))
	b.WriteString(kv.row("Region", unknown(p.Region), true))
	if m.planErr != nil {
		adv := steps.Explain(m.planErr)
		b.WriteString(t.warn.Render(text.Wrap("Could not read the account: "+adv.What, width)) + "\n")
		if adv.Hint != "" {
			b.WriteString(t.text.Render(text.Wrap("hint: "+adv.Hint, width)) + "\n")
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
	b.WriteString(t.notice.Render("Go ahead?") + "  " + t.help.ShortKey.Render("y/enter") + t.text.Render(fmt.Sprintf(" yes, run step %d   ", m.pendingStep)) +
		t.help.ShortKey.Render("n/esc") + t.text.Render(" no, go back"))
	return m.padded(b.String())
}

// quitDialogView asks before quitting with a step running or a live key left.
func (m *Model) quitDialogView(l layout) string {
	t := &m.theme
	width := min(l.width-2*t.pad-6, 70)
	var lines []string
	if m.running != 0 {
		lines = append(lines, t.warn.Render(text.Wrap(fmt.Sprintf("Step %d is still running. Quitting cancels it.", m.running), width)))
	}
	if m.liveKeyReminder() != "" {
		// The commands are printed after the screen is restored, where
		// they can be copied; here, only what the learner must know.
		lines = append(lines,
			t.warn.Render(text.Wrap(fmt.Sprintf("The workshop's KMS key %s is still live in your AWS account, billed monthly until it is scheduled for deletion.", m.state.KeyARN), width)),
			t.text.Render(text.Wrap("Press n, then 6 to run the clean-up step now; or quit, and the commands that delete it are printed.", width)))
	}
	lines = append(lines, "", t.bold.Render("Quit the tutorial?")+"  "+t.help.ShortKey.Render("y")+t.text.Render(" quit   ")+
		t.help.ShortKey.Render("n/esc")+t.text.Render(" stay"))
	box := t.dialog.Render(strings.Join(lines, "\n"))
	return lipgloss.Place(l.width, l.bodyH, lipgloss.Center, lipgloss.Center, box)
}

// questionView shows a running step's yes/no question.
func (m *Model) questionView(l layout) string {
	t := &m.theme
	width := min(l.width-2*t.pad-6, 70)
	body := t.bold.Render(fmt.Sprintf("Step %d asks:", m.running)) + "\n\n" + t.text.Render(text.Wrap(m.question.text, width)) + "\n\n" +
		t.help.ShortKey.Render("y") + t.text.Render(" yes   ") + t.help.ShortKey.Render("n/esc") + t.text.Render(" no")
	return lipgloss.Place(l.width, l.bodyH, lipgloss.Center, lipgloss.Center, t.dialog.Render(body))
}
