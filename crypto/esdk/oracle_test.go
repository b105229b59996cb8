package esdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/toolbin"
)

// The oracle is the official AWS Encryption SDK for Go, behind the command
// in tools/esdkoracle (its own module, so that the SDK stays out of the
// workshop's go.mod and binary).

// buildOracle builds tools/esdkoracle and returns the binary's path, or
// skips the test: the first build takes minutes of compiling the
// Dafny-generated SDK, which is why -short skips the oracle altogether.
func buildOracle(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the official AWS Encryption SDK takes minutes to build: run without -short to hold crypto/esdk to it")
	}
	return toolbin.Build(t, "esdkoracle", ".", 15*time.Minute)
}

// oracleEnv is a KMS endpoint on loopback: the fake AWS with one key, a
// client of ours for it, and the environment that points the oracle at it.
type oracleEnv struct {
	bin    string
	keyARN string
	kms    *kms.Client // over HTTP, as the oracle
	// inProcess reaches the same fake without a socket, as the demo
	// backend does.
	inProcess *kms.Client
	env       []string
	dir       string
}

func newOracleEnv(t *testing.T) *oracleEnv {
	t.Helper()
	bin := buildOracle(t)
	srv, err := fakeaws.New(fakeaws.Options{})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	client := kms.NewFromConfig(aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
	})
	key, err := client.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return &oracleEnv{
		bin:    bin,
		keyARN: aws.ToString(key.KeyMetadata.Arn),
		kms:    client,
		inProcess: kms.NewFromConfig(aws.Config{
			Region:      fakeaws.DefaultRegion,
			Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
			HTTPClient:  &http.Client{Transport: srv.RoundTripper()},
		}),
		env: oracleEnviron(endpoint),
		dir: t.TempDir(),
	}
}

// oracleEnviron is the environment of an oracle that talks to the KMS at
// endpoint, and to nothing else.
func oracleEnviron(endpoint string) []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_REGION=" + fakeaws.DefaultRegion,
		"AWS_ACCESS_KEY_ID=" + fakeaws.DemoAccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + fakeaws.DemoSecretAccessKey,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "PATH" || k == "HOME" || k == "TMPDIR" {
			env = append(env, kv)
		}
	}
	return env
}

// run runs the oracle and returns its stdout, or its error with stderr.
func (o *oracleEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(o.bin, args...)
	cmd.Env = o.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("esdkoracle %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (o *oracleEnv) file(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(o.dir, name)
	if data != nil {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func contextArgs(ec map[string]string) []string {
	var args []string
	for k, v := range ec {
		args = append(args, "-context", k+"="+v)
	}
	return args
}

type differentialCase struct {
	suite       Suite
	frameLength int
	size        int
}

func differentialCases() []differentialCase {
	var cases []differentialCase
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		for _, size := range []int{0, 1, 4095, 4096, 4097, 3*4096 + 100} {
			cases = append(cases, differentialCase{suite, 4096, size})
		}
		for _, size := range []int{0, 1, 5} {
			cases = append(cases, differentialCase{suite, 1, size})
		}
	}
	return cases
}

// Files we write decrypt with the official SDK, to the same plaintext and
// context; both reach KMS over HTTP on loopback, as through mock-aws.
func TestOracleDecryptsOurs(t *testing.T) {
	o := newOracleEnv(t)
	for _, tc := range differentialCases() {
		t.Run(fmt.Sprintf("%s/frame%d/size%d", tc.suite, tc.frameLength, tc.size), func(t *testing.T) {
			plaintext := randomBytes(tc.size)
			var msg bytes.Buffer
			_, err := Encrypt(context.Background(), o.kms, &msg, bytes.NewReader(plaintext), EncryptOptions{
				KeyID: o.keyARN, Suite: tc.suite, FrameLengthInBytes: tc.frameLength, EncryptionContext: workshopContext,
			})
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			in := o.file(t, "ours.esdk", msg.Bytes())
			out := o.file(t, "ours.plain", nil)
			stdout, err := o.run(t, append([]string{"decrypt", "-key", o.keyARN}, append(contextArgs(workshopContext), in, out)...)...)
			if err != nil {
				t.Fatalf("the official SDK cannot decrypt our message: %v", err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Errorf("the official SDK decrypted %d bytes, not our %d-byte plaintext", len(got), len(plaintext))
			}
			if !strings.Contains(stdout, `"suite":"`+tc.suite.String()+`"`) || !strings.Contains(stdout, `"whatfor":"usecase-3-cse"`) {
				t.Errorf("the official SDK reports %s", stdout)
			}
		})
	}
}

// Files the official SDK writes decrypt with ours, with KMS in process.
func TestOursDecryptsOracle(t *testing.T) {
	o := newOracleEnv(t)
	for _, tc := range differentialCases() {
		t.Run(fmt.Sprintf("%s/frame%d/size%d", tc.suite, tc.frameLength, tc.size), func(t *testing.T) {
			plaintext := randomBytes(tc.size)
			in := o.file(t, "theirs.plain", plaintext)
			out := o.file(t, "theirs.esdk", nil)
			args := []string{"encrypt", "-key", o.keyARN, "-suite", tc.suite.String(), "-frame", fmt.Sprint(tc.frameLength)}
			if _, err := o.run(t, append(args, append(contextArgs(workshopContext), in, out)...)...); err != nil {
				t.Fatal(err)
			}
			msg, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			h, err := Decrypt(context.Background(), o.inProcess, &got, bytes.NewReader(msg), DecryptOptions{
				KeyIDs: []string{o.keyARN}, EncryptionContext: workshopContext,
			})
			if err != nil {
				t.Fatalf("Decrypt(the official SDK's message) = %v", err)
			}
			if !bytes.Equal(got.Bytes(), plaintext) {
				t.Errorf("Decrypt returned %d bytes, not the %d-byte plaintext", got.Len(), len(plaintext))
			}
			if h.Suite != tc.suite || h.FrameLengthInBytes != uint32(tc.frameLength) || h.EncryptedDataKeys[0].KeyARN() != o.keyARN {
				t.Errorf("header = %+v", h)
			}
			// Our writer lays out the same plaintext in the same number of
			// bytes: the same frames, the same header fields.
			var ours bytes.Buffer
			if _, err := Encrypt(context.Background(), o.kms, &ours, bytes.NewReader(plaintext), EncryptOptions{
				KeyID: o.keyARN, Suite: tc.suite, FrameLengthInBytes: tc.frameLength, EncryptionContext: workshopContext,
			}); err != nil {
				t.Fatal(err)
			}
			if diff := len(ours.Bytes()) - len(msg); diff < -2 || diff > 2 || (!tc.suite.Signed() && diff != 0) {
				t.Errorf("our message is %d bytes, the official SDK's %d", ours.Len(), len(msg))
			}
		})
	}
}

// ESDK 1.x's messages (version 1, suites 0x0378 and 0x0178) decrypt only
// when legacy is allowed.
func TestOursDecryptsOracleLegacy(t *testing.T) {
	o := newOracleEnv(t)
	for _, suite := range []Suite{SuiteLegacyECDSAP384, SuiteLegacy} {
		for _, size := range []int{0, 4096, 10000} {
			plaintext := randomBytes(size)
			in := o.file(t, "legacy.plain", plaintext)
			out := o.file(t, "legacy.esdk", nil)
			if _, err := o.run(t, append([]string{"encrypt", "-key", o.keyARN, "-suite", suite.String()}, append(contextArgs(workshopContext), in, out)...)...); err != nil {
				t.Fatal(err)
			}
			msg, _ := os.ReadFile(out)
			var got bytes.Buffer
			if _, err := Decrypt(context.Background(), o.kms, &got, bytes.NewReader(msg), DecryptOptions{}); !errors.Is(err, ErrLegacySuite) || got.Len() > 0 {
				t.Errorf("%s: Decrypt without AllowLegacy = %v, want ErrLegacySuite", suite, err)
			}
			h, err := Decrypt(context.Background(), o.kms, &got, bytes.NewReader(msg), DecryptOptions{AllowLegacy: true})
			if err != nil || !bytes.Equal(got.Bytes(), plaintext) {
				t.Fatalf("%s, %d bytes: Decrypt with AllowLegacy = %v, %d bytes", suite, size, err, got.Len())
			}
			if h.Version != 1 || h.Suite != suite || len(h.MessageID) != 16 || len(h.IV) != 12 || h.CommitKey != nil {
				t.Errorf("%s: header = %+v", suite, h)
			}
		}
	}
}

// The required encryption context is checked as the official SDK checks it.
func TestRequiredContextAgreesWithOracle(t *testing.T) {
	o := newOracleEnv(t)
	stored := map[string]string{"whatfor": "usecase-3-cse", "team": "blue"}
	var msg bytes.Buffer
	if _, err := Encrypt(context.Background(), o.kms, &msg, strings.NewReader("secret"), EncryptOptions{KeyID: o.keyARN, EncryptionContext: stored}); err != nil {
		t.Fatal(err)
	}
	in := o.file(t, "ctx.esdk", msg.Bytes())
	for _, required := range []map[string]string{
		{}, {"whatfor": "usecase-3-cse"}, stored,
		{"whatfor": "other"}, {"whatfor": "usecase-3-cse", "extra": "1"}, {"extra": "1"},
	} {
		_, oracleErr := o.run(t, append([]string{"decrypt", "-key", o.keyARN}, append(contextArgs(required), in, o.file(t, "ctx.out", nil))...)...)
		_, ourErr := Decrypt(context.Background(), o.kms, new(bytes.Buffer), bytes.NewReader(msg.Bytes()), DecryptOptions{EncryptionContext: required})
		if (oracleErr == nil) != (ourErr == nil) {
			t.Errorf("required context %v: the official SDK says %v, we say %v", required, oracleErr, ourErr)
		}
	}
}

// serveTestKMS serves the test double over HTTP on loopback until the test
// ends.
func serveTestKMS(t *testing.T, k *testKMS) string {
	t.Helper()
	srv := &http.Server{Handler: k}
	ln, err := netListenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func netListenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
