package awsclient

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient/awsclienttest"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

// isolateAWS gives the test an environment without any AWS setting of the
// machine: no AWS_* variables, an empty HOME, empty config and credentials
// files, and no instance metadata. It returns the temporary HOME.
func isolateAWS(t *testing.T) string {
	t.Helper()
	home := awsclienttest.IsolateAWS(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return home
}

// closedPort returns a 127.0.0.1 address that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections on 127.0.0.1 and never answers. Its
// channel receives a value for each connection it accepts.
func silentServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	accepted := make(chan struct{}, 16)
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
			close(done)
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String(), accepted
}

func setStaticKeys(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
}

// liveCall builds live clients and makes one KMS call.
func liveCall(t *testing.T, ctx context.Context, opts Options) (*Clients, error) {
	t.Helper()
	opts.Live = true
	c, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New(live) = %v", err)
	}
	_, err = c.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
	if err == nil {
		t.Fatal("ListAliases succeeded, want error")
	}
	return c, err
}

func TestLiveWithoutRegion(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	_, err := New(context.Background(), Options{Live: true})
	if !errors.Is(err, ErrNoRegion) {
		t.Fatalf("New(live, no region) = %v, want ErrNoRegion", err)
	}
	a := Explain(err)
	checkReason(t, err, NoRegion)
	if !strings.Contains(a.Hint, "--region") || !strings.Contains(a.Hint, "AWS_REGION") {
		t.Errorf("Explain(no region).Hint = %q, want --region and AWS_REGION", a.Hint)
	}
}

func TestLiveRegionFromFlagAndEnv(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	for _, tc := range []struct {
		flag, want string
	}{
		{"", "eu-west-1"},
		{"ap-southeast-2", "ap-southeast-2"},
	} {
		c, err := New(context.Background(), Options{Live: true, Region: tc.flag})
		if err != nil {
			t.Fatalf("New(live, --region %q) = %v", tc.flag, err)
		}
		if c.Region != tc.want || !c.Live || c.fake != nil {
			t.Errorf("New(live, --region %q) = region %q live %v fake %v, want %q, true, nil",
				tc.flag, c.Region, c.Live, c.fake, tc.want)
		}
	}
}

func TestLiveUnknownProfile(t *testing.T) {
	isolateAWS(t)
	_, err := New(context.Background(), Options{Live: true, Profile: "nosuch", Region: "us-east-1"})
	if err == nil {
		t.Fatal("New(live, --profile nosuch) succeeded, want error")
	}
	a := Explain(err)
	checkReason(t, err, UnknownProfile)
	if !strings.Contains(a.What, `"nosuch"`) || !strings.Contains(a.Hint, "aws configure --profile nosuch") {
		t.Errorf("Explain(unknown profile) = %q, want the profile named and `aws configure --profile nosuch`", a)
	}
}

func TestLiveNoCredentials(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))
	c, err := liveCall(t, context.Background(), Options{})

	a := Explain(err)
	checkReason(t, err, NoCredentials)
	if !strings.HasPrefix(a.What, "no AWS credentials found") {
		t.Errorf("Explain(no credentials).What = %q, want it to say no credentials were found", a.What)
	}
	for _, want := range []string{"aws configure", "--profile", "AWS_PROFILE"} {
		if !strings.Contains(a.Hint, want) {
			t.Errorf("Explain(no credentials).Hint = %q, want %q in it", a.Hint, want)
		}
	}
	calls := c.Calls.Calls()
	if len(calls) != 1 || calls[0].Outcome() != "no credentials" {
		t.Errorf("recorded %+v, want one call with outcome \"no credentials\"", calls)
	}
}

// writeSSOConfig writes a config file with an sso-session profile "dev" and
// a legacy SSO profile "legacy", and returns its path.
func writeSSOConfig(t *testing.T, home string) string {
	t.Helper()
	path := filepath.Join(home, "config")
	const cfg = `[profile dev]
sso_session = workshop-sso
sso_account_id = 111122223333
sso_role_name = Workshop
region = us-east-1

[sso-session workshop-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111122223333
sso_role_name = Workshop
region = us-east-1
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeSSOToken writes the cached token the AWS CLI leaves after
// `aws sso login`, keyed like the CLI keys it, expiring at expires.
func writeSSOToken(t *testing.T, home, key string, expires time.Time) {
	t.Helper()
	sum := sha1.Sum([]byte(key))
	dir := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	token := `{"accessToken": "token", "expiresAt": "` + expires.UTC().Format(time.RFC3339) +
		`", "region": "us-east-1", "startUrl": "https://example.awsapps.com/start"}`
	if err := os.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:])+".json"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLiveSSOSessionExpired(t *testing.T) {
	expired := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name       string
		profile    string // --profile
		envProfile string // AWS_PROFILE
		token      string // the key of the cached token, or "" for none
		wantLogin  string
	}{
		{name: "sso-session token expired", profile: "dev", token: "workshop-sso", wantLogin: "aws sso login --profile dev"},
		{name: "sso-session never logged in", profile: "dev", wantLogin: "aws sso login --profile dev"},
		{name: "legacy profile from AWS_PROFILE", envProfile: "legacy", token: "https://example.awsapps.com/start", wantLogin: "aws sso login --profile legacy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolateAWS(t)
			t.Setenv("AWS_CONFIG_FILE", writeSSOConfig(t, home))
			t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))
			if tc.envProfile != "" {
				t.Setenv("AWS_PROFILE", tc.envProfile)
			}
			if tc.token != "" {
				writeSSOToken(t, home, tc.token, expired)
			}
			_, err := liveCall(t, context.Background(), Options{Profile: tc.profile})

			a := Explain(err)
			checkReason(t, err, SSOExpired)
			if !strings.Contains(a.What, "SSO session") {
				t.Errorf("Explain(%s).What = %q, want it to name the SSO session", tc.name, a.What)
			}
			if !strings.Contains(a.Hint, "`"+tc.wantLogin+"`") {
				t.Errorf("Explain(%s).Hint = %q, want `%s`", tc.name, a.Hint, tc.wantLogin)
			}
		})
	}
}

// TestLiveSSOPortalUnreachable: a valid SSO login, but the portal that
// trades it for keys cannot be reached. That is a network problem, not
// missing credentials.
func TestLiveSSOPortalUnreachable(t *testing.T) {
	home := isolateAWS(t)
	t.Setenv("AWS_CONFIG_FILE", writeSSOConfig(t, home))
	writeSSOToken(t, home, "workshop-sso", time.Now().Add(time.Hour))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	portal := closedPort(t)
	t.Setenv("AWS_ENDPOINT_URL_SSO", "http://"+portal)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+closedPort(t))
	_, err := liveCall(t, context.Background(), Options{Profile: "dev"})

	a := Explain(err)
	checkReason(t, err, EndpointUnreachable)
	for _, want := range []string{"cannot get AWS credentials for profile dev", portal, "connection refused"} {
		if !strings.Contains(a.What, want) {
			t.Errorf("Explain(SSO portal unreachable).What = %q, want %q in it", a.What, want)
		}
	}
	if strings.Contains(a.Hint, "aws configure") {
		t.Errorf("Explain(SSO portal unreachable).Hint = %q, want network advice, not `aws configure`", a.Hint)
	}
}

func TestLiveUnknownHost(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	// .invalid never resolves (RFC 2606); at worst this asks the local resolver.
	t.Setenv("AWS_ENDPOINT_URL", "http://kms.nonexistent.invalid")
	c, err := liveCall(t, context.Background(), Options{})

	a := Explain(err)
	checkReason(t, err, EndpointUnreachable)
	if !strings.Contains(a.What, "kms.nonexistent.invalid") {
		t.Errorf("Explain(unknown host).What = %q, want the host named", a.What)
	}
	if !strings.Contains(a.Hint, "--region") || !strings.Contains(a.Hint, "AWS_ENDPOINT_URL") {
		t.Errorf("Explain(unknown host).Hint = %q, want --region and AWS_ENDPOINT_URL", a.Hint)
	}
	if got := c.Calls.Calls()[0].Outcome(); got != "unknown host" {
		t.Errorf("Outcome(unknown host) = %q, want %q", got, "unknown host")
	}
}

func TestLiveInvalidRegion(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	_, err := liveCall(t, context.Background(), Options{Region: "us east 1"})
	a := Explain(err)
	checkReason(t, err, InvalidRegion)
	if !strings.Contains(a.What, `region "us east 1"`) || !strings.Contains(a.Hint, "--region") {
		t.Errorf("Explain(region %q) = %q, want a region problem and --region", "us east 1", a)
	}
}

func TestLiveConnectionRefused(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	addr := closedPort(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	c, err := liveCall(t, context.Background(), Options{})

	a := Explain(err)
	checkReason(t, err, EndpointUnreachable)
	if !strings.Contains(a.What, addr) || !strings.Contains(a.What, "connection refused") {
		t.Errorf("Explain(refused).What = %q, want %s and \"connection refused\"", a.What, addr)
	}
	if !strings.Contains(a.Hint, "AWS_ENDPOINT_URL") {
		t.Errorf("Explain(refused).Hint = %q, want AWS_ENDPOINT_URL", a.Hint)
	}
	if got := c.Calls.Calls()[0].Outcome(); got != "network error" {
		t.Errorf("Outcome(refused) = %q, want %q", got, "network error")
	}
}

func TestLiveNoAnswer(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	addr, _ := silentServer(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c, err := liveCall(t, ctx, Options{})

	a := Explain(err)
	checkReason(t, err, TimedOut)
	if !strings.Contains(a.What, "in time") || !strings.Contains(a.What, addr) {
		t.Errorf("Explain(no answer).What = %q, want %s and \"in time\"", a.What, addr)
	}
	if got := c.Calls.Calls()[0].Outcome(); got != "timeout" {
		t.Errorf("Outcome(no answer) = %q, want %q", got, "timeout")
	}
}

func TestLiveCanceled(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	t.Setenv("AWS_REGION", "us-east-1")
	addr, accepted := silentServer(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := New(ctx, Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	// Cancel once the request is on its way, as Ctrl-C would.
	go func() {
		<-accepted
		cancel()
	}()
	_, err = c.KMS.ListAliases(ctx, &kms.ListAliasesInput{})
	if err == nil {
		t.Fatal("ListAliases(canceled) succeeded, want error")
	}
	a := Explain(err)
	checkReason(t, err, Canceled)
	if !strings.Contains(a.What, "canceled") {
		t.Errorf("Explain(canceled).What = %q, want \"canceled\"", a.What)
	}
	if got := c.Calls.Calls()[0].Outcome(); got != "canceled" {
		t.Errorf("Outcome(canceled) = %q, want %q", got, "canceled")
	}
}

// TestLiveEndpointOfAnotherRegion: AWS_ENDPOINT_URL names an endpoint that
// serves another region than --region (mock-aws started without the same
// --region, say); the signature is refused and the advice names the region.
func TestLiveEndpointOfAnotherRegion(t *testing.T) {
	isolateAWS(t)
	setStaticKeys(t)
	fake, err := fakeaws.New(fakeaws.Options{Clock: clock.NewAuto(testStart), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", fakeawstest.Serve(t, fake))

	_, err = liveCall(t, context.Background(), Options{Region: "eu-west-1"})
	a := Explain(err)
	checkReason(t, err, WrongRegion)
	if !strings.Contains(a.What, "does not serve region eu-west-1") || !strings.Contains(a.Hint, "--region") {
		t.Errorf("Explain(%v) = %+v, want that the endpoint does not serve eu-west-1 and a --region hint", err, a)
	}
}

// checkReason fails unless Diagnose reads err as reason.
func checkReason(t *testing.T, err error, reason Reason) {
	t.Helper()
	if p, ok := Diagnose(err); !ok || p.Reason != reason {
		t.Errorf("Diagnose(%v) = %v, %v; want %v", err, p.Reason, ok, reason)
	}
}
