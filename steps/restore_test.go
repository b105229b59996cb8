package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// killInExperimentEnv makes the test binary run one experiment on a
// workshop folder and kill itself (kill -9) once a KMS operation of it is
// carried out, instead of running the tests: "ID,Operation,clock,folder".
const killInExperimentEnv = "CSE_WORKSHOP_TEST_KILL_IN_EXPERIMENT"

// killInExperiment is the child process of killInExperimentEnv. It
// returns only when it was not killed.
func killInExperiment(spec string) int {
	parts := strings.SplitN(spec, ",", 4)
	if len(parts) != 4 {
		fmt.Fprintf(os.Stderr, "%s=%q: want ID,Operation,clock,folder\n", killInExperimentEnv, spec)
		return 2
	}
	id, op, dir := parts[0], parts[1], parts[3]
	now, err := time.Parse(time.RFC3339Nano, parts[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	clk := clock.NewAuto(now)
	ctx := context.Background()
	clients, err := awsclient.New(ctx, awsclient.Options{Dir: dir, Clock: clk, Delivery: fakeaws.FastDelivery})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w, err := steps.Open(steps.Options{Dir: dir, Clients: clients, Clock: clk, Fast: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w.Clients.KMS = kms.New(w.Clients.KMS.Options(), func(o *kms.Options) {
		o.HTTPClient = killer{inner: o.HTTPClient, op: op}
	})
	err = steps.RunExperiment(ctx, w, id, "", steps.ReporterFunc(func(steps.Line) {}))
	fmt.Fprintf(os.Stderr, "experiment %s ended without being killed at %s: %v\n", id, op, err)
	return 1
}

// killer kills its own process, as kill -9 would, once the KMS operation
// op has been carried out and before its answer is read.
type killer struct {
	inner kms.HTTPClient
	op    string
}

func (k killer) Do(r *http.Request) (*http.Response, error) {
	resp, err := k.inner.Do(r)
	if r.Header.Get("X-Amz-Target") == "TrentService."+k.op {
		self, _ := os.FindProcess(os.Getpid())
		self.Kill()
		select {} // the kill is on its way
	}
	return resp, err
}

// killDuring runs experiment id in another process, killed once its KMS
// call op has been carried out.
func (s *setup) killDuring(id, op string) {
	s.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%s,%s", killInExperimentEnv, id, op, s.clock.Now().Format(time.RFC3339Nano), s.dir))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || bytes.Contains(stderr.Bytes(), []byte("without being killed")) {
		s.t.Fatalf("the process of %s = %v, want it killed at %s; its stderr:\n%s", id, err, op, stderr.Bytes())
	}
}

// putBackLine is how the line that starts a restore begins.
const putBackLine = "putting back what an interrupted experiment changed"

// A process killed in the middle of an experiment that changed the key
// leaves the key changed and says so in the progress; the next process that
// runs a step or an experiment puts the key back first, says so, and
// forgets the record. The demo's fake AWS is shared through its state file
// by the processes.
func TestKilledExperimentIsPutBackByTheNextProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a process")
	}
	tests := []struct {
		id, killedAt string
		left         types.KeyState // what the kill leaves
		action       steps.RestoreAction
		next         func(s *setup) *lines // what the learner runs next
		want         types.KeyState
	}{
		{"disabled-key", "DisableKey", types.KeyStateDisabled, steps.RestoreEnable, func(s *setup) *lines {
			l, err := s.run(3)
			if err != nil {
				s.t.Fatalf("step 3 after the kill: %v (advice: %+v)", err, steps.Explain(err))
			}
			return l
		}, types.KeyStateEnabled},
		{"disabled-key", "Decrypt", types.KeyStateDisabled, steps.RestoreEnable, func(s *setup) *lines {
			l, _, _ := s.mustTry("disabled-key", "")
			return l
		}, types.KeyStateEnabled},
		{"pending-deletion", "CancelKeyDeletion", types.KeyStateDisabled, steps.RestoreScheduleDeletion, func(s *setup) *lines {
			l, err := s.run(6)
			if err != nil {
				s.t.Fatalf("step 6 after the kill: %v (advice: %+v)", err, steps.Explain(err))
			}
			return l
		}, types.KeyStatePendingDeletion},
		{"pending-deletion", "EnableKey", types.KeyStateEnabled, steps.RestoreScheduleDeletion, func(s *setup) *lines {
			l, d, _ := s.mustTry("pending-deletion", "")
			if !d.AsPredicted {
				s.t.Errorf("the experiment again: outcome %+v, want KMSInvalidStateException: the key was not pending deletion when it began", d)
			}
			return l
		}, types.KeyStatePendingDeletion},
	}
	for _, tt := range tests {
		t.Run(tt.id+" killed at "+tt.killedAt, func(t *testing.T) {
			s := newSetup(t)
			s.mustRun(1, 2)
			if tt.id == "pending-deletion" {
				s.mustRun(6)
			}
			s.killDuring(tt.id, tt.killedAt)

			left := s.state()
			keyARN := left.KeyARN
			if got := keyState(t, s.kmsClient(), keyARN); got != tt.left {
				t.Fatalf("after the kill the key is %s, want %s", got, tt.left)
			}
			rec := left.Restore
			if rec == nil || rec.KeyARN != keyARN || rec.Action != tt.action || rec.Experiment != tt.id {
				t.Fatalf("after the kill the progress records %+v, want %s of %s by %s", rec, tt.action, keyARN, tt.id)
			}

			l := tt.next(s)
			texts := l.texts()
			i := slices.IndexFunc(texts, func(t string) bool { return strings.HasPrefix(t, putBackLine) })
			if i != 0 {
				t.Errorf("lines %q, want the first to say %q", texts, putBackLine)
			}
			if got := keyState(t, s.kmsClient(), keyARN); got != tt.want {
				t.Errorf("after the next run the key is %s, want %s, as before the experiment", got, tt.want)
			}
			st := s.state()
			if st.Restore != nil {
				t.Errorf("after the key was put back the progress still records %+v", st.Restore)
			}
			if tt.want == types.KeyStatePendingDeletion && st.KeyDeletionDate.IsZero() {
				t.Errorf("the key is pending deletion again, but the progress has no deletion date")
			}
			// Once put back, nothing is put back again.
			l, _ = s.run(4)
			if l.contains(putBackLine) {
				t.Errorf("a second run put the key back again: %q", l.texts())
			}
		})
	}
}

// A restore that fails keeps the record and says what to run by hand, with
// the flags that reach the learner's account; the next start tries again.
func TestFailedRestoreIsTriedAgainAndSaysWhatToRun(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	keyARN := s.state().KeyARN

	w, fake := s.openWithFake()
	fake.InjectFault(fakeaws.AccessDeniedFault("kms", "EnableKey"))
	err := steps.RunExperiment(context.Background(), w, "disabled-key", "", &lines{})
	s.exit(w)
	if err == nil {
		t.Fatal("disabled-key with EnableKey denied succeeded")
	}
	wantCommand := "`aws kms enable-key --key-id " + keyARN
	if hint := steps.Explain(err).Hint; !strings.Contains(hint, wantCommand) {
		t.Errorf("hint %q, want the command %s", hint, wantCommand)
	}
	if rec := s.state().Restore; rec == nil || rec.Action != steps.RestoreEnable {
		t.Fatalf("after a failed restore the progress records %+v, want enable-key", rec)
	}

	// On real AWS, still denied: the step does not run, and the command
	// printed reaches the region (and profile) in use.
	w, fake = s.openWithFake()
	fake.InjectFault(fakeaws.AccessDeniedFault("kms", "EnableKey"))
	w.Clients.Live = true
	w.Profile = "workshop"
	var l lines
	err = steps.Run(context.Background(), w, 3, &l)
	w.Clients.Live = false
	s.exit(w)
	a := steps.Explain(err)
	wantCommand = fmt.Sprintf("`aws kms enable-key --key-id %s --region %s --profile workshop`", keyARN, fakeaws.DefaultRegion)
	if err == nil || !strings.Contains(a.Hint, wantCommand) || !strings.Contains(a.Hint, "kms:EnableKey") {
		t.Errorf("step 3 with the restore denied = %v, advice %+v; want an error whose hint names kms:EnableKey and %s", err, a, wantCommand)
	}
	if !strings.HasPrefix(a.What, "step 3: put back KMS key "+keyARN) || !strings.Contains(a.What, "access denied") {
		t.Errorf("step 3 with the restore denied says %q, want what could not be put back, and why", a.What)
	}
	if !l.contains("in your AWS account") {
		t.Errorf("lines %q, want the restore said to happen in the learner's AWS account", l.texts())
	}
	if l.contains(steps.All()[2].Success) {
		t.Errorf("step 3 ran although the key could not be put back: %q", l.texts())
	}
	if s.state().Restore == nil {
		t.Fatalf("after a second failed restore the record is gone")
	}

	// Allowed again: put back, then step 3 decrypts.
	l2, err := s.run(3)
	if err != nil {
		t.Fatalf("step 3 once EnableKey is allowed: %v (advice: %+v)", err, steps.Explain(err))
	}
	if !l2.contains(putBackLine) || !l2.contains("enabled KMS key "+keyARN+" again") {
		t.Errorf("lines %q, want the key said to be put back", l2.texts())
	}
	if got := keyState(t, s.kmsClient(), keyARN); got != types.KeyStateEnabled {
		t.Errorf("key state = %s, want Enabled", got)
	}
	if s.state().Restore != nil {
		t.Errorf("the record stays after the key was put back")
	}
}

// The restore looks before it acts: what the key already is, or what the
// learner did to it since, is left as it is, and the record is forgotten.
func TestRestoreDoesNotFightTheLearner(t *testing.T) {
	tests := []struct {
		name    string
		action  steps.RestoreAction
		arrange func(k *kms.Client, keyARN string) string // returns the key the record names
		says    string
		want    types.KeyState // "" for a key that does not exist
		calls   []string       // the calls that change a key, want none
	}{
		{"enable a key already enabled", steps.RestoreEnable, func(k *kms.Client, keyARN string) string { return keyARN },
			"is enabled: nothing to put back", types.KeyStateEnabled, nil},
		{"enable a key the learner scheduled for deletion since", steps.RestoreEnable, func(k *kms.Client, keyARN string) string {
			k.DisableKey(context.Background(), &kms.DisableKeyInput{KeyId: aws.String(keyARN)})
			k.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)})
			return keyARN
		}, "left as it is", types.KeyStatePendingDeletion, nil},
		{"schedule a key already pending deletion", steps.RestoreScheduleDeletion, func(k *kms.Client, keyARN string) string {
			k.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)})
			return keyARN
		}, "already scheduled for deletion", types.KeyStatePendingDeletion, nil},
		{"schedule a key that no longer exists", steps.RestoreScheduleDeletion, func(k *kms.Client, keyARN string) string {
			prefix, _, _ := strings.Cut(keyARN, ":key/")
			return prefix + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "no longer exists: nothing to put back", "", nil},
		{"schedule a key cse-workshop did not make", steps.RestoreScheduleDeletion, func(k *kms.Client, keyARN string) string {
			out, err := k.CreateKey(context.Background(), &kms.CreateKeyInput{})
			if err != nil {
				panic(err)
			}
			return aws.ToString(out.KeyMetadata.Arn)
		}, "cse-workshop does not delete it", types.KeyStateEnabled, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			s.mustRun(1, 2)
			named := tt.arrange(s.kmsClient(), s.state().KeyARN)
			w := s.open()
			w.State.Restore = &steps.PendingRestore{Experiment: "disabled-key", KeyARN: named, Action: tt.action, PendingWindowInDays: 7}
			if err := w.Save(); err != nil {
				t.Fatal(err)
			}
			s.exit(w)

			w = s.open()
			var l lines
			steps.Run(context.Background(), w, 4, &l)
			var changes []string
			for _, c := range w.Clients.Calls.Calls() {
				if c.Operation == "EnableKey" || c.Operation == "ScheduleKeyDeletion" || c.Operation == "CancelKeyDeletion" {
					changes = append(changes, c.Operation)
				}
			}
			s.exit(w)
			if !l.contains(putBackLine) || !l.contains(tt.says) {
				t.Errorf("lines %q, want %q then %q", l.texts(), putBackLine, tt.says)
			}
			if len(changes) != 0 {
				t.Errorf("calls that change a key: %q, want none", changes)
			}
			if tt.want != "" {
				if got := keyState(t, s.kmsClient(), named); got != tt.want {
					t.Errorf("key state = %s, want %s", got, tt.want)
				}
			}
			if rec := s.state().Restore; rec != nil {
				t.Errorf("the record stays: %+v", rec)
			}
		})
	}
}

// On real AWS the restore of the learner's own key asks nothing: the
// learner agreed to the experiment, which always puts the key back.
func TestRestoreOnRealAWSAsksNothing(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 6)
	w := s.open()
	keyARN := w.State.KeyARN
	w.Clients.KMS.CancelKeyDeletion(context.Background(), &kms.CancelKeyDeletionInput{KeyId: aws.String(keyARN)})
	w.State.Restore = &steps.PendingRestore{Experiment: "pending-deletion", KeyARN: keyARN, Action: steps.RestoreScheduleDeletion, PendingWindowInDays: 7}
	w.Clients.Live = true
	w.Confirm = func(_ context.Context, q string) bool {
		t.Errorf("asked %q", q)
		return false
	}
	var l lines
	err := steps.Run(context.Background(), w, 6, &l)
	w.Clients.Live = false
	s.exit(w)
	if err != nil {
		t.Fatalf("step 6 = %v", err)
	}
	if !l.contains(putBackLine) || !l.contains("in your AWS account") || !l.contains("scheduled KMS key "+keyARN+" for deletion again") {
		t.Errorf("lines %q, want the restore said, in the learner's AWS account", l.texts())
	}
	if got := keyState(t, s.kmsClient(), keyARN); got != types.KeyStatePendingDeletion {
		t.Errorf("key state = %s, want PendingDeletion", got)
	}
}

// What an experiment records while it runs is gone from the file once the
// key is back: a progress file written before the record existed, and one
// written after, have no trace of it.
func TestNoRestoreRecordAfterAnExperiment(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	var during *steps.PendingRestore
	w := s.open()
	r := steps.ReporterFunc(func(l steps.Line) {
		if strings.Contains(l.Text, "is disabled") {
			during = s.savedRestore()
		}
	})
	if err := steps.RunExperiment(context.Background(), w, "disabled-key", "", r); err != nil {
		t.Fatal(err)
	}
	s.exit(w)
	if during == nil || during.Action != steps.RestoreEnable {
		t.Errorf("while the key was disabled the saved progress recorded %+v, want enable-key", during)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, ".cse-workshop", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"restore"`)) {
		t.Errorf("state.json after the experiment:\n%s\nwant no restore record", b)
	}
}

// savedRestore reads the restore record in the progress file, while the
// workshop is held by another.
func (s *setup) savedRestore() *steps.PendingRestore {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, ".cse-workshop", "state.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	var c struct {
		Backends map[string]struct {
			Restore *steps.PendingRestore `json:"restore"`
		} `json:"backends"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		s.t.Fatal(err)
	}
	return c.Backends["demo"].Restore
}

// Starting over keeps a restore still to do.
func TestResetKeepsTheRestore(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 6)
	w := s.open()
	defer s.exit(w)
	rec := &steps.PendingRestore{Experiment: "pending-deletion", KeyARN: w.State.KeyARN, Action: steps.RestoreScheduleDeletion}
	w.State.Restore = rec
	w.Reset()
	if w.State.Restore == nil || *w.State.Restore != *rec {
		t.Errorf("after Reset the restore is %+v, want %+v", w.State.Restore, rec)
	}
	if c := w.State.Clone(); c.Restore == w.State.Restore {
		t.Errorf("Clone shares the restore record")
	}
}
