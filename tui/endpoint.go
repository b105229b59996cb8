package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// The learner's own AWS CLI on the demo account: a dialog with the lines
// to paste into another terminal. The lines to copy stand alone on their
// rows, with no border or marker beside them, so that a terminal's
// selection takes nothing else.

// textDialog is a dialog of scrolling text that the learner reads and
// closes: the endpoint's lines, one AWS call opened from the API pane.
type textDialog struct {
	c             *common
	title         string
	name          string // what the text is, in the key of its content
	render        func(width int) string
	doc           docPane
	width, height int
}

func newTextDialog(c *common, title, name string, render func(width int) string) *textDialog {
	return &textDialog{c: c, title: title, name: name, render: render, doc: newDocPane()}
}

// Update scrolls the text; Enter or the no key closes the dialog.
func (d *textDialog) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	keys := &d.c.keys
	switch {
	case key.Matches(k, keys.Enter), key.Matches(k, keys.No):
		d.c.send(closeDialogMsg{d})
	case key.Matches(k, keys.Quit):
		d.c.send(closeDialogMsg{d})
		d.c.send(askQuitMsg{})
	default:
		d.pane().scrollKey(k, keys)
	}
	return nil
}

// pane is the text, rendered for the dialog's room.
func (d *textDialog) pane() *docPane {
	t := &d.c.theme
	width := min(d.width, maxReadingWidth)
	d.doc.set(fmt.Sprintf("%s|%s|%d", d.name, t.name, width), width, d.height, d.render)
	return &d.doc
}

func (d *textDialog) View() string              { return d.pane().view(&d.c.theme, &d.c.keys) }
func (d *textDialog) SetSize(width, height int) { d.width, d.height = width, height }
func (d *textDialog) Title() string             { return d.title }

func (d *textDialog) ShortHelp() []key.Binding {
	k := &d.c.keys
	return []key.Binding{describe(k.Enter, "close"), k.ScrollDown, k.ScrollUp}
}

func (d *textDialog) FullHelp() [][]key.Binding {
	k := &d.c.keys
	return [][]key.Binding{{describe(k.Enter, "close"), describe(k.No, "close")}, {k.ScrollUp, k.ScrollDown, k.LogUp, k.LogDown}}
}

// newEndpointDialog shows how to point the learner's AWS CLI at the demo.
func newEndpointDialog(c *common) *textDialog {
	return newTextDialog(c, "Your AWS CLI", "endpoint|"+c.endpoint, func(width int) string {
		return endpointText(c, width)
	})
}

// tryCommands are the first commands to try with the learner's AWS CLI:
// the tutorial's key, then the audit trail that recorded it.
var tryCommands = []string{
	"aws kms describe-key --key-id " + steps.AliasName,
	"aws cloudtrail lookup-events --max-results 5",
}

// endpointText is the endpoint dialog's text, for width columns.
func endpointText(c *common, width int) string {
	t := &c.theme
	para := func(s string) string { return t.text.Render(text.Wrap(s, width)) }
	host := strings.TrimPrefix(c.endpoint, "http://")
	var b strings.Builder
	b.WriteString(t.heading.Render("Your own AWS CLI, on this demo account") + "\n\n")
	b.WriteString(para(fmt.Sprintf("While the tutorial runs, its simulated AWS also answers at %s, on this computer only. Paste these lines into another terminal:", host)) + "\n\n")
	for _, l := range copyLines(awsclient.CLIExports(c.endpoint, c.plan.Region), width) {
		b.WriteString(t.bold.Render(l) + "\n")
	}
	b.WriteString("\n" + para("Then try:") + "\n\n")
	for _, l := range tryCommands {
		b.WriteString(t.bold.Render(l) + "\n")
	}
	b.WriteString("\n" + para(fmt.Sprintf(
		"Your calls show in the API pane (%s), marked \"your CLI\", and in the CloudTrail event history of step 5. "+
			"The keys are dummies: the simulated AWS accepts any. The port changes each time the tutorial starts; --no-endpoint turns this off.",
		c.keys.API.Help().Key)))
	return b.String()
}

// copyLines are export lines that fit in width: as they are when they do,
// else one variable per line, each still a whole command.
func copyLines(lines []string, width int) []string {
	fits := true
	for _, l := range lines {
		fits = fits && ansi.StringWidth(l) <= width
	}
	if fits {
		return lines
	}
	var out []string
	for _, l := range lines {
		for _, v := range strings.Fields(strings.TrimPrefix(l, "export ")) {
			out = append(out, "export "+v)
		}
	}
	return out
}

// endpointNotice says why the endpoint key shows no lines: real AWS, or
// the demo started without its endpoint.
func endpointNotice(c *common) string {
	if c.noEndpointNote != "" {
		return c.noEndpointNote
	}
	if c.live {
		return "With --aws, your own AWS CLI reaches the same account already: use the same profile and region."
	}
	return "Your AWS CLI cannot reach this demo: it was started with --no-endpoint."
}
