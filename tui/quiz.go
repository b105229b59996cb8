package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"cse-workshop/assets"
	"cse-workshop/internal/text"
	"cse-workshop/steps"
)

// quizScreen is the quiz: one question at a time, its choices in an order
// drawn for this run. A wrong first answer gets the question's hint and
// one retry; then the explanation. The score counts the questions answered
// right at the first try. The answers are kept in the progress, so a
// later session shows them and the score.
type quizScreen struct {
	c             *common
	width, height int
	current       int     // index of the question shown
	order         [][]int // per question, the choice shown at each position
	picks         [][]int // per question, the choices picked: the first answer, then the retry
	doc           docPane
}

func newQuizScreen(c *common) *quizScreen {
	quiz := c.content.quiz
	q := &quizScreen{c: c, order: make([][]int, len(quiz)), picks: make([][]int, len(quiz)), doc: newDocPane()}
	for i, question := range quiz {
		q.order[i] = shuffledOrder(c, len(question.Choices))
		q.picks[i] = savedPicks(question, c.progress.state.Quiz[i+1])
	}
	// Back to the quiz in a later session: the first question left.
	for q.current < len(quiz)-1 && q.done(q.current) {
		q.current++
	}
	if q.done(q.current) {
		q.current = 0
	}
	return q
}

// shuffledOrder is the order of n choices on screen: position i shows
// choice order[i].
func shuffledOrder(c *common, n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if c.shuffle != nil {
		c.shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	return order
}

// savedPicks are the picks of a saved answer, or none when the answer is
// not for this question (the quiz changed) or does not make sense.
func savedPicks(q assets.Question, a steps.QuizAnswer) []int {
	if a.Prompt != q.Prompt || len(a.Picks) == 0 || len(a.Picks) > 2 {
		return nil
	}
	for _, p := range a.Picks {
		if p < 0 || p >= len(q.Choices) {
			return nil
		}
	}
	if len(a.Picks) == 2 && (a.Picks[0] == q.Answer || a.Picks[0] == a.Picks[1]) {
		return nil
	}
	return slices.Clone(a.Picks)
}

// question is the question shown, or nil when there is no quiz.
func (q *quizScreen) question() *assets.Question {
	if q.current >= len(q.c.content.quiz) {
		return nil
	}
	return &q.c.content.quiz[q.current]
}

// done reports whether question i is over: right at the first try, or
// answered again after the hint.
func (q *quizScreen) done(i int) bool {
	if i >= len(q.picks) {
		return false
	}
	p := q.picks[i]
	return len(p) == 2 || len(p) == 1 && p[0] == q.c.content.quiz[i].Answer
}

// retrying reports whether question i waits for its retry, after a wrong
// first answer.
func (q *quizScreen) retrying(i int) bool {
	return i < len(q.picks) && len(q.picks[i]) == 1 && !q.done(i)
}

func (q *quizScreen) answered() bool { return q.question() != nil && q.done(q.current) }

// score counts the questions answered right at the first try, and those
// answered at all (a first answer given).
func (q *quizScreen) score() (right, answered int) {
	for i, p := range q.picks {
		if len(p) == 0 {
			continue
		}
		answered++
		if p[0] == q.c.content.quiz[i].Answer {
			right++
		}
	}
	return right, answered
}

// afterHint counts the questions answered right at the retry, after the
// hint: they do not count in the score.
func (q *quizScreen) afterHint() int {
	n := 0
	for i, p := range q.picks {
		if len(p) == 2 && p[1] == q.c.content.quiz[i].Answer {
			n++
		}
	}
	return n
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
		q.pick(number(k.Answer, msg.String()) - 1)
	case question != nil && key.Matches(msg, k.Enter):
		q.next()
	case q.pane().scrollKey(msg, k):
	default:
		navKey(q.c, msg, true, true, false)
	}
}

// pick answers the current question with the choice shown at position
// pos, unless it is over or that choice was already picked.
func (q *quizScreen) pick(pos int) {
	i := q.current
	if q.done(i) || pos < 0 || pos >= len(q.order[i]) {
		return
	}
	choice := q.order[i][pos]
	if slices.Contains(q.picks[i], choice) {
		return
	}
	q.picks[i] = append(q.picks[i], choice)
	q.doc.vp.GotoTop()
	q.c.send(quizAnswersMsg{answers: q.answers()})
}

// answers are the quiz's answers as the progress keeps them.
func (q *quizScreen) answers() map[int]steps.QuizAnswer {
	a := map[int]steps.QuizAnswer{}
	for i, p := range q.picks {
		if len(p) > 0 {
			a[i+1] = steps.QuizAnswer{Prompt: q.c.content.quiz[i].Prompt, Picks: slices.Clone(p)}
		}
	}
	return a
}

// next goes to the next question once this one is over, and after the
// last to the next screen (the summary).
func (q *quizScreen) next() {
	k := &q.c.keys
	if !q.answered() {
		what := "to answer"
		if q.retrying(q.current) {
			what = "to pick again, after the hint"
		}
		q.c.send(noticeMsg{text: fmt.Sprintf("Press a number from %s to %s %s.",
			nth(k.Answer, 1), nth(k.Answer, len(q.question().Choices)), what)})
		return
	}
	q.doc.vp.GotoTop()
	if q.current == len(q.picks)-1 {
		q.c.send(moveMsg{+1})
		return
	}
	q.current++
}

// pane is the question, sized and rendered for the window.
func (q *quizScreen) pane() *docPane {
	t := &q.c.theme
	w := min(q.width, maxReadingWidth)
	q.doc.set(fmt.Sprintf("quiz|%s|%d|%d|%v", t.name, w, q.current, q.picks), w, q.height, q.text)
	return &q.doc
}

func (q *quizScreen) View() string { return q.pane().view(&q.c.theme, &q.c.keys) }

// label is the label of the choice shown at position pos, the key that
// picks it: "2) ".
func (q *quizScreen) label(pos int) string { return nth(q.c.keys.Answer, pos+1) + ") " }

// text draws the current question; after a wrong first answer, the hint;
// once it is over, why.
func (q *quizScreen) text(width int) string {
	t := &q.c.theme
	question := q.question()
	if question == nil {
		return t.text.Render("There is no quiz.")
	}
	right, answered := q.score()
	var b strings.Builder
	b.WriteString(t.heading.Render(fmt.Sprintf("Question %d of %d", q.current+1, len(q.picks))))
	b.WriteString(t.subtle.Render(fmt.Sprintf("   score so far: %d of %d at the first try", right, answered)) + "\n\n")
	b.WriteString(t.bold.Render(text.Wrap(question.Prompt, width)) + "\n\n")
	picks, over := q.picks[q.current], q.done(q.current)
	for pos, choice := range q.order[q.current] {
		label := q.label(pos)
		c := wrapIndent(question.Choices[choice], width-len(label)-2, len(label)+2)
		switch {
		case over && choice == question.Answer:
			b.WriteString(t.right.Render(t.markSuccess + " " + label + c))
		case slices.Contains(picks, choice):
			b.WriteString(t.wrong.Render(t.markError + " " + label + c))
		case over:
			b.WriteString("  " + t.subtle.Render(label+c))
		default:
			b.WriteString("  " + t.help.ShortKey.Render(label) + t.choice.Render(c))
		}
		b.WriteString("\n")
		if t.gap > 1 {
			b.WriteString("\n")
		}
	}
	switch {
	case q.retrying(q.current):
		b.WriteString("\n" + q.hint(question, width))
	case over:
		b.WriteString("\n" + q.explanation(question, width))
	}
	return b.String()
}

// hint is what a wrong first answer gets: not the answer, a pointer to it.
func (q *quizScreen) hint(question *assets.Question, width int) string {
	t := &q.c.theme
	var b strings.Builder
	b.WriteString(t.wrong.Render("Not this one.") + "\n")
	b.WriteString(t.bold.Render("Hint: ") + t.text.Render(wrapIndent(question.Hint, width-6, 6)) + "\n\n")
	b.WriteString(t.press(q.c.keys.Answer, " to pick again. One more try; the score counts first answers only."))
	return b.String()
}

// explanation is the verdict on the answers, why, and why not the others.
func (q *quizScreen) explanation(question *assets.Question, width int) string {
	t := &q.c.theme
	picks := q.picks[q.current]
	answerPos := slices.Index(q.order[q.current], question.Answer)
	var b strings.Builder
	switch last := picks[len(picks)-1]; {
	case len(picks) == 1:
		b.WriteString(t.right.Render("Right.") + "\n")
	case last == question.Answer:
		b.WriteString(t.right.Render("Right, after the hint.") + t.text.Render(" The score counts first answers only.") + "\n")
	default:
		b.WriteString(t.wrong.Render(fmt.Sprintf("Not quite: the answer is %s.", strings.TrimSuffix(q.label(answerPos), ") "))) + "\n")
	}
	b.WriteString(t.text.Render(text.Wrap(question.Explanation, width)) + "\n")
	var whyNot []string
	for pos, choice := range q.order[q.current] {
		if choice == question.Answer || choice >= len(question.WhyNot) || question.WhyNot[choice] == "" {
			continue
		}
		whyNot = append(whyNot, t.bold.Render(q.label(pos))+t.text.Render(wrapIndent(question.WhyNot[choice], width-3, 3)))
	}
	if len(whyNot) > 0 {
		b.WriteString("\n" + t.bold.Render("Why not the others:") + "\n" + strings.Join(whyNot, "\n") + "\n")
	}
	if src := sourcesView(t, question.Sources, width); src != "" {
		b.WriteString("\n" + src + "\n")
	}
	next := " for the next question."
	if q.current == len(q.picks)-1 {
		next = " for your score."
	}
	b.WriteString("\n" + t.press(q.c.keys.Enter, next))
	return b.String()
}

func (q *quizScreen) SetSize(width, height int) { q.width, q.height = width, height }
func (q *quizScreen) Title() string             { return "Quiz" }
func (q *quizScreen) Tab() (string, bool)       { return "quiz", false }

// enter is the Enter key, on once the question is over.
func (q *quizScreen) enter() key.Binding {
	if q.current == len(q.picks)-1 {
		return enabled(describe(q.c.keys.Enter, "see your score"), q.answered())
	}
	return enabled(describe(q.c.keys.Enter, "next question"), q.answered())
}

// answerKey is the number keys, on while the question waits for an answer.
func (q *quizScreen) answerKey() key.Binding {
	b := q.c.keys.Answer
	if q.retrying(q.current) {
		b = describe(b, "pick again")
	}
	return enabled(b, q.question() != nil && !q.answered())
}

func (q *quizScreen) ShortHelp() []key.Binding {
	k := &q.c.keys
	return []key.Binding{q.enter(), q.answerKey(), k.Next, k.Prev}
}

func (q *quizScreen) FullHelp() [][]key.Binding {
	k := &q.c.keys
	return [][]key.Binding{
		{q.enter(), q.answerKey(), k.Next, k.Prev},
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
