package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// summaryScreen is the end: what happened, every AWS call, the score, and
// where the transcript went.
type summaryScreen struct {
	doc     docPane
	saving  bool
	path    string // the transcript, once saved
	saveErr error
}

// summaryText draws the summary.
func (m *Model) summaryText(width int) string {
	t := &m.theme
	var b strings.Builder
	section := func(title string) {
		if b.Len() > 0 {
			b.WriteString(strings.Repeat("\n", t.gap))
		}
		b.WriteString(m.rule(title, width) + "\n")
	}

	right, answered := m.score()
	if answered == 0 {
		b.WriteString(t.bold.Render("Quiz: not taken.") + "\n")
	} else {
		b.WriteString(t.highlight.Render(fmt.Sprintf(" Quiz score: %d of %d ", right, len(m.content.quiz))))
		if answered < len(m.content.quiz) {
			b.WriteString(t.text.Render(fmt.Sprintf("  (%d answered)", answered)))
		}
		b.WriteString("\n")
	}
	switch {
	case m.summary.saveErr != nil:
		b.WriteString(t.failure.Render(text.Wrap(m.summary.saveErr.Error(), width)) + "\n")
	case m.summary.path != "":
		b.WriteString(t.text.Render("Transcript saved to ") + t.value.Render(text.Wrap(m.displayPath(m.summary.path), max(width-20, 10))) + "\n")
	case m.summary.saving:
		b.WriteString(t.text.Render("Saving the transcript…") + "\n")
	}

	section("What you did")
	for n := 1; n <= stepCount; n++ {
		info := m.content.stepInfo(n)
		s := m.stepViews[n]
		mark, style, state := t.markTodo, t.subtle, "not run"
		switch {
		case s.status == statusRunning:
			mark, style, state = t.markInfo, t.notice, "running"
		case m.stepDone(n):
			mark, style, state = t.markDone, t.success, "done"
		case s.status == statusFailed:
			mark, style, state = t.markError, t.failure, "failed"
		case s.status == statusCancelled:
			mark, style, state = t.markWarn, t.warn, "cancelled"
		}
		b.WriteString(style.Render(fmt.Sprintf("%s %d ", mark, n)) + t.text.Render(truncate(info.Title, max(width-16, 10), t)) +
			style.Render(" "+t.dash+" "+state) + "\n")
	}

	kv := newKV(t, width, 14)
	section("In AWS")
	created, cleaned := m.resources()
	if len(created) == 0 {
		b.WriteString(t.text.Render(text.Wrap("Nothing was created in this session.", width)) + "\n")
	}
	for _, r := range created {
		b.WriteString(kv.row(r[0], r[1], false))
	}
	if len(cleaned) > 0 {
		b.WriteString(t.success.Render(t.markSuccess+" Cleaned up:") + "\n")
		for _, c := range cleaned {
			b.WriteString(t.text.Render("  "+wrapIndent(c, width-2, 2)) + "\n")
		}
	} else if len(created) > 0 {
		b.WriteString(t.warn.Render(text.Wrap(t.markWarn+" Not cleaned up yet: step 6 schedules the key's deletion and deletes the alias and the files.", width)) + "\n")
	}
	if r := m.liveKeyReminder(); r != "" {
		b.WriteString(t.warn.Render(text.Wrap(r, width)) + "\n")
	}

	calls := m.api.all()
	section(fmt.Sprintf("Every AWS call (%d)", m.api.total()))
	if n := m.api.unlisted(); n > 0 {
		b.WriteString(t.subtle.Render(fmt.Sprintf("(%d are not listed)", n)) + "\n")
	}
	if len(calls) == 0 {
		b.WriteString(t.text.Render("None.") + "\n")
	}
	for i, c := range calls {
		b.WriteString(callRow(t, m.api.calls.dropped+i+1, c, width) + "\n")
	}

	b.WriteString("\n" + t.text.Render("Press ") + t.help.ShortKey.Render("q") + t.text.Render(" to quit."))
	return b.String()
}

// resources lists what the session made in AWS (label, value) and what it
// cleaned up, from the steps' details and the workshop's state.
func (m *Model) resources() (created [][2]string, cleaned []string) {
	keyARN := m.state.KeyARN
	var deletion *steps.DeletionDetail
	if s := m.stepViews[6]; s.details.deletion != nil {
		deletion = s.details.deletion
		keyARN = deletion.KeyARN
	}
	if d := m.stepViews[2].details.dataKey; keyARN == "" && d != nil {
		keyARN = d.Header.KeyARN
	}
	if keyARN == "" {
		return nil, nil
	}
	created = append(created, [2]string{"KMS key", keyARN}, [2]string{"Alias", steps.AliasName})
	if deletion != nil && m.stepViews[6].status == statusDone {
		cleaned = append(cleaned,
			fmt.Sprintf("the KMS key is scheduled for deletion on %s", text.Date(deletion.DeletionDate)),
			"the alias "+steps.AliasName+" is deleted",
			"the files "+steps.EncryptedFile+" and "+steps.CycledFile+" are deleted")
	}
	return created, cleaned
}

// displayPath shows a path relative to the working directory when that is
// shorter.
func (m *Model) displayPath(p string) string {
	if rel, err := filepath.Rel(m.cwd, p); err == nil && !strings.HasPrefix(rel, "..") && len(rel) < len(p) {
		return rel
	}
	return p
}

// transcript is the record of the session saved at the end: every status
// line, every AWS call, the quiz answers and the score. It holds no key
// material: the data key's masked preview, which the screen may show, is
// cut out of the status lines.
func (m *Model) transcript() string {
	var b strings.Builder
	now := m.clock.Now()
	fmt.Fprintf(&b, "cse-workshop transcript\n")
	fmt.Fprintf(&b, "written:  %s\n", now.UTC().Format(time.RFC3339))
	if m.w != nil {
		fmt.Fprintf(&b, "folder:   %s\n", m.w.Dir)
	}
	if m.live {
		fmt.Fprintf(&b, "backend:  AWS account %s, region %s\n", m.plan.Account, m.plan.Region)
	} else {
		fmt.Fprintf(&b, "backend:  demo (simulated AWS, offline)\n")
	}

	for n := 1; n <= stepCount; n++ {
		s := m.stepViews[n]
		info := m.content.stepInfo(n)
		fmt.Fprintf(&b, "\n== Step %d: %s\n", n, info.Title)
		if s.log.entries.dropped > 0 {
			fmt.Fprintf(&b, "(%d earlier lines dropped)\n", s.log.entries.dropped)
		}
		if s.log.entries.len() == 0 {
			b.WriteString("not run in this session\n")
		}
		for i := range s.log.entries.len() {
			e := s.log.entries.at(i)
			b.WriteString(text.StatusLine(e.at, e.level.String(), s.redact(e.text)) + "\n")
		}
		if r := s.details.record; r != nil && r.JSON != "" {
			fmt.Fprintf(&b, "the CloudTrail record found:\n%s\n", r.JSON)
		}
		if s.status == statusFailed {
			fmt.Fprintf(&b, "failed: %s\n", s.advice.What)
			if s.advice.Hint != "" {
				fmt.Fprintf(&b, "hint: %s\n", s.advice.Hint)
			}
		}
	}

	fmt.Fprintf(&b, "\n== AWS calls (%d)\n", m.api.total())
	if n := m.api.unlisted(); n > 0 {
		fmt.Fprintf(&b, "(%d are not listed)\n", n)
	}
	for i, c := range m.api.all() {
		fmt.Fprintf(&b, "%4d  %s  %-10s %-22s %8s  %s\n", m.api.calls.dropped+i+1, text.Clock(c.Start),
			c.Service, c.Operation, formatDuration(c.Duration), c.Outcome())
	}

	right, answered := m.score()
	fmt.Fprintf(&b, "\n== Quiz: %d of %d right (%d answered)\n", right, len(m.content.quiz), answered)
	for i, q := range m.content.quiz {
		a := m.quiz.answers[i]
		fmt.Fprintf(&b, "%d. %s\n", i+1, q.Prompt)
		if a < 0 {
			b.WriteString("   not answered\n")
			continue
		}
		verdict := "right"
		if a != q.Answer {
			verdict = fmt.Sprintf("wrong; the answer is %d) %s", q.Answer+1, q.Choices[q.Answer])
		}
		fmt.Fprintf(&b, "   answered %d) %s: %s\n", a+1, q.Choices[a], verdict)
	}
	return b.String()
}
