package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
			c.Fake.InjectFault(tc.fault)
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
	c.Fake.InjectFault(fakeaws.Fault{Service: "kms", Status: 400, Code: "BrandNewException", Message: "something new"})
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

// TestExplainKeyProblems makes the fake KMS refuse for the reasons a
// learner meets: a key deleted or disabled between steps, a missing alias,
// the wrong key or encryption context on Decrypt.
func TestExplainKeyProblems(t *testing.T) {
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

	t.Run("pending deletion", func(t *testing.T) {
		c := demoClients(t, Options{})
		arn := createKey(t, c)
		if _, err := c.KMS.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(arn), PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		_, err := generate(c, arn)
		checkAdvice(t, "KMSInvalidStateException", Explain(err),
			[]string{arn, "deletion"}, []string{"aws kms cancel-key-deletion --key-id " + arn, "step 1"})
	})

	t.Run("disabled", func(t *testing.T) {
		c := demoClients(t, Options{})
		arn := createKey(t, c)
		if _, err := c.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
		_, err := generate(c, arn)
		checkAdvice(t, "DisabledException", Explain(err),
			[]string{arn, "disabled"}, []string{"aws kms enable-key --key-id " + arn, "step 1"})
	})

	t.Run("alias missing", func(t *testing.T) {
		c := demoClients(t, Options{})
		_, err := generate(c, workshopAlias)
		checkAdvice(t, "NotFoundException", Explain(err),
			[]string{workshopAlias, "does not exist"}, []string{"step 1"})
	})

	t.Run("alias taken", func(t *testing.T) {
		c := demoClients(t, Options{})
		arn := createKey(t, c)
		var err error
		for range 2 {
			_, err = c.KMS.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(arn)})
		}
		checkAdvice(t, "AlreadyExistsException", Explain(err),
			[]string{workshopAlias, "already exists"}, []string{"step 6"})
	})

	t.Run("wrong key", func(t *testing.T) {
		c := demoClients(t, Options{})
		a, b := createKey(t, c), createKey(t, c)
		blob, err := generate(c, a)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.KMS.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(b), CiphertextBlob: blob, EncryptionContext: workshopContext})
		checkAdvice(t, "IncorrectKeyException", Explain(err),
			[]string{"different KMS key"}, []string{"--key"})
	})

	t.Run("wrong encryption context", func(t *testing.T) {
		c := demoClients(t, Options{})
		arn := createKey(t, c)
		blob, err := generate(c, arn)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.KMS.Decrypt(ctx, &kms.DecryptInput{
			KeyId: aws.String(arn), CiphertextBlob: blob, EncryptionContext: map[string]string{"whatfor": "USECASE-3-CSE"},
		})
		checkAdvice(t, "InvalidCiphertextException", Explain(err),
			[]string{"encryption context"}, []string{"--context"})
	})
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

func TestAdviceString(t *testing.T) {
	for _, tc := range []struct {
		a    Advice
		want string
	}{
		{Advice{What: "the KMS key is disabled", Hint: "run step 1 again"}, "the KMS key is disabled\nhint: run step 1 again"},
		{Advice{What: "disk full"}, "disk full"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.a, got, tc.want)
		}
	}
}
