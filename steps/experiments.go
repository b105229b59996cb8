package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
)

// Experiments ("try it"): each makes a real call whose answer the lesson
// of its step predicts, usually a refusal, reports it through the same
// Reporter as a step, and ends on an ExperimentDetail with what AWS
// answered. What an experiment changes (a key's state, a file) it puts
// back, even when it is cancelled.
//
// Output rules: the status lines follow the steps' (lower case, the call
// and its answer named as AWS names them); the final line, carrying the
// ExperimentDetail, is LevelSuccess when AWS answered as the lesson says.

// Experiment is one "try it" of a step.
type Experiment struct {
	ID    string // stable, for the progress: "wrong-context"
	Step  int    // the step whose screen offers it
	Title string // "Decrypt with another encryption context"
	// Expect is what the lesson predicts, in one line, shown before it runs.
	Expect string
	// ChangesKey: the experiment changes the KMS key's state for a moment.
	// On real AWS it asks first (Workshop.Confirm) and always puts the key
	// back.
	ChangesKey bool
	// Explanation says why AWS answers as it does; Source is the AWS page
	// that says so.
	Explanation string
	Source      assets.Source

	// missing is the step to run before the experiment can, by the
	// progress alone (0: none).
	missing func(s State) int
	// prompt, when set, is the input the experiment asks for.
	prompt func(w *Workshop) (Prompt, error)
	run    func(ctx context.Context, w *Workshop, p reporter, input string) (*ExperimentDetail, error)
}

// Prompt is the input an experiment asks for before it runs.
type Prompt struct {
	Label       string   // "Encryption context"
	Default     string   // what the input starts with; the learner edits it
	Placeholder string   // shown while the input is empty
	Help        []string // lines under the input: the formats accepted, the file's layout
	// Check says what is wrong with an input, or nil when the experiment
	// can run with it. It does no I/O.
	Check func(input string) error
}

// ExperimentDetail is what an experiment found.
type ExperimentDetail struct {
	Experiment string // the experiment's ID
	// Code is the AWS exception of the call the experiment is about
	// ("InvalidCiphertextException"), "" when AWS accepted the call or the
	// refusal was not AWS's (a tampered byte the SDK found).
	Code string
	// Answer is what came back, in a few words: Code, or what accepted or
	// refused the call when AWS raised no exception.
	Answer string
	// Result is what happened, in a sentence.
	Result string
	// AsPredicted: the outcome is the one the lesson predicts.
	AsPredicted bool
	// Restored says what was put back afterwards, "" when nothing was
	// changed.
	Restored string
}

func (*ExperimentDetail) detail() {}

// experiments lists every experiment, in the order of their steps.
func experiments() []Experiment {
	return []Experiment{
		encryptLimitExperiment(),
		wrongContextExperiment(),
		flipByteExperiment(),
		disabledKeyExperiment(),
		secondFileExperiment(),
		pendingDeletionExperiment(),
	}
}

// Experiments returns every experiment, in the order of their steps.
func Experiments() []Experiment { return experiments() }

// ExperimentsOf returns the experiments step n offers, in order.
func ExperimentsOf(n int) []Experiment {
	var out []Experiment
	for _, e := range experiments() {
		if e.Step == n {
			out = append(out, e)
		}
	}
	return out
}

// GetExperiment returns the experiment with that ID.
func GetExperiment(id string) (Experiment, bool) {
	for _, e := range experiments() {
		if e.ID == id {
			return e, true
		}
	}
	return Experiment{}, false
}

// Missing returns the step that must run before the experiment can, by
// the progress s alone, or 0. RunExperiment checks the files as well.
func (e Experiment) Missing(s State) int {
	if e.missing == nil {
		return 0
	}
	return e.missing(s)
}

// AsksInput reports whether the experiment asks for an input (see Prompt).
func (e Experiment) AsksInput() bool { return e.prompt != nil }

// Prompt returns the input the experiment asks for. It may read the
// workshop's files (the layout of encrypted_e.txt), so call it where I/O
// is allowed, and only while no step runs.
func (e Experiment) Prompt(w *Workshop) (Prompt, error) {
	if e.prompt == nil {
		return Prompt{}, fmt.Errorf("%s asks for no input", e.Title)
	}
	if err := e.ready(w); err != nil {
		return Prompt{}, err
	}
	return e.prompt(w)
}

// ExperimentPrerequisiteError says which step to run before an experiment.
type ExperimentPrerequisiteError struct {
	Experiment string // its title
	Missing    int    // the step to run first
	Why        string // what that step makes that the experiment needs
}

func (e *ExperimentPrerequisiteError) Error() string {
	return fmt.Sprintf("%q needs %s: run step %d first", e.Experiment, e.Why, e.Missing)
}

// ready checks what the experiment needs by the progress, without calling
// anything.
func (e Experiment) ready(w *Workshop) error {
	m := e.Missing(w.State)
	if m == 0 {
		return nil
	}
	why := map[int]string{
		1: "the workshop's KMS key",
		2: "encrypted_e.txt, made under the workshop's KMS key",
		6: "the workshop's KMS key scheduled for deletion",
	}[m]
	if why == "" {
		why = fmt.Sprintf("what step %d makes", m)
	}
	return &ExperimentPrerequisiteError{Experiment: e.Title, Missing: m, Why: why}
}

// RunExperiment runs the experiment id with the learner's input ("" for
// one that asks none). It first puts back what an interrupted experiment
// left changed (see PendingRestore). It checks the prerequisites and calls
// nothing more when one is missing; otherwise it makes the experiment's real calls,
// reports them, ends on a line carrying the ExperimentDetail, records the
// experiment as tried and saves the progress.
func RunExperiment(ctx context.Context, w *Workshop, id, input string, r Reporter) error {
	e, ok := GetExperiment(id)
	if !ok {
		return fmt.Errorf("no experiment %q", id)
	}
	p := reporter{w, r}
	if err := putBackInterrupted(ctx, w, p); err != nil {
		return err
	}
	if err := e.ready(w); err != nil {
		return err
	}
	d, err := e.run(ctx, w, p, input)
	if err == nil {
		d.Experiment = e.ID
		if d.Answer == "" {
			d.Answer = d.Code
		}
		if d.Answer == "" {
			d.Answer = "accepted"
		}
		level := LevelSuccess
		if !d.AsPredicted {
			level = LevelWarn
		}
		p.line(level, d, "%s", d.Result)
		// A new map, not a change to the old one: a display may hold a
		// copy of the progress taken before this run.
		tried := maps.Clone(w.State.Experiments)
		if tried == nil {
			tried = map[string]time.Time{}
		}
		tried[e.ID] = w.Clock.Now()
		w.State.Experiments = tried
	}
	if saveErr := w.Save(); saveErr != nil && err == nil {
		err = saveErr
	}
	return err
}

// awsCode is the AWS exception in err, "" when AWS did not answer.
func awsCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// awsMessage is the message of the AWS exception in err.
func awsMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorMessage()
	}
	return ""
}

// answer describes an AWS refusal: "InvalidCiphertextException" or
// "ValidationException (1 validation error detected: …)".
func answer(err error) string {
	code, msg := awsCode(err), awsMessage(err)
	if msg == "" {
		return code
	}
	return fmt.Sprintf("%s (%s)", code, msg)
}

// unexpected is the error of an experiment whose call failed for another
// reason than the one it shows: the workshop's advice, with what the
// experiment was doing.
func unexpected(w *Workshop, doing string, err error) error {
	if ctxErr(err) {
		return err
	}
	hint := ""
	if p, ok := awsclient.Diagnose(err); ok {
		hint = stepHint(w, 3, p)
	}
	err = fmt.Errorf("%s: %w", doing, err)
	if hint != "" {
		return awsclient.WithHint(err, hint)
	}
	return err
}

// ParseEncryptionContext reads an encryption context as a person types
// it: key=value pairs separated by commas (spaces around them and quotes
// around keys and values are dropped; ":" works as well as "="), or a JSON
// object of strings. Its errors say what to type.
func ParseEncryptionContext(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New(`type an encryption context, such as whatfor=other or {"whatfor":"other"}`)
	}
	if strings.HasPrefix(s, "{") {
		var ec map[string]string
		if err := json.Unmarshal([]byte(s), &ec); err != nil {
			return nil, fmt.Errorf(`not a JSON object of strings (%v): type {"whatfor":"other"}, or whatfor=other`, jsonProblem(err))
		}
		if len(ec) == 0 {
			return nil, errors.New(`the context is empty: type at least one pair, such as {"whatfor":"other"}`)
		}
		for k := range ec {
			if k == "" {
				return nil, errors.New("a key of the context is empty: every pair needs a key")
			}
		}
		return ec, nil
	}
	ec := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.IndexAny(pair, "=:")
		if i < 0 {
			return nil, fmt.Errorf("%q is not a pair: write key=value, such as whatfor=other", pair)
		}
		k, v := unquote(pair[:i]), unquote(pair[i+1:])
		if k == "" {
			return nil, fmt.Errorf("%q has no key: write key=value, such as whatfor=other", pair)
		}
		if _, dup := ec[k]; dup {
			return nil, fmt.Errorf("the key %q is given twice", k)
		}
		ec[k] = v
	}
	if len(ec) == 0 {
		return nil, errors.New(`the context is empty: type at least one pair, such as whatfor=other`)
	}
	return ec, nil
}

// unquote trims spaces and one pair of matching quotes.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		s = s[1 : len(s)-1]
	}
	return s
}

// jsonProblem is what encoding/json found wrong, without its package name.
func jsonProblem(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}

// thousands writes n with commas between groups of three digits: "5,120".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
