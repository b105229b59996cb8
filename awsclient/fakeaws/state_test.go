package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// A second server on the same state file is a new process of the workshop:
// it must find the first one's key, alias, tags and audit trail, and
// decrypt what the first one encrypted.
func TestStateSurvivesANewServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "usecase-3", ".cse-workshop")
	stateFile := filepath.Join(dir, "fake-aws.json")
	ctx := context.Background()

	first := newClients(t, fakeaws.Options{StateFile: stateFile, Delivery: testDelivery})
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
	saved, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatalf("read state file: %v", err)
	}
	if bytes.Contains(saved, []byte(base64.StdEncoding.EncodeToString(gen.Plaintext))) || bytes.Contains(saved, gen.Plaintext) {
		t.Errorf("state file contains the plaintext data key")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state folder holds %d entries, want only the state file (no temporary files left)", len(entries))
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
