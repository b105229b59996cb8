package steps

import (
	"fmt"
	"strings"

	"cse-workshop/awsclient"
)

// Commands printed for a person to run: they reach the same workshop
// folder and backend as the program that prints them, so that they work
// when pasted. Each is in backquotes inside a sentence.

// awsCLI renders AWS CLI commands for the workshop's backend; see AWSCLI.
func (w *Workshop) awsCLI(commands ...string) string {
	return AWSCLI(w.Clients, w.Profile, w.Dir, commands...)
}

// AWSCLI renders AWS CLI commands, run one after the other, each in
// backquotes, for the backend of clients: for real AWS with --region and
// the --profile in use (profile, "" for none); the demo's keys are
// reachable from the AWS CLI only through mock-aws serving the workshop
// folder dir, which the text then says.
func AWSCLI(clients *awsclient.Clients, profile, dir string, commands ...string) string {
	quoted := make([]string, len(commands))
	for i, c := range commands {
		quoted[i] = "`" + awsCLILine(clients, profile, c) + "`"
	}
	s := strings.Join(quoted, " then ")
	if clients != nil && clients.Live {
		return s
	}
	return fmt.Sprintf("%s against the demo, served by `cse-workshop mock-aws --dir %s` (it prints the AWS CLI settings to use)", s, shellQuote(dir))
}

// Command renders a cse-workshop command line, in backquotes, that reaches
// the same workshop folder (dir, "" for the default) and backend as
// clients: "`cse-workshop step 1 --dir D --aws --region R --profile P`".
func Command(clients *awsclient.Clients, profile, dir, args string) string {
	return "`" + printedCommand(clients, profile, dir, args) + "`"
}

// printedCommand is Command without the backquotes.
func printedCommand(clients *awsclient.Clients, profile, dir, args string) string {
	s := "cse-workshop " + args
	if dir != "" {
		s += " --dir " + shellQuote(dir)
	}
	if clients != nil && clients.Live {
		s += " --aws" + liveFlags(clients, profile)
	}
	return s
}

// awsCLILine is one AWS CLI command for the backend of clients, without
// backquotes.
func awsCLILine(clients *awsclient.Clients, profile, command string) string {
	s := "aws " + command
	if clients != nil && clients.Live {
		s += liveFlags(clients, profile)
	}
	return s
}

// liveFlags are the flags that reach the region and profile in use on
// real AWS: " --region R [--profile P]".
func liveFlags(clients *awsclient.Clients, profile string) string {
	s := " --region " + clients.Region
	if profile != "" {
		s += " --profile " + shellQuote(profile)
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LiveKeyReminder returns, while a KMS key of this workshop is live on real
// AWS (created and not scheduled for deletion), what it costs and the
// commands that clean it up; "" otherwise.
func (w *Workshop) LiveKeyReminder() string {
	if !w.Live() || w.State.KeyARN == "" || !w.State.KeyDeletionDate.IsZero() {
		return ""
	}
	return fmt.Sprintf(`The workshop's KMS key %s is still live in your AWS account; it is billed monthly until it is scheduled for deletion.
Clean up with:
  %s
or with the AWS CLI:
  %s
  %s`,
		w.State.KeyARN,
		printedCommand(w.Clients, w.Profile, w.Dir, "step 6"),
		awsCLILine(w.Clients, w.Profile, fmt.Sprintf("kms schedule-key-deletion --key-id %s --pending-window-in-days %d", w.State.KeyARN, deletionWindowInDays)),
		awsCLILine(w.Clients, w.Profile, "kms delete-alias --alias-name "+AliasName))
}
