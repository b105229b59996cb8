package fidelity

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/toolbin"
)

// workshopEnv carries the path of the built cse-workshop binary into the
// test that runs inside the network namespace.
const workshopEnv = "CSE_FIDELITY_WORKSHOP"

// The lines the original workshop's scripts printed (FACTS, DESIGN), by step.
// Step 4's verdict is the workshop's own; it is looked for by its words.
var originalLines = map[int]string{
	1: "KMS Master Key with alias name kms_key_cse_usecase_3 successfully created",
	2: "Module run was successful !!",
	3: "Module run was successful !!",
	4: "plaintext_u.txt and plaintext_u_cycled.txt are identical",
	5: "GenerateDataKey API Called",
	6: "Cleanup Successful",
}

// The workshop's files that step 6 deletes.
var madeFiles = []string{"encrypted_e.txt", "plaintext_u_cycled.txt"}

var (
	buildDir  string // removed by TestMain
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildWorkshop builds the cse-workshop command once per test process, from
// the repository's own sources.
func buildWorkshop(t *testing.T) string {
	t.Helper()
	root := toolbin.RepoRoot(t)
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go") // go test puts its own GOROOT/bin first on PATH
		if err != nil {
			buildErr = err
			return
		}
		buildDir, err = os.MkdirTemp("", "cse-workshop-fidelity-")
		if err != nil {
			buildErr = err
			return
		}
		bin := filepath.Join(buildDir, "cse-workshop")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	if buildErr != nil {
		t.Fatalf("go build -o cse-workshop .: %v", buildErr)
	}
	return builtBin
}

// mockAWSListening is the line mock-aws prints once it listens.
var mockAWSListening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:[0-9]+)`)

// startMockAWS runs `cse-workshop mock-aws` on a free loopback port for the
// rest of the test, with short audit-trail delays, and returns its endpoint.
func startMockAWS(t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "mock-aws", "--listen", "127.0.0.1:0", "--fast", "--dir", t.TempDir())
	cmd.Env = withoutAWSEnv()
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	dieWithTest(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("start mock-aws: %v", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start mock-aws: %v", err)
	}
	endpoints := make(chan string, 1)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := mockAWSListening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case endpoints <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	t.Cleanup(func() {
		cancel()
		<-drained
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("mock-aws: %v\n%s", err, stderr.String())
		}
	})
	select {
	case ep := <-endpoints:
		return ep
	case <-drained:
		t.Fatalf("mock-aws exited before it listened:\n%s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("mock-aws did not listen within 30s:\n%s", stderr.String())
	}
	return ""
}

// withoutAWSEnv is this process's environment without any AWS_ setting, so
// that nothing of the machine's own AWS configuration leaks in.
func withoutAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// liveEnv is the environment of a live (--aws) run against local endpoints:
// static credentials, no config files, no instance metadata.
func liveEnv(t *testing.T, endpoint, kmsEndpoint string) []string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"config", "credentials"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(withoutAWSEnv(),
		"AWS_ENDPOINT_URL="+endpoint,
		"AWS_ACCESS_KEY_ID="+fakeaws.DemoAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+fakeaws.DemoSecretAccessKey,
		"AWS_REGION="+fakeaws.DefaultRegion,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
	if kmsEndpoint != "" {
		env = append(env, "AWS_ENDPOINT_URL_KMS="+kmsEndpoint)
	}
	return env
}

// runWorkshop runs the cse-workshop command and returns its standard output;
// it fails the test if the command does not exit 0 within two minutes.
func runWorkshop(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = nil
	cmd.WaitDelay = 5 * time.Second
	dieWithTest(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("%w (killed after 2m)", err)
		}
		t.Fatalf("cse-workshop %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// wantLinesInOrder checks that out holds the original lines of steps, in
// that order, each as the text of a status line.
func wantLinesInOrder(t *testing.T, what, out string, steps ...int) {
	t.Helper()
	rest := out
	for _, n := range steps {
		line := originalLines[n]
		i := strings.Index(rest, line)
		if i < 0 {
			t.Errorf("%s: step %d's line %q missing (or out of order) in the output:\n%s", what, n, line, out)
			return
		}
		rest = rest[i+len(line):]
	}
}

// wantCleanedUp checks what step 6 leaves behind: no workshop alias, every
// key pending deletion, and no file the workshop made.
func wantCleanedUp(t *testing.T, kmsEndpoint, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := newKMSClient(kmsEndpoint)
	if _, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)}); err == nil {
		t.Errorf("DescribeKey(%s) after step 6 succeeded, want NotFoundException: the alias should be deleted", workshopAlias)
	}
	keys, err := client.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatalf("ListKeys after step 6: %v", err)
	}
	if len(keys.Keys) != 1 {
		t.Errorf("ListKeys after the workshop: %d keys, want the 1 key step 1 created", len(keys.Keys))
	}
	for _, k := range keys.Keys {
		out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
		if err != nil {
			t.Errorf("DescribeKey(%s): %v", aws.ToString(k.KeyArn), err)
			continue
		}
		if got := out.KeyMetadata.KeyState; got != types.KeyStatePendingDeletion {
			t.Errorf("key %s after step 6 is %s, want %s", aws.ToString(k.KeyArn), got, types.KeyStatePendingDeletion)
		}
	}
	for _, name := range madeFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after step 6: Stat = %v, want it deleted", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "plaintext_u.txt")); err != nil {
		t.Errorf("plaintext_u.txt after step 6: %v, want it kept", err)
	}
}

// TestWorkshopLiveAgainstMockAWS runs the whole live code path (--aws: the
// SDK's default configuration, AWS_ENDPOINT_URL, the confirmation with
// --yes) against `cse-workshop mock-aws`, all six steps in one run.
func TestWorkshopLiveAgainstMockAWS(t *testing.T) {
	bin := buildWorkshop(t)
	endpoint := startMockAWS(t, bin)
	dir := filepath.Join(t.TempDir(), "usecase-3")

	out := runWorkshop(t, bin, liveEnv(t, endpoint, ""), "run", "--aws", "--yes", "--fast", "--dir", dir)

	wantLinesInOrder(t, "run --aws", out, 1, 2, 3, 4, 5, 6)
	wantCleanedUp(t, endpoint, dir)
}

// TestWorkshopLiveAgainstLocalKMS runs steps 1, 2, 3, 4 and 6 of the live
// code path, one process each as the original scripts ran, with KMS served
// by local-kms (AWS_ENDPOINT_URL_KMS) and STS by mock-aws. Step 5 needs
// CloudTrail records of KMS calls, which only the fake keeps, so it is left
// out. local-kms listens on every interface, so the test runs inside a
// private network namespace.
func TestWorkshopLiveAgainstLocalKMS(t *testing.T) {
	if !isolated(t, func() []string {
		return []string{localKMSEnv + "=" + buildLocalKMS(t), workshopEnv + "=" + buildWorkshop(t)}
	}) {
		return
	}
	bin, localKMSBin := os.Getenv(workshopEnv), os.Getenv(localKMSEnv)
	if bin == "" || localKMSBin == "" {
		t.Fatalf("%s or %s is not set: run the test from the outside, not inside the namespace", workshopEnv, localKMSEnv)
	}
	kmsEndpoint := startLocalKMS(t, localKMSBin)
	endpoint := startMockAWS(t, bin)
	env := liveEnv(t, endpoint, kmsEndpoint)
	dir := filepath.Join(t.TempDir(), "usecase-3")

	for _, n := range []int{1, 2, 3, 4, 6} {
		out := runWorkshop(t, bin, env, "step", fmt.Sprint(n), "--aws", "--yes", "--fast", "--dir", dir)
		wantLinesInOrder(t, fmt.Sprintf("step %d --aws with local-kms", n), out, n)
	}
	wantCleanedUp(t, kmsEndpoint, dir)
}
