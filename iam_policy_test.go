package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/awsclient"
)

// policyActions returns the actions docs/iam-policy.json allows.
func policyActions(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(awsclient.IAMPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Effect string
			Action json.RawMessage
		}
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatalf("%s: %v", awsclient.IAMPolicyFile, err)
	}
	var actions []string
	for _, s := range policy.Statement {
		if s.Effect != "Allow" {
			continue
		}
		var one string
		var many []string
		if json.Unmarshal(s.Action, &one) == nil {
			many = []string{one}
		} else if err := json.Unmarshal(s.Action, &many); err != nil {
			t.Fatalf("%s: Action %s: %v", awsclient.IAMPolicyFile, s.Action, err)
		}
		for _, a := range many {
			if !slices.Contains(actions, a) {
				actions = append(actions, a)
			}
		}
	}
	slices.Sort(actions)
	return actions
}

// TestIAMPolicyMatchesTheCallsMade runs every live path the workshop has —
// the six steps, reusing a key whose deletion is cancelled, and both
// encryption schemes of encrypt/decrypt — against the fake over a socket,
// and checks that the actions the call recorders saw are exactly the ones
// the published policy allows.
func TestIAMPolicyMatchesTheCallsMade(t *testing.T) {
	clk := autoClock()
	liveFake(t, clk)
	dir := t.TempDir()

	var mu sync.Mutex
	var recorders []*awsclient.Recorder
	invoke := func(args ...string) {
		t.Helper()
		devNull, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer devNull.Close()
		var out, errOut bytes.Buffer
		a := &app{stdin: devNull, stdout: &out, stderr: &errOut, clock: clk,
			onClients: func(c *awsclient.Clients) {
				mu.Lock()
				defer mu.Unlock()
				recorders = append(recorders, c.Calls)
			}}
		if code := a.main(append(args, "--aws", "--yes", "--dir", dir)); code != exitOK {
			t.Fatalf("%q: exit %d; stderr:\n%s", args, code, errOut.String())
		}
	}

	invoke("run", "--fast")

	// A key of ours pending deletion behind the alias: step 1 cancels the
	// deletion and enables the key again.
	invoke("step", "1")
	c, err := awsclient.New(context.Background(), awsclient.Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	key, err := c.KMS.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String("alias/kms_key_cse_usecase_3")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.KMS.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{
		KeyId: key.KeyMetadata.Arn, PendingWindowInDays: aws.Int32(7),
	}); err != nil {
		t.Fatal(err)
	}
	invoke("step", "1")

	files := t.TempDir()
	in := filepath.Join(files, "notes.txt")
	if err := os.WriteFile(in, []byte("meet at noon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, flags := range map[string][]string{
		"esdk": nil,
		"kms":  {"--format", "csew", "--scheme", "kms"},
		"tink": {"--format", "csew", "--scheme", "tink"},
	} {
		enc := filepath.Join(files, name+".enc")
		invoke(append([]string{"encrypt", in, enc}, flags...)...)
		invoke("decrypt", enc, filepath.Join(files, name+".txt"))
	}
	invoke("step", "6")

	var called []string
	for _, r := range recorders {
		for _, op := range r.Operations() {
			if !slices.Contains(called, op) {
				called = append(called, op)
			}
		}
	}
	// CreateKey with tags is also authorised as kms:TagResource, which the
	// code never calls on its own.
	called = append(called, "kms:TagResource")
	slices.Sort(called)

	if diff := cmp.Diff(policyActions(t), called); diff != "" {
		t.Errorf("%s allows (-) other actions than the workshop calls (+):\n%s", awsclient.IAMPolicyFile, diff)
	}
}
