package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

// A second server on the same state file is a new process of the workshop:
// it must find the first one's key, alias, tags and audit trail, and
// decrypt what the first one encrypted; also when the first one did not
// wait for the disk (SkipSync, as a served room's accounts do).
func TestStateSurvivesANewServer(t *testing.T) {
	for _, skipSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("SkipSync=%t", skipSync), func(t *testing.T) { testStateSurvivesANewServer(t, skipSync) })
	}
}

func testStateSurvivesANewServer(t *testing.T, skipSync bool) {
	dir := filepath.Join(t.TempDir(), "usecase-3", ".cse-workshop")
	stateFile := filepath.Join(dir, "fake-aws.json")
	ctx := context.Background()

	first := newClients(t, fakeaws.Options{StateFile: stateFile, Delivery: testDelivery, SkipSync: skipSync})
	key := first.createKey(t, workshopAlias)
	gen, err := first.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}

	dirInfo, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("state folder: %v", err)
	}
	if got := dirInfo.Mode().Perm(); got != 0o700 {
		t.Errorf("state folder mode = %o, want 700", got)
	}
	fileInfo, err := os.Stat(stateFile)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	if got := fileInfo.Mode().Perm(); got != 0o600 {
		t.Errorf("state file mode = %o, want 600", got)
	}
	for _, name := range []string{stateFile, filepath.Join(dir, "fake-aws.events.jsonl")} {
		saved, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read state file: %v", err)
		}
		if bytes.Contains(saved, []byte(base64.StdEncoding.EncodeToString(gen.Plaintext))) || bytes.Contains(saved, gen.Plaintext) {
			t.Errorf("%s contains the plaintext data key", filepath.Base(name))
		}
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(name), got)
		}
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"fake-aws.events.jsonl", "fake-aws.json", "fake-aws.json.lock"}; !slices.Equal(names, want) {
		t.Errorf("state folder holds %q, want only %q (no temporary files left)", names, want)
	}

	clk := clock.NewFake(first.clock.Now().Add(testDelivery.Max))
	second := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: testDelivery})
	second.clock = clk
	desc, err := second.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if err != nil {
		t.Fatalf("DescribeKey(alias) on a new server: %v", err)
	}
	if aws.ToString(desc.KeyMetadata.KeyId) != aws.ToString(key.KeyId) {
		t.Errorf("alias on a new server names key %s, want %s", aws.ToString(desc.KeyMetadata.KeyId), aws.ToString(key.KeyId))
	}
	dec, err := second.kms.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("Decrypt on a new server: %v", err)
	}
	if !bytes.Equal(dec.Plaintext, gen.Plaintext) {
		t.Errorf("Decrypt on a new server returned another data key")
	}
	tags, err := second.kms.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
	if err != nil || len(tags.Tags) != 1 {
		t.Errorf("ListResourceTags on a new server = %v, %v; want the workshop tag", tags, err)
	}
	out, err := second.trail.LookupEvents(ctx, byName("GenerateDataKey"))
	if err != nil {
		t.Fatalf("LookupEvents on a new server: %v", err)
	}
	if len(out.Events) != 1 {
		t.Errorf("LookupEvents(GenerateDataKey) on a new server = %d events, want the first server's one", len(out.Events))
	}

	// Save with no change writes the same state again.
	if err := second.srv.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	third, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Clock: clk})
	if err != nil {
		t.Fatalf("New after Save: %v", err)
	}
	thirdKMS := kms.NewFromConfig(sdkConfig(third))
	keys, err := thirdKMS.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Errorf("ListKeys after Save and New = %v, %v; want one key", keys, err)
	}
}

func TestNewRefusesACorruptStateFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	if err := os.WriteFile(stateFile, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fakeaws.New(fakeaws.Options{StateFile: stateFile}); err == nil {
		t.Errorf("New(corrupt state file) = nil error, want an error")
	}
}

// A state file that parses but holds a key the fake cannot use must stop
// New, not make the first request that names the key panic.
func TestNewRefusesADamagedKey(t *testing.T) {
	const id = "0b5e6c1a-7f3d-4e2a-9c8b-1d2e3f4a5b6c"
	material := `"material": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="`
	for _, tc := range []struct{ name, keys, aliases string }{
		{"short material", `{"` + id + `": {"id": "` + id + `", "state": "Enabled", "material": "AAEC"}}`, `{}`},
		{"no material", `{"` + id + `": {"id": "` + id + `", "state": "Enabled"}}`, `{}`},
		{"null key", `{"` + id + `": null}`, `{}`},
		{"id not its name", `{"` + id + `": {"id": "other", "state": "Enabled", ` + material + `}}`, `{}`},
		{"null alias", `{"` + id + `": {"id": "` + id + `", "state": "Enabled", ` + material + `}}`, `{"alias/x": null}`},
	} {
		stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
		data := `{"version": 1, "keys": ` + tc.keys + `, "aliases": ` + tc.aliases + `}`
		if err := os.WriteFile(stateFile, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := fakeaws.New(fakeaws.Options{StateFile: stateFile}); err == nil {
			t.Errorf("New(state with a %s) = nil error, want an error", tc.name)
		}
	}
}

func TestNoStateFileWithoutOption(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := newClients(t, fakeaws.Options{})
	c.createKey(t, workshopAlias)
	if err := c.srv.Save(); err != nil {
		t.Errorf("Save without a state file = %v, want nil", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("a server without StateFile wrote %d files", len(entries))
	}
}

// TestDeliveryFollowsTheServerThatLooks: a call made by a server with the
// realistic delay, looked up by a later one with the fast delay (a demo
// resumed with --fast), shows up within the fast window.
func TestDeliveryFollowsTheServerThatLooks(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	ctx := context.Background()

	slow := newClients(t, fakeaws.Options{StateFile: stateFile, Delivery: fakeaws.RealisticDelivery})
	slow.createKey(t, workshopAlias)
	if _, err := slow.kms.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}); err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}

	clk := clock.NewFake(slow.clock.Now().Add(fakeaws.FastDelivery.Max))
	fast := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: fakeaws.FastDelivery})
	out, err := fast.trail.LookupEvents(ctx, byName("GenerateDataKey"))
	if err != nil {
		t.Fatalf("LookupEvents: %v", err)
	}
	if len(out.Events) != 1 {
		t.Errorf("LookupEvents(GenerateDataKey) %v after the call, on a server with the fast delay = %d events, want 1", fakeaws.FastDelivery.Max, len(out.Events))
	}

	slowAgain := newClients(t, fakeaws.Options{StateFile: stateFile, Clock: clk, Delivery: fakeaws.RealisticDelivery})
	out, err = slowAgain.trail.LookupEvents(ctx, byName("GenerateDataKey"))
	if err != nil {
		t.Fatalf("LookupEvents: %v", err)
	}
	if len(out.Events) != 0 {
		t.Errorf("LookupEvents(GenerateDataKey) %v after the call, with the realistic delay = %d events, want 0", fakeaws.FastDelivery.Max, len(out.Events))
	}
}

// A state file that parses but holds a record the fake cannot use is
// refused at load, with an error that names the file and the record, rather
// than making a later request panic or misbehave.
func TestNewRefusesADamagedState(t *testing.T) {
	const id = "0b5e6c1a-7f3d-4e2a-9c8b-1d2e3f4a5b6c"
	key := func(fields string) string {
		return `{"` + id + `": {"id": "` + id + `", "material": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ` + fields + `}}`
	}
	enabled := key(`"state": "Enabled"`)
	event := func(seq, fields string) string {
		return `{"seq": ` + seq + `, "id": "e` + seq + `", "name": "CreateKey", "source": "kms.amazonaws.com", "time": "2024-03-01T12:00:00Z", "record": {}` + fields + `}`
	}
	for _, tc := range []struct{ name, state, want string }{
		{"file that is null", `null`, "no format version"},
		{"empty object", `{}`, "no format version"},
		{"another version", `{"version": 3}`, "format version 3, want 2"},
		{"null event", `{"version": 1, "keys": null, "events": [null]}`, "event 0 is null"},
		{"unknown key state", `{"version": 1, "keys": ` + key(`"state": "Deleted"`) + `}`, `unknown key state "Deleted"`},
		{"key state missing", `{"version": 1, "keys": ` + key(`"created": "2024-03-01T12:00:00Z"`) + `}`, `unknown key state ""`},
		{"pending deletion without date", `{"version": 1, "keys": ` + key(`"state": "PendingDeletion"`) + `}`, "without a deletion date"},
		{"alias of a missing key", `{"version": 1, "aliases": {"alias/x": {"name": "alias/x", "keyId": "` + id + `"}}}`, "not in the file"},
		{"alias not an alias name", `{"version": 1, "keys": ` + enabled + `, "aliases": {"x": {"name": "x", "keyId": "` + id + `"}}}`, "not an alias name"},
		{"negative event number", `{"version": 1, "events": [` + event("-1", "") + `], "nextSeq": 5}`, "negative"},
		{"duplicate event numbers", `{"version": 1, "events": [` + event("1", "") + `, ` + event("1", "") + `], "nextSeq": 5}`, "does not follow"},
		{"next number taken", `{"version": 1, "events": [` + event("3", "") + `], "nextSeq": 3}`, "next event number 3"},
		{"record not an object", `{"version": 1, "events": [` + event("0", `, "record": null`) + `], "nextSeq": 1}`, "not a JSON object"},
		{"delivery draw out of range", `{"version": 1, "events": [` + event("0", `, "deliveryDraw": 7`) + `], "nextSeq": 1}`, "delivery draw"},
		{"event without time", `{"version": 1, "events": [{"seq": 0, "id": "e", "name": "n", "source": "s", "record": {}}], "nextSeq": 1}`, "no time"},
		{"bad region", `{"version": 1, "region": "../x"}`, "not a region name"},
		{"next event number that would overflow", `{"version": 1, "nextSeq": 9223372036854775807}`, "next event number 9223372036854775807 is too large"},
	} {
		stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
		if err := os.WriteFile(stateFile, []byte(tc.state), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := fakeaws.New(fakeaws.Options{StateFile: stateFile})
		var fileErr *fakeaws.StateFileError
		if !errors.As(err, &fileErr) || fileErr.Op != fakeaws.StateDamaged || !strings.Contains(err.Error(), stateFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(state with a %s) = %v, want an error that says %s is damaged: %s", tc.name, err, stateFile, tc.want)
		}
	}
}

// A state that passes the checks loads, and its records all work: the
// fuzzed loader must either refuse a file or give a server that answers
// every request without panicking.
func FuzzStateFile(f *testing.F) {
	// A real state as seed: a key with its alias, events, a deletion date.
	seedFile := filepath.Join(f.TempDir(), "fake-aws.json")
	seedServer, err := fakeaws.New(fakeaws.Options{StateFile: seedFile, Clock: clock.NewFake(start)})
	if err != nil {
		f.Fatal(err)
	}
	seedKMS := kms.NewFromConfig(sdkConfig(seedServer))
	ctx := context.Background()
	key, err := seedKMS.CreateKey(ctx, &kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := seedKMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		f.Fatal(err)
	}
	if _, err := seedKMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}); err != nil {
		f.Fatal(err)
	}
	if _, err := seedKMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: key.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		f.Fatal(err)
	}
	saved, err := os.ReadFile(seedFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(saved)
	for _, seed := range []string{`null`, `{}`, `{"version":1}`, `{"version":1,"keys":null,"events":[null]}`, `{"version":1,"aliases":{"alias/a":null}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
		if err := os.WriteFile(stateFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		srv, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Clock: clock.NewFake(start), ErrorLog: log.New(&logged, "", 0)})
		if err != nil {
			return
		}
		client := kms.NewFromConfig(sdkConfig(srv))
		keys, _ := client.ListKeys(ctx, &kms.ListKeysInput{})
		aliases, _ := client.ListAliases(ctx, &kms.ListAliasesInput{})
		var refs []*string
		if keys != nil {
			for _, k := range keys.Keys {
				refs = append(refs, k.KeyId)
			}
		}
		if aliases != nil {
			for _, a := range aliases.Aliases {
				refs = append(refs, a.AliasName)
			}
		}
		for _, ref := range refs {
			client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: ref})
			client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: ref})
			if gen, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: ref, KeySpec: types.DataKeySpecAes256}); err == nil {
				client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob})
			}
		}
		client.CreateKey(ctx, &kms.CreateKeyInput{})
		trail := cloudtrail.NewFromConfig(sdkConfig(srv))
		trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err := srv.Save(); err != nil {
			t.Errorf("Save of a state that loaded: %v", err)
		}
		if logged.Len() > 0 {
			t.Errorf("a state that loaded made the server fail inside: %s", logged.String())
		}
		if _, err := fakeaws.New(fakeaws.Options{StateFile: stateFile}); err != nil {
			t.Errorf("the state saved from a state that loaded does not load: %v", err)
		}
	})
}

// A change the server cannot save (a full disk, a read-only folder) fails
// with an error that names the state file and the cause; in process it is
// not an AWS error, which would send the person after the wrong problem. The
// change is dropped, as the caller was told it failed.
func TestSaveFailureNamesTheStateFile(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	c := newClients(t, fakeaws.Options{StateFile: stateFile})
	fakeaws.FailSaves(c.srv, syscall.ENOSPC)
	_, err := c.kms.CreateKey(context.Background(), &kms.CreateKeyInput{})
	want := "save the demo's state to " + stateFile + ": no space left on device"
	var fileErr *fakeaws.StateFileError
	if !errors.As(err, &fileErr) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), want) {
		t.Errorf("CreateKey on a full disk = %v, want a StateFileError saying %q", err, want)
	}
	if code := errorCode(err); code != "" {
		t.Errorf("CreateKey on a full disk = AWS error %s, want the state file's error", code)
	}

	fakeaws.FailSaves(c.srv, nil)
	keys, err := c.kms.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 0 {
		t.Errorf("ListKeys after a CreateKey that could not be saved = %v, %v; want no key", keys, err)
	}

	// Over a socket, the AWS error the client gets says the same.
	fakeaws.FailSaves(c.srv, syscall.ENOSPC)
	endpoint := fakeawstest.Serve(t, c.srv)
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), want) {
		t.Errorf("CreateKey over a socket on a full disk = %d %s, want 500 with %q", resp.StatusCode, body, want)
	}
}

// A process killed while saving leaves its temporary copy of the state,
// key material included; the next save removes it, since no other save can
// be under way while it holds the lock.
func TestSaveRemovesTheTemporaryFilesOfAKilledSave(t *testing.T) {
	dir := t.TempDir()
	stateFile := filepath.Join(dir, "fake-aws.json")
	stale := filepath.Join(dir, ".fake-aws.json.tmp-3487871331")
	if err := os.WriteFile(stale, []byte(`{"version": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, ".notes.tmp-1") // not the state's
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClients(t, fakeaws.Options{StateFile: stateFile})
	c.createKey(t, workshopAlias)
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed save's temporary file is still there after a save (Lstat: %v)", err)
	}
	if _, err := os.Lstat(other); err != nil {
		t.Errorf("a save removed a temporary file that is not the state's: %v", err)
	}
}
