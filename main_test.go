package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// runMainEnv makes the test binary run the program instead of the tests, so
// that tests can start it as a separate process.
const runMainEnv = "CSE_WORKSHOP_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// originalLines are the original workshop's lines, in the order a full run
// prints them.
var originalLines = []string{
	"KMS Master Key with alias name kms_key_cse_usecase_3 successfully created",
	"Module run was successful !!",
	"Module run was successful !!",
	"GenerateDataKey API Called",
	"Cleanup Successful",
}

// result is what one invocation did.
type result struct {
	code           int
	stdout, stderr string
}

// inProcess runs the command line in this process on a clock that jumps
// over every wait; no terminal.
func inProcess(t *testing.T, clk clock.Clock, args ...string) result {
	t.Helper()
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	var out, errOut bytes.Buffer
	a := &app{stdin: devNull, stdout: &out, stderr: &errOut, clock: clk}
	code := a.main(args)
	return result{code, out.String(), errOut.String()}
}

// autoClock is a clock for in-process runs.
func autoClock() clock.Clock {
	return clock.NewAuto(time.Date(2026, 11, 27, 6, 28, 0, 0, time.UTC))
}

// command returns the program as a separate process.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	return cmd
}

// separate runs the program as a separate process.
func separate(t *testing.T, args ...string) result {
	t.Helper()
	cmd := command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	code := 0
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errOut.String()}
}

// checkOriginalLines checks that stdout has the original lines, in order,
// each as the text of an OK line.
func checkOriginalLines(t *testing.T, stdout string, want []string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(stdout, "\n") {
		if _, text, ok := strings.Cut(line, "  OK     "); ok && slices.Contains(originalLines, text) {
			got = append(got, text)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("original lines printed = %q, want %q; stdout:\n%s", got, want, stdout)
	}
}

// workshopWithKey returns a workshop folder where step 1 has run, and the
// clock its in-process runs share.
func workshopWithKey(t *testing.T) (string, clock.Clock) {
	t.Helper()
	dir := t.TempDir()
	clk := autoClock()
	if r := inProcess(t, clk, "step", "1", "--dir", dir); r.code != exitOK {
		t.Fatalf("step 1: exit %d, %s", r.code, r.stderr)
	}
	return dir, clk
}

// notesFile writes a small plaintext file into a new folder and returns
// the folder and the file.
func notesFile(t *testing.T) (files, in string) {
	t.Helper()
	files = t.TempDir()
	in = filepath.Join(files, "notes.txt")
	if err := os.WriteFile(in, []byte("meet at noon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return files, in
}

// visibleFiles lists the names in dir that do not start with a dot.
func visibleFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestRunDemo(t *testing.T) {
	dir := t.TempDir()
	r := inProcess(t, autoClock(), "run", "--fast", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("run exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	checkOriginalLines(t, r.stdout, originalLines)
	if got := visibleFiles(t, dir); len(got) != 1 || got[0] != steps.PlaintextFile {
		t.Errorf("files after run = %v, want only %s", got, steps.PlaintextFile)
	}
}

func TestRunWithoutTerminalIsTheDefault(t *testing.T) {
	dir := t.TempDir()
	r := inProcess(t, autoClock(), "--fast", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	checkOriginalLines(t, r.stdout, originalLines)
	if !strings.Contains(r.stderr, "not a terminal") {
		t.Errorf("stderr = %q, want a note that it runs without the tutorial", r.stderr)
	}
}

func TestStepsAsSeparateProcesses(t *testing.T) {
	dir := t.TempDir()
	var got []string
	for _, n := range []string{"1", "2", "3", "5", "6"} {
		r := separate(t, "step", n, "--fast", "--dir", dir)
		if r.code != exitOK {
			t.Fatalf("step %s exit code = %d, want 0; stderr:\n%s", n, r.code, r.stderr)
		}
		if n == "3" {
			plain, _ := os.ReadFile(filepath.Join(dir, steps.PlaintextFile))
			cycled, _ := os.ReadFile(filepath.Join(dir, steps.CycledFile))
			enc, _ := os.ReadFile(filepath.Join(dir, steps.EncryptedFile))
			if len(plain) == 0 || !bytes.Equal(plain, cycled) {
				t.Errorf("after step 3, %s differs from %s", steps.CycledFile, steps.PlaintextFile)
			}
			if bytes.Contains(enc, plain) {
				t.Errorf("%s contains the plaintext", steps.EncryptedFile)
			}
		}
		for _, line := range strings.Split(r.stdout, "\n") {
			if _, text, ok := strings.Cut(line, "  OK     "); ok {
				got = append(got, text)
			}
		}
	}
	if strings.Join(got, "\n") != strings.Join(originalLines, "\n") {
		t.Errorf("success lines of steps 1, 2, 3, 5, 6 = %q, want %q", got, originalLines)
	}
	if got := visibleFiles(t, dir); len(got) != 1 || got[0] != steps.PlaintextFile {
		t.Errorf("files after step 6 = %v, want only %s", got, steps.PlaintextFile)
	}
}

func TestStep3BeforeStep2(t *testing.T) {
	dir, clk := workshopWithKey(t)
	r := inProcess(t, clk, "step", "3", "--dir", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "run step 2 first") {
		t.Errorf("step 3 before step 2 = exit %d, stderr %q; want exit 1 and run step 2 first", r.code, r.stderr)
	}
}

func TestTamperedFile(t *testing.T) {
	dir := t.TempDir()
	clk := autoClock()
	for _, n := range []string{"1", "2"} {
		if r := inProcess(t, clk, "step", n, "--dir", dir); r.code != exitOK {
			t.Fatalf("step %s exit code = %d; stderr:\n%s", n, r.code, r.stderr)
		}
	}
	encPath := filepath.Join(dir, steps.EncryptedFile)
	original, err := os.ReadFile(encPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, pos := range []int{0, 5, 30, len(original) / 2, len(original) - 1} {
		tampered := bytes.Clone(original)
		tampered[pos] ^= 0x80
		if err := os.WriteFile(encPath, tampered, 0o644); err != nil {
			t.Fatal(err)
		}
		r := inProcess(t, clk, "step", "3", "--dir", dir)
		if r.code != exitFailed {
			t.Errorf("step 3 with byte %d flipped: exit code %d, want 1", pos, r.code)
		}
		if !strings.Contains(r.stderr, "error: step 3: encrypted_e.txt was modified or damaged") || !strings.Contains(r.stderr, "hint: run step 2 again") {
			t.Errorf("step 3 with byte %d flipped: stderr %q, want it to say the file was modified or damaged, and to run step 2 again", pos, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, steps.CycledFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("step 3 with byte %d flipped left %s (%v)", pos, steps.CycledFile, err)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--nope"},
		{"bogus"},
		{"step"},
		{"step", "7"},
		{"step", "x"},
		{"step", "1", "2"},
		{"run", "extra"},
		{"encrypt", "only-one"},
		{"decrypt"},
		{"decrypt", "a.enc", "-"},
		{"encrypt", "-", "b"},
		{"encrypt", "a", "b", "--context", "novalue"},
		{"encrypt", "a", "b", "--scheme", "rot13"},
		{"run", "--theme", "neon"},
		{"run", "--delivery-delay", "soon"},
		{"mock-aws", "--listen", "0.0.0.0:4566"},
		{"mock-aws", "--listen", ":4566"},
		{"mock-aws", "--listen", "127.0.0.1:99999"},
	} {
		r := inProcess(t, autoClock(), append(args, "--dir", dir)...)
		if r.code != exitUsage {
			t.Errorf("%q: exit code %d, want 2; stderr %q", args, r.code, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "error: ") || !strings.Contains(r.stderr, "\nhint: ") {
			t.Errorf("%q: stderr %q, want error: and hint:", args, r.stderr)
		}
	}
	if got := visibleFiles(t, dir); len(got) != 0 {
		t.Errorf("bad usage left files in the workshop folder: %v", got)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"step", "--help"}, {"encrypt", "--help"}} {
		r := inProcess(t, autoClock(), args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%q: exit code %d, stdout %q; want 0 and usage", args, r.code, r.stdout)
		}
	}
}

// liveFake serves a fake AWS on loopback and points the SDK's default
// configuration at it, as if it were the real AWS.
func liveFake(t *testing.T, clk clock.Clock) *fakeaws.Server {
	t.Helper()
	fake, err := fakeaws.New(fakeaws.Options{Clock: clk, Delivery: fakeaws.FastDelivery, Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, fake)
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           "AKIDLIVETEST",
		"AWS_SECRET_ACCESS_KEY":       "live-test-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "eu-west-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return fake
}

// fakeKeys returns how many keys the fake holds.
func fakeKeys(t *testing.T, fake *fakeaws.Server) int {
	t.Helper()
	c, err := awsclient.New(context.Background(), awsclient.Options{Fake: fake})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.KMS.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Keys)
}

func TestLiveRefusesWithoutYes(t *testing.T) {
	clk := autoClock()
	fake := liveFake(t, clk)
	for _, args := range [][]string{{"run"}, {"step", "1"}} {
		r := inProcess(t, clk, append(args, "--aws", "--dir", t.TempDir())...)
		if r.code == exitOK {
			t.Errorf("%q --aws without --yes: exit code 0, want a refusal", args)
		}
		if !strings.Contains(r.stdout, fakeaws.DefaultAccountID) || !strings.Contains(r.stdout, "eu-west-1") {
			t.Errorf("%q --aws: stdout %q, want the account and region", args, r.stdout)
		}
		if !strings.Contains(r.stderr, "--yes") {
			t.Errorf("%q --aws: stderr %q, want it to say to add --yes", args, r.stderr)
		}
	}
	if n := fakeKeys(t, fake); n != 0 {
		t.Errorf("keys after refused live runs = %d, want 0", n)
	}
}

func TestLiveWithYes(t *testing.T) {
	clk := autoClock()
	fake := liveFake(t, clk)
	dir := t.TempDir()
	r := inProcess(t, clk, "run", "--aws", "--yes", "--fast", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("run --aws --yes exit code = %d; stderr:\n%s", r.code, r.stderr)
	}
	checkOriginalLines(t, r.stdout, originalLines)
	if strings.Contains(r.stderr, "still live") {
		t.Errorf("reminder after a full run: %q", r.stderr)
	}

	r = inProcess(t, clk, "step", "1", "--aws", "--yes", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("step 1 --aws --yes exit code = %d; stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cse-workshop step 6 --dir "+dir+" --aws --region eu-west-1") {
		t.Errorf("stderr after step 1 --aws = %q, want the reminder to run step 6", r.stderr)
	}
	if n := fakeKeys(t, fake); n != 2 {
		t.Errorf("keys after two live step 1s = %d, want 2 (one pending deletion)", n)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	for _, tc := range []struct {
		name  string
		flags []string
		// describe is what encrypt and decrypt print of the file's format.
		describe []string
	}{
		{"esdk", nil, []string{"format:             AWS Encryption SDK message, version 2\n",
			"algorithm suite:    0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384\n", "frame size:         4096 bytes\n", `"aws-crypto-public-key":`}},
		{"esdk-0478-5", []string{"--suite", "AES_256_GCM_HKDF_SHA512_COMMIT_KEY", "--frame-size", "5"},
			[]string{"algorithm suite:    0x0478 AES_256_GCM_HKDF_SHA512_COMMIT_KEY\n", "frame size:         5 bytes\n"}},
		{"csew-kms", []string{"--format", "csew", "--scheme", "kms"}, []string{"format:             CSEW (cse-workshop's own), version 1\n", "scheme:             kms-data-key\n"}},
		{"csew-tink", []string{"--format", "csew", "--scheme", "tink"}, []string{"format:             CSEW (cse-workshop's own), version 1\n", "scheme:             tink\n"}},
	} {
		enc, out := filepath.Join(files, tc.name+".enc"), filepath.Join(files, tc.name+".txt")
		r := inProcess(t, clk, append([]string{"encrypt", in, enc, "--context", "project=demo", "--dir", dir}, tc.flags...)...)
		if r.code != exitOK {
			t.Fatalf("encrypt %s: exit %d, %s", tc.flags, r.code, r.stderr)
		}
		for _, want := range tc.describe {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("encrypt %s: stdout %q, want %q in it", tc.flags, r.stdout, want)
			}
		}
		r = inProcess(t, clk, "decrypt", enc, out, "--context", "project=other", "--dir", dir)
		if r.code != exitFailed || !strings.Contains(r.stderr, "hint: ") {
			t.Errorf("decrypt with the wrong --context: exit %d, stderr %q; want 1 and a hint", r.code, r.stderr)
		}
		r = inProcess(t, clk, "decrypt", enc, out, "--context", "project=demo", "--dir", dir)
		if r.code != exitOK {
			t.Fatalf("decrypt of encrypt %s: exit %d, %s", tc.flags, r.code, r.stderr)
		}
		if got, _ := os.ReadFile(out); string(got) != "meet at noon\n" {
			t.Errorf("decrypt(encrypt(x)) with %s = %q", tc.flags, got)
		}
		for _, want := range append(tc.describe, `"project":"demo"`) {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("decrypt of encrypt %s: stdout %q, want %q in it", tc.flags, r.stdout, want)
			}
		}
	}
}

func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	cmd := command("run", "--dir", dir) // step 5 waits two minutes
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "waiting") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
		t.Errorf("run interrupted during step 5: %v, want exit code 130", err)
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr = %q, want interrupted", errOut.String())
	}
}

func TestMockAWS(t *testing.T) {
	dir := t.TempDir()
	cmd := command("mock-aws", "--listen", "127.0.0.1:0", "--dir", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var endpoint string
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
			endpoint = after
			break
		}
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("mock-aws printed endpoint %q, want http://127.0.0.1:PORT; stderr %q", endpoint, errOut.String())
	}
	var rest bytes.Buffer
	go func() {
		for sc.Scan() {
			rest.WriteString(sc.Text() + "\n")
		}
	}()

	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDMOCK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "mock")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	c, err := awsclient.New(context.Background(), awsclient.Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.KMS.CreateKey(context.Background(), &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("CreateKey through mock-aws: %v", err)
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("mock-aws stopped by Ctrl-C: %v, want exit code 0; stderr %q", err, errOut.String())
	}
	// The key is kept in the workshop folder, for the demo and the next server.
	fake, err := fakeaws.New(fakeaws.Options{StateFile: filepath.Join(dir, awsclient.StateFileName)})
	if err != nil {
		t.Fatal(err)
	}
	if n := fakeKeys(t, fake); n != 1 {
		t.Errorf("keys in the folder after mock-aws = %d, want 1", n)
	}
}

// An OUT that is not a file, like /dev/stdout, a pipe or a folder, must be
// refused and left as it was: writing beside it and renaming would replace
// the device or pipe with a regular file.
func TestEncryptDecryptRefuseOutputThatIsNotAFile(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	enc := filepath.Join(files, "notes.enc")
	if r := inProcess(t, clk, "encrypt", in, enc, "--dir", dir); r.code != exitOK {
		t.Fatalf("encrypt: exit %d, %s", r.code, r.stderr)
	}
	fifo := filepath.Join(files, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	// Like /dev/stdout, a link to the pipe.
	stdout := filepath.Join(files, "stdout")
	if err := os.Symlink(fifo, stdout); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(files, "folder")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ verb, in, out string }{
		{"encrypt", in, fifo},
		{"encrypt", in, stdout},
		{"decrypt", enc, stdout},
		{"encrypt", in, folder},
		{"decrypt", enc, folder},
	} {
		r := inProcess(t, clk, c.verb, c.in, c.out, "--dir", dir)
		if r.code != exitFailed || !strings.HasPrefix(r.stderr, "error: ") {
			t.Errorf("%s %s %s: exit %d, stderr %q; want 1 and an error", c.verb, filepath.Base(c.in), filepath.Base(c.out), r.code, r.stderr)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("the pipe after encrypt into it: %v, %v; want it still a pipe", fi.Mode(), err)
	}
	if fi, err := os.Lstat(stdout); err != nil || fi.Mode().Type() != os.ModeSymlink {
		t.Errorf("the link after encrypt into it: %v, %v; want it still a link", fi.Mode(), err)
	}
	if got := visibleFiles(t, files); !slices.Equal(got, []string{"folder", "notes.enc", "notes.txt", "pipe", "stdout"}) {
		t.Errorf("files after the refusals = %v, want no new ones", got)
	}
}

// Encrypting from a pipe (cat f | cse-workshop encrypt /dev/stdin OUT) must
// not claim the input had 0 bytes.
func TestEncryptFromPipeShowsNoFalseSize(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files := t.TempDir()
	fifo := filepath.Join(files, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	const text = "meet at noon\n"
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString(text)
		f.Close()
	}()
	enc := filepath.Join(files, "notes.enc")
	r := inProcess(t, clk, "encrypt", fifo, enc, "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("encrypt from a pipe: exit %d, %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "(0 bytes)") {
		t.Errorf("encrypt from a pipe of %d bytes printed %q, want no size for the pipe", len(text), r.stdout)
	}
	out := filepath.Join(files, "notes.txt")
	if r := inProcess(t, clk, "decrypt", enc, out, "--dir", dir); r.code != exitOK {
		t.Fatalf("decrypt: exit %d, %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(out); string(got) != text {
		t.Errorf("decrypt(encrypt(pipe)) = %q, want %q", got, text)
	}
}

// A port already taken is a local matter: the advice must be about
// --listen, not about reaching AWS.
func TestMockAWSPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := inProcess(t, autoClock(), "mock-aws", "--listen", ln.Addr().String(), "--dir", t.TempDir())
	if r.code != exitFailed {
		t.Errorf("mock-aws on a taken port: exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "error: listen on "+ln.Addr().String()) || !strings.Contains(r.stderr, "hint: ") ||
		!strings.Contains(r.stderr, "--listen") || strings.Contains(r.stderr, "AWS_ENDPOINT_URL") {
		t.Errorf("mock-aws on a taken port: stderr %q, want the address and a hint about --listen", r.stderr)
	}
}

// --dir naming a file is a mistake in the command line, said as such, not
// advice about the demo's saved state.
func TestDirIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run"}, {"step", "1"}, {"encrypt", file, file + ".enc"}, {"mock-aws", "--listen", "127.0.0.1:0"}} {
		r := inProcess(t, autoClock(), append(args, "--dir", file)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "--dir "+file+" is a file") {
			t.Errorf("%q --dir FILE: exit %d, stderr %q; want 2 and that --dir is a file", args, r.code, r.stderr)
		}
	}
}

// A usage error quoting what it was given stays one line: a --dir file
// whose name holds a newline and an escape sequence does not forge a line.
func TestUsageErrorIsOneLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes\x1b[31m\nFORGED")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := inProcess(t, autoClock(), "run", "--dir", file)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != exitUsage || len(lines) != 2 || !strings.HasPrefix(lines[0], "error: ") || strings.Contains(r.stderr, "\x1b") {
		t.Errorf("run --dir FILE-WITH-CONTROLS: exit %d, stderr %q; want 2, an error line and a hint line, no raw escape", r.code, r.stderr)
	}
}

// A --key that names no KMS key gets advice about --key; running step 1
// makes only the workshop's own alias.
func TestEncryptDecryptUnknownKey(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	enc := filepath.Join(files, "notes.enc")
	if r := inProcess(t, clk, "encrypt", in, enc, "--dir", dir); r.code != exitOK {
		t.Fatalf("encrypt: exit %d, %s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"encrypt", in, enc + "2", "--key", "alias/nope"},
		{"encrypt", in, enc + "2", "--key", "1234abcd-12ab-34cd-56ef-1234567890ab"},
		{"decrypt", enc, in + "2", "--key", "1234abcd-12ab-34cd-56ef-1234567890ab"},
	} {
		r := inProcess(t, clk, append(args, "--dir", dir)...)
		if r.code != exitFailed || !strings.Contains(r.stderr, "does not exist") ||
			!strings.Contains(r.stderr, "hint: check --key") || strings.Contains(r.stderr, "step 1") {
			t.Errorf("%q: exit %d, stderr %q; want 1, that the key does not exist, and a hint about --key", args, r.code, r.stderr)
		}
	}
}

// A read-only workshop folder gives one error, with what to do, and
// creates nothing. Root writes anywhere, so as root the program runs as
// nobody.
func TestReadOnlyWorkshopFolder(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "workshop")
	if err := os.Mkdir(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	var r result
	if os.Geteuid() != 0 {
		r = inProcess(t, autoClock(), "run", "--fast", "--dir", dir)
	} else {
		// The test binary, where nobody can run it.
		self, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(base, "cse-workshop")
		if err := os.WriteFile(bin, self, 0o755); err != nil {
			t.Fatal(err)
		}
		// The test's temporary folder and its parent, made by t.TempDir.
		for _, p := range []string{base, filepath.Dir(base)} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for p := filepath.Dir(filepath.Dir(base)); p != "/"; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o001 == 0 {
				t.Skipf("nobody cannot reach %s", p)
			}
		}
		cmd := exec.Command(bin, "run", "--fast", "--dir", dir)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			t.Skipf("cannot run as nobody: %v", err)
		}
		r = result{exitErr.ExitCode(), out.String(), errOut.String()}
	}
	if r.code != exitFailed {
		t.Errorf("run in a read-only folder: exit %d, want 1; stderr %q", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "error: ") != 1 || !strings.Contains(r.stderr, "hint: ") || !strings.Contains(r.stderr, "--dir") {
		t.Errorf("run in a read-only folder: stderr %q, want one error and a hint to choose another --dir", r.stderr)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("read-only folder after run: %v, %v; want it empty", entries, err)
	}
}

// A file whose KMS key is scheduled for deletion opens only once that key is
// restored: the advice must not offer a new key.
func TestDecryptKeyPendingDeletion(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	enc := filepath.Join(files, "notes.enc")
	if r := inProcess(t, clk, "encrypt", in, enc, "--dir", dir); r.code != exitOK {
		t.Fatalf("encrypt: exit %d, %s", r.code, r.stderr)
	}
	if r := inProcess(t, clk, "step", "6", "--dir", dir); r.code != exitOK {
		t.Fatalf("step 6: exit %d, %s", r.code, r.stderr)
	}
	r := inProcess(t, clk, "decrypt", enc, in+".out", "--dir", dir)
	if r.code != exitFailed || !strings.Contains(r.stderr, "scheduled for deletion") ||
		!strings.Contains(r.stderr, "aws kms cancel-key-deletion --key-id arn:aws:kms:") || strings.Contains(r.stderr, "step 1") {
		t.Errorf("decrypt under a key pending deletion: exit %d, stderr %q; want 1 and how to restore that key, not a new one", r.code, r.stderr)
	}
}

// --delivery-delay 0 means the demo's CloudTrail shows a call at once, not
// that it takes its default 20 seconds to 3 minutes.
func TestDeliveryDelayFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want fakeaws.DeliveryDelay
	}{
		{nil, fakeaws.DeliveryDelay{}}, // the fake's realistic default
		{[]string{"--fast"}, fakeaws.FastDelivery},
		{[]string{"--delivery-delay", "10s"}, fakeaws.DeliveryDelay{Min: 10 * time.Second, Max: 10 * time.Second}},
		{[]string{"--delivery-delay", "0"}, fakeaws.DeliveryDelay{Min: time.Nanosecond, Max: time.Nanosecond}},
		{[]string{"--delivery-delay", "0", "--fast"}, fakeaws.DeliveryDelay{Min: time.Nanosecond, Max: time.Nanosecond}},
	} {
		a := &app{}
		root := a.rootCommand()
		if err := root.ParseFlags(c.args); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if err := a.checkFlags(root, nil); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if got := a.delivery(); got != c.want {
			t.Errorf("%q: delivery delay %v, want %v", c.args, got, c.want)
		}
	}
}

// TestLiveNoCredentialsPrintsOnlyAdvice: with no credentials anywhere, the
// SDK falls back to instance metadata (here a local server that refuses,
// as outside EC2) and would log a warning of its own; the person sees only
// the program's error and hint.
func TestLiveNoCredentialsPrintsOnlyAdvice(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer imds.Close()
	home := t.TempDir()
	empty := filepath.Join(home, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := command("step", "1", "--aws", "--yes", "--dir", t.TempDir())
	cmd.Env = []string{
		runMainEnv + "=1", "HOME=" + home, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL,
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitFailed {
		t.Fatalf("step 1 --aws without credentials = %v, want exit %d; stderr:\n%s", err, exitFailed, stderr.String())
	}
	if got := stderr.String(); !strings.HasPrefix(got, "error: no AWS credentials found") || strings.Contains(got, "SDK ") {
		t.Errorf("stderr = %q, want only the no-credentials error and its hint", got)
	}
}

// The high-contrast theme is accepted by its name and by its old one.
func TestThemeNames(t *testing.T) {
	for _, theme := range []string{"auto", "high-contrast", "projector", "plain"} {
		r := inProcess(t, autoClock(), "step", "4", "--theme", theme, "--dir", t.TempDir())
		if r.code == exitUsage {
			t.Errorf("--theme %s: exit %d (bad usage), want it accepted; stderr %q", theme, r.code, r.stderr)
		}
	}
}
