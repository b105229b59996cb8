package steps

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"cse-workshop/assets"
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
// reachable from the AWS CLI only through the endpoint the tutorial serves
// (Clients.Endpoint) or else mock-aws serving the workshop folder dir,
// which the text then says.
func AWSCLI(clients *awsclient.Clients, profile, dir string, commands ...string) string {
	quoted := make([]string, len(commands))
	for i, c := range commands {
		quoted[i] = "`" + awsCLILine(clients, profile, c) + "`"
	}
	s := strings.Join(quoted, " then ")
	switch {
	case clients != nil && clients.Live:
		return s
	case clients != nil && clients.Endpoint != "":
		// The tutorial serves the demo itself: a second server on the
		// same folder would only add a port to the learner's settings.
		return fmt.Sprintf("%s against the demo this tutorial serves at %s, in another terminal after the export lines of its \"your AWS CLI\" screen", s, clients.Endpoint)
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

// shellQuote quotes s for a POSIX shell when it needs it: in single
// quotes, or in double quotes when s holds single quotes and nothing a
// shell expands inside double quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@+,") == "" {
		return s
	}
	if strings.Contains(s, "'") && !strings.ContainsAny(s, "\"$`\\!") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// LiveKeyReminder returns, while a KMS key of this workshop is live on real
// AWS (created and not scheduled for deletion, or no longer scheduled
// since an experiment was interrupted), what it costs and the commands that
// clean it up; "" otherwise.
func (w *Workshop) LiveKeyReminder() string {
	undeleted := w.State.Restore != nil && w.State.Restore.Action == RestoreScheduleDeletion
	if !w.Live() || w.State.KeyARN == "" || (!w.State.KeyDeletionDate.IsZero() && !undeleted) {
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

// The AWS CLI v2 side of each step, for the code view: the commands that
// make the same AWS calls with the learner's own values, one command a
// line, ready to paste into a shell.

// CLIValues are what a step's AWS CLI commands are written with: the
// learner's backend, workshop folder and progress.
type CLIValues struct {
	Clients *awsclient.Clients // the backend; nil: the demo, in its default region
	Profile string             // the --profile in use on real AWS, "" for none
	Dir     string             // the workshop folder
	State   State              // the progress: the key, when step 2 ran
}

// CLI is the AWS CLI v2 side of a step.
type CLI struct {
	// Commands are shell lines, one command each, in the order to run
	// them: no backquotes, quoted where the shell needs it.
	Commands []string
	// Notes say, one line each, what the commands cannot do that the step
	// does, what must never be logged, and what a placeholder stands for.
	Notes []string
	// Demo, when the backend is the demo and it does not answer the AWS
	// CLI itself (no Clients.Endpoint), is the command that serves the
	// demo's keys to the AWS CLI from another terminal; "" otherwise.
	Demo string
	// Sources are the AWS documentation of the calls and of the notes.
	Sources []assets.Source
}

// KeyPlaceholder stands for the workshop's key in the commands of a step
// shown before step 1 made it.
const KeyPlaceholder = "<key ARN from step 1>"

// encryptedDataKeyFile is where the commands of step 2 keep the encrypted
// data key that those of step 3 decrypt: the AWS CLI cannot read it out of
// the message.
const encryptedDataKeyFile = "encrypted_data_key.bin"

// The AWS documentation the commands' notes rest on.
var (
	sourceDescribeKey         = assets.Source{Title: "DescribeKey - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html"}
	sourceCreateKey           = assets.Source{Title: "CreateKey - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html"}
	sourceCreateAlias         = assets.Source{Title: "CreateAlias - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html"}
	sourceGenerateDataKey     = assets.Source{Title: "GenerateDataKey - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html"}
	sourceDecrypt             = assets.Source{Title: "Decrypt - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html"}
	sourceLookupEvents        = assets.Source{Title: "LookupEvents - AWS CloudTrail", URL: "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html"}
	sourceScheduleKeyDeletion = assets.Source{Title: "ScheduleKeyDeletion - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html"}
	sourceDeleteAlias         = assets.Source{Title: "DeleteAlias - AWS Key Management Service", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html"}
	sourceESDKConcepts        = assets.Source{Title: "AWS Encryption SDK concepts", URL: "https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/concepts.html"}
)

// StepCLI returns the AWS CLI v2 commands that make step n's AWS calls
// with the values of v, and what they cannot do that the step does. Before
// step 1 made the key, the commands that need it name KeyPlaceholder.
func StepCLI(n int, v CLIValues) CLI {
	key := v.State.KeyARN
	var c CLI
	if key == "" {
		key = KeyPlaceholder
	} else {
		key = shellQuote(key)
	}
	alias := shellQuote(AliasName)
	ec := shellQuote(encryptionContextJSON())
	cd := "cd " + shellQuote(v.Dir)
	switch n {
	case 1:
		c.Commands = []string{
			v.aws("kms describe-key --key-id " + alias),
			v.aws(fmt.Sprintf("kms create-key --description %s --key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT --tags %s %s %s --query KeyMetadata.Arn --output text",
				shellQuote(KeyDescription),
				shellQuote("TagKey="+workshopTagKey+",TagValue="+workshopTagValue),
				shellQuote("TagKey="+createdByTagKey+",TagValue="+toolName),
				shellQuote("TagKey="+folderTagKey+",TagValue="+folderTagValue(v.Dir)))),
			v.aws("kms create-alias --alias-name " + alias + " --target-key-id " + key),
		}
		c.Notes = []string{
			"describe-key fails with NotFoundException while the alias is free: that is the check, not an error.",
			"create-key makes a new KMS key at each run; create-alias then fails with AlreadyExistsException while another key has the alias.",
		}
		c.Sources = []assets.Source{sourceDescribeKey, sourceCreateKey, sourceCreateAlias}
	case 2:
		c.Commands = []string{
			cd,
			v.aws("kms generate-data-key --key-id "+alias+" --number-of-bytes 32 --encryption-context "+ec+" --query CiphertextBlob --output text") +
				" | base64 --decode > " + encryptedDataKeyFile,
		}
		c.Notes = []string{
			"The answer also holds Plaintext, the data key itself: --query CiphertextBlob keeps it off the screen; never log or save it.",
			"The AWS CLI cannot encrypt the file with the data key: that happens on this machine, in the AWS Encryption SDK's message format, which also adds aws-crypto-public-key to the encryption context.",
		}
		c.Sources = []assets.Source{sourceGenerateDataKey, sourceESDKConcepts}
	case 3:
		c.Commands = []string{
			cd,
			v.aws("kms decrypt --key-id " + key + " --ciphertext-blob fileb://" + encryptedDataKeyFile + " --encryption-context " + ec + " --query KeyId --output text"),
		}
		c.Notes = []string{
			"This decrypts the encrypted data key that step 2's command saved; with another encryption context KMS refuses with InvalidCiphertextException.",
			"The answer also holds Plaintext, the data key: --query KeyId shows only which KMS key opened it. The AWS CLI cannot decrypt the file itself.",
		}
		c.Sources = []assets.Source{sourceDecrypt}
	case 4:
		c.Commands = []string{
			cd,
			fmt.Sprintf("cmp %s %s && echo identical", PlaintextFile, CycledFile),
		}
		c.Notes = []string{"No AWS call: the two files are compared on this machine."}
	case 5:
		lookup := "cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=GenerateDataKey"
		if at := v.State.GenerateDataKeyAt; !at.IsZero() {
			lookup += fmt.Sprintf(" --start-time %s --end-time %s",
				at.Add(-eventTimeWindow).UTC().Format(time.RFC3339), at.Add(eventTimeWindow).UTC().Format(time.RFC3339))
		}
		query := fmt.Sprintf("Events[?contains(CloudTrailEvent, '%s')].CloudTrailEvent", EncryptionContext()["whatfor"])
		c.Commands = []string{v.aws(lookup + " --max-results 50 --query " + shellQuote(query) + " --output text")}
		c.Notes = []string{
			"The encryption context is not a lookup attribute: --query keeps the GenerateDataKey records whose JSON holds it.",
		}
		if v.State.GenerateDataKeyAt.IsZero() {
			c.Notes = append(c.Notes, "Without a time from step 2, it looks through the last 90 days.")
		}
		c.Sources = []assets.Source{sourceLookupEvents}
	case 6:
		c.Commands = []string{
			cd,
			v.aws(fmt.Sprintf("kms schedule-key-deletion --key-id %s --pending-window-in-days %d", key, deletionWindowInDays)),
			v.aws("kms delete-alias --alias-name " + alias),
			fmt.Sprintf("rm -f %s %s %s", EncryptedFile, CycledFile, encryptedDataKeyFile),
		}
		c.Notes = []string{
			fmt.Sprintf("Until the deletion date, kms cancel-key-deletion brings the key back (disabled); after %d days the key is deleted, and nothing encrypted under it can be decrypted again.", deletionWindowInDays),
		}
		c.Sources = []assets.Source{sourceScheduleKeyDeletion, sourceDeleteAlias}
	default:
		return CLI{}
	}
	if v.State.KeyARN == "" && strings.Contains(strings.Join(c.Commands, "\n"), KeyPlaceholder) {
		c.Notes = append(c.Notes, KeyPlaceholder+" stands for the key step 1 creates: run step 1 first.")
	}
	if !v.live() && v.endpoint() == "" {
		c.Demo = "cse-workshop mock-aws --dir " + shellQuote(v.Dir)
		if v.Clients != nil && v.Clients.Region != "" {
			c.Demo += " --region " + v.Clients.Region
		}
	}
	return c
}

func (v CLIValues) live() bool { return v.Clients != nil && v.Clients.Live }

func (v CLIValues) endpoint() string {
	if v.Clients == nil {
		return ""
	}
	return v.Clients.Endpoint
}

// aws is an AWS CLI command with the flags that reach the backend's region
// and, on real AWS, the profile in use. The demo serves one region too:
// the command names it, whatever the AWS CLI's own configuration says.
func (v CLIValues) aws(command string) string {
	s := "aws " + command
	switch {
	case v.live():
		s += liveFlags(v.Clients, v.Profile)
	case v.Clients != nil && v.Clients.Region != "":
		s += " --region " + v.Clients.Region
	}
	return s
}

// encryptionContextJSON is the workshop's encryption context as the AWS
// CLI takes it: {"whatfor":"usecase-3-cse"}.
func encryptionContextJSON() string {
	b, err := json.Marshal(EncryptionContext())
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}
