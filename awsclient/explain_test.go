package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

var workshopContext = map[string]string{"whatfor": "usecase-3-cse"}

// checkAdvice fails unless What and Hint contain every wanted piece.
func checkAdvice(t *testing.T, name string, a Advice, what, hint []string) {
	t.Helper()
	if a.What == "" || strings.ToLower(a.What[:1]) != a.What[:1] || strings.Contains(a.What, "\n") {
		t.Errorf("Explain(%s).What = %q, want one line starting in lower case", name, a.What)
	}
	for _, w := range what {
		if !strings.Contains(a.What, w) {
			t.Errorf("Explain(%s).What = %q, want %q in it", name, a.What, w)
		}
	}
	for _, h := range hint {
		if !strings.Contains(a.Hint, h) {
			t.Errorf("Explain(%s).Hint = %q, want %q in it", name, a.Hint, h)
		}
	}
}

// TestExplainInjectedFaults makes the SDK meet each AWS error as the real
// services send it and checks the advice.
func TestExplainInjectedFaults(t *testing.T) {
	listAliases := func(c *Clients) error {
		_, err := c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
		return err
	}
	createKeyCall := func(c *Clients) error {
		_, err := c.KMS.CreateKey(context.Background(), &kms.CreateKeyInput{})
		return err
	}
	identity := func(c *Clients) error {
		_, err := c.Identity(context.Background())
		return err
	}
	for _, tc := range []struct {
		name       string
		fault      fakeaws.Fault
		call       func(*Clients) error
		what, hint []string
	}{{
		name:  "ExpiredTokenException",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
		call:  listAliases,
		what:  []string{"expired"}, hint: []string{"refresh your credentials"},
	}, {
		name:  "STS ExpiredToken",
		fault: fakeaws.Fault{Service: "sts", Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"},
		call:  identity,
		what:  []string{"expired"}, hint: []string{"refresh your credentials"},
	}, {
		name:  "UnrecognizedClientException",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
		call:  listAliases,
		what:  []string{"access key", "not recognised"}, hint: []string{"aws configure list", "--profile"},
	}, {
		name:  "STS InvalidClientTokenId",
		fault: fakeaws.Fault{Service: "sts", Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."},
		call:  identity,
		what:  []string{"not recognised"}, hint: []string{"--profile"},
	}, {
		name:  "InvalidSignatureException",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "InvalidSignatureException", Message: "The request signature we calculated does not match the signature you provided."},
		call:  listAliases,
		what:  []string{"secret access key"}, hint: []string{"aws configure"},
	}, {
		name:  "InvalidSignatureException, clock off",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "InvalidSignatureException", Message: "Signature expired: 20250301T090000Z is now earlier than 20250301T091500Z (20250301T093000Z - 15 min.)"},
		call:  listAliases,
		what:  []string{"clock"}, hint: []string{"clock"},
	}, {
		name: "AccessDeniedException naming the action",
		fault: fakeaws.Fault{Service: "kms", Operation: "CreateKey", Status: 400, Code: "AccessDeniedException",
			Message: "User: arn:aws:iam::111122223333:user/learner is not authorized to perform: kms:CreateKey because no identity-based policy allows the kms:CreateKey action"},
		call: createKeyCall,
		what: []string{"access denied", "kms:CreateKey"}, hint: []string{"kms:CreateKey", IAMPolicyFile},
	}, {
		name:  "AccessDeniedException without the action",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "AccessDeniedException", Message: "Access denied"},
		call:  listAliases,
		what:  []string{"kms:ListAliases"}, hint: []string{"kms:ListAliases", IAMPolicyFile},
	}, {
		name:  "ThrottlingException after retries",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"},
		call:  listAliases,
		what:  []string{"throttled", "Rate exceeded", "after 3 attempts"}, hint: []string{"wait", "again"},
	}, {
		name:  "STS Throttling after retries",
		fault: fakeaws.Fault{Service: "sts", Status: 400, Code: "Throttling", Message: "Rate exceeded"},
		call:  identity,
		what:  []string{"throttled", "after 3 attempts"}, hint: []string{"wait"},
	}, {
		name:  "an unmodelled code saying Rate exceeded",
		fault: fakeaws.Fault{Service: "kms", Status: 400, Code: "SlowDownPleaseException", Message: "Rate exceeded"},
		call:  listAliases,
		what:  []string{"throttled"}, hint: []string{"wait"},
	}, {
		name:  "KMSInternalException after retries",
		fault: fakeaws.Fault{Service: "kms", Status: 500, Code: "KMSInternalException", Message: "internal error"},
		call:  listAliases,
		what:  []string{"internal error", "after 3 attempts"}, hint: []string{"try again"},
	}, {
		name:  "LimitExceededException",
		fault: fakeaws.Fault{Service: "kms", Operation: "CreateKey", Status: 400, Code: "LimitExceededException", Message: "Too many keys in this account."},
		call:  createKeyCall,
		what:  []string{"quota", "Too many keys"}, hint: []string{"delete"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := demoClients(t, Options{})
			c.fake.InjectFault(tc.fault)
			err := tc.call(c)
			if err == nil {
				t.Fatalf("%s: call succeeded, want error", tc.name)
			}
			checkAdvice(t, tc.name, Explain(fmt.Errorf("step: %w", err)), tc.what, tc.hint)
			if got := c.Calls.Calls()[0].Outcome(); got != tc.fault.Code {
				t.Errorf("Outcome(%s) = %q, want %q", tc.name, got, tc.fault.Code)
			}
		})
	}
}

func TestExplainUnknownError(t *testing.T) {
	c := demoClients(t, Options{})
	c.fake.InjectFault(fakeaws.Fault{Service: "kms", Status: 400, Code: "BrandNewException", Message: "something new"})
	_, err := c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
	if err == nil {
		t.Fatal("ListAliases succeeded, want BrandNewException")
	}
	if a := Explain(err); a.What != err.Error() || a.Hint != "" {
		t.Errorf("Explain(unknown) = %+v, want What = the error text and no Hint", a)
	}
	if a := Explain(errors.New("disk full")); a.What != "disk full" || a.Hint != "" {
		t.Errorf("Explain(disk full) = %+v, want What = disk full and no Hint", a)
	}
}

// TestDiagnoseKeyProblems makes the fake KMS refuse for the reasons a
// learner meets: a key deleted or disabled between steps, a missing alias,
// the wrong key or encryption context on Decrypt. What to do about a key
// depends on the caller (a step, encrypt, decrypt), so Diagnose says only
// what happened and gives no hint.
func TestDiagnoseKeyProblems(t *testing.T) {
	ctx := context.Background()
	generate := func(c *Clients, key string) ([]byte, error) {
		out, err := c.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext,
		})
		if err != nil {
			return nil, err
		}
		return out.CiphertextBlob, nil
	}
	for _, tc := range []struct {
		name   string
		call   func(t *testing.T, c *Clients) (key string, err error)
		reason Reason
		what   []string
	}{{
		name: "pending deletion",
		call: func(t *testing.T, c *Clients) (string, error) {
			arn := createKey(t, c)
			if _, err := c.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(arn), PendingWindowInDays: aws.Int32(7)}); err != nil {
				t.Fatal(err)
			}
			_, err := generate(c, arn)
			return arn, err
		},
		reason: KeyPendingDeletion, what: []string{"deletion"},
	}, {
		name: "disabled",
		call: func(t *testing.T, c *Clients) (string, error) {
			arn := createKey(t, c)
			if _, err := c.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
			_, err := generate(c, arn)
			return arn, err
		},
		reason: KeyDisabled, what: []string{"disabled"},
	}, {
		name: "alias missing",
		call: func(t *testing.T, c *Clients) (string, error) {
			_, err := generate(c, workshopAlias)
			return workshopAlias, err
		},
		reason: KeyNotFound, what: []string{"does not exist"},
	}, {
		// KMS names the alias as it was given, whatever it holds: the
		// whole name must be shown, not the part before a space.
		name: "alias with a space missing",
		call: func(t *testing.T, c *Clients) (string, error) {
			_, err := generate(c, "alias/my key")
			return "alias/my key", err
		},
		reason: KeyNotFound, what: []string{"the alias alias/my key does not exist"},
	}, {
		name: "key missing",
		call: func(t *testing.T, c *Clients) (string, error) {
			arn := "arn:aws:kms:us-east-1:" + fakeaws.DefaultAccountID + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
			_, err := generate(c, arn)
			return arn, err
		},
		reason: KeyNotFound, what: []string{"does not exist"},
	}, {
		name: "not a key ID",
		call: func(t *testing.T, c *Clients) (string, error) {
			_, err := generate(c, "arn:aws:kxs:us-east-1:1:key/x")
			return "arn:aws:kxs:us-east-1:1:key/x", err
		},
		reason: InvalidKeyID, what: []string{"not a KMS key ID"},
	}, {
		name: "alias taken",
		call: func(t *testing.T, c *Clients) (string, error) {
			arn := createKey(t, c)
			var err error
			for range 2 {
				_, err = c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)})
			}
			return workshopAlias, err
		},
		reason: AliasExists, what: []string{"already exists"},
	}, {
		name: "wrong key",
		call: func(t *testing.T, c *Clients) (string, error) {
			a, b := createKey(t, c), createKey(t, c)
			blob, err := generate(c, a)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.KMS.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(b), CiphertextBlob: blob, EncryptionContext: workshopContext})
			return "", err
		},
		reason: IncorrectKey, what: []string{"another KMS key"},
	}, {
		name: "wrong encryption context",
		call: func(t *testing.T, c *Clients) (string, error) {
			arn := createKey(t, c)
			blob, err := generate(c, arn)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.KMS.Decrypt(ctx, &kms.DecryptInput{
				KeyId: aws.String(arn), CiphertextBlob: blob, EncryptionContext: map[string]string{"whatfor": "USECASE-3-CSE"},
			})
			return "", err
		},
		reason: InvalidCiphertext, what: []string{"encryption context"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := demoClients(t, Options{})
			key, err := tc.call(t, c)
			p, ok := Diagnose(fmt.Errorf("step: %w", err))
			if !ok || p.Reason != tc.reason {
				t.Fatalf("Diagnose(%s) = %v, %v; want reason %v", tc.name, p.Reason, ok, tc.reason)
			}
			if p.Key != key {
				t.Errorf("Diagnose(%s).Key = %q, want %q", tc.name, p.Key, key)
			}
			what := tc.what
			if key != "" {
				what = append(what, key)
			}
			checkAdvice(t, tc.name, Explain(err), what, nil)
			if p.Hint != "" || strings.Contains(p.What, "step") {
				t.Errorf("Diagnose(%s) = %+v, want no hint and no step: what to do depends on the caller", tc.name, p)
			}
		})
	}
}

// TestExplainNamesLiveProfile: against the live backend, advice about
// credentials names the profile the keys came from.
func TestExplainNamesLiveProfile(t *testing.T) {
	home := isolateAWS(t)
	creds := filepath.Join(home, "credentials")
	if err := os.WriteFile(creds, []byte("[workshop]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	fake, err := fakeaws.New(fakeaws.Options{Clock: clock.NewAuto(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", fakeawstest.Serve(t, fake))
	fake.InjectFault(fakeaws.Fault{Service: "sts", Status: 403, Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid."})

	c, err := New(context.Background(), Options{Live: true, Profile: "workshop", Region: "us-east-1"})
	if err != nil {
		t.Fatalf("New(live, --profile workshop) = %v", err)
	}
	_, err = c.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	checkAdvice(t, "InvalidClientTokenId (live)", Explain(err), []string{"profile workshop"}, []string{"--profile"})
}

// TestExplainExpiredTokenOfSSOProfile: when the keys of an SSO profile
// expire mid-run, the hint is the login command for that profile.
func TestExplainExpiredTokenOfSSOProfile(t *testing.T) {
	home := isolateAWS(t)
	t.Setenv("AWS_CONFIG_FILE", writeSSOConfig(t, home))
	writeSSOToken(t, home, "workshop-sso", time.Now().Add(time.Hour))
	fake, err := fakeaws.New(fakeaws.Options{Clock: clock.NewAuto(testStart)})
	if err != nil {
		t.Fatal(err)
	}
	// One loopback endpoint for the SSO portal (which hands out role keys
	// for the cached token) and for the fake AWS.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/federation/credentials" {
			fake.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"roleCredentials": {"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "secret", "sessionToken": "session", "expiration": %d}}`,
			time.Now().Add(time.Hour).UnixMilli())
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_SSO", srv.URL)
	fake.InjectFault(fakeaws.Fault{Service: "kms", Status: 400, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"})

	c, err := New(context.Background(), Options{Live: true, Profile: "dev"})
	if err != nil {
		t.Fatalf("New(live, --profile dev) = %v", err)
	}
	_, err = c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
	checkAdvice(t, "ExpiredTokenException (SSO profile)", Explain(err), []string{"expired"}, []string{"`aws sso login --profile dev`"})
}

// TestThrottleCodesAreRetriedAndDiagnosed: every code in the one list of
// throttling codes is retried by the demo's retryer and read as Throttled,
// whichever service sends it.
func TestThrottleCodesAreRetriedAndDiagnosed(t *testing.T) {
	for _, code := range throttleCodes {
		for _, service := range []string{"kms", "cloudtrail", "sts"} {
			c := demoClients(t, Options{})
			c.fake.InjectFault(fakeaws.Fault{Service: service, Status: 400, Code: code, Message: "Slow down"})
			var err error
			switch service {
			case "kms":
				_, err = c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
			case "cloudtrail":
				_, err = c.CloudTrail.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
			case "sts":
				_, err = c.Identity(context.Background())
			}
			if got := c.Calls.Calls()[0].Attempts; got != 3 {
				t.Errorf("%s %s: %d attempts, want 3 (retried)", service, code, got)
			}
			if p, _ := Diagnose(err); p.Reason != Throttled {
				t.Errorf("Diagnose(%s %s).Reason = %v, want Throttled", service, code, p.Reason)
			}
		}
	}
}

// TestExplainAttachedAdvice: a caller's hint replaces Diagnose's, the
// outermost one wins, and What still says what happened in AWS's terms
// unless the caller restated it.
func TestExplainAttachedAdvice(t *testing.T) {
	c := demoClients(t, Options{})
	_, awsErr := c.KMS.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
	if awsErr == nil {
		t.Fatal("DescribeKey of a missing alias succeeded")
	}
	p, _ := Diagnose(awsErr)
	listenErr := &net.OpError{Op: "listen", Net: "tcp", Err: syscall.EADDRINUSE}
	for _, tc := range []struct {
		name string
		err  error
		want Advice
	}{
		{"AWS error with a hint", WithHint(fmt.Errorf("encrypt x: %w", awsErr), "check --key"), Advice{p.What, "check --key"}},
		{"two hints", WithHint(fmt.Errorf("step 2: %w", WithHint(awsErr, "inner")), "outer"), Advice{p.What, "outer"}},
		{"restated", fmt.Errorf("step 3: %w", WithAdvice(awsErr, Advice{What: "the file was damaged", Hint: "run step 2 again"})),
			Advice{"step 3: the file was damaged", "run step 2 again"}},
		{"not from an AWS call", WithHint(fmt.Errorf("listen on 127.0.0.1:1: %w", listenErr), "choose another --listen"),
			Advice{"listen on 127.0.0.1:1: listen tcp: address already in use", "choose another --listen"}},
		{"cancelled outside an AWS call", context.Canceled, Advice{What: "context canceled"}},
	} {
		if got := Explain(tc.err); got != tc.want {
			t.Errorf("Explain(%s) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if _, ok := Diagnose(listenErr); ok {
		t.Errorf("Diagnose(listen error) = ok, want no AWS problem: the socket is ours")
	}
}

func TestReasonZeroIsInvalid(t *testing.T) {
	if got := Reason(0).String(); got != "Reason(0)" {
		t.Errorf("Reason(0).String() = %q, want Reason(0)", got)
	}
	if got := KeyPendingDeletion.String(); got != "KeyPendingDeletion" {
		t.Errorf("KeyPendingDeletion.String() = %q", got)
	}
}

// TestDiagnoseAccessDeniedNamesTheAction: the IAM action comes from AWS's
// message when it says it, else from the operation refused.
func TestDiagnoseAccessDeniedNamesTheAction(t *testing.T) {
	for _, tc := range []struct {
		message, want string
	}{
		{"User: arn:aws:iam::111122223333:user/learner is not authorized to perform: kms:GenerateDataKey on resource: arn", "kms:GenerateDataKey"},
		{"Access denied", "kms:ListAliases"},
	} {
		c := demoClients(t, Options{})
		c.fake.InjectFault(fakeaws.Fault{Service: "kms", Status: 400, Code: "AccessDeniedException", Message: tc.message})
		_, err := c.KMS.ListAliases(context.Background(), &kms.ListAliasesInput{})
		if p, _ := Diagnose(err); p.Reason != AccessDenied || p.Action != tc.want {
			t.Errorf("Diagnose(AccessDenied %q) = %v %q, want AccessDenied %q", tc.message, p.Reason, p.Action, tc.want)
		}
	}
}
