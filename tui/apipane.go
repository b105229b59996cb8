package tui

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/awsclient"
	"cse-workshop/internal/text"
)

// apiCapacity bounds the calls the API pane keeps; the summary and the
// transcript list those kept and say how many were dropped.
const apiCapacity = 5000

// apiPane lists the AWS calls as they happen. While it is shown, the
// scroll keys pick a call and Enter opens it: its request and response,
// with the secrets masked by awsclient.
type apiPane struct {
	calls ring[awsclient.Call]
	// missed counts the calls the recorder reported while the screen was
	// too far behind to take them (the SDK is never made to wait).
	missed *atomic.Int64
	// pick is the number of the call picked (1 is the first call made,
	// as the rows number them), 0 when none is.
	pick int
}

func newAPIPane() *apiPane {
	return &apiPane{calls: newRing[awsclient.Call](apiCapacity), missed: &atomic.Int64{}}
}

func (p *apiPane) add(c awsclient.Call) { p.calls.push(c) }

// total is the number of calls made, listed or not.
func (p *apiPane) total() int { return p.calls.len() + p.calls.dropped + int(p.missed.Load()) }

// unlisted is the number of calls made but not listed.
func (p *apiPane) unlisted() int { return p.calls.dropped + int(p.missed.Load()) }

// all returns the calls kept, oldest first.
func (p *apiPane) all() []awsclient.Call {
	out := make([]awsclient.Call, p.calls.len())
	for i := range out {
		out[i] = p.calls.at(i)
	}
	return out
}

// first and last are the numbers of the oldest and newest call kept.
func (p *apiPane) first() int { return p.calls.dropped + 1 }
func (p *apiPane) last() int  { return p.calls.dropped + p.calls.len() }

// pickOlder picks the call before the one picked, or the newest when
// none is.
func (p *apiPane) pickOlder() {
	switch {
	case p.calls.len() == 0:
	case p.pick == 0:
		p.pick = p.last()
	default:
		p.pick = max(p.pick-1, p.first())
	}
}

// pickNewer picks the call after the one picked; past the newest, none.
func (p *apiPane) pickNewer() {
	if p.pick == 0 {
		return
	}
	p.pick++
	if p.pick > p.last() {
		p.pick = 0
	}
}

func (p *apiPane) unselect() { p.pick = 0 }

// picked is the call picked and its number, if one is and is still kept.
func (p *apiPane) picked() (awsclient.Call, int, bool) {
	if p.pick < p.first() || p.pick > p.last() {
		return awsclient.Call{}, 0, false
	}
	return p.calls.at(p.pick - p.first()), p.pick, true
}

// shortHelp is the pane's keys while it is shown.
func (p *apiPane) shortHelp(k *keyMap) []key.Binding {
	if _, _, ok := p.picked(); ok {
		return []key.Binding{describe(k.Enter, "open call"), describe(k.ScrollUp, "older")}
	}
	return []key.Binding{enabled(describe(k.ScrollUp, "pick a call"), p.calls.len() > 0)}
}

// screenKeys are the screen's bindings the pane leaves it while shown:
// not the scroll keys, nor Enter once a call is picked.
func (p *apiPane) screenKeys(bindings []key.Binding, k *keyMap) []key.Binding {
	_, _, picked := p.picked()
	taken := func(b key.Binding) bool {
		for _, name := range b.Keys() {
			if slices.Contains(k.ScrollUp.Keys(), name) || slices.Contains(k.ScrollDown.Keys(), name) ||
				(picked && slices.Contains(k.Enter.Keys(), name)) {
				return true
			}
		}
		return false
	}
	var out []key.Binding
	for _, b := range bindings {
		if !taken(b) {
			out = append(out, b)
		}
	}
	return out
}

// view draws the newest calls that fit in height lines, under a title,
// and the call picked wherever it is.
func (p *apiPane) view(t *theme, k *keyMap, width, height int) string {
	if height <= 0 {
		return ""
	}
	title := fmt.Sprintf("AWS calls (%d)", p.total())
	if p.calls.len() > 0 {
		title += fmt.Sprintf(" %s %s picks, %s opens", t.dash, k.ScrollUp.Help().Key, k.Enter.Help().Key)
	}
	lines := []string{t.rule(title, width)}
	rows := height - 1
	n := p.calls.len()
	if n == 0 && rows > 0 {
		lines = append(lines, t.subtle.Render(truncate("No AWS calls yet.", width, t)))
	}
	from := max(0, n-rows)
	if _, number, ok := p.picked(); ok {
		from = min(from, number-p.first())
	}
	for i := from; i < min(n, from+rows); i++ {
		number := p.first() + i
		lines = append(lines, callRow(t, number, p.calls.at(i), width, number == p.pick))
	}
	return fitHeight(strings.Join(lines, "\n"), height)
}

// callRow is one call: number, service, operation, duration, outcome, and
// who made it when not the tutorial. A failure the step foresaw reads as
// what it means, not as a fault. The call picked is marked.
func callRow(t *theme, number int, c awsclient.Call, width int, picked bool) string {
	outcome, style := callOutcome(c), t.success
	switch {
	case c.Expected != "":
		style = t.subtle
	case c.Err != nil:
		style = t.failure
	}
	if c.External {
		outcome += " " + t.dash + " " + externalLabel(c)
	}
	mark := " "
	if picked {
		mark = t.markCurrent
	}
	row := fmt.Sprintf("%s%3d  %-10s %-22s %8s  ", padLine(mark, 1), number, c.Service, c.Operation, formatDuration(c.Duration))
	rowStyle := t.text
	if picked {
		rowStyle = t.chosen
	}
	if ansi.StringWidth(row) >= width {
		return rowStyle.Render(truncate(row, width, t))
	}
	return rowStyle.Render(row) + style.Render(truncate(outcome, width-ansi.StringWidth(row), t))
}

// callOutcome is a call's outcome as the pane says it: for a failure the
// step foresaw, why it was expected first.
func callOutcome(c awsclient.Call) string {
	if c.Expected != "" {
		return "expected: " + c.Expected + " (" + c.Outcome() + ")"
	}
	return c.Outcome()
}

// externalLabel names who made an external call: the learner's own CLI.
func externalLabel(c awsclient.Call) string {
	return "your CLI (" + c.UserAgent + ")"
}

// formatDuration writes a call's duration to the millisecond.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// newCallDialog opens call number n: what it was, how it ended, and its
// request and response as they went over the wire, secrets masked.
func newCallDialog(c *common, n int, call awsclient.Call) *textDialog {
	title := fmt.Sprintf("AWS call %d", n)
	return newTextDialog(c, title, fmt.Sprintf("call|%d", n), func(width int) string {
		return callText(&c.theme, n, call, width)
	})
}

// callText is an opened call's text, for width columns.
func callText(t *theme, n int, call awsclient.Call, width int) string {
	var b strings.Builder
	b.WriteString(t.heading.Render(fmt.Sprintf("Call %d: %s %s", n, call.Service, call.Operation)) + "\n\n")
	kv := newKV(t, width, 11)
	by := "the tutorial"
	if call.External {
		by = externalLabel(call)
	}
	b.WriteString(kv.row("Made by", by, false))
	b.WriteString(kv.row("Outcome", callOutcome(call), call.Err == nil || call.Expected != ""))
	if call.Err != nil && call.Expected == "" {
		b.WriteString(kv.row("Error", text.OneLine(call.Err.Error()), false))
	}
	attempts := "1 attempt"
	if call.Attempts > 1 {
		attempts = fmt.Sprintf("%d attempts", call.Attempts)
	}
	b.WriteString(kv.row("Took", formatDuration(call.Duration)+", "+attempts, false))
	b.WriteString(kv.row("IAM action", call.Action(), false))
	if call.RequestID != "" {
		b.WriteString(kv.row("Request ID", call.RequestID, false))
	}
	body := func(title, s string) {
		b.WriteString("\n" + t.rule(title, width) + "\n")
		if s == "" {
			b.WriteString(t.subtle.Render("(none)") + "\n")
			return
		}
		b.WriteString(t.text.Render(ansi.Hardwrap(s, width, true)) + "\n")
	}
	body("Request", call.Request)
	body("Response", call.Response)
	b.WriteString("\n" + t.subtle.Render(text.Wrap("Secrets are never shown: a data key's plaintext and any key material appear only as their size, and ciphertext is shortened.", width)))
	return b.String()
}
