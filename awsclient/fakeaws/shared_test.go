package fakeaws_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// generateDataKeys makes n GenerateDataKey calls under the workshop's alias,
// at once.
func (c *clients) generateDataKeys(t *testing.T, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.kms.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GenerateDataKey: %v", err)
		}
	}
}

// deliveredEvents counts the events of name in the state file, as a new
// server sees them once every event has been delivered.
func deliveredEvents(t *testing.T, stateFile, name string) int {
	t.Helper()
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(time.Now().Add(time.Hour)), Delivery: testDelivery})
	out, err := c.trail.LookupEvents(context.Background(), byName(name))
	if err != nil {
		t.Fatalf("LookupEvents(%s): %v", name, err)
	}
	return len(out.Events)
}

// Servers sharing one state file are processes of the workshop running at
// the same time on one folder (mock-aws, a step, encrypts): each must see
// what the others saved, and no change may be lost.
func TestServersShareTheStateFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), ".cse-workshop", "fake-aws.json")
	opts := fakeaws.Options{StateFile: stateFile, Clock: clock.Real{}, Delivery: testDelivery}
	// All started before the key exists, as mock-aws would be.
	servers := []*clients{newClients(t, opts), newClients(t, opts), newClients(t, opts), newClients(t, opts)}

	key := servers[0].createKey(t, workshopAlias)
	for i, c := range servers[1:] {
		desc, err := c.kms.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
		if err != nil {
			t.Fatalf("server %d: DescribeKey(%s) made by another server: %v", i+1, workshopAlias, err)
		}
		if got := aws.ToString(desc.KeyMetadata.KeyId); got != aws.ToString(key.KeyId) {
			t.Errorf("server %d: %s names key %s, want %s", i+1, workshopAlias, got, aws.ToString(key.KeyId))
		}
	}

	// A data key made by one server opens on another: the key material is
	// the same.
	gen, err := servers[1].kms.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := servers[2].kms.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext}); err != nil {
		t.Errorf("Decrypt on one server of a data key made by another: %v", err)
	}

	var wg sync.WaitGroup
	for _, c := range servers {
		wg.Go(func() { c.generateDataKeys(t, 10) })
	}
	wg.Wait()
	if n := deliveredEvents(t, stateFile, "GenerateDataKey"); n != 41 {
		t.Errorf("GenerateDataKey events after 41 calls through 4 servers on one state file = %d, want 41", n)
	}
	keys, err := servers[3].kms.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Errorf("ListKeys = %v, %v; want the one key", keys, err)
	}
}

// childEnv makes the test binary a child process of
// TestProcessesShareTheStateFile: it names the state file.
const childEnv = "FAKEAWS_TEST_CHILD_STATE"

// TestChildProcess is the work of one child process: GenerateDataKey calls
// on the state file its parent names.
func TestChildProcess(t *testing.T) {
	stateFile := os.Getenv(childEnv)
	if stateFile == "" {
		t.Skip("only run as a child process of TestProcessesShareTheStateFile")
	}
	calls, err := strconv.Atoi(os.Getenv(childEnv + "_CALLS"))
	if err != nil {
		t.Fatal(err)
	}
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clock.Real{}, Delivery: testDelivery})
	c.generateDataKeys(t, calls)
}

// The same, with processes: a long-running server (as mock-aws) and short
// ones (as encrypt) on one state file, all at once.
func TestProcessesShareTheStateFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	stateFile := filepath.Join(t.TempDir(), ".cse-workshop", "fake-aws.json")
	clk := clock.NewFake(time.Now())
	long := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: testDelivery})
	long.clock = clk
	long.createKey(t, workshopAlias)

	const processes, calls = 5, 6
	var cmds []*exec.Cmd
	var outputs []*bytes.Buffer
	for range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+stateFile, fmt.Sprintf("%s_CALLS=%d", childEnv, calls))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outputs = append(cmds, cmd), append(outputs, &out)
	}
	long.generateDataKeys(t, calls)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("child process %d: %v\n%s", i, err, outputs[i])
		}
	}
	// The long-running server sees the others' calls, as mock-aws must.
	want := (processes + 1) * calls
	long.clock.Advance(time.Hour)
	out, err := long.trail.LookupEvents(context.Background(), byName("GenerateDataKey"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != want {
		t.Errorf("GenerateDataKey events after %d calls from %d processes on one state file = %d, want %d", want, processes+1, len(out.Events), want)
	}
}
