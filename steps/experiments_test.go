package steps_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/steps"
)

// tryIt runs an experiment in a freshly opened workshop and returns its
// lines and the detail of its last line.
func (s *setup) tryIt(id, input string) (*lines, *steps.ExperimentDetail, []string, error) {
	s.t.Helper()
	w := s.open()
	var l lines
	err := steps.RunExperiment(context.Background(), w, id, input, &l)
	var ops []string
	for _, c := range w.Clients.Calls.Calls() {
		ops = append(ops, c.Operation+" "+c.Outcome())
	}
	s.exit(w)
	return &l, outcome(l.list()), ops, err
}

// outcome is the ExperimentDetail of the last line that has one.
func outcome(ls []steps.Line) *steps.ExperimentDetail {
	for i := len(ls) - 1; i >= 0; i-- {
		if d, ok := ls[i].Detail.(*steps.ExperimentDetail); ok {
			return d
		}
	}
	return nil
}

// mustTry runs an experiment that must reach its outcome.
func (s *setup) mustTry(id, input string) (*lines, *steps.ExperimentDetail, []string) {
	s.t.Helper()
	l, d, ops, err := s.tryIt(id, input)
	if err != nil {
		s.t.Fatalf("RunExperiment(%s, %q) = %v, want an outcome (advice: %+v)\nlines: %q", id, input, err, steps.Explain(err), l.texts())
	}
	if d == nil {
		s.t.Fatalf("RunExperiment(%s, %q) reported no outcome; lines: %q", id, input, l.texts())
	}
	return l, d, ops
}

func TestEveryExperimentHasAStepAnExplanationAndASource(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range steps.Experiments() {
		if seen[e.ID] {
			t.Errorf("experiment ID %q used twice", e.ID)
		}
		seen[e.ID] = true
		if _, ok := steps.Get(e.Step); !ok {
			t.Errorf("%s: step %d does not exist", e.ID, e.Step)
		}
		if e.Title == "" || e.Expect == "" || e.Explanation == "" {
			t.Errorf("%s: title, expectation or explanation missing", e.ID)
		}
		if e.Source.Title == "" || !strings.HasPrefix(e.Source.URL, "https://docs.aws.amazon.com/") {
			t.Errorf("%s: source %+v, want an AWS documentation page", e.ID, e.Source)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d experiments, want 6", len(seen))
	}
}

func TestWrongContextReachesKMS(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	_, d, ops := s.mustTry("wrong-context", "whatfor=other")
	if d.Code != "InvalidCiphertextException" || !d.AsPredicted {
		t.Errorf("wrong context: outcome %+v, want KMS's InvalidCiphertextException, as predicted", d)
	}
	if !slices.Contains(ops, "Decrypt InvalidCiphertextException") {
		t.Errorf("calls %q, want KMS Decrypt answered InvalidCiphertextException", ops)
	}
	if _, ok := s.state().Experiments["wrong-context"]; !ok {
		t.Errorf("saved progress does not record the experiment as tried")
	}

	// The right context, typed as JSON, is accepted by KMS.
	_, d, _ = s.mustTry("wrong-context", `{"whatfor": "usecase-3-cse"}`)
	if d.Code != "" || !d.AsPredicted {
		t.Errorf("the workshop's own context: outcome %+v, want accepted, as predicted", d)
	}
	if got := visibleFiles(t, s.dir); !slices.Equal(got, []string{steps.EncryptedFile, steps.PlaintextFile}) {
		t.Errorf("files after the experiment = %v, want only the step 2 files", got)
	}
}

func TestWrongContextBadInputCallsNothing(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	_, _, ops, err := s.tryIt("wrong-context", "whatfor")
	if err == nil || !strings.Contains(err.Error(), "key=value") {
		t.Errorf("RunExperiment(wrong-context, %q) = %v, want an error that says to type key=value", "whatfor", err)
	}
	if len(ops) != 0 {
		t.Errorf("calls after bad input = %q, want none", ops)
	}
}

func TestParseEncryptionContext(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "whatfor=other", want: map[string]string{"whatfor": "other"}},
		{in: "  whatfor : other , team=blue ", want: map[string]string{"whatfor": "other", "team": "blue"}},
		{in: `"whatfor"="usecase-3-cse",`, want: map[string]string{"whatfor": "usecase-3-cse"}},
		{in: `{"whatfor": "other"}`, want: map[string]string{"whatfor": "other"}},
		{in: "whatfor=", want: map[string]string{"whatfor": ""}},
		{in: "", wantErr: "type an encryption context"},
		{in: "whatfor", wantErr: "key=value"},
		{in: "=other", wantErr: "no key"},
		{in: "a=1,a=2", wantErr: "twice"},
		{in: `{"whatfor": 1}`, wantErr: "JSON object of strings"},
		{in: `{"whatfor": "x"`, wantErr: "JSON object of strings"},
		{in: `{}`, wantErr: "empty"},
	}
	for _, tt := range tests {
		got, err := steps.ParseEncryptionContext(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEncryptionContext(%q) = %v, %v; want an error saying %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("ParseEncryptionContext(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// layoutStart returns the first offset of the region of the flip-byte
// prompt whose description contains what.
func layoutStart(t *testing.T, p steps.Prompt, what string) int64 {
	t.Helper()
	re := regexp.MustCompile(`^\s*(\d+)–\s*(\d+) (.*)$`)
	for _, l := range p.Help {
		if m := re.FindStringSubmatch(l); m != nil && strings.Contains(m[3], what) {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no region %q in the layout %q", what, p.Help)
	return 0
}

func TestFlipByteRefusesAndWritesNothing(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	original := readFile(t, s.dir, steps.EncryptedFile)

	e, _ := steps.GetExperiment("flip-byte")
	w := s.open()
	p, err := e.Prompt(w)
	s.exit(w)
	if err != nil {
		t.Fatalf("Prompt(flip-byte) = %v", err)
	}
	if err := p.Check(p.Default); err != nil {
		t.Errorf("Check(default %q) = %v, want nil", p.Default, err)
	}
	size := int64(len(original))
	for _, bad := range []string{"", "x", "-1", strconv.FormatInt(size, 10)} {
		if err := p.Check(bad); err == nil || !strings.Contains(err.Error(), "from 0 to "+strconv.FormatInt(size-1, 10)) {
			t.Errorf("Check(%q) = %v, want an error giving the range", bad, err)
		}
	}

	tests := []struct {
		name   string
		offset string
		code   string // KMS's answer, "" when the SDK refused
	}{
		{"version byte", "0", ""},
		{"encryption context", strconv.FormatInt(layoutStart(t, p, "encryption context")+5, 10), ""},
		{"encrypted data key", strconv.FormatInt(layoutStart(t, p, "encrypted data key")+40, 10), "InvalidCiphertextException"},
		{"body (default)", p.Default, ""},
		{"footer, in hex", "0x" + strconv.FormatInt(size-1, 16), ""},
	}
	for _, tt := range tests {
		l, d, _ := s.mustTry("flip-byte", tt.offset)
		if !d.AsPredicted || d.Code != tt.code {
			t.Errorf("flip byte %s (%s): outcome %+v, want refused with code %q", tt.offset, tt.name, d, tt.code)
		}
		if !l.contains("nothing was written: " + steps.CycledFile + " does not exist") {
			t.Errorf("flip byte %s (%s): lines %q do not say nothing was written", tt.offset, tt.name, l.texts())
		}
		if got := readFile(t, s.dir, steps.EncryptedFile); !bytes.Equal(got, original) {
			t.Fatalf("flip byte %s (%s) changed the learner's %s", tt.offset, tt.name, steps.EncryptedFile)
		}
		if got := visibleFiles(t, s.dir); !slices.Equal(got, []string{steps.EncryptedFile, steps.PlaintextFile}) {
			t.Errorf("flip byte %s (%s): files = %v, want only the step 2 files", tt.offset, tt.name, got)
		}
		leftovers, _ := filepath.Glob(filepath.Join(s.dir, ".cse-workshop", "experiment-*"))
		if len(leftovers) > 0 {
			t.Errorf("flip byte %s (%s) left %v", tt.offset, tt.name, leftovers)
		}
	}
}

func TestEncryptLimit(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	_, d, ops := s.mustTry("encrypt-limit", "")
	if d.Code != "ValidationException" || !d.AsPredicted {
		t.Errorf("outcome %+v, want KMS's ValidationException, as predicted", d)
	}
	if want := []string{"Encrypt ValidationException", "Encrypt OK"}; !cmp.Equal(ops, want) {
		t.Errorf("calls %q, want %q (5 KiB refused, 4,096 bytes accepted)", ops, want)
	}
}

func TestDisabledKeyIsEnabledAgain(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	_, d, ops := s.mustTry("disabled-key", "")
	if d.Code != "DisabledException" || !d.AsPredicted || d.Restored == "" {
		t.Errorf("outcome %+v, want KMS's DisabledException, as predicted, and the key restored", d)
	}
	if want := []string{"DescribeKey OK", "DisableKey OK", "Decrypt DisabledException", "EnableKey OK"}; !cmp.Equal(ops, want) {
		t.Errorf("calls %q, want %q", ops, want)
	}
	if got := keyState(t, s.kmsClient(), s.state().KeyARN); got != types.KeyStateEnabled {
		t.Errorf("key state after the experiment = %s, want Enabled", got)
	}
	if got := visibleFiles(t, s.dir); !slices.Equal(got, []string{steps.EncryptedFile, steps.PlaintextFile}) {
		t.Errorf("files after the experiment = %v, want only the step 2 files", got)
	}
}

// A key disabled before the experiment (by the learner's own AWS CLI)
// is left disabled: the experiment puts back what was.
func TestDisabledKeyExperimentLeavesADisabledKeyDisabled(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	keyARN := s.state().KeyARN
	if _, err := s.kmsClient().DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: aws.String(keyARN)}); err != nil {
		t.Fatal(err)
	}
	_, d, ops := s.mustTry("disabled-key", "")
	if d.Code != "DisabledException" || !d.AsPredicted || d.Restored != "" || !strings.Contains(d.Result, "stays disabled") {
		t.Errorf("outcome %+v, want DisabledException, as predicted, saying the key stays disabled", d)
	}
	if want := []string{"DescribeKey OK", "Decrypt DisabledException"}; !cmp.Equal(ops, want) {
		t.Errorf("calls %q, want %q", ops, want)
	}
	if got := keyState(t, s.kmsClient(), keyARN); got != types.KeyStateDisabled {
		t.Errorf("key state after the experiment = %s, want Disabled, as before it", got)
	}
}

func TestDisabledKeyIsEnabledAgainWhenCancelled(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	w := s.open()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel as soon as the key is disabled, as Ctrl-C would.
	r := steps.ReporterFunc(func(l steps.Line) {
		if strings.Contains(l.Text, "is disabled") {
			cancel()
		}
	})
	err := steps.RunExperiment(ctx, w, "disabled-key", "", r)
	s.exit(w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunExperiment(cancelled) = %v, want context.Canceled", err)
	}
	if got := keyState(t, s.kmsClient(), s.state().KeyARN); got != types.KeyStateEnabled {
		t.Errorf("key state after a cancelled experiment = %s, want Enabled", got)
	}
	if _, ok := s.state().Experiments["disabled-key"]; ok {
		t.Errorf("a cancelled experiment is recorded as tried")
	}
}

func TestPendingDeletionIsScheduledAgain(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	_, _, ops, err := s.tryIt("pending-deletion", "")
	var pre *steps.ExperimentPrerequisiteError
	if !errors.As(err, &pre) || pre.Missing != 6 || len(ops) != 0 {
		t.Errorf("before step 6: RunExperiment = %v, calls %q; want a prerequisite error naming step 6 and no call", err, ops)
	}

	s.mustRun(6)
	before := s.state()
	_, d, ops := s.mustTry("pending-deletion", "")
	if d.Code != "KMSInvalidStateException" || !d.AsPredicted || d.Restored == "" {
		t.Errorf("outcome %+v, want KMS's KMSInvalidStateException, as predicted, and the deletion scheduled again", d)
	}
	want := []string{"Decrypt KMSInvalidStateException", "CancelKeyDeletion OK", "EnableKey OK", "Decrypt OK", "DescribeKey OK", "ScheduleKeyDeletion OK"}
	if !cmp.Equal(ops, want) {
		t.Errorf("calls %q, want %q", ops, want)
	}
	st := s.state()
	out, err := s.kmsClient().DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(st.KeyARN)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.KeyMetadata.KeyState; got != types.KeyStatePendingDeletion {
		t.Errorf("key state after the experiment = %s, want PendingDeletion", got)
	}
	if when := aws.ToTime(out.KeyMetadata.DeletionDate); !st.KeyDeletionDate.Equal(when) || when.Before(before.KeyDeletionDate) {
		t.Errorf("saved deletion date %v, KMS's %v (before: %v): want KMS's new date saved", st.KeyDeletionDate, when, before.KeyDeletionDate)
	}
	if !cmp.Equal(st.Done, before.Done) {
		t.Errorf("steps done after the experiment = %v, want those before it, %v", st.Done, before.Done)
	}
}

func TestSecondFileShowsTwoRecords(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	before := s.state().GenerateDataKeyAt
	l, d, ops := s.mustTry("second-file", "")
	if !d.AsPredicted {
		t.Errorf("outcome %+v, want two records, as predicted", d)
	}
	if !l.contains("record 1: GenerateDataKey") || !l.contains("record 2: GenerateDataKey") {
		t.Errorf("lines %q do not show both records", l.texts())
	}
	if n := strings.Count(strings.Join(ops, "\n"), "GenerateDataKey OK"); n != 1 {
		t.Errorf("calls %q, want one GenerateDataKey (the second file's)", ops)
	}
	if got := s.state().GenerateDataKeyAt; !got.Equal(before) {
		t.Errorf("step 2's GenerateDataKey time changed from %v to %v: step 5 would look for the wrong record", before, got)
	}
}

func TestSecondFileIsCancellable(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	w := s.open()
	ctx, cancel := context.WithCancel(context.Background())
	r := steps.ReporterFunc(func(l steps.Line) {
		if strings.Contains(l.Text, "waiting") {
			cancel()
		}
	})
	err := steps.RunExperiment(ctx, w, "second-file", "", r)
	s.exit(w)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RunExperiment(cancelled during the wait) = %v, want context.Canceled", err)
	}
}

func TestExperimentsNameTheMissingStep(t *testing.T) {
	s := newSetup(t)
	for _, e := range steps.Experiments() {
		_, _, ops, err := s.tryIt(e.ID, "whatfor=other")
		var pre *steps.ExperimentPrerequisiteError
		if !errors.As(err, &pre) || pre.Missing != 1 {
			t.Errorf("%s on a fresh workshop = %v, want a prerequisite error naming step 1", e.ID, err)
		}
		if len(ops) != 0 {
			t.Errorf("%s on a fresh workshop made calls %q, want none", e.ID, ops)
		}
	}
}

func TestExperimentsAskFirstOnRealAWS(t *testing.T) {
	for _, id := range []string{"disabled-key", "pending-deletion"} {
		t.Run(id, func(t *testing.T) {
			s := newSetup(t)
			s.mustRun(1, 2)
			if id == "pending-deletion" {
				s.mustRun(6)
			}
			w := s.open()
			w.Clients.Live = true
			asked := ""
			w.Confirm = func(_ context.Context, q string) bool { asked = q; return false }
			err := steps.RunExperiment(context.Background(), w, id, "", &lines{})
			var changes []string
			for _, c := range w.Clients.Calls.Calls() {
				if c.Operation != "Decrypt" && c.Operation != "DescribeKey" {
					changes = append(changes, c.Operation)
				}
			}
			w.Clients.Live = false
			s.exit(w)
			if err == nil || !strings.Contains(err.Error(), "nothing was changed") {
				t.Errorf("RunExperiment(refused) = %v, want an error saying nothing was changed", err)
			}
			if asked == "" {
				t.Errorf("the experiment did not ask")
			}
			if len(changes) != 0 {
				t.Errorf("calls after the learner said no: %q, want none that change the key", changes)
			}
			want := types.KeyStateEnabled
			if id == "pending-deletion" {
				want = types.KeyStatePendingDeletion
			}
			if got := keyState(t, s.kmsClient(), s.state().KeyARN); got != want {
				t.Errorf("key state = %s, want %s", got, want)
			}
		})
	}
}

func TestExperimentsKeepOldProgressLoadable(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	// A progress file written before experiments existed has no field for them.
	p := filepath.Join(s.dir, ".cse-workshop", "state.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("experiments")) {
		t.Errorf("state.json names experiments before any was tried:\n%s", b)
	}
	s.mustTry("encrypt-limit", "")
	if _, ok := s.state().Experiments["encrypt-limit"]; !ok {
		t.Errorf("the experiment tried is not in the saved progress")
	}
}

// A run killed during an experiment leaves its folder (a copy of
// encrypted_e.txt, as large as the learner's file); the next Open of the
// workshop removes it, and nothing else.
func TestOpenRemovesTheFoldersOfKilledExperiments(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, ".cse-workshop")
	left := filepath.Join(private, "experiment-1234567")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, steps.EncryptedFile), []byte("a tampered copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(private, "notes")
	if err := os.WriteFile(mine, []byte("kept"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := steps.Open(steps.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := os.Stat(left); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Open, the killed experiment's folder: %v, want it removed", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("Open removed another file of the private folder: %v", err)
	}
}
