package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// The code view of a step screen: the Go code the step runs, read from the
// program's own source (steps.StepCode), then the AWS CLI commands that make
// the same calls with the learner's values (steps.StepCLI). It takes the
// place of the lesson and the log, in every layout: code and commands need
// the width. The code key opens and closes it, the close key closes it, the
// scroll and log keys scroll it while it is open. A run of the step closes
// it, to be watched, and so does leaving the step.
//
// Output rules: no line is wider than the view; a code line too long is
// continued on the next line behind the theme's ellipsis, and a command too
// long is continued with " \" at a word boundary, so that it pastes into a
// shell as one command.

// codeView is a step's code view, while it is open.
type codeView struct {
	pane docPane
}

// codeKey opens and closes the code view, and scrolls it while it is open.
// It reports whether msg was for the code view.
func (s *stepScreen) codeKey(msg tea.KeyPressMsg) bool {
	k := &s.c.keys
	switch {
	case key.Matches(msg, k.Code):
		if s.code == nil {
			s.code = &codeView{pane: newDocPane()}
		} else {
			s.code = nil
		}
		return true
	case s.code == nil:
		return false
	case key.Matches(msg, k.Close):
		s.code = nil
		return true
	}
	return s.codePane().scrollKey(msg, k)
}

// codeBinding is the code key, described for what it does now.
func (s *stepScreen) codeBinding() key.Binding {
	if s.code != nil {
		return describe(s.c.keys.Code, "lesson")
	}
	return s.c.keys.Code
}

// codeWheel scrolls the code view with the mouse wheel, when it is open.
// It reports whether it did.
func (s *stepScreen) codeWheel(msg tea.MouseWheelMsg) bool {
	if s.code == nil {
		return false
	}
	s.codePane().wheel(msg)
	return true
}

// codePane is the code view's pane, sized for the screen. Its text is
// rendered again when a value it shows changed (the key after step 1, the
// time of step 2's call).
func (s *stepScreen) codePane() *docPane {
	t, k := &s.c.theme, &s.c.keys
	r := rect{s.width, s.height}
	v := s.cliValues()
	var region, endpoint string
	live := false
	if cl := v.Clients; cl != nil {
		region, endpoint, live = cl.Region, cl.Endpoint, cl.Live
	}
	id := fmt.Sprintf("code|%s|%d|%s|%s|%s|%s|%t|%s|%s", t.name, r.w, v.State.KeyARN, v.State.GenerateDataKeyAt, v.Dir, region, live, endpoint, v.Profile)
	s.code.pane.set(id, r.w, r.h, func(w int) string { return renderCode(t, k, s.step.Number, v, w) })
	return &s.code.pane
}

// cliValues are the learner's values the commands are written with, as
// they are now.
func (s *stepScreen) cliValues() steps.CLIValues {
	v := steps.CLIValues{State: s.c.progress.state}
	if w := s.c.workshop; w != nil {
		// Set when the workshop was opened and never changed after: safe
		// to read while a step runs.
		v.Clients, v.Profile, v.Dir = w.Clients, w.Profile, w.Dir
	}
	return v
}

// codeScreen draws the step screen with its code view open.
func (s *stepScreen) codeScreen() string {
	return s.codePane().view(&s.c.theme, &s.c.keys)
}

// renderCode is the text of step n's code view, width columns wide.
func renderCode(t *theme, k *keyMap, n int, v steps.CLIValues, width int) string {
	var b strings.Builder
	para := func(style func(...string) string, s string) {
		b.WriteString(style(text.Wrap(s, width)) + "\n")
	}
	para(t.subtle.Render, fmt.Sprintf("%s or %s: back to the lesson. %s/%s: a page up or down.",
		k.Code.Help().Key, k.Close.Help().Key, k.LogUp.Help().Key, k.LogDown.Help().Key))
	b.WriteString("\n")

	para(t.heading.Render, fmt.Sprintf("The Go code step %d runs", n))
	para(t.subtle.Render, "Read from this program's own source, built into it: what you read is what runs.")
	snippets, err := steps.StepCode(n)
	if err != nil {
		para(t.failure.Render, err.Error())
	}
	tabW := 2
	if width >= 100 {
		tabW = 4
	}
	for _, sn := range snippets {
		b.WriteString("\n" + t.label.Render(truncate(fmt.Sprintf("%s:%d", sn.File, sn.Line), width, t)) + "\n")
		lines := strings.Split(sn.Code, "\n")
		if sn.Cut {
			last := lines[len(lines)-1]
			lines = append(lines, last[:len(last)-len(strings.TrimLeft(last, "\t"))]+t.ellipsis)
		}
		for _, l := range lines {
			for _, part := range wrapCode(strings.ReplaceAll(l, "\t", strings.Repeat(" ", tabW)), width, t.ellipsis) {
				b.WriteString(t.text.Render(part) + "\n")
			}
		}
	}

	cli := steps.StepCLI(n, v)
	b.WriteString("\n")
	para(t.heading.Render, "The same with the AWS CLI v2")
	para(t.warn.Render, where(v, cli, k.Endpoint.Help().Key))
	if cli.Demo != "" {
		writeCommand(&b, t, cli.Demo, width)
	}
	b.WriteString("\n")
	for _, c := range cli.Commands {
		writeCommand(&b, t, c, width)
	}
	for _, note := range cli.Notes {
		b.WriteString("\n" + t.text.Render(bullet(t.markInfo, note, width)))
	}
	if len(cli.Notes) > 0 {
		b.WriteString("\n")
	}
	if len(cli.Sources) > 0 {
		b.WriteString("\n" + t.label.Render("Sources") + "\n")
		for _, src := range cli.Sources {
			para(t.text.Render, src.Title)
			para(t.subtle.Render, src.URL)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// where says which account the commands reach, and how to reach the demo.
// exportKey names the key that shows the export lines.
func where(v steps.CLIValues, cli steps.CLI, exportKey string) string {
	cl := v.Clients
	switch {
	case cl != nil && cl.Live:
		s := "These act on your AWS account, in " + cl.Region
		if v.Profile != "" {
			s += " with the profile " + v.Profile
		}
		return s + ", as the tutorial does."
	case cli.Demo != "":
		return "Run as they are, these would reach your real AWS account. To reach the demo's keys instead, run this first in another terminal and use the AWS CLI settings it prints:"
	}
	return fmt.Sprintf("Paste them into another terminal after the export lines the %s key shows: they then reach this tutorial's demo account. Without those lines they would reach your real AWS account.", exportKey)
}

// bullet is a note with a mark, wrapped under itself.
func bullet(mark, note string, width int) string {
	indent := strings.Repeat(" ", ansi.StringWidth(mark)+1)
	lines := strings.Split(text.Wrap(note, max(width-len(indent), 1)), "\n")
	for i := range lines {
		if i == 0 {
			lines[i] = mark + " " + lines[i]
		} else {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// writeCommand writes a shell command, wrapped to width.
func writeCommand(b *strings.Builder, t *theme, command string, width int) {
	for _, l := range wrapCommand(command, width, t.ellipsis) {
		b.WriteString(t.value.Render(l) + "\n")
	}
}

// wrapCode breaks a line of code wider than width: at its last space that
// fits, else anywhere, each continuation behind the ellipsis, indented as
// the line is.
func wrapCode(line string, width int, ellipsis string) []string {
	if ansi.StringWidth(line) <= width {
		return []string{line}
	}
	body := strings.TrimLeft(line, " ")
	lead := strings.Repeat(" ", min(len(line)-len(body), width/2)) + ellipsis + " "
	var out []string
	rest := line
	for {
		room := width
		if len(out) > 0 {
			room = width - ansi.StringWidth(lead)
		}
		if ansi.StringWidth(rest) <= room || room < 1 {
			break
		}
		cut := room
		head := ansi.Cut(rest, 0, room)
		indent := len(head) - len(strings.TrimLeft(head, " "))
		if i := strings.LastIndex(head, " "); i > indent {
			cut = ansi.StringWidth(head[:i])
		}
		out = append(out, continued(out, lead, strings.TrimRight(ansi.Cut(rest, 0, cut), " ")))
		rest = strings.TrimLeft(ansi.Cut(rest, cut, ansi.StringWidth(rest)), " ")
	}
	return append(out, continued(out, lead, rest))
}

// continued puts lead before a line that continues the lines out.
func continued(out []string, lead, line string) string {
	if len(out) == 0 {
		return line
	}
	return lead + line
}

// commandIndent is how far a command's continuation lines are indented.
const commandIndent = "    "

// wrapCommand breaks a shell command wider than width at the spaces
// between its words, each line but the last ending in " \", so that the
// lines still paste as one command. An option stays with its value where
// they fit together. A word too long for any line is cut at the width,
// behind the ellipsis: that one cannot be pasted whole.
func wrapCommand(command string, width int, ellipsis string) []string {
	if ansi.StringWidth(command) <= width {
		return []string{command}
	}
	units := commandUnits(shellWords(command))
	const cont = " \\"
	var lines []string
	line := ""
	for i, u := range units {
		last := i == len(units)-1
		reserve := len(cont)
		if last {
			reserve = 0
		}
		if line != "" && ansi.StringWidth(line)+1+ansi.StringWidth(u)+reserve <= width {
			line += " " + u
			continue
		}
		if line != "" {
			lines = append(lines, line+cont)
		}
		// A new line for the unit; a pair too long goes on two lines, and
		// a word too long loses its indent before it is cut.
		words := []string{u}
		if ansi.StringWidth(commandIndent+u)+reserve > width {
			words = shellWords(u)
		}
		for j, w := range words {
			r := reserve
			if j < len(words)-1 {
				r = len(cont)
			}
			indent := commandIndent
			if len(lines) == 0 {
				indent = ""
			}
			if ansi.StringWidth(indent+w)+r > width {
				indent = ""
			}
			line = indent + w
			if ansi.StringWidth(line)+r > width {
				line = ansi.Truncate(line, max(width-r, 1), ellipsis)
			}
			if j < len(words)-1 {
				lines = append(lines, line+cont)
			}
		}
	}
	return append(lines, line)
}

// shellWords splits a command line into its words at the spaces outside
// quotes, keeping the quotes: joined with spaces, they are the command. A
// placeholder ("<key ARN from step 1>") is one word.
func shellWords(command string) []string {
	var words []string
	var word strings.Builder
	var quote rune // the rune that closes the quote
	for _, r := range command {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '<' && word.Len() == 0:
			quote = '>'
		case r == ' ':
			if word.Len() > 0 {
				words = append(words, word.String())
				word.Reset()
			}
			continue
		}
		word.WriteRune(r)
	}
	if word.Len() > 0 {
		words = append(words, word.String())
	}
	return words
}

// commandUnits pairs each option with its value ("--key-id K"), and each
// pipe or redirection with the word after it ("> file"), so that a wrapped
// command keeps them on one line.
func commandUnits(words []string) []string {
	var units []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		pairs := isShellOperator(w) || strings.HasPrefix(w, "--")
		if pairs && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") && !isShellOperator(words[i+1]) {
			w += " " + words[i+1]
			i++
		}
		units = append(units, w)
	}
	return units
}

// isShellOperator reports whether a word is a pipe, a redirection or a list
// operator, which a flag never takes as its value.
func isShellOperator(w string) bool {
	switch w {
	case "|", ">", "<", "&&", "||", ";":
		return true
	}
	return false
}
