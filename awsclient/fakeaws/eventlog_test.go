package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// eventLogOf is the event log beside a state file.
func eventLogOf(stateFile string) string {
	return strings.TrimSuffix(stateFile, ".json") + ".events.jsonl"
}

// generateDataKey makes one GenerateDataKey call under the workshop's alias.
func (c *clients) generateDataKey(t *testing.T) *kms.GenerateDataKeyOutput {
	t.Helper()
	out, err := c.kms.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	return out
}

// eventIDs looks up every delivered event of name, newest first, on a new
// server of the state file whose clock reads at.
func eventIDs(t *testing.T, stateFile string, at time.Time, name string) []string {
	t.Helper()
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(at), Delivery: testDelivery})
	return lookupIDs(t, c, name)
}

func lookupIDs(t *testing.T, c *clients, name string) []string {
	t.Helper()
	in := &cloudtrail.LookupEventsInput{}
	if name != "" {
		in = byName(name)
	}
	out, err := c.trail.LookupEvents(context.Background(), in)
	if err != nil {
		t.Fatalf("LookupEvents(%s): %v", name, err)
	}
	var ids []string
	for _, e := range out.Events {
		ids = append(ids, aws.ToString(e.EventId))
	}
	return ids
}

// copyFile copies src to dst, mode 0600.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A state file of version 1 (keys and events in one file, as cse-workshop
// wrote it before the event log) is migrated on first load: the key still
// opens its data keys, the audit trail keeps its events, and the state file
// no longer holds them.
func TestMigrateAVersion1StateFile(t *testing.T) {
	var v1 struct {
		Events []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"events"`
	}
	data, err := os.ReadFile(filepath.Join("testdata", "v1", "fake-aws.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v1); err != nil {
		t.Fatal(err)
	}
	var wantGenerate []string // newest first
	for _, e := range slices.Backward(v1.Events) {
		if e.Name == "GenerateDataKey" {
			wantGenerate = append(wantGenerate, e.ID)
		}
	}
	blob, err := os.ReadFile(filepath.Join("testdata", "v1", "data-key.ciphertext.b64"))
	if err != nil {
		t.Fatal(err)
	}
	ciphertext, err := base64.StdEncoding.DecodeString(string(blob))
	if err != nil {
		t.Fatal(err)
	}
	later := start.Add(time.Hour) // the file's events are of start's day

	for _, tc := range []struct {
		name      string
		strayLog  string // an event log left by a migration killed before it rewrote the state file
		wantCount int
	}{
		{"first load", "", len(wantGenerate)},
		{"migration killed halfway before", "{\"eventLog\":1,\"nextSeq\":0}\n{\"seq\":0,", len(wantGenerate)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
			copyFile(t, filepath.Join("testdata", "v1", "fake-aws.json"), stateFile)
			if tc.strayLog != "" {
				if err := os.WriteFile(eventLogOf(stateFile), []byte(tc.strayLog), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(later), Delivery: testDelivery})
			dec, err := c.kms.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: ciphertext, EncryptionContext: workshopContext})
			if err != nil {
				t.Fatalf("Decrypt of a data key made before the migration: %v", err)
			}
			if len(dec.Plaintext) != 32 {
				t.Errorf("Decrypt gave %d bytes, want the 32 of the data key", len(dec.Plaintext))
			}
			if got := lookupIDs(t, c, "GenerateDataKey"); !slices.Equal(got, wantGenerate) {
				t.Errorf("GenerateDataKey events after the migration = %q, want the file's %q", got, wantGenerate)
			}

			saved, err := os.ReadFile(stateFile)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(saved, []byte(`"version": 2`)) || bytes.Contains(saved, []byte(`"events"`)) {
				t.Errorf("state file after the migration = %s, want version 2 without events", saved)
			}

			// A new server (process) on the migrated state sees the same,
			// and the new events follow the old ones.
			clk := clock.NewFake(later)
			again := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: testDelivery})
			again.clock = clk
			gen := again.generateDataKey(t)
			again.clock.Advance(testDelivery.Max)
			got := lookupIDs(t, again, "GenerateDataKey")
			if len(got) != tc.wantCount+1 || !slices.Equal(got[1:], wantGenerate) {
				t.Errorf("GenerateDataKey events after one more call = %q, want a new one, then %q", got, wantGenerate)
			}
			if _, err := again.kms.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext}); err != nil {
				t.Errorf("Decrypt after the migration: %v", err)
			}
		})
	}
}

// writeHistory makes a state file with a key, its alias and n
// GenerateDataKey calls, a second apart, and returns the state file and
// the clock.
func writeHistory(t *testing.T, n int) (string, *clients) {
	t.Helper()
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Delivery: testDelivery})
	c.createKey(t, workshopAlias)
	for range n {
		c.clock.Advance(time.Second)
		c.generateDataKey(t)
	}
	return stateFile, c
}

// A process killed in the middle of an append leaves a last line without
// its newline: the log still loads, without that event, and the next call
// appends after the last complete line. Tried with the log cut at every
// byte of its last record.
func TestEventLogCutShortLoads(t *testing.T) {
	stateFile, c := writeHistory(t, 3)
	whole, err := os.ReadFile(eventLogOf(stateFile))
	if err != nil {
		t.Fatal(err)
	}
	lastStart := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1
	later := c.clock.Now().Add(testDelivery.Max)
	all := eventIDs(t, stateFile, later, "")
	if len(all) != 5 {
		t.Fatalf("events = %d, want CreateKey, CreateAlias and 3 GenerateDataKey", len(all))
	}
	state, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}

	for cut := lastStart; cut < len(whole); cut++ {
		dir := t.TempDir()
		file := filepath.Join(dir, "fake-aws.json")
		if err := os.WriteFile(file, state, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(eventLogOf(file), whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		srv, err := fakeaws.New(fakeaws.Options{StateFile: file, Clock: clock.NewFake(later), Delivery: testDelivery})
		if err != nil {
			t.Fatalf("New(log cut at byte %d of %d) = %v, want it to load", cut, len(whole), err)
		}
		trail := cloudtrail.NewFromConfig(sdkConfig(srv))
		out, err := trail.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatalf("LookupEvents(log cut at byte %d) = %v", cut, err)
		}
		if len(out.Events) != 4 || aws.ToString(out.Events[0].EventId) != all[1] {
			t.Fatalf("LookupEvents(log cut at byte %d of %d) = %d events, want the 4 before the cut record", cut, len(whole), len(out.Events))
		}
		if cut != lastStart && cut != len(whole)-1 && cut%61 != 0 {
			continue // the append after a cut: at a sample of the cuts, for time
		}
		_, err = kms.NewFromConfig(sdkConfig(srv)).GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256})
		if err != nil {
			t.Fatalf("GenerateDataKey after a log cut at byte %d: %v", cut, err)
		}
		if got := eventIDs(t, file, later.Add(testDelivery.Max), ""); len(got) != 5 || !slices.Equal(got[1:], all[1:]) {
			t.Fatalf("events after a call on a log cut at byte %d = %q, want the new one, then %q", cut, got, all[1:])
		}
	}
}

// A log damaged otherwise (a line in the middle that is not an event, a
// header of another version) is refused with an error that names it.
func TestEventLogDamaged(t *testing.T) {
	stateFile, c := writeHistory(t, 2)
	whole, err := os.ReadFile(eventLogOf(stateFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(whole, []byte("\n"))
	later := c.clock.Now().Add(testDelivery.Max)
	for _, tc := range []struct {
		name, want string
		log        []byte
	}{
		{"garbage line", "line 3", slices.Concat(lines[0], lines[1], []byte("garbage\n"), lines[2])},
		{"events out of order", "does not follow", slices.Concat(lines[0], lines[2], lines[1])},
		{"header of another version", "format version 9", slices.Concat([]byte(`{"eventLog":9}`+"\n"), lines[1])},
		{"no header", "not an event log header", slices.Concat(lines[1], lines[2])},
		{"record not an object", "not a JSON object", slices.Concat(lines[0], bytes.Replace(lines[1], []byte(`"record":{`), []byte(`"record":[1],"was":{`), 1))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(eventLogOf(stateFile), tc.log, 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(later), Delivery: testDelivery})
			if err == nil {
				// Damage past the first and last lines is found when the
				// events are read.
				_, err = cloudtrail.NewFromConfig(sdkConfig(srv)).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
			}
			var fileErr *fakeaws.StateFileError
			if !errors.As(err, &fileErr) || fileErr.Op != fakeaws.StateDamaged || !strings.Contains(err.Error(), eventLogOf(stateFile)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("a log with a %s = %v, want an error saying %s is damaged: %s", tc.name, err, eventLogOf(stateFile), tc.want)
			}
		})
	}
}

// The calls that change no key or alias (GenerateDataKey, Decrypt,
// DescribeKey...) leave the state file alone and append one line each to
// the event log; LookupEvents writes nothing.
func TestReadOnlyCallsOnlyAppend(t *testing.T) {
	stateFile, c := writeHistory(t, 1)
	ctx := context.Background()
	before, err := os.Stat(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	lock, _ := os.ReadFile(stateFile + ".lock")
	logBefore, _ := os.ReadFile(eventLogOf(stateFile))

	gen := c.generateDataKey(t)
	calls := []func() error{
		func() error {
			_, err := c.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext})
			return err
		},
		func() error {
			_, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
			return err
		},
		func() error { _, err := c.kms.ListKeys(ctx, &kms.ListKeysInput{}); return err },
		func() error { _, err := c.sts.GetCallerIdentity(ctx, nil); return err },
		func() error { _, err := c.trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); return err },
	}
	for i, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	after, err := os.Stat(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !before.ModTime().Equal(after.ModTime()) {
		t.Errorf("read-only calls rewrote the state file")
	}
	if lockAfter, _ := os.ReadFile(stateFile + ".lock"); !bytes.Equal(lock, lockAfter) {
		t.Errorf("read-only calls changed the lock file's tokens")
	}
	logAfter, _ := os.ReadFile(eventLogOf(stateFile))
	if !bytes.HasPrefix(logAfter, logBefore) {
		t.Fatalf("the event log was rewritten, want only appends")
	}
	if n := bytes.Count(logAfter[len(logBefore):], []byte("\n")); n != 5 {
		t.Errorf("the event log grew by %d lines, want one for each of the 5 logged calls", n)
	}
}

// A server that has read the log (LookupEvents) reads what another appends
// after, without reading it all again.
func TestLoadedServerSeesOthersAppends(t *testing.T) {
	stateFile, c := writeHistory(t, 2)
	c.clock.Advance(testDelivery.Max)
	if n := len(lookupIDs(t, c, "GenerateDataKey")); n != 2 {
		t.Fatalf("GenerateDataKey events = %d, want 2", n)
	}
	other := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: c.clock, Delivery: testDelivery})
	other.generateDataKey(t)
	c.clock.Advance(testDelivery.Max)
	if n := len(lookupIDs(t, c, "GenerateDataKey")); n != 3 {
		t.Errorf("GenerateDataKey events after another server's call = %d, want 3", n)
	}
	if n := len(lookupIDs(t, other, "GenerateDataKey")); n != 3 {
		t.Errorf("GenerateDataKey events on the other server = %d, want 3", n)
	}
}

// Events older than CloudTrail's 90 days are dropped from the log, and not
// at every call: after a compaction, the next falls due only once half of
// the events kept have expired.
func TestCompactionDropsExpiredEvents(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	c := newClients(t, fakeaws.Options{StateFile: stateFile, Delivery: testDelivery})
	c.createKey(t, workshopAlias)
	for range 10 {
		c.clock.Advance(24 * time.Hour)
		c.generateDataKey(t)
	}
	sizeOf := func() int64 {
		info, err := os.Stat(eventLogOf(stateFile))
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}
	full := sizeOf()
	// 95 days after the first calls: the key's creation and the first 5
	// GenerateDataKey calls have expired.
	c.clock.Set(start.Add(95 * 24 * time.Hour))
	if err := c.srv.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got := sizeOf(); got >= full {
		t.Errorf("event log after the expiry of 7 of 12 events = %d bytes, want less than %d", got, full)
	}
	if n := len(lookupIDs(t, c, "GenerateDataKey")); n != 5 {
		t.Errorf("GenerateDataKey events after 95 days = %d, want the 5 of the last 90 days", n)
	}
	compacted, _ := os.Stat(eventLogOf(stateFile))
	if got := eventIDs(t, stateFile, c.clock.Now(), "GenerateDataKey"); len(got) != 5 {
		t.Errorf("GenerateDataKey events on a new server = %d, want 5", len(got))
	}

	// One more expires: not enough for another compaction.
	c.clock.Advance(24 * time.Hour)
	c.generateDataKey(t)
	if err := c.srv.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	now, _ := os.Stat(eventLogOf(stateFile))
	if !os.SameFile(compacted, now) {
		t.Errorf("the log was compacted again when one more event expired, want it kept until half have")
	}
	c.clock.Advance(testDelivery.Max)
	if n := len(lookupIDs(t, c, "GenerateDataKey")); n != 5 {
		t.Errorf("GenerateDataKey events = %d, want 5 (one expired, one new)", n)
	}
}

// An append that fails (a full disk) fails the call with an error that
// names the event log, and leaves the log as it was: the next call appends
// after its last complete line.
func TestAppendFailureLeavesTheLogWhole(t *testing.T) {
	stateFile, c := writeHistory(t, 1)
	before, _ := os.ReadFile(eventLogOf(stateFile))
	fakeaws.FailSaves(c.srv, syscall.ENOSPC)
	_, err := c.kms.GenerateDataKey(context.Background(), &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256})
	var fileErr *fakeaws.StateFileError
	if !errors.As(err, &fileErr) || !errors.Is(err, syscall.ENOSPC) || fileErr.Path != eventLogOf(stateFile) {
		t.Errorf("GenerateDataKey on a full disk = %v, want a StateFileError on %s", err, eventLogOf(stateFile))
	}
	if after, _ := os.ReadFile(eventLogOf(stateFile)); !bytes.Equal(before, after) {
		t.Errorf("the event log changed after a failed append")
	}
	fakeaws.FailSaves(c.srv, nil)
	c.generateDataKey(t)
	if got := eventIDs(t, stateFile, c.clock.Now().Add(testDelivery.Max), "GenerateDataKey"); len(got) != 2 {
		t.Errorf("GenerateDataKey events = %d, want the first and the one after the failure", len(got))
	}
}
