package steps_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// interrupter stands between a KMS client and KMS. When the request for
// one operation has been carried out, the first time, it cancels the step's
// context, as if the person pressed Ctrl-C while the answer was on its way
// (lose) or just after it came back; or, without cancel, it loses the
// answer as a dropped connection would, and the SDK tries again.
type interrupter struct {
	inner  kms.HTTPClient
	op     string
	lose   bool
	cancel context.CancelFunc // nil: a network failure, not Ctrl-C
	done   bool
}

func (i *interrupter) Do(r *http.Request) (*http.Response, error) {
	resp, err := i.inner.Do(r)
	if i.done || r.Header.Get("X-Amz-Target") != "TrentService."+i.op {
		return resp, err
	}
	i.done = true
	if i.cancel == nil {
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	i.cancel()
	if i.lose && err == nil {
		resp.Body.Close()
		return nil, context.Canceled
	}
	return resp, err
}

// interruptAt makes the workshop's KMS client interrupt op; see
// interrupter.
func interruptAt(w *steps.Workshop, op string, lose bool, cancel context.CancelFunc) {
	w.Clients.KMS = kms.New(w.Clients.KMS.Options(), func(o *kms.Options) {
		o.HTTPClient = &interrupter{inner: o.HTTPClient, op: op, lose: lose, cancel: cancel}
	})
}

// scheduledKey finds the key ARN in a line saying a key was scheduled for
// deletion.
var scheduledKey = regexp.MustCompile(`scheduled KMS key (\S+) for deletion`)

// checkLinesAreTrue checks what the lines of step 1 say against the fake:
// a key said to be scheduled for deletion is, and an alias said not to be
// there is not.
func (s *setup) checkLinesAreTrue(l *lines) {
	s.t.Helper()
	k := s.kmsClient()
	for _, text := range l.texts() {
		if m := scheduledKey.FindStringSubmatch(text); m != nil {
			if got := keyState(s.t, k, m[1]); got != types.KeyStatePendingDeletion {
				s.t.Errorf("step 1 said %q, but the key is %s", text, got)
			}
		}
		if strings.Contains(text, "alias was not created") || strings.Contains(text, "no alias") {
			if _, err := k.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(steps.AliasName)}); err == nil {
				s.t.Errorf("step 1 said %q, but %s exists", text, steps.AliasName)
			}
		}
	}
}

// liveWorkshopKeys returns the ARNs of the keys tagged created-by=cse-workshop
// that are not pending deletion: keys that would be billed.
func (s *setup) liveWorkshopKeys() []string {
	s.t.Helper()
	k := s.kmsClient()
	ctx := context.Background()
	out, err := k.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		s.t.Fatal(err)
	}
	var live []string
	for _, key := range out.Keys {
		tags, err := k.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
		if err != nil {
			s.t.Fatal(err)
		}
		for _, tag := range tags.Tags {
			if aws.ToString(tag.TagKey) == "created-by" && aws.ToString(tag.TagValue) == "cse-workshop" &&
				keyState(s.t, k, aws.ToString(key.KeyArn)) != types.KeyStatePendingDeletion {
				live = append(live, aws.ToString(key.KeyArn))
			}
		}
	}
	return live
}

// leftOverKey makes a key tagged as step 1 tags its key for folder, without
// the alias, as a step 1 killed after CreateKey leaves it; it returns its
// ARN. The clock moves on a minute, so that the next key is newer.
func (s *setup) leftOverKey(folder string) string {
	s.t.Helper()
	out, err := s.kmsClient().CreateKey(context.Background(), &kms.CreateKeyInput{
		Description: aws.String(steps.KeyDescription),
		Tags: []types.Tag{
			{TagKey: aws.String("crypto-aws-encryption"), TagValue: aws.String("builder-aws-session")},
			{TagKey: aws.String("created-by"), TagValue: aws.String("cse-workshop")},
			{TagKey: aws.String("cse-workshop-folder"), TagValue: aws.String(folder)},
		},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	s.clock.(*clock.Fake).Advance(time.Minute)
	return aws.ToString(out.KeyMetadata.Arn)
}

// TestStep1InterruptedThenResumed: Ctrl-C at any point of step 1 leaves no
// key live without the alias once step 1 is run again and step 6 has run,
// and what step 1 says on the way is true.
func TestStep1InterruptedThenResumed(t *testing.T) {
	tests := []struct {
		name string
		op   string
		lose bool
		keys int // keys made in all, once step 1 succeeded
	}{
		{"CreateKey's answer lost", "CreateKey", true, 2},
		{"Ctrl-C after CreateKey", "CreateKey", false, 2},
		{"CreateAlias's answer lost", "CreateAlias", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			w := s.open()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			interruptAt(w, tt.op, tt.lose, cancel)
			var l lines
			err := steps.Run(ctx, w, 1, &l)
			s.exit(w)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("step 1 interrupted = %v, want context.Canceled", err)
			}
			s.checkLinesAreTrue(&l)
			if tt.op == "CreateKey" {
				if live := s.liveWorkshopKeys(); len(live) != 0 {
					t.Errorf("keys live after step 1 was interrupted: %v, want none", live)
				}
			}

			l2, err := s.run(1)
			if err != nil {
				t.Fatalf("step 1 again = %v, want success (advice %+v)", err, steps.Explain(err))
			}
			s.checkLinesAreTrue(l2)
			if got := keyCount(t, s.kmsClient()); got != tt.keys {
				t.Errorf("keys after step 1 again = %d, want %d", got, tt.keys)
			}
			s.mustRun(2, 3, 6)
			if live := s.liveWorkshopKeys(); len(live) != 0 {
				t.Errorf("keys live after step 6 = %v, want none", live)
			}
		})
	}
}

// TestStep1LostAnswerRetried: when a lost answer makes the SDK send
// CreateKey or CreateAlias again, the first request may have gone through:
// step 1 still succeeds, and step 6 leaves no key of the folder live.
func TestStep1LostAnswerRetried(t *testing.T) {
	for _, op := range []string{"CreateKey", "CreateAlias"} {
		t.Run(op, func(t *testing.T) {
			s := newSetup(t)
			w := s.open()
			interruptAt(w, op, true, nil)
			var l lines
			err := steps.Run(context.Background(), w, 1, &l)
			s.exit(w)
			if err != nil {
				t.Fatalf("step 1 with %s's answer lost once = %v, want success (advice %+v)", op, err, steps.Explain(err))
			}
			s.checkLinesAreTrue(&l)
			s.mustRun(2, 3, 6)
			if live := s.liveWorkshopKeys(); len(live) != 0 {
				t.Errorf("keys live after step 6 = %v, want none", live)
			}
		})
	}
}

// TestStep1FinishesAKeyLeftWithoutAlias: step 1 killed after CreateKey
// leaves its key without the alias; the next step 1 gives the alias to the
// newest such key of the folder and schedules the deletion of the others,
// and leaves other folders' keys alone.
func TestStep1FinishesAKeyLeftWithoutAlias(t *testing.T) {
	s := newSetup(t)
	elsewhere := s.leftOverKey("/another/folder")
	older := s.leftOverKey(s.dir)
	newer := s.leftOverKey(s.dir)

	l, err := s.run(1)
	if err != nil {
		t.Fatalf("step 1 = %v, want success", err)
	}
	s.checkLinesAreTrue(l)
	if got := s.state().KeyARN; got != newer {
		t.Errorf("workshop key = %s, want the newest key left without alias, %s", got, newer)
	}
	if !l.contains("finishing") {
		t.Errorf("step 1 said %q, want it to say it finishes a key it had made", l.texts())
	}
	k := s.kmsClient()
	if got := keyState(t, k, older); got != types.KeyStatePendingDeletion {
		t.Errorf("older key left without alias = %s, want PendingDeletion", got)
	}
	if got := keyState(t, k, elsewhere); got != types.KeyStateEnabled {
		t.Errorf("another folder's key = %s, want Enabled", got)
	}
	if got := keyCount(t, k); got != 3 {
		t.Errorf("keys = %d, want 3 (no new one)", got)
	}
}

// TestStep6DeletesKeysLeftBehind: step 6 schedules the deletion of every
// key step 1 made for the folder, not only the one in the progress file.
func TestStep6DeletesKeysLeftBehind(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	elsewhere := s.leftOverKey("/another/folder")
	left := s.leftOverKey(s.dir)

	l, err := s.run(6)
	if err != nil {
		t.Fatalf("step 6 = %v, want success", err)
	}
	k := s.kmsClient()
	if got := keyState(t, k, left); got != types.KeyStatePendingDeletion {
		t.Errorf("key left behind after step 6 = %s, want PendingDeletion", got)
	}
	if !l.contains("scheduled KMS key " + left + " for deletion") {
		t.Errorf("step 6 said %q, want it to say it scheduled %s for deletion", l.texts(), left)
	}
	if got := keyState(t, k, elsewhere); got != types.KeyStateEnabled {
		t.Errorf("another folder's key after step 6 = %s, want Enabled", got)
	}
	if live := s.liveWorkshopKeys(); len(live) != 1 || live[0] != elsewhere {
		t.Errorf("keys live after step 6 = %v, want only %s", live, elsewhere)
	}
}
