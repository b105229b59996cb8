package tui

import (
	"math/rand/v2"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// testInput is a field of width cells, in no colour but for its cursor,
// in reverse video.
func testInput(width int) *lineInput {
	s := lipgloss.NewStyle
	in := newLineInput(newLineKeys(), lineStyles{prompt: s(), text: s(), placeholder: s(), cursor: s().Reverse(true)})
	in.prompt = "> "
	in.charLimit = 256
	in.SetWidth(width)
	return &in
}

// seen is a field as the learner sees it, with the cursor's cell in
// brackets and the padding cut.
func seen(in *lineInput) string {
	v := strings.NewReplacer("\x1b[7m", "[", "\x1b[m", "]").Replace(in.View())
	return strings.TrimRight(ansi.Strip(v), " ")
}

// keyPress is the message of a key named as bubbletea names it ("a",
// "ctrl+w", "alt+b", "home").
func keyPress(name string) tea.KeyPressMsg {
	var k tea.Key
	parts := strings.Split(name, "+")
	for _, mod := range parts[:len(parts)-1] {
		switch mod {
		case "ctrl":
			k.Mod |= tea.ModCtrl
		case "alt":
			k.Mod |= tea.ModAlt
		}
	}
	special := map[string]rune{
		"left": tea.KeyLeft, "right": tea.KeyRight, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace, "delete": tea.KeyDelete, "enter": tea.KeyEnter, "tab": tea.KeyTab,
	}
	last := parts[len(parts)-1]
	if code, ok := special[last]; ok {
		k.Code = code
	} else {
		k.Code = []rune(last)[0]
		if k.Mod == 0 {
			k.Text = last
		}
	}
	if got := k.String(); got != name {
		panic("keyPress(" + name + ") is " + got)
	}
	return tea.KeyPressMsg(k)
}

// keys presses each named key in turn.
func keys(in *lineInput, names ...string) {
	for _, n := range names {
		in.Update(keyPress(n))
	}
}

// typeInto types s, one key per character.
func typeInto(in *lineInput, s string) {
	for _, r := range s {
		in.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func TestLineInputTypesAtTheCursor(t *testing.T) {
	in := testInput(20)
	if got, want := seen(in), "> [ ]"; got != want {
		t.Errorf("empty field shows %q, want %q", got, want)
	}
	typeInto(in, "whatfor=x")
	keys(in, "left")
	typeInto(in, "y")
	if got, want := in.Value(), "whatfor=yx"; got != want {
		t.Errorf("typed y before the last x: value %q, want %q", got, want)
	}
	if got, want := seen(in), "> whatfor=y[x]"; got != want {
		t.Errorf("field shows %q, want %q", got, want)
	}
}

func TestLineInputMovesTheCursor(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{nil, "> one two  three[ ]"},
		{[]string{"left"}, "> one two  thre[e]"},
		{[]string{"ctrl+b", "ctrl+b", "ctrl+f"}, "> one two  thre[e]"},
		{[]string{"right"}, "> one two  three[ ]"},
		{[]string{"home"}, "> [o]ne two  three"},
		{[]string{"ctrl+a", "right", "end"}, "> one two  three[ ]"},
		{[]string{"ctrl+a", "ctrl+e"}, "> one two  three[ ]"},
		{[]string{"home", "left"}, "> [o]ne two  three"},
		{[]string{"ctrl+left"}, "> one two  [t]hree"},
		{[]string{"ctrl+left", "alt+left"}, "> one [t]wo  three"},
		{[]string{"alt+b", "alt+b", "alt+b", "alt+b"}, "> [o]ne two  three"},
		{[]string{"home", "ctrl+right"}, "> one[ ]two  three"},
		{[]string{"home", "alt+f", "alt+right"}, "> one two[ ] three"},
		{[]string{"home", "alt+f", "alt+f", "alt+f", "alt+f"}, "> one two  three[ ]"},
	}
	for _, tt := range tests {
		in := testInput(30)
		in.SetValue("one two  three")
		keys(in, tt.keys...)
		if got := seen(in); got != tt.want {
			t.Errorf("after %v, field shows %q, want %q", tt.keys, got, tt.want)
		}
		if in.Value() != "one two  three" {
			t.Errorf("after %v, value %q: a move changed it", tt.keys, in.Value())
		}
	}
}

func TestLineInputEditingKeys(t *testing.T) {
	tests := []struct {
		keys []string
		want string // the field, cursor in brackets
	}{
		{[]string{"backspace"}, "> key=one two[ ]"},
		{[]string{"ctrl+h", "ctrl+h"}, "> key=one tw[ ]"},
		{[]string{"home", "backspace"}, "> [k]ey=one two3"},
		{[]string{"home", "delete"}, "> [e]y=one two3"},
		{[]string{"home", "ctrl+d", "ctrl+d"}, "> [y]=one two3"},
		{[]string{"delete"}, "> key=one two3[ ]"},
		{[]string{"left", "left", "ctrl+u"}, "> [o]3"},
		{[]string{"left", "left", "ctrl+k"}, "> key=one tw[ ]"},
		{[]string{"home", "ctrl+k"}, "> [ ]"},
		{[]string{"ctrl+w"}, "> key=one [ ]"},
		{[]string{"ctrl+w", "ctrl+w"}, "> [ ]"},
		{[]string{"alt+backspace"}, "> key=one [ ]"},
		{[]string{"ctrl+left", "ctrl+w"}, "> [t]wo3"},
		{[]string{"home", "alt+d"}, "> [ ]two3"},
		{[]string{"home", "alt+d", "alt+d"}, "> [ ]"},
		{[]string{"home", "ctrl+w"}, "> [k]ey=one two3"},
	}
	for _, tt := range tests {
		in := testInput(30)
		in.SetValue("key=one two3")
		keys(in, tt.keys...)
		if got := seen(in); got != tt.want {
			t.Errorf("after %v, field shows %q, want %q", tt.keys, got, tt.want)
		}
	}
}

// A paste goes in at the cursor as one line: what bubbles' textinput
// made of it, so that a learner's paste reads as it did.
func TestLineInputPaste(t *testing.T) {
	tests := []struct{ paste, want string }{
		{"plain", "<plain>"},
		{"two\nlines", "<two lines>"},
		{"crlf\r\n", "<crlf  >"},
		{"a\tb", "<a b>"},
		{"\x1b[31mred\x1b[0m", "<[31mred[0m>"},
		{"bell\a, nul\x00, del\x7f, c1\u0085", "<bell, nul, del, c1>"},
		{"bad\xffutf-8", "<badutf-8>"},
		{"漢字 🔑", "<漢字 🔑>"},
	}
	for _, tt := range tests {
		in := testInput(40)
		in.SetValue("<>")
		keys(in, "left")
		in.Update(tea.PasteMsg{Content: tt.paste})
		if got := in.Value(); got != tt.want {
			t.Errorf("paste %q between < and >: value %q, want %q", tt.paste, got, tt.want)
		}
		if !strings.HasSuffix(seen(in), "[>]") {
			t.Errorf("paste %q: field %q, want the cursor after the paste, on >", tt.paste, seen(in))
		}
	}
}

func TestLineInputKeepsItsLimit(t *testing.T) {
	in := testInput(20)
	in.SetValue(strings.Repeat("a", 300))
	if n := len(in.Value()); n != 256 {
		t.Errorf("set 300 characters: value has %d, want the limit, 256", n)
	}
	in.SetValue(strings.Repeat("a", 250))
	keys(in, "home")
	in.Update(tea.PasteMsg{Content: "0123456789"})
	if got, want := in.Value(), "012345"+strings.Repeat("a", 250); got != want {
		t.Errorf("pasted 10 characters with room for 6: value %q…, want %q…", got[:12], want[:12])
	}
	typeInto(in, "x")
	if strings.Contains(in.Value(), "x") {
		t.Errorf("typed at the limit: the x went in")
	}
	// The limit counts characters, not bytes or cells.
	in.SetValue(strings.Repeat("字", 300))
	if n := len([]rune(in.Value())); n != 256 {
		t.Errorf("set 300 wide characters: value has %d, want 256", n)
	}
	keys(in, "backspace")
	in.Update(tea.PasteMsg{Content: "🔑🔑"})
	if got := in.Value(); !strings.HasSuffix(got, "字🔑") || len([]rune(got)) != 256 {
		t.Errorf("pasted two keys with room for one: value ends %q, want one key at the end", string([]rune(got)[250:]))
	}
}

// Typing ctrl+v puts nothing in: the field never reads a clipboard, which
// under serve would be the machine's, not the learner's.
func TestLineInputCtrlVTypesNothing(t *testing.T) {
	in := testInput(20)
	in.SetValue("abc")
	keys(in, "ctrl+v", "alt+v")
	if got := in.Value(); got != "abc" {
		t.Errorf("after ctrl+v, value %q, want abc unchanged", got)
	}
}

// Wide characters take two cells: the cursor covers one whole, and the
// field keeps its width.
func TestLineInputWideCharacters(t *testing.T) {
	in := testInput(20)
	typeInto(in, "鍵=🔑ab")
	keys(in, "home", "right")
	if got, want := seen(in), "> 鍵[=]🔑ab"; got != want {
		t.Errorf("field shows %q, want %q", got, want)
	}
	keys(in, "right")
	if got, want := seen(in), "> 鍵=[🔑]ab"; got != want {
		t.Errorf("field shows %q, want %q", got, want)
	}
	keys(in, "backspace", "home", "delete")
	if got, want := in.Value(), "🔑ab"; got != want {
		t.Errorf("deleted one character on each side: value %q, want %q", got, want)
	}
	if w := ansi.StringWidth(in.View()); w != 2+20+1 {
		t.Errorf("field is %d cells wide, want prompt 2 + width 20 + cursor 1", w)
	}
}

// A value wider than the field scrolls: wherever the cursor goes, it is
// in view, the characters shown are the value's around it, and the field
// keeps its width.
func TestLineInputScrollsToTheCursor(t *testing.T) {
	const width = 10
	in := testInput(width)
	typeInto(in, "abcdefghijklmnopqrstuvwxyz")
	if got, want := seen(in), "> qrstuvwxyz[ ]"; got != want {
		t.Errorf("typed the alphabet in 10 cells: field %q, want %q", got, want)
	}
	// Deleting at the end brings back what is hidden on the left.
	keys(in, "backspace", "backspace")
	if got, want := seen(in), "> opqrstuvwx[ ]"; got != want {
		t.Errorf("deleted y and z: field %q, want %q", got, want)
	}
	keys(in, "home")
	if got, want := seen(in), "> [a]bcdefghijk"; got != want {
		t.Errorf("home: field %q, want %q", got, want)
	}
	keys(in, "ctrl+k")
	if got, want := seen(in), "> [ ]"; got != want {
		t.Errorf("deleted it all: field %q, want %q", got, want)
	}

	// Random walks over a value with wide characters.
	rng := rand.New(rand.NewPCG(1, 2))
	moves := []string{"left", "right", "home", "end", "ctrl+left", "ctrl+right", "backspace", "delete", "ctrl+w", "type", "type", "type", "type"}
	alphabet := []rune("ab 字🔑=é")
	for walk := range 200 {
		in := testInput(width)
		var done []string
		for range 60 {
			m := moves[rng.IntN(len(moves))]
			if m == "type" {
				r := string(alphabet[rng.IntN(len(alphabet))])
				typeInto(in, r)
				m = "type " + r
			} else {
				keys(in, m)
			}
			done = append(done, m)
			checkScrolled(t, in, width, walk, done)
			if t.Failed() {
				return
			}
		}
	}
}

// checkScrolled fails unless the field is width+3 cells (prompt, value,
// cursor), shows the cursor on the right character, and shows the value's
// characters on each side of it.
func checkScrolled(t *testing.T, in *lineInput, width, walk int, done []string) {
	t.Helper()
	view := in.View()
	if w := ansi.StringWidth(view); w != width+3 {
		t.Errorf("walk %d, after %q: field %q is %d cells wide, want %d", walk, done, seen(in), w, width+3)
	}
	plain := strings.TrimPrefix(ansi.Strip(strings.NewReplacer("\x1b[7m", "\x00", "\x1b[m", "\x00").Replace(view)), "> ")
	parts := strings.Split(plain, "\x00")
	if len(parts) != 3 {
		t.Errorf("walk %d, after %q: field %q, want one cursor", walk, done, seen(in))
		return
	}
	value := []rune(in.Value())
	before, under := string(value[:in.cursor]), " "
	if in.cursor < len(value) {
		under = string(value[in.cursor])
	}
	if !strings.HasSuffix(before, parts[0]) || parts[1] != under || !strings.HasPrefix(string(value[in.cursor:])+" ", parts[1]+strings.TrimRight(parts[2], " ")) {
		t.Errorf("walk %d, after %q: value %q, cursor %d, field %q: not the value around the cursor", walk, done, in.Value(), in.cursor, seen(in))
	}
}

func TestLineInputPlaceholder(t *testing.T) {
	in := testInput(10)
	in.placeholder = "0 to 1234567890"
	if got, want := seen(in), "> [0] to 123456"; got != want {
		t.Errorf("empty: field %q, want the placeholder cut to the field, %q", got, want)
	}
	typeInto(in, "5")
	if got, want := seen(in), "> 5[ ]"; got != want {
		t.Errorf("typed 5: field %q, want %q", got, want)
	}
	keys(in, "backspace")
	if w := ansi.StringWidth(in.View()); !strings.HasPrefix(seen(in), "> [0] to") || w != 13 {
		t.Errorf("emptied: field %q, %d cells, want the placeholder back in 13", seen(in), w)
	}
}
