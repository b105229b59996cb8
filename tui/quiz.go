package tui

import (
	"cse-workshop/internal/text"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// quizScreen is the quiz: one question at a time, each answer followed by
// the explanation.
type quizScreen struct {
	current int   // index of the question shown; len(questions) once finished
	answers []int // chosen index per question, -1 before an answer
	doc     docPane
}

func newQuizScreen(n int) quizScreen {
	q := quizScreen{answers: make([]int, n), doc: newDocPane()}
	for i := range q.answers {
		q.answers[i] = -1
	}
	return q
}

// score counts the right answers and the questions answered.
func (m *Model) score() (right, answered int) {
	for i, a := range m.quiz.answers {
		if a < 0 {
			continue
		}
		answered++
		if a == m.content.quiz[i].Answer {
			right++
		}
	}
	return right, answered
}

// quizKey handles the keys of the quiz: a number answers, Enter goes on.
func (m *Model) quizKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	q := &m.quiz
	if q.current >= len(m.content.quiz) {
		return nil, false
	}
	question := m.content.quiz[q.current]
	switch {
	case key.Matches(msg, k.Answer):
		choice := int(msg.Text[0] - '1')
		if q.answers[q.current] < 0 && choice < len(question.Choices) {
			q.answers[q.current] = choice
			q.doc.vp.GotoTop()
		}
		return nil, true
	case key.Matches(msg, k.Enter):
		if q.answers[q.current] < 0 {
			m.setNotice(fmt.Sprintf("Press a number from 1 to %d to answer.", len(question.Choices)), false)
			return nil, true
		}
		q.current++
		q.doc.vp.GotoTop()
		if q.current >= len(m.content.quiz) {
			q.current = len(m.content.quiz) - 1
			return m.goTo(screenID{kind: screenSummary}), true
		}
		return nil, true
	}
	return nil, false
}

// quizText draws the current question, and once answered, why.
func (m *Model) quizText(width int) string {
	t := &m.theme
	if len(m.content.quiz) == 0 {
		return t.text.Render("There is no quiz.")
	}
	q := &m.quiz
	question := m.content.quiz[q.current]
	right, answered := m.score()
	var b strings.Builder
	b.WriteString(t.heading.Render(fmt.Sprintf("Question %d of %d", q.current+1, len(m.content.quiz))))
	b.WriteString(t.subtle.Render(fmt.Sprintf("   score so far: %d of %d", right, answered)) + "\n\n")
	b.WriteString(t.bold.Render(text.Wrap(question.Prompt, width)) + "\n\n")
	chosen := q.answers[q.current]
	for i, c := range question.Choices {
		label := fmt.Sprintf("%d) ", i+1)
		choice := wrapIndent(c, width-len(label)-2, len(label)+2)
		switch {
		case chosen < 0:
			b.WriteString("  " + t.help.ShortKey.Render(label) + t.choice.Render(choice))
		case i == question.Answer:
			b.WriteString(t.right.Render(t.markSuccess + " " + label + choice))
		case i == chosen:
			b.WriteString(t.wrong.Render(t.markError + " " + label + choice))
		default:
			b.WriteString("  " + t.subtle.Render(label+choice))
		}
		b.WriteString("\n")
		if t.gap > 1 {
			b.WriteString("\n")
		}
	}
	if chosen < 0 {
		return b.String()
	}
	b.WriteString("\n")
	if chosen == question.Answer {
		b.WriteString(t.right.Render("Right.") + "\n")
	} else {
		b.WriteString(t.wrong.Render(fmt.Sprintf("Not quite: the answer is %d.", question.Answer+1)) + "\n")
	}
	b.WriteString(t.text.Render(text.Wrap(question.Explanation, width)) + "\n")
	var whyNot []string
	for i, why := range question.WhyNot {
		if i == question.Answer || why == "" {
			continue
		}
		whyNot = append(whyNot, t.bold.Render(fmt.Sprintf("%d) ", i+1))+t.text.Render(wrapIndent(why, width-3, 3)))
	}
	if len(whyNot) > 0 {
		b.WriteString("\n" + t.bold.Render("Why not the others:") + "\n" + strings.Join(whyNot, "\n") + "\n")
	}
	next := "next question"
	if q.current == len(m.content.quiz)-1 {
		next = "your score"
	}
	b.WriteString("\n" + t.text.Render("Press ") + t.help.ShortKey.Render("enter") + t.text.Render(" for the "+next+"."))
	return b.String()
}

// wrapIndent wraps s to width and indents the lines after the first by
// indent columns, so they line up under the first.
func wrapIndent(s string, width, indent int) string {
	lines := strings.Split(text.Wrap(s, max(width, 10)), "\n")
	for i := 1; i < len(lines); i++ {
		lines[i] = strings.Repeat(" ", indent) + lines[i]
	}
	return strings.Join(lines, "\n")
}
