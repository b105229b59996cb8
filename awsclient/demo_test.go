package awsclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

const workshopAlias = "alias/kms_key_cse_usecase_3"

var testStart = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// demoClients builds demo clients on an auto-advancing fake clock, so waits
// (retries, injected latency) take no real time.
func demoClients(t *testing.T, opts Options) *Clients {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clock.NewAuto(testStart)
	}
	c, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("New(demo) = %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return c
}

// createKey makes a symmetric key and returns its ARN.
func createKey(t *testing.T, c *Clients) string {
	t.Helper()
	out, err := c.KMS.CreateKey(context.Background(), &kms.CreateKeyInput{
		Description: aws.String("Master key to encrypt objects written to S3"),
	})
	if err != nil {
		t.Fatalf("CreateKey = %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func TestDemoIgnoresAWSEnvironment(t *testing.T) {
	home := isolateAWS(t)
	garbage := filepath.Join(home, "garbage")
	if err := os.WriteFile(garbage, []byte("[profile broken\nregion = = =\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Everything a user may have set that would break or redirect the SDK.
	t.Setenv("AWS_CONFIG_FILE", garbage)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", garbage)
	t.Setenv("AWS_PROFILE", "nosuch")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "false")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+closedPort(t))
	t.Setenv("AWS_CA_BUNDLE", filepath.Join(home, "missing.pem"))
	t.Setenv("AWS_MAX_ATTEMPTS", "nonsense")
	t.Setenv("HTTPS_PROXY", "http://"+closedPort(t))

	c := demoClients(t, Options{})
	if c.Live || c.fake == nil || c.Region != fakeaws.DefaultRegion {
		t.Errorf("New(demo) = live %v, fake %v, region %q; want false, a fake, %q",
			c.Live, c.fake, c.Region, fakeaws.DefaultRegion)
	}
	id, err := c.Identity(context.Background())
	if err != nil {
		t.Fatalf("Identity(demo) = %v, want the demo account", err)
	}
	if id.Account != fakeaws.DefaultAccountID || !strings.Contains(id.ARN, fakeaws.DefaultAccountID) || id.UserID == "" {
		t.Errorf("Identity(demo) = %+v, want account %s", id, fakeaws.DefaultAccountID)
	}
	if arn := createKey(t, c); !strings.Contains(arn, ":"+fakeaws.DefaultRegion+":") {
		t.Errorf("CreateKey(demo) ARN = %s, want region %s", arn, fakeaws.DefaultRegion)
	}
}

func TestDemoRegion(t *testing.T) {
	c := demoClients(t, Options{Region: "eu-central-1"})
	if c.Region != "eu-central-1" {
		t.Errorf("Region = %q, want eu-central-1", c.Region)
	}
	if arn := createKey(t, c); !strings.Contains(arn, ":eu-central-1:") {
		t.Errorf("CreateKey ARN = %s, want region eu-central-1", arn)
	}
}

func TestDemoUsesGivenFake(t *testing.T) {
	fake, err := fakeaws.New(fakeaws.Options{Clock: clock.NewAuto(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	c1 := demoClients(t, Options{Fake: fake})
	c2 := demoClients(t, Options{Fake: fake})
	if c1.fake != fake {
		t.Fatalf("Clients.Fake = %p, want the given fake %p", c1.fake, fake)
	}
	arn := createKey(t, c1)
	out, err := c2.KMS.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeKey(key made by other clients of the same fake) = %v", err)
	}
	if got := aws.ToString(out.KeyMetadata.Arn); got != arn {
		t.Errorf("DescribeKey ARN = %s, want %s", got, arn)
	}
}

func TestDemoStateSurvivesClose(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	c, err := New(ctx, Options{Dir: dir, Clock: clock.NewAuto(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	arn := createKey(t, c)
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)}); err != nil {
		t.Fatalf("CreateAlias = %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	state := filepath.Join(dir, ".cse-workshop", "fake-aws.json")
	info, err := os.Stat(state)
	if err != nil {
		t.Fatalf("after Close, state file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode = %v, want 0600", perm)
	}

	// A new process (here: new clients) finds the key by its alias.
	c2 := demoClients(t, Options{Dir: dir})
	out, err := c2.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if err != nil {
		t.Fatalf("DescribeKey(%s) after reopening = %v", workshopAlias, err)
	}
	if got := aws.ToString(out.KeyMetadata.Arn); got != arn {
		t.Errorf("DescribeKey(%s) = %s, want %s", workshopAlias, got, arn)
	}
}

func TestDemoWithoutDirKeepsNoFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := demoClients(t, Options{})
	createKey(t, c)
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("demo without Dir wrote %v into the current folder, want nothing", entries)
	}
}

// TestLiveThroughSocket runs the live backend end to end against the fake
// AWS served on a loopback socket, as `cse-workshop --aws` against
// `cse-workshop mock-aws` would.
func TestLiveThroughSocket(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	fake, err := fakeaws.New(fakeaws.Options{Clock: clock.NewAuto(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", fakeawstest.Serve(t, fake))

	ctx := context.Background()
	c, err := New(ctx, Options{Live: true, Region: "us-east-1"})
	if err != nil {
		t.Fatalf("New(live) = %v", err)
	}
	if !c.Live || c.fake != nil || c.Region != "us-east-1" {
		t.Errorf("New(live) = live %v, fake %v, region %q; want true, nil, us-east-1", c.Live, c.fake, c.Region)
	}
	id, err := c.Identity(ctx)
	if err != nil {
		t.Fatalf("Identity(live) = %v", err)
	}
	if id.Account != fakeaws.DefaultAccountID {
		t.Errorf("Identity(live).Account = %q, want %q", id.Account, fakeaws.DefaultAccountID)
	}

	arn := createKey(t, c)
	wctx := map[string]string{"whatfor": "usecase-3-cse"}
	dk, err := c.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256, EncryptionContext: wctx,
	})
	if err != nil {
		t.Fatalf("GenerateDataKey(live) = %v", err)
	}
	dec, err := c.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(arn), CiphertextBlob: dk.CiphertextBlob, EncryptionContext: wctx,
	})
	if err != nil {
		t.Fatalf("Decrypt(live) = %v", err)
	}
	if string(dec.Plaintext) != string(dk.Plaintext) {
		t.Error("Decrypt(live) returned a different data key than GenerateDataKey")
	}
	if _, err := c.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("LookupEvents(live) = %v", err)
	}

	var got []string
	for _, call := range c.Calls.Calls() {
		got = append(got, call.Service+" "+call.Operation+" "+call.Outcome())
	}
	want := []string{
		"STS GetCallerIdentity OK", "KMS CreateKey OK", "KMS GenerateDataKey OK",
		"KMS Decrypt OK", "CloudTrail LookupEvents OK",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("recorded calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDemoDamagedState: a damaged demo state file stops the demo with
// advice that names the file and what to do.
func TestDemoDamagedState(t *testing.T) {
	dir := t.TempDir()
	stateFile := filepath.Join(dir, filepath.FromSlash(StateFileName))
	if err := os.MkdirAll(filepath.Dir(stateFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), Options{Dir: dir})
	if hint := Explain(err).Hint; err == nil || !strings.Contains(hint, stateFile) || !strings.Contains(hint, "move that file away") {
		t.Errorf("New with a damaged state file = %v, want an error whose hint names %s and says to move it away", err, stateFile)
	}
}

// TestDemoStateOfAnotherRegion: a workshop folder whose demo account was
// made with --region eu-west-1 keeps that region; asking for another gets
// advice naming both.
func TestDemoStateOfAnotherRegion(t *testing.T) {
	dir := t.TempDir()
	c, err := New(context.Background(), Options{Dir: dir, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = New(context.Background(), Options{Dir: dir})
	if err != nil {
		t.Fatalf("New without --region: %v", err)
	}
	if c.Region != "eu-west-1" {
		t.Errorf("Region without --region = %s, want the folder's eu-west-1", c.Region)
	}
	_, err = New(context.Background(), Options{Dir: dir, Region: "us-west-2"})
	if hint := Explain(err).Hint; err == nil || !strings.Contains(hint, "--region eu-west-1") || !strings.Contains(hint, "another --dir") {
		t.Errorf("New(us-west-2) = %v, want a hint to pass --region eu-west-1 or choose another --dir", err)
	}
}

// The demo knows when an event became visible to LookupEvents: not before
// it was, and not after the first lookup that found it.
func TestDemoEventVisibleAt(t *testing.T) {
	clk := clock.NewFake(testStart)
	c := demoClients(t, Options{Clock: clk, Delivery: fakeaws.DeliveryDelay{Min: 30 * time.Second, Max: 90 * time.Second}})
	createKey(t, c)
	var visible time.Time
	for range 20 {
		clk.Advance(5 * time.Second)
		out, err := c.CloudTrail.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatalf("LookupEvents = %v", err)
		}
		if len(out.Events) == 0 {
			continue
		}
		at, ok := c.DemoEventVisibleAt(aws.ToString(out.Events[0].EventId))
		if !ok {
			t.Fatalf("DemoEventVisibleAt(%s) = false, want the time it became visible", aws.ToString(out.Events[0].EventId))
		}
		visible = at
		break
	}
	if visible.IsZero() {
		t.Fatal("the CreateKey event never became visible")
	}
	if now := clk.Now(); visible.After(now) || now.Sub(visible) >= 5*time.Second {
		t.Errorf("DemoEventVisibleAt = %v, want within the 5s before the lookup that found it first (%v)", visible, now)
	}
	if d := visible.Sub(testStart); d < 30*time.Second || d > 90*time.Second {
		t.Errorf("event visible %v after the call, want within the delivery window of 30s to 90s", d)
	}
	if _, ok := c.DemoEventVisibleAt("no-such-event"); ok {
		t.Error("DemoEventVisibleAt(no-such-event) = true, want false")
	}
	var live Clients
	if _, ok := live.DemoEventVisibleAt("any"); ok {
		t.Error("DemoEventVisibleAt on clients for real AWS = true, want false: AWS does not say")
	}
}
