package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// mockAWS is a mock-aws process serving a workshop folder.
type mockAWS struct {
	cmd      *exec.Cmd
	endpoint string
	mu       sync.Mutex
	stdout   bytes.Buffer // after the "listening on" line
	stderr   bytes.Buffer
	done     chan struct{} // closed when stdout is read to its end
}

// startMockAWS starts mock-aws on dir, on a free loopback port, and waits
// until it listens.
func startMockAWS(t *testing.T, dir string) *mockAWS {
	t.Helper()
	m := &mockAWS{cmd: command("mock-aws", "--listen", "127.0.0.1:0", "--dir", dir), done: make(chan struct{})}
	out, err := m.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	m.cmd.Stderr = &lockedBuffer{buf: &m.stderr, mu: &m.mu}
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.cmd.Process.Kill() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "listening on "); ok {
			m.endpoint = after
			break
		}
	}
	if !strings.HasPrefix(m.endpoint, "http://127.0.0.1:") {
		m.cmd.Process.Kill()
		m.cmd.Wait()
		t.Fatalf("mock-aws printed endpoint %q, want http://127.0.0.1:PORT; stderr %q", m.endpoint, m.errors())
	}
	go func() {
		defer close(m.done)
		for sc.Scan() {
			m.mu.Lock()
			m.stdout.WriteString(sc.Text() + "\n")
			m.mu.Unlock()
		}
	}()
	return m
}

func (m *mockAWS) errors() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stderr.String()
}

// interrupt stops mock-aws as Ctrl-C does and returns its exit code and
// what it printed after it started listening.
func (m *mockAWS) interrupt(t *testing.T) (code int, stdout string) {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-m.done
	err := m.cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return code, m.stdout.String()
}

type lockedBuffer struct {
	buf *bytes.Buffer
	mu  *sync.Mutex
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// liveClients are SDK clients for the live backend, pointed at endpoint
// (a mock-aws) through the environment, as a person would.
func liveClients(t *testing.T, endpoint string) *awsclient.Clients {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           "AKIDMOCK",
		"AWS_SECRET_ACCESS_KEY":       "mock",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	c, err := awsclient.New(context.Background(), awsclient.Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mock-aws and the demo on one folder at the same time: each sees the keys
// the other made, and when both are done the folder holds them all.
func TestMockAWSSharesTheFolderWithTheDemo(t *testing.T) {
	dir := t.TempDir()
	m := startMockAWS(t, dir)
	live := liveClients(t, m.endpoint)
	ctx := context.Background()

	clk := autoClock()
	if r := inProcess(t, clk, "step", "1", "--dir", dir); r.code != exitOK {
		t.Fatalf("step 1 while mock-aws serves the folder: exit %d, %s", r.code, r.stderr)
	}
	desc, err := live.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(steps.AliasName)})
	if err != nil {
		t.Fatalf("DescribeKey(%s) through mock-aws, after step 1 made it: %v", steps.AliasName, err)
	}
	made, err := live.KMS.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey through mock-aws: %v", err)
	}
	files, in := notesFile(t)
	enc := filepath.Join(files, "notes.enc")
	if r := inProcess(t, clk, "encrypt", in, enc, "--key", aws.ToString(made.KeyMetadata.Arn), "--dir", dir); r.code != exitOK {
		t.Fatalf("encrypt under the key mock-aws made: exit %d, %s", r.code, r.stderr)
	}
	if code, _ := m.interrupt(t); code != exitOK {
		t.Errorf("mock-aws stopped by Ctrl-C: exit %d, want 0; stderr %q", code, m.errors())
	}

	// mock-aws wrote no older copy over the demo's key: both keys are there,
	// and the file opens.
	fake, err := fakeaws.New(fakeaws.Options{StateFile: filepath.Join(dir, awsclient.StateFileName)})
	if err != nil {
		t.Fatal(err)
	}
	if n := fakeKeys(t, fake); n != 2 {
		t.Errorf("keys in the folder after step 1 and mock-aws's CreateKey = %d, want 2 (step 1's is %s)", n, aws.ToString(desc.KeyMetadata.KeyId))
	}
	if r := inProcess(t, clk, "decrypt", enc, filepath.Join(files, "notes.out"), "--dir", dir); r.code != exitOK {
		t.Errorf("decrypt after mock-aws stopped: exit %d, %s", r.code, r.stderr)
	}
}

// Encrypts run at once on one folder, each its own process: every
// GenerateDataKey call reaches the audit trail.
func TestConcurrentEncryptsKeepEveryEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir, _ := workshopWithKey(t)
	files, in := notesFile(t)
	const n = 8
	var cmds []*exec.Cmd
	var outputs []*bytes.Buffer
	for i := range n {
		cmd := command("encrypt", in, filepath.Join(files, fmt.Sprintf("notes.%d.enc", i)), "--dir", dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outputs = append(cmds, cmd), append(outputs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("encrypt %d: %v\n%s", i, err, outputs[i])
		}
	}
	fake, err := fakeaws.New(fakeaws.Options{StateFile: filepath.Join(dir, awsclient.StateFileName), Clock: clock.NewFake(time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	c, err := awsclient.New(context.Background(), awsclient.Options{Fake: fake})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CloudTrail.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("GenerateDataKey")}},
		StartTime:        aws.Time(time.Now().Add(-time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != n {
		t.Errorf("GenerateDataKey events after %d encrypts at once = %d, want %d", n, len(out.Events), n)
	}
}

// Ctrl-C stops mock-aws, exit code 0, even while a client stalls in the
// middle of a request.
func TestMockAWSStopsWhileAClientStalls(t *testing.T) {
	m := startMockAWS(t, t.TempDir())
	c, err := net.Dial("tcp", strings.TrimPrefix(m.endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	// Let the request reach the server, so that it is in progress.
	time.Sleep(100 * time.Millisecond)
	code, stdout := m.interrupt(t)
	if code != exitOK {
		t.Errorf("mock-aws stopped by Ctrl-C while a client stalls: exit %d, want 0; stderr %q", code, m.errors())
	}
	if !strings.Contains(stdout, "stopped") {
		t.Errorf("mock-aws stopped by Ctrl-C printed %q, want it to say it stopped", stdout)
	}
}

// A damaged state file stops mock-aws and the demo with an error that names
// it and says what to do, not a crash.
func TestDamagedStateFile(t *testing.T) {
	dir := t.TempDir()
	stateFile := filepath.Join(dir, filepath.FromSlash(awsclient.StateFileName))
	if err := os.MkdirAll(filepath.Dir(stateFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stateFile, []byte(`{"version":1,"keys":null,"events":[null]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"mock-aws", "--listen", "127.0.0.1:0"}, {"step", "1"}} {
		r := inProcess(t, autoClock(), append(args, "--dir", dir)...)
		want := "the demo's state file " + stateFile + " is damaged: event 0 is null"
		if r.code != exitFailed || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "hint: ") {
			t.Errorf("%s on a damaged state file: exit %d, stderr %q; want 1 and an error saying %q, with a hint", args[0], r.code, r.stderr, want)
		}
	}
}

// When the demo's state cannot be saved, the person reads that first, with
// the file and the cause, and not an AWS internal error to wait out.
func TestStateFileFailureComesFirst(t *testing.T) {
	dir, clk := workshopWithKey(t)
	files, in := notesFile(t)
	private := filepath.Join(dir, ".cse-workshop")
	stateFile := filepath.Join(dir, filepath.FromSlash(awsclient.StateFileName))
	var out, errOut bytes.Buffer
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	a := &app{stdin: devNull, stdout: &out, stderr: &errOut, clock: clk}
	// Once the demo has read its state, its folder becomes a file: every
	// later lock or save fails with "not a directory".
	a.onClients = func(*awsclient.Clients) {
		if err := os.RemoveAll(private); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(private, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code := a.main([]string{"encrypt", in, filepath.Join(files, "notes.enc"), "--dir", dir})
	first, _, _ := strings.Cut(errOut.String(), "\n")
	want := "the demo's state file " + stateFile + ": not a directory"
	if code != exitFailed || !strings.HasPrefix(first, "error: ") || !strings.Contains(first, want) {
		t.Errorf("encrypt when the demo's state cannot be saved: exit %d, stderr %q; want 1 and a first line that says %q", code, errOut.String(), want)
	}
	if strings.Contains(errOut.String(), "Internal") || strings.Contains(errOut.String(), "wait a moment") {
		t.Errorf("encrypt when the demo's state cannot be saved: stderr %q, want no AWS internal error", errOut.String())
	}
	if !strings.Contains(errOut.String(), "hint: ") {
		t.Errorf("encrypt when the demo's state cannot be saved: stderr %q, want a hint", errOut.String())
	}
}

// mock-aws on loopback refuses a request whose Host is a web page's domain
// rebound to 127.0.0.1, says so on stderr, and answers one addressed to
// localhost.
func TestMockAWSRefusesReboundHosts(t *testing.T) {
	m := startMockAWS(t, t.TempDir())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(m.endpoint, "http://"))
	for _, tt := range []struct {
		host string
		want int
	}{{"rebound.example:" + port, http.StatusForbidden}, {"localhost:" + port, http.StatusOK}} {
		req, err := http.NewRequest(http.MethodPost, m.endpoint+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GetCallerIdentity with Host %q = %d %s, want %d", tt.host, resp.StatusCode, body, tt.want)
		}
	}
	if code, _ := m.interrupt(t); code != 0 {
		t.Errorf("mock-aws exit code %d, want 0", code)
	}
	if !strings.Contains(m.errors(), `"rebound.example:`+port+`"`) {
		t.Errorf("mock-aws stderr %q, want the refused host named", m.errors())
	}
}

// Only a loopback --listen makes mock-aws check the Host of requests; one
// that other computers reach (--allow-remote) answers any.
func TestLoopbackListen(t *testing.T) {
	for listen, want := range map[string]bool{
		"127.0.0.1:4566": true, "localhost:4566": true, "[::1]:4566": true, "127.0.0.1:0": true,
		"0.0.0.0:4566": false, ":4566": false, "[::]:4566": false, "192.0.2.7:4566": false, "example.com:4566": false,
	} {
		if got := loopbackListen(listen); got != want {
			t.Errorf("loopbackListen(%q) = %v, want %v", listen, got, want)
		}
		if err := checkListen(listen, false); (err == nil) != want {
			t.Errorf("checkListen(%q) without --allow-remote = %v, want an error: %v", listen, err, !want)
		}
		if err := checkListen(listen, true); err != nil {
			t.Errorf("checkListen(%q, --allow-remote) = %v", listen, err)
		}
	}
}
