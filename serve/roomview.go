package serve

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"charm.land/ssh"
	"charm.land/wish/v2/bubbletea"

	"cse-workshop/assets"
	"cse-workshop/steps"
)

// The facilitator's room view: a live table of the attendees, and a poll
// of the room's answers to each quiz question and prediction, the right
// answer revealed on a key press. From it the facilitator sets step 5's
// wait, sends a line to everyone, resets an attendee, and ends the
// workshop for everyone.

// roomRefresh is how often the room view reads the room again.
const roomRefresh = time.Second

// roomTickMsg asks the room view to read the room again.
type roomTickMsg struct{}

// roomTickCmd reads the room again a moment later.
func roomTickCmd() tea.Cmd {
	return tea.Tick(roomRefresh, func(time.Time) tea.Msg { return roomTickMsg{} })
}

// prompt is what the room view is asking the facilitator, if anything.
type prompt int

const (
	promptNone prompt = iota
	promptWait
	promptMessage
	promptReset
	promptEnd
)

// poll is one question put to the room: a quiz question or a prediction.
type poll struct {
	title   string // "Quiz 1 of 4", "Step 5 prediction"
	prompt  string
	choices []string
	answer  int
	// pick is an attendee's answer, -1 when none.
	pick func(AttendeeStatus) int
}

// polls are the quiz's questions, then the predictions, in step order.
func polls() []poll {
	var ps []poll
	quiz := assets.Quiz()
	for i, q := range quiz {
		ps = append(ps, poll{
			title: fmt.Sprintf("Quiz %d of %d", i+1, len(quiz)), prompt: q.Prompt, choices: q.Choices, answer: q.Answer,
			pick: func(a AttendeeStatus) int { return a.QuizPicks[i] },
		})
	}
	for _, p := range assets.Predictions() {
		ps = append(ps, poll{
			title: fmt.Sprintf("Step %d prediction", p.Step), prompt: p.Prompt, choices: p.Choices, answer: p.Answer,
			pick: func(a AttendeeStatus) int {
				if c, ok := a.Predictions[p.ID]; ok {
					return c
				}
				return -1
			},
		})
	}
	return ps
}

// roomView is the facilitator's view of a room.
type roomView struct {
	room *Room
	// local: the view runs at the server's terminal, and leaving it
	// ends the workshop.
	local bool

	width, height int
	attendees     []AttendeeStatus
	selected      int // index in attendees
	polls         []poll
	poll          int
	revealed      map[int]bool
	prompt        prompt
	input         string
	notice        string
}

func newRoomView(room *Room, local bool) *roomView {
	v := &roomView{room: room, local: local, width: 100, height: 30, polls: polls(), revealed: map[int]bool{}}
	v.attendees = room.Attendees()
	return v
}

func (v *roomView) Init() tea.Cmd { return roomTickCmd() }

func (v *roomView) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		v.width, v.height = msg.Width, msg.Height
	case roomTickMsg:
		v.refresh()
		select {
		case <-v.room.Ended():
			if !v.local {
				return v, tea.Quit
			}
		default:
		}
		return v, roomTickCmd()
	case tea.KeyPressMsg:
		cmd := v.key(msg)
		v.refresh()
		return v, cmd
	}
	return v, nil
}

func (v *roomView) refresh() {
	v.attendees = v.room.Attendees()
	v.selected = min(v.selected, max(len(v.attendees)-1, 0))
}

// key handles a key: the prompt's, when one is open, else the view's.
func (v *roomView) key(msg tea.KeyPressMsg) tea.Cmd {
	if v.prompt != promptNone {
		return v.promptKey(msg)
	}
	v.notice = ""
	switch msg.String() {
	case "q", "ctrl+c":
		if v.local {
			v.prompt = promptEnd
			return nil
		}
		return tea.Quit
	case "up", "k":
		v.selected = max(v.selected-1, 0)
	case "down", "j":
		v.selected = min(v.selected+1, max(len(v.attendees)-1, 0))
	case "right", "l", "tab":
		v.poll = (v.poll + 1) % len(v.polls)
	case "left", "h", "shift+tab":
		v.poll = (v.poll + len(v.polls) - 1) % len(v.polls)
	case "r":
		v.revealed[v.poll] = !v.revealed[v.poll]
	case "w":
		v.prompt, v.input = promptWait, ""
	case "m":
		v.prompt, v.input = promptMessage, ""
	case "x":
		if len(v.attendees) > 0 {
			v.prompt = promptReset
		}
	case "E":
		v.prompt = promptEnd
	}
	return nil
}

// promptKey handles a key while a prompt is open: text for the wait and
// the message, y or n for the questions.
func (v *roomView) promptKey(msg tea.KeyPressMsg) tea.Cmd {
	switch v.prompt {
	case promptReset, promptEnd:
		p := v.prompt
		v.prompt = promptNone
		if msg.String() != "y" {
			return nil
		}
		if p == promptEnd {
			v.room.End("")
			return tea.Quit
		}
		a := v.attendees[v.selected]
		if err := v.room.Reset(a.ID); err != nil {
			v.notice = err.Error()
		} else {
			v.notice = a.Name + " starts over at their next connection."
		}
		return nil
	}
	switch msg.String() {
	case "esc", "ctrl+c":
		v.prompt = promptNone
	case "enter":
		v.submit()
	case "backspace":
		if r := []rune(v.input); len(r) > 0 {
			v.input = string(r[:len(r)-1])
		}
	default:
		if msg.Text != "" && len(v.input) < 200 {
			v.input += msg.Text
		}
	}
	return nil
}

// submit does what the open text prompt asked.
func (v *roomView) submit() {
	input := strings.TrimSpace(v.input)
	switch v.prompt {
	case promptWait:
		d, err := time.ParseDuration(input)
		if err != nil || d < 0 {
			v.notice = fmt.Sprintf("%q is not a wait: give one like 30s or 2m.", input)
			return
		}
		v.room.SetAuditWait(d)
		v.notice = fmt.Sprintf("Step 5 now waits %s, from each attendee's next run of it.", d)
	case promptMessage:
		if input != "" {
			v.room.Broadcast(input)
			v.notice = "Sent to everyone connected."
		}
	}
	v.prompt, v.input = promptNone, ""
}

var (
	roomTitle  = lipgloss.NewStyle().Bold(true)
	roomHead   = lipgloss.NewStyle().Bold(true).Underline(true)
	roomPicked = lipgloss.NewStyle().Reverse(true)
	roomFaint  = lipgloss.NewStyle().Faint(true)
	roomRight  = lipgloss.NewStyle().Bold(true)
)

func (v *roomView) View() tea.View {
	view := tea.NewView(v.render())
	view.AltScreen = true
	view.WindowTitle = "cse-workshop room"
	return view
}

// render draws the room view as text of the window's size.
func (v *roomView) render() string {
	var b strings.Builder
	connected := 0
	for _, a := range v.attendees {
		if a.Connected {
			connected++
		}
	}
	wait := "default"
	if d := v.room.AuditWait(); d != nil {
		wait = d.String()
	}
	b.WriteString(roomTitle.Render("cse-workshop · the room"))
	fmt.Fprintf(&b, "   %d connected, %d attendees · step 5 waits: %s", connected, len(v.attendees), wait)
	select {
	case <-v.room.Ended():
		b.WriteString(" · ENDED")
	default:
	}
	b.WriteString("\n\n")
	b.WriteString(v.table())
	b.WriteString("\n")
	b.WriteString(v.pollView())
	body := b.String()

	var foot strings.Builder
	switch v.prompt {
	case promptWait:
		foot.WriteString("Step 5's wait for everyone (like 30s, 2m; 0 looks at once): " + v.input + "█")
	case promptMessage:
		foot.WriteString("Message to everyone: " + v.input + "█")
	case promptReset:
		fmt.Fprintf(&foot, "Start %s's workshop over (their folder and demo account are emptied)? y/n", v.attendees[v.selected].Name)
	case promptEnd:
		foot.WriteString("End the workshop for everyone (each sees a goodbye; progress is kept)? y/n")
	default:
		if v.notice != "" {
			foot.WriteString(v.notice + "\n")
		}
		quit := "q leave"
		if v.local {
			quit = "q end & stop"
		}
		foot.WriteString(roomFaint.Render("↑/↓ attendee · ←/→ poll · r reveal answer · w step 5 wait · m message all · x reset attendee · E end for everyone · " + quit))
	}
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	footLines := strings.Split(foot.String(), "\n")
	room := max(v.height-len(footLines)-1, 1)
	if len(lines) > room {
		lines = lines[:room]
	}
	for len(lines) < room {
		lines = append(lines, "")
	}
	return lipgloss.NewStyle().MaxWidth(max(v.width, 20)).Render(strings.Join(append(append(lines, ""), footLines...), "\n"))
}

// table is the attendees' table.
func (v *roomView) table() string {
	if len(v.attendees) == 0 {
		return roomFaint.Render("Nobody has connected yet.") + "\n"
	}
	row := func(name, step, state, on, done, tried, quiz string) string {
		return fmt.Sprintf("%-18s %-24s %-10s %8s %5s %12s %6s", name, step, state, on, done, tried, quiz)
	}
	var b strings.Builder
	b.WriteString(roomHead.Render(row("NAME", "WHERE", "STATE", "FOR", "DONE", "EXPERIMENTS", "QUIZ")) + "\n")
	for i, a := range v.attendees {
		name := truncate(a.Name, 16)
		if !a.Connected {
			name = truncate(a.Name, 10) + " (away)"
		}
		where := a.Screen
		switch {
		case a.Step != 0:
			where = fmt.Sprintf("%d %s", a.Step, stepTitle(a.Step))
		case where == "":
			where = "connecting"
		}
		quiz := "-"
		if a.QuizAnswered > 0 {
			quiz = fmt.Sprintf("%d/%d", a.QuizRight, a.QuizAnswered)
		}
		state := a.StepState
		if state == "" {
			state = "-"
		}
		line := row(name, truncate(where, 24), state, a.OnStep.String(), fmt.Sprintf("%d/6", a.StepsDone), fmt.Sprint(a.Experiments), quiz)
		if i == v.selected {
			line = roomPicked.Render(line)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// pollView is the room's answers to the poll shown, as a bar chart.
func (v *roomView) pollView() string {
	p := v.polls[v.poll]
	counts := make([]int, len(p.choices))
	answered := 0
	for _, a := range v.attendees {
		if c := p.pick(a); c >= 0 && c < len(counts) {
			counts[c]++
			answered++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", roomTitle.Render(fmt.Sprintf("%s (%d/%d)", p.title, v.poll+1, len(v.polls))), roomFaint.Render(fmt.Sprintf("%d answered", answered)))
	b.WriteString(p.prompt + "\n")
	labelW := min(max(v.width/2, 20), 60)
	barW := max(v.width-labelW-14, 5)
	most := 1
	for _, c := range counts {
		most = max(most, c)
	}
	for i, choice := range p.choices {
		mark := "  "
		label := truncate(fmt.Sprintf("%c) %s", 'A'+i, choice), labelW)
		if v.revealed[v.poll] && i == p.answer {
			mark = "✓ "
			label = roomRight.Render(fmt.Sprintf("%-*s", labelW, label))
		} else {
			label = fmt.Sprintf("%-*s", labelW, label)
		}
		bar := strings.Repeat("█", counts[i]*barW/most)
		fmt.Fprintf(&b, "%s%s %s %d\n", mark, label, bar, counts[i])
	}
	if !v.revealed[v.poll] {
		b.WriteString(roomFaint.Render("(r reveals the right answer)") + "\n")
	}
	return b.String()
}

func stepTitle(n int) string {
	if s, ok := steps.Get(n); ok {
		return s.Title
	}
	return ""
}

// truncate cuts s to n cells, with an ellipsis.
func truncate(s string, n int) string {
	if lipgloss.Width(s) <= n {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r))+1 > n {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// serveRoomView shows the facilitator the room over their SSH session.
func (s *Server) serveRoomView(sess ssh.Session) {
	s.log.Printf("facilitator %s connected", sess.User())
	ctx, cancel := context.WithCancel(sess.Context())
	defer cancel()
	_, winch, _ := sess.Pty()
	opts := append(bubbletea.MakeOptions(sess), tea.WithContext(ctx), tea.WithoutSignalHandler())
	p := tea.NewProgram(newRoomView(s.room, false), opts...)
	go forwardWindowSizes(ctx, p, winch)
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		s.log.Printf("the room view ended: %v", err)
	}
	_ = sess.Exit(0)
}

// RunRoomView shows the room at this terminal until the facilitator ends
// the workshop (q, then y), or ctx is done.
func (s *Server) RunRoomView(ctx context.Context, in io.Reader, out io.Writer) error {
	p := tea.NewProgram(newRoomView(s.room, true), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	_, err := p.Run()
	return err
}
