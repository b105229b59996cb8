package tui

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"cse-workshop/awsclient"
)

// apiCapacity bounds the calls the API pane keeps; the summary and the
// transcript list those kept and say how many were dropped.
const apiCapacity = 5000

// apiPane lists the AWS calls as they happen.
type apiPane struct {
	calls ring[awsclient.Call]
	// missed counts the calls the recorder reported while the screen was
	// too far behind to take them (the SDK is never made to wait).
	missed *atomic.Int64
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

// view draws the newest calls that fit in height lines, under a title.
func (p *apiPane) view(t *theme, width, height int) string {
	if height <= 0 {
		return ""
	}
	title := fmt.Sprintf("AWS calls (%d)", p.total())
	lines := []string{t.rule(title, width)}
	rows := height - 1
	n := p.calls.len()
	if n == 0 && rows > 0 {
		lines = append(lines, t.subtle.Render(truncate("No AWS calls yet.", width, t)))
	}
	for i := max(0, n-rows); i < n; i++ {
		lines = append(lines, callRow(t, p.calls.dropped+i+1, p.calls.at(i), width))
	}
	return fitHeight(strings.Join(lines, "\n"), height)
}

// callRow is one call: number, service, operation, duration, outcome.
func callRow(t *theme, number int, c awsclient.Call, width int) string {
	outcome := c.Outcome()
	style := t.success
	if c.Err != nil {
		style = t.failure
	}
	row := fmt.Sprintf("%4d  %-10s %-22s %8s  ", number, c.Service, c.Operation, formatDuration(c.Duration))
	if len(row) >= width {
		return t.text.Render(truncate(row, width, t))
	}
	return t.text.Render(row) + style.Render(truncate(outcome, width-len(row), t))
}

// formatDuration writes a call's duration to the millisecond.
func formatDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}
