package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// TestLearnersCLISeesTheTutorialsAccount runs step 1 in the tutorial, then
// makes the calls the learner's AWS CLI would make, pointed where the
// endpoint dialog says: the same key, in the API pane and in CloudTrail.
func TestLearnersCLISeesTheTutorialsAccount(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	clients, err := awsclient.New(ctx, awsclient.Options{Dir: dir, Clock: clk, ServeEndpoint: true,
		Delivery: fakeaws.DeliveryDelay{Min: time.Second, Max: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clients.Close() })
	w, err := steps.Open(steps.Options{Dir: dir, Clients: clients, Clock: clk, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	m := newModel(ctx, Options{Workshop: w}, fixtureContent())
	t.Cleanup(m.stop)
	d := newDriver(t, m)

	d.press("e")
	env := exportedEnv(t, d.screen())
	if env["AWS_ENDPOINT_URL"] != clients.Endpoint || env["AWS_REGION"] != clients.Region {
		t.Fatalf("endpoint dialog exports %v, want the endpoint %s and region %s", env, clients.Endpoint, clients.Region)
	}
	d.press("enter") // closes the dialog
	d.press("enter", "enter")
	d.until("step 1 done", func(m *Model) bool { return m.steps[0].status == statusDone })
	keyARN := w.State.KeyARN

	learner := aws.Config{
		Region:       env["AWS_REGION"],
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
	}
	out, err := kms.NewFromConfig(learner).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(steps.AliasName)})
	if err != nil {
		t.Fatalf("the learner's DescribeKey(%s): %v", steps.AliasName, err)
	}
	if got := aws.ToString(out.KeyMetadata.Arn); got != keyARN {
		t.Errorf("the learner's DescribeKey = %s, want step 1's key %s", got, keyARN)
	}
	clk.Advance(time.Second)
	events, err := cloudtrail.NewFromConfig(learner).LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(env["AWS_ACCESS_KEY_ID"])},
	}})
	if err != nil || len(events.Events) == 0 || aws.ToString(events.Events[0].EventName) != "DescribeKey" {
		t.Errorf("the learner's LookupEvents of their own key ID = %v, %v; want their DescribeKey", events, err)
	}

	d.until("the learner's two calls in the pane", func(m *Model) bool {
		external := 0
		for _, c := range m.api.all() {
			if c.External {
				external++
			}
		}
		return external == 2
	})
	d.press("a")
	screen := d.screen()
	for _, want := range []string{"expected: the alias is free", "your CLI (aws-sdk-go-v2/"} {
		if !strings.Contains(screen, want) {
			t.Errorf("API pane lacks %q:\n%s", want, screen)
		}
	}
	// The newest call is the learner's LookupEvents; the one before, their
	// DescribeKey: open it.
	d.press("up", "up", "enter")
	screen = d.screen()
	for _, want := range []string{"DescribeKey", "your CLI", keyARN, `"KeyId": "` + steps.AliasName + `"`} {
		if !strings.Contains(screen, want) {
			t.Errorf("the opened call lacks %q:\n%s", want, screen)
		}
	}
	d.press("enter")
	if d.m.dialog() != nil {
		t.Error("enter did not close the opened call")
	}
}

// exportedEnv reads the variables of the export lines on a screen, and
// fails the test if anything else shares their lines: the learner copies
// them whole.
func exportedEnv(t *testing.T, screen string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(screen, "\n") {
		cmd := strings.TrimSpace(line)
		if !strings.Contains(cmd, "export ") {
			continue
		}
		if !strings.HasPrefix(cmd, "export ") {
			t.Errorf("export line %q has something before the command", line)
		}
		for _, v := range strings.Fields(strings.TrimPrefix(cmd, "export ")) {
			name, value, ok := strings.Cut(v, "=")
			if !ok {
				t.Errorf("export line %q: %q is not NAME=VALUE", line, v)
			}
			env[name] = value
		}
	}
	return env
}

func TestEndpointKeyWithoutEndpoint(t *testing.T) {
	m := newTestModel(t, ThemePlain)
	send(m, press("e")...)
	if m.dialog() != nil {
		t.Fatal("e opened a dialog with no endpoint to show")
	}
	if screen := plainText(m.render()); !strings.Contains(screen, "--no-endpoint") {
		t.Errorf("e without an endpoint does not say why:\n%s", screen)
	}
}

// With the API pane shown, Enter is the screen's until a call is picked;
// hiding the pane forgets the pick.
func TestAPIPanePicksAndOpensCalls(t *testing.T) {
	m := newTestModel(t, ThemePlain)
	for _, c := range endpointCalls() {
		m.Update(callMsg{call: c})
	}
	send(m, press("a", "enter")...)
	if m.dialog() != nil || m.screen() != screen(m.steps[0]) {
		t.Fatalf("enter with no call picked: dialog %v, screen %s; want step 1's screen, as without the pane", m.dialog(), m.screen().Title())
	}
	send(m, press("up", "up", "up", "enter")...)
	d, ok := m.dialog().(*textDialog)
	if !ok {
		t.Fatalf("enter on a picked call opened %T, want the call", m.dialog())
	}
	if text := plainText(m.render()); !strings.Contains(text, "Call 3: KMS CreateAlias") {
		t.Errorf("opened call:\n%s", text)
	}
	send(m, press("esc")...)
	if m.dialog() != nil {
		t.Errorf("esc left %v open", d.Title())
	}
	send(m, press("a", "a", "enter")...)
	if m.dialog() != nil {
		t.Error("the pick survived hiding the pane: enter opened a call")
	}
}
