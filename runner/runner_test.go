package runner_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/runner"
	"cse-workshop/steps"
)

var at = time.Date(2026, 11, 27, 6, 28, 5, 0, time.Local)

func TestPrinterLines(t *testing.T) {
	tests := []struct {
		name string
		line steps.Line
		want string
	}{
		{"info", steps.Line{Time: at, Level: steps.LevelInfo, Text: "created KMS key"}, "06:28:05  INFO   created KMS key\n"},
		{"success", steps.Line{Time: at, Level: steps.LevelSuccess, Text: "Cleanup Successful"}, "06:28:05  OK     Cleanup Successful\n"},
		{"warn", steps.Line{Time: at, Level: steps.LevelWarn, Text: "left alone"}, "06:28:05  WARN   left alone\n"},
		{"error", steps.Line{Time: at, Level: steps.LevelError, Text: "MISMATCH"}, "06:28:05  ERROR  MISMATCH\n"},
		{"progress only", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.ProgressDetail{DoneBytes: 1, TotalBytes: 2}}, ""},
		{"countdown start", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.WaitDetail{Remaining: 2 * time.Minute, Total: 2 * time.Minute}}, ""},
		{"countdown mark", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.WaitDetail{Remaining: 90 * time.Second, Total: 2 * time.Minute}}, "06:28:05  INFO   1m30s left\n"},
		{"countdown minute", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.WaitDetail{Remaining: time.Minute, Total: 2 * time.Minute}}, "06:28:05  INFO   1m left\n"},
		{"countdown between marks", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.WaitDetail{Remaining: 89 * time.Second, Total: 2 * time.Minute}}, ""},
		{"countdown over", steps.Line{Time: at, Level: steps.LevelInfo, Detail: &steps.WaitDetail{Remaining: 0, Total: 2 * time.Minute}}, ""},
		{"record", steps.Line{Time: at, Level: steps.LevelInfo, Text: "found it", Detail: &steps.RecordDetail{JSON: "{\n  \"eventName\": \"GenerateDataKey\"\n}"}},
			"06:28:05  INFO   found it\n    {\n      \"eventName\": \"GenerateDataKey\"\n    }\n"},
		{"header", steps.Line{Time: at, Level: steps.LevelInfo, Text: "read its header", Detail: &steps.HeaderDetail{
			Version: 2, SuiteID: "0x0578", SuiteName: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", MessageID: "5e1d",
			EncryptionContext:  map[string]string{"whatfor": "usecase-3-cse", "aws-crypto-public-key": "A2Lb"},
			EncryptedDataKeys:  []steps.EncryptedDataKeySummary{{ProviderID: "aws-kms", KeyARN: "arn:aws:kms:us-east-1:111122223333:key/k", SizeInBytes: 184}},
			FrameLengthInBytes: 4096,
		}}, "06:28:05  INFO   read its header\n" +
			"    version             2\n" +
			"    algorithm suite     0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384\n" +
			"    message ID          5e1d\n" +
			"    encryption context  {\"aws-crypto-public-key\":\"A2Lb\",\"whatfor\":\"usecase-3-cse\"}\n" +
			"    encrypted data key  aws-kms arn:aws:kms:us-east-1:111122223333:key/k (184 bytes)\n" +
			"    frame length        4096 bytes\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		runner.NewPrinter(&out).Report(tt.line)
		if got := out.String(); got != tt.want {
			t.Errorf("Report(%s) printed %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPrintError(t *testing.T) {
	var out bytes.Buffer
	runner.PrintError(&out, &steps.PrerequisiteError{Step: 3, Missing: 2})
	if got, want := out.String(), "error: step 3 needs step 2: run step 2 first\n"; got != want {
		t.Errorf("PrintError(prerequisite) printed %q, want %q", got, want)
	}
}

// An error that quotes a name it was given (a file that cannot be opened,
// a --dir in a hint) prints as one error line and one hint line, its
// controls escaped: a name holding a newline or an escape sequence must not
// forge lines or colour the terminal.
func TestPrintErrorKeepsEachLineOneLine(t *testing.T) {
	var out bytes.Buffer
	err := awsclient.WithHint(errors.New("encrypt /tmp/a\x1b[31m\nb: open /tmp/a\x1b[31m\nb: no such file or directory"),
		"run `cse-workshop step 1 --dir '/tmp/w\x1b\nx'`")
	runner.PrintError(&out, err)
	want := "error: encrypt /tmp/a\\x1b[31m\\nb: open /tmp/a\\x1b[31m\\nb: no such file or directory\n" +
		"hint: run `cse-workshop step 1 --dir '/tmp/w\\x1b\\nx'`\n"
	if got := out.String(); got != want {
		t.Errorf("PrintError(error naming a file with controls) printed\n%q\nwant\n%q", got, want)
	}
}

// open opens a demo workshop in a temporary folder on a fake clock.
func open(t *testing.T) *steps.Workshop {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewAuto(time.Date(2026, 11, 27, 6, 28, 0, 0, time.UTC))
	clients, err := awsclient.New(context.Background(), awsclient.Options{Dir: dir, Clock: clk, Delivery: fakeaws.FastDelivery})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clients.Close() })
	w, err := steps.Open(steps.Options{Dir: dir, Clients: clients, Clock: clk, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var lineFormat = regexp.MustCompile(`^\d\d:\d\d:\d\d  (INFO |OK   |WARN |ERROR)  \S`)

func TestRunPrintsTheOriginalLines(t *testing.T) {
	w := open(t)
	var out, errOut bytes.Buffer
	if err := runner.Run(context.Background(), w, []int{1, 2, 3, 4, 5, 6}, &out, &errOut); err != nil {
		t.Fatalf("Run = %v, want success; stderr:\n%s", err, errOut.String())
	}
	text := out.String()
	pos := 0
	for _, want := range []string{
		"  OK     KMS Master Key with alias name kms_key_cse_usecase_3 successfully created\n",
		"  OK     Module run was successful !!\n",
		"  OK     Module run was successful !!\n",
		"  OK     GenerateDataKey API Called\n",
		"  OK     Cleanup Successful\n",
	} {
		i := strings.Index(text[pos:], want)
		if i < 0 {
			t.Fatalf("output lacks %q after byte %d:\n%s", want, pos, text)
		}
		pos += i + len(want)
	}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "Step ") || strings.HasPrefix(line, "    ") {
			continue
		}
		if !lineFormat.MatchString(line) {
			t.Errorf("line %q is not HH:MM:SS  LEVEL  text", line)
		}
	}
	if !strings.Contains(text, "    algorithm suite     0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384\n") {
		t.Errorf("output lacks the header step 2 wrote:\n%s", text)
	}
	if !strings.Contains(text, `"eventName": "GenerateDataKey"`) {
		t.Errorf("output lacks the CloudTrail record found in step 5:\n%s", text)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr of a good run = %q, want nothing", errOut.String())
	}
}

func TestRunStopsAtTheFirstFailure(t *testing.T) {
	w := open(t)
	var out, errOut bytes.Buffer
	err := runner.Run(context.Background(), w, []int{3, 4}, &out, &errOut)
	var pe *steps.PrerequisiteError
	if !errors.As(err, &pe) {
		t.Fatalf("Run(3, 4) on a new workshop = %v, want a PrerequisiteError", err)
	}
	if got := errOut.String(); !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "run step 1 first") {
		t.Errorf("stderr = %q, want error: ... run step 1 first", got)
	}
	if strings.Contains(out.String(), "Step 4") {
		t.Errorf("Run went on to step 4 after step 3 failed:\n%s", out.String())
	}
}

func TestRunPrintsHints(t *testing.T) {
	w := open(t)
	var out, errOut bytes.Buffer
	if err := runner.Run(context.Background(), w, []int{1, 2, 3}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if err := runner.Run(context.Background(), w, []int{6, 3}, &out, &errOut); err == nil {
		t.Fatal("step 3 after cleanup = success, want error")
	}
	if err := runner.Run(context.Background(), w, []int{1}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	w.State.Done[2] = w.Clock.Now() // as if step 2 had run, but encrypted_e.txt is gone
	errOut.Reset()
	if err := runner.Run(context.Background(), w, []int{3}, &out, &errOut); err == nil {
		t.Fatal("step 3 without encrypted_e.txt = success, want error")
	}
	got := errOut.String()
	if !strings.HasPrefix(got, "error: step 3: ") || !strings.Contains(got, "\nhint: run step 2 again") {
		t.Errorf("stderr = %q, want error: step 3: ... and hint: run step 2 again", got)
	}
}

func TestRunInterrupted(t *testing.T) {
	w := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	err := runner.Run(ctx, w, []int{1}, &out, &errOut)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context = %v, want an interruption", err)
	}
	if got := errOut.String(); !strings.HasPrefix(got, "interrupted") {
		t.Errorf("stderr = %q, want interrupted", got)
	}
}
