package awsclient

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// learnerKMS is the learner's own client, pointed at the endpoint as the
// lines of CLIExports point the AWS CLI: other credentials, the endpoint
// URL, nothing of the tutorial's clients.
func learnerConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(CLIAccessKeyID, CLISecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func TestEndpointServesTheSameAccount(t *testing.T) {
	clk := clock.NewFake(testStart)
	c := demoClients(t, Options{ServeEndpoint: true, Clock: clk, Delivery: fakeaws.DeliveryDelay{Min: time.Second, Max: time.Second}})
	if !strings.HasPrefix(c.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want http://127.0.0.1:PORT", c.Endpoint)
	}
	ctx := context.Background()
	arn := createKey(t, c)
	if _, err := c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	mine := len(c.Calls.Calls())

	cfg := learnerConfig(c.Endpoint, c.Region)
	out, err := kms.NewFromConfig(cfg).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if err != nil {
		t.Fatalf("DescribeKey(%s) through the endpoint: %v", workshopAlias, err)
	}
	if got := aws.ToString(out.KeyMetadata.Arn); got != arn {
		t.Errorf("the learner's DescribeKey = %s, want the tutorial's key %s", got, arn)
	}

	calls := c.Calls.Calls()
	if len(calls) != mine+1 {
		t.Fatalf("recorder has %d calls, want the tutorial's %d and the learner's one", len(calls), mine)
	}
	got := calls[mine]
	if !got.External || got.Operation != "DescribeKey" || got.Service != "KMS" || got.Outcome() != "OK" {
		t.Errorf("the learner's call recorded as %+v, want an external KMS DescribeKey, OK", got)
	}
	if !strings.HasPrefix(got.UserAgent, "aws-sdk-go-v2/") {
		t.Errorf("UserAgent = %q, want the client's name and version", got.UserAgent)
	}
	if !strings.Contains(got.Request, workshopAlias) || !strings.Contains(got.Response, arn) {
		t.Errorf("bodies: request %q, response %q; want the alias asked and the ARN answered", got.Request, got.Response)
	}
	if ops := c.Calls.Operations(); len(ops) != 2 {
		t.Errorf("Operations() = %v, want the tutorial's two: the learner's calls are not the workshop's", ops)
	}

	// The tutorial's CloudTrail sees the learner's call, with the key ID the
	// CLI signed with, once it is delivered.
	clk.Advance(time.Second)
	events, err := c.CloudTrail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("DescribeKey")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events.Events {
		found = found || aws.ToString(e.AccessKeyId) == CLIAccessKeyID
	}
	if !found {
		t.Errorf("LookupEvents(DescribeKey) = %d events, none signed by %q", len(events.Events), CLIAccessKeyID)
	}
}

func TestEndpointPortsDifferAndStop(t *testing.T) {
	a := demoClients(t, Options{ServeEndpoint: true})
	b := demoClients(t, Options{ServeEndpoint: true})
	if a.Endpoint == b.Endpoint {
		t.Errorf("two demo backends serve the same endpoint %s", a.Endpoint)
	}
	host := strings.TrimPrefix(a.Endpoint, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatalf("nothing listens at %s: %v", host, err)
	}
	conn.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", host); err == nil {
		conn.Close()
		t.Errorf("%s still listens after Close", host)
	}
}

// A web page whose domain name is rebound to 127.0.0.1 reaches the
// endpoint from the learner's browser; its requests name its own domain,
// and get nothing: no key, no call in the API pane.
func TestEndpointRefusesReboundHosts(t *testing.T) {
	c := demoClients(t, Options{ServeEndpoint: true})
	addr := strings.TrimPrefix(c.Endpoint, "http://")
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"rebound.example:" + port, addr} {
		req, err := http.NewRequest(http.MethodPost, c.Endpoint+"/", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusOK
		if host != addr {
			want = http.StatusForbidden
		}
		if resp.StatusCode != want {
			t.Errorf("ListKeys with Host %q = %d %s, want %d", host, resp.StatusCode, body, want)
		}
	}
	if n := len(c.Calls.Calls()); n != 1 {
		t.Errorf("the API pane lists %d calls, want only the one addressed to %s", n, addr)
	}
}

func TestEndpointStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := New(ctx, Options{ServeEndpoint: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cancel()
	host := strings.TrimPrefix(c.Endpoint, "http://")
	// Serve stops once it sees the context done; Close waits for that.
	c.Close()
	if conn, err := net.Dial("tcp", host); err == nil {
		conn.Close()
		t.Errorf("%s still listens after the context was cancelled", host)
	}
}

func TestNoEndpointUnlessAsked(t *testing.T) {
	c := demoClients(t, Options{})
	if c.Endpoint != "" {
		t.Errorf("Endpoint = %q without ServeEndpoint, want none", c.Endpoint)
	}
}

func TestCLIExportsFitAndName(t *testing.T) {
	lines := CLIExports("http://127.0.0.1:65535", "ap-southeast-2")
	text := strings.Join(lines, "\n")
	for _, want := range []string{"AWS_ENDPOINT_URL=http://127.0.0.1:65535", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_REGION=ap-southeast-2", "AWS_DEFAULT_REGION=ap-southeast-2"} {
		if !strings.Contains(text, want) {
			t.Errorf("CLIExports lack %q:\n%s", want, text)
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "export ") || len(l) > 78 {
			t.Errorf("line %q: want an export that fits in 78 columns", l)
		}
	}
}

// The bodies kept for the API pane never hold a data key: its plaintext is
// replaced by its size, whoever made the call.
func TestBodiesHideDataKeys(t *testing.T) {
	c := demoClients(t, Options{ServeEndpoint: true})
	ctx := context.Background()
	arn := createKey(t, c)
	encCtx := map[string]string{"whatfor": "usecase-3-cse"}
	gen, err := c.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(arn), KeySpec: types.DataKeySpecAes256, EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.KMS.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: encCtx})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("the learner's own data, not a key")
	learner := kms.NewFromConfig(learnerConfig(c.Endpoint, c.Region))
	enc, err := learner.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := learner.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}

	clear := []string{
		base64.StdEncoding.EncodeToString(gen.Plaintext),
		base64.StdEncoding.EncodeToString(dec.Plaintext),
		base64.StdEncoding.EncodeToString(secret),
	}
	wantMasked := map[string]string{
		"GenerateDataKey": "<32 bytes, not shown>",
		"Decrypt":         " bytes, not shown>",
		"Encrypt":         "<33 bytes, not shown>",
	}
	for _, call := range c.Calls.Calls() {
		for _, s := range clear {
			if strings.Contains(call.Request+call.Response, s) {
				t.Errorf("%s (external %v) keeps a plaintext in clear:\nrequest %s\nresponse %s", call.Operation, call.External, call.Request, call.Response)
			}
		}
		if want, ok := wantMasked[call.Operation]; ok && !strings.Contains(call.Request+call.Response, want) {
			t.Errorf("%s (external %v) bodies lack %q:\nrequest %s\nresponse %s", call.Operation, call.External, want, call.Request, call.Response)
		}
		if call.Operation == "GenerateDataKey" && !strings.Contains(call.Response, `"CiphertextBlob": "`) {
			t.Errorf("GenerateDataKey response lacks the (shortened) CiphertextBlob:\n%s", call.Response)
		}
		if call.Operation == "GenerateDataKey" && !strings.Contains(call.Request, `"whatfor": "usecase-3-cse"`) {
			t.Errorf("GenerateDataKey request lacks its encryption context:\n%s", call.Request)
		}
	}
}

func TestShowBodyMasksWhatItCannotParse(t *testing.T) {
	tests := []struct{ body, want, not string }{
		{`{"Plaintext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","KeyId":"k"}`, `"Plaintext": "<32 bytes, not shown>"`, "AAAA"},
		{`{"Plaintext":"QUFBQUFB`, `"Plaintext": "<not shown>"`, "QUFB"},
		{`<GetSessionTokenResponse><SecretAccessKey>wJalr</SecretAccessKey><SessionToken>FwoG</SessionToken></GetSessionTokenResponse>`, "<SecretAccessKey><not shown></SecretAccessKey>", "wJalr"},
		{"", "", "x"},
	}
	for _, tt := range tests {
		got := showBody([]byte(tt.body))
		if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) {
			t.Errorf("showBody(%q) = %q, want %q in it and no %q", tt.body, got, tt.want, tt.not)
		}
	}
}

func TestExpectedFailure(t *testing.T) {
	c := demoClients(t, Options{})
	ctx := Expect(context.Background(), "NotFoundException", "the alias is free")
	_, err := c.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	var notFound *types.NotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("DescribeKey(%s) = %v, want NotFoundException", workshopAlias, err)
	}
	other := Expect(context.Background(), "DisabledException", "the key is off")
	if _, err = c.KMS.DescribeKey(other, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)}); err == nil {
		t.Fatalf("DescribeKey(%s) succeeded", workshopAlias)
	}
	calls := c.Calls.Calls()
	if got := calls[0].Expected; got != "the alias is free" {
		t.Errorf("the foreseen NotFoundException: Expected = %q, want the reason", got)
	}
	if got := calls[1].Expected; got != "" {
		t.Errorf("a %s, not foreseen: Expected = %q, want none", calls[1].Outcome(), got)
	}
}
