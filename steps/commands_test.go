package steps_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/steps"
)

const testKeyARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// shellWords runs the AWS CLI part of a command line (before any pipe) in
// a POSIX shell, with aws replaced by printf, and returns the words the
// shell hands to aws: what the AWS CLI would really receive.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no POSIX shell to parse the commands with")
	}
	command, _, _ := strings.Cut(line, " | ")
	rest, ok := strings.CutPrefix(command, "aws ")
	if !ok {
		t.Fatalf("%q is not an AWS CLI command", line)
	}
	out, err := exec.Command(sh, "-c", `printf '%s\n' `+rest).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", rest, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// flag returns the word after name among words, or "" if name is not there.
func flag(words []string, name string) string {
	i := slices.Index(words, name)
	if i < 0 || i+1 >= len(words) {
		return ""
	}
	return words[i+1]
}

// awsCommands are the AWS CLI commands among a step's lines.
func awsCommands(c steps.CLI) []string {
	var out []string
	for _, l := range c.Commands {
		if strings.HasPrefix(l, "aws ") {
			out = append(out, l)
		}
	}
	return out
}

// TestStepCLICarriesTheLearnersValues: after step 1 and 2, the commands
// name the workshop's real key ARN, alias, region, profile and encryption
// context, and reach the shell as the AWS CLI needs them.
func TestStepCLICarriesTheLearnersValues(t *testing.T) {
	calledAt := time.Date(2026, 11, 27, 10, 0, 11, 0, time.UTC)
	v := steps.CLIValues{
		Clients: &awsclient.Clients{Live: true, Region: "eu-west-1"},
		Profile: "dev team",
		Dir:     "/home/learner/my workshop",
		State:   steps.State{KeyARN: testKeyARN, GenerateDataKeyAt: calledAt},
	}
	for _, s := range steps.All() {
		c := steps.StepCLI(s.Number, v)
		if len(c.Commands) == 0 {
			t.Errorf("StepCLI(%d) has no commands", s.Number)
		}
		if c.Demo != "" {
			t.Errorf("StepCLI(%d).Demo = %q on real AWS, want none", s.Number, c.Demo)
		}
		for _, l := range c.Commands {
			if strings.ContainsAny(l, "`\n") || strings.Contains(l, steps.KeyPlaceholder) {
				t.Errorf("StepCLI(%d): %q has a backquote, a newline or a placeholder", s.Number, l)
			}
			if strings.HasPrefix(l, "cd ") && l != "cd '/home/learner/my workshop'" {
				t.Errorf("StepCLI(%d): %q, want cd into the workshop folder, quoted", s.Number, l)
			}
		}
		for _, l := range awsCommands(c) {
			words := shellWords(t, l)
			if flag(words, "--region") != "eu-west-1" || flag(words, "--profile") != "dev team" {
				t.Errorf("StepCLI(%d): %q does not reach region eu-west-1 with profile 'dev team': words %q", s.Number, l, words)
			}
			if id := flag(words, "--key-id"); strings.HasPrefix(id, "arn:") && id != testKeyARN {
				t.Errorf("StepCLI(%d): %q names key %q, want %s", s.Number, l, id, testKeyARN)
			}
			if ec := flag(words, "--encryption-context"); ec != "" && ec != `{"whatfor":"usecase-3-cse"}` {
				t.Errorf("StepCLI(%d): %q passes the encryption context %s, want {\"whatfor\":\"usecase-3-cse\"}", s.Number, l, ec)
			}
		}
	}

	want := map[int][]string{
		1: {"--target-key-id " + testKeyARN, "--alias-name alias/kms_key_cse_usecase_3", "TagValue=builder-aws-session"},
		2: {"generate-data-key --key-id alias/kms_key_cse_usecase_3", "--number-of-bytes 32", `'{"whatfor":"usecase-3-cse"}'`},
		3: {"kms decrypt --key-id " + testKeyARN, `--encryption-context '{"whatfor":"usecase-3-cse"}'`},
		4: {"cmp plaintext_u.txt plaintext_u_cycled.txt"},
		5: {"AttributeValue=GenerateDataKey", "--start-time 2026-11-27T09:58:11Z", "--end-time 2026-11-27T10:02:11Z", "usecase-3-cse"},
		6: {"schedule-key-deletion --key-id " + testKeyARN + " --pending-window-in-days 7", "delete-alias --alias-name alias/kms_key_cse_usecase_3"},
	}
	for n, parts := range want {
		all := strings.Join(steps.StepCLI(n, v).Commands, "\n")
		for _, p := range parts {
			if !strings.Contains(all, p) {
				t.Errorf("StepCLI(%d) lacks %q:\n%s", n, p, all)
			}
		}
	}
	words := shellWords(t, awsCommands(steps.StepCLI(5, v))[0])
	if q := flag(words, "--query"); q != "Events[?contains(CloudTrailEvent, 'usecase-3-cse')].CloudTrailEvent" {
		t.Errorf("step 5's --query reaches the AWS CLI as %q", q)
	}
}

// TestStepCLIShowsNoDataKey: the commands whose answer holds a plaintext
// data key print only the rest, and say why.
func TestStepCLIShowsNoDataKey(t *testing.T) {
	v := steps.CLIValues{Dir: "/w", State: steps.State{KeyARN: testKeyARN}}
	for _, tc := range []struct {
		step      int
		operation string
	}{{2, "kms generate-data-key"}, {3, "kms decrypt"}} {
		c := steps.StepCLI(tc.step, v)
		for _, l := range awsCommands(c) {
			if !strings.Contains(l, tc.operation) {
				continue
			}
			q := flag(shellWords(t, l), "--query")
			if q == "" || strings.Contains(q, "Plaintext") {
				t.Errorf("StepCLI(%d): %q would print the plaintext data key (--query %q)", tc.step, l, q)
			}
		}
		if !strings.Contains(strings.Join(c.Notes, " "), "Plaintext") {
			t.Errorf("StepCLI(%d) notes do not say that Plaintext must stay secret: %q", tc.step, c.Notes)
		}
	}
}

// TestStepCLIBeforeStep1 names a placeholder for the key, and says so.
func TestStepCLIBeforeStep1(t *testing.T) {
	v := steps.CLIValues{Clients: &awsclient.Clients{Region: "us-east-1"}, Dir: "/w"}
	for _, n := range []int{3, 6} {
		c := steps.StepCLI(n, v)
		if !strings.Contains(strings.Join(c.Commands, "\n"), "--key-id "+steps.KeyPlaceholder) {
			t.Errorf("StepCLI(%d) before step 1 = %q, want the key as %s", n, c.Commands, steps.KeyPlaceholder)
		}
		if !strings.Contains(strings.Join(c.Notes, " "), steps.KeyPlaceholder+" stands for") {
			t.Errorf("StepCLI(%d) before step 1 does not say what %s is: %q", n, steps.KeyPlaceholder, c.Notes)
		}
	}
	if c := steps.StepCLI(2, v); strings.Contains(strings.Join(c.Notes, " "), steps.KeyPlaceholder) {
		t.Errorf("StepCLI(2) names the alias, not the key, yet explains the placeholder: %q", c.Notes)
	}
}

// TestStepCLIOnTheDemo: the demo's commands name its region; without its
// own endpoint, the AWS CLI reaches it through mock-aws on the same folder.
func TestStepCLIOnTheDemo(t *testing.T) {
	demo := steps.CLIValues{Clients: &awsclient.Clients{Region: "us-east-1"}, Dir: "/my w", State: steps.State{KeyARN: testKeyARN}}
	c := steps.StepCLI(1, demo)
	if c.Demo != "cse-workshop mock-aws --dir '/my w' --region us-east-1" {
		t.Errorf("StepCLI(1).Demo = %q, want mock-aws on the workshop folder", c.Demo)
	}
	for _, l := range awsCommands(c) {
		if !strings.HasSuffix(l, " --region us-east-1") || strings.Contains(l, "--profile") {
			t.Errorf("demo command %q, want --region us-east-1 and no profile", l)
		}
	}
	demo.Clients.Endpoint = "http://127.0.0.1:40123"
	if c := steps.StepCLI(1, demo); c.Demo != "" || strings.Contains(strings.Join(c.Commands, " "), "--endpoint-url") {
		t.Errorf("StepCLI(1) with the demo's endpoint: Demo %q, commands %q; want plain aws commands, no mock-aws", c.Demo, c.Commands)
	}
}

// TestStepCLISources: every step whose commands call AWS names the
// documentation of the calls.
func TestStepCLISources(t *testing.T) {
	for _, s := range steps.All() {
		c := steps.StepCLI(s.Number, steps.CLIValues{Dir: "/w"})
		if len(awsCommands(c)) > 0 && len(c.Sources) == 0 {
			t.Errorf("StepCLI(%d) calls AWS but names no source", s.Number)
		}
		for _, src := range c.Sources {
			if src.Title == "" || !strings.HasPrefix(src.URL, "https://docs.aws.amazon.com/") {
				t.Errorf("StepCLI(%d): source %+v, want a title and a docs.aws.amazon.com page", s.Number, src)
			}
		}
	}
}
