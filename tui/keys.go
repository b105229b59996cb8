package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
)

// keyMap is every key of the tutorial, with its help text. The help bar,
// the full help, the welcome screen's key list and every "Press …" of the
// screens read it, so a key is named in this one place.
type keyMap struct {
	Enter      key.Binding
	Next       key.Binding
	Prev       key.Binding
	Jump       key.Binding // a step's number: go to that step
	Answer     key.Binding // a choice's number on the quiz
	Predict    key.Binding // a choice's number, while a step asks its prediction
	Skip       key.Binding // leave a prediction unanswered, or close its explanation
	Retry      key.Binding
	Check      key.Binding // a step waiting for the audit trail: look now
	Try        key.Binding // a step's experiments ("try it")
	StartOver  key.Binding
	API        key.Binding
	Endpoint   key.Binding // the lines that point the learner's own AWS CLI at the demo
	Code       key.Binding // a step: the Go code it runs and its AWS CLI commands
	Close      key.Binding // what a key opened over a screen
	ScrollUp   key.Binding
	ScrollDown key.Binding
	LogUp      key.Binding
	LogDown    key.Binding
	Help       key.Binding
	Quit       key.Binding
	Interrupt  key.Binding
	Yes        key.Binding
	No         key.Binding
	Line       lineKeys // editing a one-line input
}

// lineKeys edit a one-line input, as in a shell. None reads a clipboard:
// the learner's terminal pastes as a bracketed paste.
type lineKeys struct {
	Left, Right               key.Binding
	WordLeft, WordRight       key.Binding
	Home, End                 key.Binding
	DeleteLeft, DeleteRight   key.Binding
	DeleteWordLeft            key.Binding
	DeleteWordRight           key.Binding
	DeleteToHome, DeleteToEnd key.Binding
}

func newLineKeys() lineKeys {
	b := func(help string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], help))
	}
	return lineKeys{
		Left:            b("character left", "left", "ctrl+b"),
		Right:           b("character right", "right", "ctrl+f"),
		WordLeft:        b("word left", "ctrl+left", "alt+left", "alt+b"),
		WordRight:       b("word right", "ctrl+right", "alt+right", "alt+f"),
		Home:            b("start of line", "home", "ctrl+a"),
		End:             b("end of line", "end", "ctrl+e"),
		DeleteLeft:      b("delete character left", "backspace", "ctrl+h"),
		DeleteRight:     b("delete character right", "delete", "ctrl+d"),
		DeleteWordLeft:  b("delete word left", "ctrl+w", "alt+backspace", "ctrl+backspace"),
		DeleteWordRight: b("delete word right", "alt+d", "alt+delete", "ctrl+delete"),
		DeleteToHome:    b("delete to start of line", "ctrl+u"),
		DeleteToEnd:     b("delete to end of line", "ctrl+k"),
	}
}

// newKeyMap builds the keys for a tutorial of stepCount steps whose quiz
// questions have at most choices choices. With ascii, the help names the
// keys in ASCII only, so that it reads the same in any terminal or log.
func newKeyMap(stepCount, choices int, ascii bool) keyMap {
	k := keyMap{
		Enter:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run / continue")),
		Next:       key.NewBinding(key.WithKeys("n", "right"), key.WithHelp("→/n", "next")),
		Prev:       key.NewBinding(key.WithKeys("p", "left"), key.WithHelp("←/p", "back")),
		Jump:       numberKeys(stepCount, "go to step"),
		Answer:     numberKeys(choices, "answer"),
		Predict:    numberKeys(choices, "predict"),
		Skip:       key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "skip")),
		Retry:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		Check:      key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "check now")),
		Try:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "try it")),
		StartOver:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "start over")),
		API:        key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "API calls")),
		Endpoint:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "your AWS CLI")),
		Code:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "code & CLI")),
		Close:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
		ScrollUp:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll text up")),
		ScrollDown: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll text down")),
		LogUp:      key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "log: older")),
		LogDown:    key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "log: newer")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Quit:       key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt:  key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "cancel step / quit")),
		Yes:        key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "yes")),
		No:         key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		Line:       newLineKeys(),
	}
	if ascii {
		k.Next.SetHelp("n", "next")
		k.Prev.SetHelp("p", "back")
		k.ScrollUp.SetHelp("k/up", "scroll text up")
		k.ScrollDown.SetHelp("j/down", "scroll text down")
	}
	return k
}

// numberKeys is the binding of the keys 1 to n, named "1-n".
func numberKeys(n int, what string) key.Binding {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = strconv.Itoa(i + 1)
	}
	name := strings.Join(keys, "")
	if n > 1 {
		name = fmt.Sprintf("1-%d", n)
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(name, what))
}

// number is the position (1, 2, …) of the key of a number binding that
// msg pressed, or 0.
func number(b key.Binding, pressed string) int {
	for i, k := range b.Keys() {
		if k == pressed {
			return i + 1
		}
	}
	return 0
}

// nth is the name of the key that picks the n-th of a number binding: the
// key that goes to step n, or that answers choice n.
func nth(b key.Binding, n int) string {
	keys := b.Keys()
	if n < 1 || n > len(keys) {
		return "?"
	}
	return keys[n-1]
}

// describe is b with what it does here; its key's name stays the keymap's.
func describe(b key.Binding, what string) key.Binding {
	b.SetHelp(b.Help().Key, what)
	return b
}

// enabled is bs with the bindings whose condition is false disabled, so
// that the help leaves them out.
func enabled(b key.Binding, on bool) key.Binding {
	b.SetEnabled(on)
	return b
}
