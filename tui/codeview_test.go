package tui

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"cse-workshop/awsclient"
	"cse-workshop/steps"
)

// codeOpen reports whether step n's screen shows its code view.
func codeOpen(m *Model, n int) bool {
	return m.steps[n-1].code != nil && strings.Contains(plainText(m.render()), fmt.Sprintf("The Go code step %d runs", n))
}

// TestCodeKeyOpensAndClosesTheCodeView: on a step screen the code key
// opens the code view and closes it again, as does the close key, and a
// run of the step closes it; the welcome screen keeps its own key.
func TestCodeKeyOpensAndClosesTheCodeView(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("s")...)
	if strings.Contains(plainText(m.render()), "The Go code") {
		t.Fatal("s on the welcome screen opened a code view")
	}

	send(m, press("2", "s")...)
	if !codeOpen(m, 2) {
		t.Fatalf("s on step 2 did not open its code view:\n%s", plainText(m.render()))
	}
	send(m, press("s")...)
	if codeOpen(m, 2) || !strings.Contains(plainText(m.render()), "Step lesson") {
		t.Fatalf("s again did not go back to the lesson:\n%s", plainText(m.render()))
	}
	send(m, press("s", "esc")...)
	if codeOpen(m, 2) {
		t.Fatalf("esc did not close the code view:\n%s", plainText(m.render()))
	}

	send(m, press("s", "n", "p")...)
	if codeOpen(m, 2) {
		t.Fatal("step 2's code view was still open when the learner came back to step 2")
	}

	send(m, press("1", "s", "enter")...)
	if codeOpen(m, 1) || m.c.running != 1 {
		t.Fatalf("enter in step 1's code view: running %d, code view open %t; want the step running in sight", m.c.running, codeOpen(m, 1))
	}
}

// TestCodeViewScrolls: the view shows where more is, the scroll keys move
// it, and it reaches the AWS CLI commands at the bottom.
func TestCodeViewScrolls(t *testing.T) {
	m := newTestModel(t, "")
	send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	send(m, press("2", "s")...)
	top := plainText(m.render())
	if !strings.Contains(top, "↓/j more") {
		t.Fatalf("the code view does not say more is below:\n%s", top)
	}
	send(m, press("j")...)
	if plainText(m.render()) == top {
		t.Fatal("j did not scroll the code view")
	}
	for range 20 {
		send(m, press("pgdown")...)
	}
	bottom := plainText(m.render())
	if !strings.Contains(bottom, "aws kms generate-data-key") || strings.Contains(bottom, "↓/j more") {
		t.Fatalf("pgdown did not reach the end, with the AWS CLI commands:\n%s", bottom)
	}
	send(m, press("k")...)
	if plainText(m.render()) == bottom {
		t.Fatal("k did not scroll the code view back up")
	}
}

// fullCode is the whole text of step n's code view as the screen holds
// it, lines continued with " \" joined back.
func fullCode(m *Model, n int) string {
	s := m.steps[n-1]
	content := ansi.Strip(s.codePane().vp.GetContent())
	return strings.ReplaceAll(content, " \\\n", " ")
}

// TestCodeViewCarriesTheLearnersValues: before step 1 the commands name a
// placeholder for the key and say so; after it, the real key ARN, with the
// workshop's encryption context, alias, region and folder.
func TestCodeViewCarriesTheLearnersValues(t *testing.T) {
	m := newTestModel(t, "")
	m.w.Clients = &awsclient.Clients{Region: "eu-west-1"}
	m.w.Dir = "/home/learner/use case 3"
	send(m, tea.WindowSizeMsg{Width: 120, Height: 35})
	send(m, press("3", "s")...)
	before := fullCode(m, 3)
	if !strings.Contains(before, "--key-id "+steps.KeyPlaceholder) || !strings.Contains(before, steps.KeyPlaceholder+" stands for") {
		t.Errorf("step 3's code view before step 1 does not name and explain %s:\n%s", steps.KeyPlaceholder, before)
	}
	send(m, press("s")...)

	runStep(m, 1)
	send(m, press("3", "s")...)
	after := fullCode(m, 3)
	for _, want := range []string{
		"cd '/home/learner/use case 3'",
		"aws kms decrypt --key-id " + fixtureKeyARN,
		`--encryption-context '{"whatfor":"usecase-3-cse"}'`,
		"--region eu-west-1",
		"cse-workshop mock-aws --dir '/home/learner/use case 3' --region eu-west-1",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("step 3's code view after step 1 lacks %q:\n%s", want, after)
		}
	}
	if strings.Contains(after, steps.KeyPlaceholder) {
		t.Errorf("step 3's code view still names %s after step 1:\n%s", steps.KeyPlaceholder, after)
	}

	m.w.Clients.Endpoint = "http://127.0.0.1:40123"
	send(m, press("s", "s")...)
	if got := fullCode(m, 3); strings.Contains(got, "mock-aws") || !strings.Contains(got, "export lines the "+m.c.keys.Endpoint.Help().Key+" key shows") {
		t.Errorf("with the demo's own endpoint, the code view should point to the export lines, not mock-aws:\n%s", got)
	}
}

// TestCodeViewFitsEveryWidth: no line of any step's code view is wider
// than its room, whatever the width, so nothing is cut unseen.
func TestCodeViewFitsEveryWidth(t *testing.T) {
	th := newTheme(ThemeAuto, true)
	k := newKeyMap(6, 4, false)
	v := steps.CLIValues{
		Clients: &awsclient.Clients{Live: true, Region: "ap-southeast-2"},
		Profile: "workshop admin",
		Dir:     "/home/learner/a rather long folder name/for the workshop/usecase-3",
		State:   steps.State{KeyARN: fixtureKeyARN},
	}
	for n := 1; n <= 6; n++ {
		for _, width := range []int{40, 58, 78, 100, 118, 138} {
			out := renderCode(&th, &k, n, v, width)
			for i, l := range strings.Split(out, "\n") {
				if w := ansi.StringWidth(l); w > width {
					t.Errorf("step %d at %d columns: line %d is %d wide: %q", n, width, i+1, w, ansi.Strip(l))
				}
			}
		}
	}
}

// TestWrapCommandPastesAsOneCommand: a command wrapped to any width still
// reaches a shell as the same words, each line within the width.
func TestWrapCommandPastesAsOneCommand(t *testing.T) {
	v := steps.CLIValues{
		Clients: &awsclient.Clients{Live: true, Region: "eu-west-1"},
		Profile: "dev team",
		Dir:     "/home/learner/my workshop",
		State:   steps.State{KeyARN: fixtureKeyARN},
	}
	sh, _ := exec.LookPath("sh")
	for n := 1; n <= 6; n++ {
		for _, command := range steps.StepCLI(n, v).Commands {
			for _, width := range []int{30, 60, 78, 100} {
				lines := wrapCommand(command, width, "…")
				for _, l := range lines {
					if ansi.StringWidth(l) > width {
						t.Errorf("wrapCommand(%q, %d): line %q is wider", command, width, l)
					}
				}
				wrapped := strings.Join(lines, "\n")
				if strings.Contains(wrapped, "…") {
					continue // a word longer than the width: cut, visibly
				}
				joined := strings.ReplaceAll(wrapped, " \\\n", " ")
				if got, want := shellWords(joined), shellWords(command); !slices.Equal(got, want) {
					t.Errorf("wrapCommand(%q, %d) = %q, joined back %q", command, width, lines, got)
				}
				if sh == "" || !strings.HasPrefix(command, "aws ") || strings.Contains(command, "|") {
					continue
				}
				args := func(s string) string {
					out, err := exec.Command(sh, "-c", `printf '%s\n' `+strings.TrimPrefix(s, "aws ")).Output()
					if err != nil {
						t.Fatalf("sh -c %q: %v", s, err)
					}
					return string(out)
				}
				if got, want := args(wrapped), args(command); got != want {
					t.Errorf("pasted at %d columns, %q reaches the shell as\n%s\nwant\n%s", width, command, got, want)
				}
			}
		}
	}
}

// TestWrapCodeMarksContinuations: a code line too long continues behind
// the ellipsis, within the width, with nothing lost.
func TestWrapCodeMarksContinuations(t *testing.T) {
	line := "    return w.aead.Seal(batch, nonce, plaintext, w.frameAAD(final, sequenceNumber, len(plaintext)))"
	for _, width := range []int{20, 40, 60} {
		parts := wrapCode(line, width, "…")
		if len(parts) < 2 {
			t.Errorf("wrapCode at %d = %q, want it continued", width, parts)
		}
		var words []string
		for i, p := range parts {
			if ansi.StringWidth(p) > width {
				t.Errorf("wrapCode at %d: %q is wider", width, p)
			}
			if i > 0 && !strings.HasPrefix(strings.TrimLeft(p, " "), "… ") {
				t.Errorf("wrapCode at %d: continuation %q is not marked", width, p)
			}
			words = append(words, strings.Fields(strings.Replace(p, "… ", "", 1))...)
		}
		if got, want := strings.Join(words, ""), strings.Join(strings.Fields(line), ""); got != want {
			t.Errorf("wrapCode at %d lost text: %q", width, parts)
		}
	}
}

// TestCodeViewGolden draws step 2's code view (the longest) at the two
// sizes the issue names, at its top and scrolled to its end, and step 5's
// end, whose command carries a quoted query.
func TestCodeViewGolden(t *testing.T) {
	for _, tc := range []struct {
		step          int
		width, height int
		end           bool
	}{
		{2, 80, 24, false}, {2, 80, 24, true},
		{2, 120, 35, false}, {2, 120, 35, true},
		{5, 80, 24, true},
	} {
		where := "top"
		if tc.end {
			where = "end"
		}
		name := fmt.Sprintf("codeview-step%d-%s-%dx%d", tc.step, where, tc.width, tc.height)
		t.Run(name, func(t *testing.T) {
			m := newTestModel(t, "")
			m.w.Clients = &awsclient.Clients{Region: "us-east-1"}
			m.w.Dir = "/home/learner/usecase-3"
			send(m, tea.WindowSizeMsg{Width: tc.width, Height: tc.height})
			runStep(m, 1)
			runStep(m, 2)
			m.w.State.GenerateDataKeyAt = t0.Add(11e9)
			m.c.progress = copyProgress(m.w, nil)
			send(m, press(fmt.Sprint(tc.step), "s")...)
			if tc.end {
				for range 30 {
					send(m, press("pgdown")...)
				}
			}
			got := m.render()
			checkSize(t, got, tc.width, tc.height)
			checkGolden(t, name, plainText(got))
		})
	}
}

// TestWrapCommandKeepsAPlaceholderWhole: the placeholder for a key not yet
// made is one word, never split across lines.
func TestWrapCommandKeepsAPlaceholderWhole(t *testing.T) {
	command := "aws kms decrypt --key-id " + steps.KeyPlaceholder + " --ciphertext-blob fileb://encrypted_data_key.bin"
	for _, width := range []int{24, 30, 40, 60} {
		lines := wrapCommand(command, width, "…")
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, steps.KeyPlaceholder) }) {
			t.Errorf("wrapCommand at %d split the placeholder: %q", width, lines)
		}
	}
}
