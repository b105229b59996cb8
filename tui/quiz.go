package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/assets"
	"cse-workshop/internal/text"
)

// quizScreen is the quiz: one question at a time, each answer followed by
// the explanation.
type quizScreen struct {
	c             *common
	width, height int
	current       int   // index of the question shown
	answers       []int // chosen index per question, -1 before an answer
	doc           docPane
}

func newQuizScreen(c *common) *quizScreen {
	q := &quizScreen{c: c, answers: make([]int, len(c.content.quiz)), doc: newDocPane()}
	for i := range q.answers {
		q.answers[i] = -1
	}
	return q
}

// question is the question shown, or nil when there is no quiz.
func (q *quizScreen) question() *assets.Question {
	if q.current >= len(q.c.content.quiz) {
		return nil
	}
	return &q.c.content.quiz[q.current]
}

func (q *quizScreen) answered() bool { return q.question() != nil && q.answers[q.current] >= 0 }

// score counts the right answers and the questions answered.
func (q *quizScreen) score() (right, answered int) {
	for i, a := range q.answers {
		if a < 0 {
			continue
		}
		answered++
		if a == q.c.content.quiz[i].Answer {
			right++
		}
	}
	return right, answered
}

// Update handles the keys of the quiz: a number answers, Enter goes on.
func (q *quizScreen) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		q.updateKey(msg)
	case tea.MouseWheelMsg:
		q.pane().wheel(msg)
	}
	return nil
}

func (q *quizScreen) updateKey(msg tea.KeyPressMsg) {
	k := &q.c.keys
	question := q.question()
	switch {
	case question != nil && key.Matches(msg, k.Answer):
		choice := number(k.Answer, msg.String()) - 1
		if !q.answered() && choice < len(question.Choices) {
			q.answers[q.current] = choice
			q.doc.vp.GotoTop()
		}
	case question != nil && key.Matches(msg, k.Enter):
		q.next()
	case q.pane().scrollKey(msg, k):
	default:
		navKey(q.c, msg, true, true, false)
	}
}

// next goes to the next question once this one is answered, and after
// the last to the next screen (the summary).
func (q *quizScreen) next() {
	k := &q.c.keys
	if !q.answered() {
		q.c.send(noticeMsg{text: fmt.Sprintf("Press a number from %s to %s to answer.",
			nth(k.Answer, 1), nth(k.Answer, len(q.question().Choices)))})
		return
	}
	q.doc.vp.GotoTop()
	if q.current == len(q.answers)-1 {
		q.c.send(moveMsg{+1})
		return
	}
	q.current++
}

// pane is the question, sized and rendered for the window.
func (q *quizScreen) pane() *docPane {
	t := &q.c.theme
	w := min(q.width, maxReadingWidth)
	q.doc.set(fmt.Sprintf("quiz|%s|%d|%d|%v", t.name, w, q.current, q.answers), w, q.height, q.text)
	return &q.doc
}

func (q *quizScreen) View() string { return q.pane().view(&q.c.theme, &q.c.keys) }

// label is the label of choice i, the key that picks it: "2) ".
func (q *quizScreen) label(i int) string { return nth(q.c.keys.Answer, i+1) + ") " }

// text draws the current question, and once answered, why.
func (q *quizScreen) text(width int) string {
	t := &q.c.theme
	question := q.question()
	if question == nil {
		return t.text.Render("There is no quiz.")
	}
	right, answered := q.score()
	var b strings.Builder
	b.WriteString(t.heading.Render(fmt.Sprintf("Question %d of %d", q.current+1, len(q.answers))))
	b.WriteString(t.subtle.Render(fmt.Sprintf("   score so far: %d of %d", right, answered)) + "\n\n")
	b.WriteString(t.bold.Render(text.Wrap(question.Prompt, width)) + "\n\n")
	chosen := q.answers[q.current]
	for i, c := range question.Choices {
		label := q.label(i)
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
	b.WriteString("\n" + q.explanation(question, chosen, width))
	return b.String()
}

// explanation is the verdict on an answer, why, and why not the others.
func (q *quizScreen) explanation(question *assets.Question, chosen, width int) string {
	t := &q.c.theme
	var b strings.Builder
	if chosen == question.Answer {
		b.WriteString(t.right.Render("Right.") + "\n")
	} else {
		b.WriteString(t.wrong.Render(fmt.Sprintf("Not quite: the answer is %s.", strings.TrimSuffix(q.label(question.Answer), ") "))) + "\n")
	}
	b.WriteString(t.text.Render(text.Wrap(question.Explanation, width)) + "\n")
	var whyNot []string
	for i, why := range question.WhyNot {
		if i == question.Answer || why == "" {
			continue
		}
		whyNot = append(whyNot, t.bold.Render(q.label(i))+t.text.Render(wrapIndent(why, width-3, 3)))
	}
	if len(whyNot) > 0 {
		b.WriteString("\n" + t.bold.Render("Why not the others:") + "\n" + strings.Join(whyNot, "\n") + "\n")
	}
	if src := sourcesView(t, question.Sources, width); src != "" {
		b.WriteString("\n" + src + "\n")
	}
	next := " for the next question."
	if q.current == len(q.answers)-1 {
		next = " for your score."
	}
	b.WriteString("\n" + t.press(q.c.keys.Enter, next))
	return b.String()
}

func (q *quizScreen) SetSize(width, height int) { q.width, q.height = width, height }
func (q *quizScreen) Title() string             { return "Quiz" }
func (q *quizScreen) Tab() (string, bool)       { return "quiz", false }

// enter is the Enter key, on once the question is answered.
func (q *quizScreen) enter() key.Binding {
	if q.current == len(q.answers)-1 {
		return enabled(describe(q.c.keys.Enter, "see your score"), q.answered())
	}
	return enabled(describe(q.c.keys.Enter, "next question"), q.answered())
}

func (q *quizScreen) ShortHelp() []key.Binding {
	k := &q.c.keys
	return []key.Binding{q.enter(), enabled(k.Answer, q.question() != nil && !q.answered()), k.Next, k.Prev}
}

func (q *quizScreen) FullHelp() [][]key.Binding {
	k := &q.c.keys
	return [][]key.Binding{
		{q.enter(), enabled(k.Answer, q.question() != nil && !q.answered()), k.Next, k.Prev},
		scrollKeys(k),
	}
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
