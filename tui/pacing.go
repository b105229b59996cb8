package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"
)

// framePacer draws the frame for a message from the background (a run's
// status lines, the AWS calls, the spinner) at most once per interval,
// while a key, the mouse or a resize is drawn at once. Bubbletea draws the
// whole frame after every message, but sends the terminal only the last
// frame of each of its ticks: a run's burst of lines costs a drawing each,
// and in a served room, with hundreds of tutorials in one process, those
// drawings are most of the work. The last message of a burst is always
// drawn: a redraw message follows when a frame was put off.
type framePacer struct {
	interval time.Duration // 0: every message is drawn

	frame   tea.View  // the frame drawn last
	drawnAt time.Time // when
	drawn   bool      // frame holds a drawing
	late    bool      // the last message's frame was put off
	pending bool      // a redrawMsg is on its way
}

// redrawMsg draws the frame put off by the pacer.
type redrawMsg struct{}

// paced says whether msg's frame is put off, and returns the command that
// brings the redraw when it is the first put off.
func (p *framePacer) paced(msg tea.Msg, now time.Time) tea.Cmd {
	p.late = false
	if p.interval <= 0 {
		return nil
	}
	switch msg.(type) {
	case redrawMsg:
		p.pending = false
		return nil
	case tea.KeyPressMsg, tea.KeyReleaseMsg, tea.MouseMsg, tea.PasteMsg, tea.WindowSizeMsg:
		return nil // the learner's own action: drawn at once
	}
	wait := p.interval - now.Sub(p.drawnAt)
	if !p.drawn || wait <= 0 {
		return nil
	}
	p.late = true
	if p.pending {
		return nil
	}
	p.pending = true
	return tea.Tick(wait, func(time.Time) tea.Msg { return redrawMsg{} })
}

// view is the frame: the one drawn last when the message's frame is put
// off, else draw's.
func (p *framePacer) view(now time.Time, draw func() tea.View) tea.View {
	if p.late && p.drawn {
		return p.frame
	}
	p.frame, p.drawnAt, p.drawn = draw(), now, true
	return p.frame
}
