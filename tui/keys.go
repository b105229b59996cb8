package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key of the tutorial, with its help text. The help bar,
// the full help and the welcome screen's key list all read it, so a key is
// named in this one place.
type keyMap struct {
	Enter      key.Binding
	Next       key.Binding
	Prev       key.Binding
	Jump       key.Binding // 1-6: go to a step
	Answer     key.Binding // 1-4 on the quiz
	Retry      key.Binding
	Check      key.Binding // step 5: look for the record now
	StartOver  key.Binding
	API        key.Binding
	ScrollUp   key.Binding
	ScrollDown key.Binding
	LogUp      key.Binding
	LogDown    key.Binding
	Help       key.Binding
	Quit       key.Binding
	Interrupt  key.Binding
	Yes        key.Binding
	No         key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Enter:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run / continue")),
		Next:       key.NewBinding(key.WithKeys("n", "right"), key.WithHelp("→/n", "next")),
		Prev:       key.NewBinding(key.WithKeys("p", "left"), key.WithHelp("←/p", "back")),
		Jump:       key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6"), key.WithHelp("1-6", "go to step")),
		Answer:     key.NewBinding(key.WithKeys("1", "2", "3", "4"), key.WithHelp("1-4", "answer")),
		Retry:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Check:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "check now")),
		StartOver:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start over")),
		API:        key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "API calls")),
		ScrollUp:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll text up")),
		ScrollDown: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll text down")),
		LogUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "log: older")),
		LogDown:    key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "log: newer")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "cancel step / quit")),
		Yes:        key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y", "yes")),
		No:         key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
	}
}

// helpKeys is the key map as the help bar shows it on one screen: the
// keys that do nothing there are disabled, and so hidden.
type helpKeys struct {
	k keyMap
}

// ShortHelp is the one-line help bar.
func (h helpKeys) ShortHelp() []key.Binding {
	k := h.k
	return []key.Binding{k.Yes, k.No, k.Enter, k.Answer, k.Retry, k.Check, k.StartOver, k.Next, k.Prev, k.API, k.Help, k.Quit}
}

// FullHelp is the help shown by ?, in columns.
func (h helpKeys) FullHelp() [][]key.Binding {
	k := h.k
	return [][]key.Binding{
		{k.Enter, k.Next, k.Prev, k.Jump, k.Answer, k.StartOver},
		{k.Retry, k.Check, k.API, k.Help},
		{k.ScrollUp, k.ScrollDown, k.LogUp, k.LogDown},
		{k.Quit, k.Interrupt, k.Yes, k.No},
	}
}
