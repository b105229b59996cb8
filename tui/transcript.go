package tui

import (
	"fmt"
	"strings"

	"cse-workshop/internal/text"
)

// transcript is the record of the session saved at the end: every status
// line, every AWS call, the quiz answers and the score, the predictions.
// It holds no key material: the steps report none (of the data key, only
// its size).
func (s *summaryScreen) transcript() string {
	var b strings.Builder
	c := s.c
	now := c.clock.Now()
	fmt.Fprintf(&b, "cse-workshop transcript\n")
	fmt.Fprintf(&b, "written:  %s\n", text.Date(now))
	if c.workshop != nil {
		fmt.Fprintf(&b, "folder:   %s\n", c.workshop.Dir)
	}
	if c.live {
		fmt.Fprintf(&b, "backend:  AWS account %s, region %s\n", c.plan.Account, c.plan.Region)
	} else {
		fmt.Fprintf(&b, "backend:  demo (simulated AWS, offline)\n")
	}

	for _, st := range s.steps {
		fmt.Fprintf(&b, "\n== Step %d: %s\n", st.step.Number, st.step.Title)
		s.writeStepRecord(&b, st)
	}

	fmt.Fprintf(&b, "\n== AWS calls (%d)\n", s.api.total())
	if n := s.api.unlisted(); n > 0 {
		fmt.Fprintf(&b, "(%d are not listed)\n", n)
	}
	for i, call := range s.api.all() {
		outcome := callOutcome(call)
		if call.External {
			outcome += ", " + externalLabel(call)
		}
		fmt.Fprintf(&b, "%4d  %s  %-10s %-22s %8s  %s\n", s.api.calls.dropped+i+1, text.Clock(call.Start),
			call.Service, call.Operation, formatDuration(call.Duration), outcome)
	}
	s.writeQuizRecord(&b)
	s.writePredictionRecord(&b)
	return b.String()
}

// writeStepRecord writes a step's status lines, the record it found and
// how it failed.
func (s *summaryScreen) writeStepRecord(b *strings.Builder, st *stepScreen) {
	if st.log.entries.dropped > 0 {
		fmt.Fprintf(b, "(%d earlier lines dropped)\n", st.log.entries.dropped)
	}
	if st.log.entries.len() == 0 {
		b.WriteString("not run in this session\n")
	}
	for i := range st.log.entries.len() {
		e := st.log.entries.at(i)
		b.WriteString(text.StatusLine(e.at, e.level.String(), e.text) + "\n")
	}
	if r := st.details.record; r != nil && r.JSON != "" {
		fmt.Fprintf(b, "the CloudTrail record found:\n%s\n", r.JSON)
	}
	if st.status == statusFailed {
		fmt.Fprintf(b, "failed: %s\n", st.advice.what)
		if st.advice.hint != "" {
			fmt.Fprintf(b, "hint: %s\n", st.advice.hint)
		}
	}
}

// writeQuizRecord writes the quiz's answers and score: the first answer,
// and after a wrong one, the answer picked after the hint. The choices are
// named by their text, as their numbers change from run to run.
func (s *summaryScreen) writeQuizRecord(b *strings.Builder) {
	quiz := s.c.content.quiz
	right, answered := s.quiz.score()
	fmt.Fprintf(b, "\n== Quiz: %d of %d right at the first try (%d answered, %d more right after a hint)\n",
		right, len(quiz), answered, s.quiz.afterHint())
	for i, q := range quiz {
		picks := s.quiz.picks[i]
		fmt.Fprintf(b, "%d. %s\n", i+1, q.Prompt)
		if len(picks) == 0 {
			b.WriteString("   not answered\n")
			continue
		}
		fmt.Fprintf(b, "   answered %q", q.Choices[picks[0]])
		if len(picks) > 1 {
			fmt.Fprintf(b, ", then after the hint %q", q.Choices[picks[1]])
		}
		switch last := picks[len(picks)-1]; {
		case len(picks) == 1 && last == q.Answer:
			b.WriteString(": right at the first try\n")
		case last == q.Answer:
			b.WriteString(": right after the hint\n")
		case len(picks) == 1:
			b.WriteString(": wrong; no second try yet\n")
		default:
			fmt.Fprintf(b, ": wrong; the answer is %q\n", q.Choices[q.Answer])
		}
	}
}
