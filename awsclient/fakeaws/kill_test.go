package fakeaws_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// killedChildEnv makes the test binary a child process of
// TestKilledAtAnyMomentLoads: it names the state file.
const killedChildEnv = "FAKEAWS_TEST_KILLED_CHILD_STATE"

// TestKilledChild is the work of a child that gets killed: calls that
// change keys and aliases, calls that only log, key deletions and, as its
// clock runs 20 days a round, compactions of the event log, until killed.
func TestKilledChild(t *testing.T) {
	stateFile := os.Getenv(killedChildEnv)
	if stateFile == "" {
		t.Skip("only run as a child process of TestKilledAtAnyMomentLoads")
	}
	clk := clock.NewFake(time.Now())
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: testDelivery})
	ctx := context.Background()
	for round := 0; ; round++ {
		key, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatal(err)
		}
		id := key.KeyMetadata.KeyId
		alias := fmt.Sprintf("alias/round-%d-%d", os.Getpid(), round)
		if _, err := c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: id}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			gen, err := c.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(alias), KeySpec: types.DataKeySpecAes256})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.kms.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(20 * 24 * time.Hour)
	}
}

// A process killed at any moment (in the middle of a save, an append, a
// compaction) leaves a state that loads, whole: keys, aliases and every
// event of the log. Tried with a child process killed again and again at
// random moments, on one state file.
func TestKilledAtAnyMomentLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	stateFile := filepath.Join(t.TempDir(), ".cse-workshop", "fake-aws.json")
	ctx := context.Background()
	for round := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killedChildEnv+"="+stateFile)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()

		// Far enough ahead that every event is delivered, not so far that
		// they have all expired.
		srv, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(time.Now().Add(time.Hour)), Delivery: testDelivery})
		if err != nil {
			t.Fatalf("round %d: New after a kill = %v, want the state to load", round, err)
		}
		cfg := sdkConfig(srv)
		if _, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("round %d: LookupEvents after a kill = %v, want the event log to load", round, err)
		}
		client := kms.NewFromConfig(cfg)
		aliases, err := client.ListAliases(ctx, &kms.ListAliasesInput{})
		if err != nil {
			t.Fatalf("round %d: ListAliases after a kill: %v", round, err)
		}
		for _, a := range aliases.Aliases {
			if a.TargetKeyId == nil {
				continue // AWS managed aliases, not made yet
			}
			if _, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: a.AliasName}); err != nil {
				t.Errorf("round %d: DescribeKey(%s) after a kill: %v", round, aws.ToString(a.AliasName), err)
			}
		}
	}
	if _, err := os.Stat(eventLogOf(stateFile)); err != nil {
		t.Errorf("no event log after the children's calls: %v", err)
	}
}
