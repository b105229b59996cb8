package steps_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient"
	"cse-workshop/steps"
)

// TestStepAdviceAboutTheKey: when the workshop's KMS key or alias changes
// behind its back, the advice names the step and what to do in this
// workshop, and never advice meant for encrypt or decrypt (--key), nor a
// bare AWS CLI command that, in the demo, would reach a real AWS account.
func TestStepAdviceAboutTheKey(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		done   []int // steps run before the change
		change func(k *kms.Client, keyARN string) error
		step   int
		what   []string
		hint   []string
	}{{
		name: "step 2, alias deleted",
		done: []int{1},
		change: func(k *kms.Client, _ string) error {
			_, err := k.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(steps.AliasName)})
			return err
		},
		step: 2,
		what: []string{"step 2: ", steps.AliasName, "does not exist"},
		hint: []string{"run step 1 again", "then step 2"},
	}, {
		name: "step 2, key pending deletion",
		done: []int{1},
		change: func(k *kms.Client, keyARN string) error {
			_, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)})
			return err
		},
		step: 2,
		what: []string{"step 2: ", "scheduled for deletion"},
		hint: []string{"run step 1 again", "cancel the deletion", "then step 2"},
	}, {
		name: "step 3, key pending deletion",
		done: []int{1, 2},
		change: func(k *kms.Client, keyARN string) error {
			_, err := k.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)})
			return err
		},
		step: 3,
		what: []string{"step 3: ", "scheduled for deletion"},
		hint: []string{"run step 1 again", "then step 3"},
	}, {
		name: "step 3, key disabled",
		done: []int{1, 2},
		change: func(k *kms.Client, keyARN string) error {
			_, err := k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyARN)})
			return err
		},
		step: 3,
		what: []string{"step 3: ", "is disabled"},
		hint: []string{"`aws kms enable-key --key-id arn:aws:kms:", "cse-workshop mock-aws --dir ", "run step 3 again", "step 6"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSetup(t)
			s.mustRun(tc.done...)
			keyARN := s.state().KeyARN
			if err := tc.change(s.kmsClient(), keyARN); err != nil {
				t.Fatal(err)
			}
			_, err := s.run(tc.step)
			if err == nil {
				t.Fatalf("step %d = success, want error", tc.step)
			}
			a := steps.Explain(err)
			for _, w := range tc.what {
				if !strings.Contains(a.What, w) {
					t.Errorf("Explain(%s).What = %q, want %q in it", tc.name, a.What, w)
				}
			}
			for _, h := range tc.hint {
				if !strings.Contains(a.Hint, h) {
					t.Errorf("Explain(%s).Hint = %q, want %q in it", tc.name, a.Hint, h)
				}
			}
			for _, bad := range []string{"without --key", "check --key", "https response error"} {
				if strings.Contains(a.What+a.Hint, bad) {
					t.Errorf("Explain(%s) = %+v, want no %q", tc.name, a, bad)
				}
			}
		})
	}
}

// TestPrintedCommandsReachTheSameBackend: a printed AWS CLI command names
// the region and profile of real AWS, and for the demo says that only
// mock-aws lets the AWS CLI reach its keys (a bare `aws kms ...` would act
// on a real account); a printed cse-workshop command keeps --dir and --aws.
func TestPrintedCommandsReachTheSameBackend(t *testing.T) {
	live := &awsclient.Clients{Live: true, Region: "eu-west-1"}
	demo := &awsclient.Clients{Region: "us-east-1"}
	for _, tc := range []struct {
		got, want string
	}{
		{steps.AWSCLI(live, "dev team", "/w", "kms enable-key --key-id K"), "`aws kms enable-key --key-id K --region eu-west-1 --profile 'dev team'`"},
		{steps.AWSCLI(live, "", "/w", "kms a", "kms b"), "`aws kms a --region eu-west-1` then `aws kms b --region eu-west-1`"},
		{steps.AWSCLI(demo, "", "/my w", "kms enable-key --key-id K"),
			"`aws kms enable-key --key-id K` against the demo, served by `cse-workshop mock-aws --dir '/my w'` (it prints the AWS CLI settings to use)"},
		{steps.AWSCLI(&awsclient.Clients{Region: "us-east-1", Endpoint: "http://127.0.0.1:41234"}, "", "/my w", "kms enable-key --key-id K"),
			"`aws kms enable-key --key-id K` against the demo this tutorial serves at http://127.0.0.1:41234, in another terminal after the export lines of its \"your AWS CLI\" screen"},
		{steps.Command(live, "dev", "/w", "step 1"), "`cse-workshop step 1 --dir /w --aws --region eu-west-1 --profile dev`"},
		{steps.Command(demo, "", "", "step 1"), "`cse-workshop step 1`"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
}
