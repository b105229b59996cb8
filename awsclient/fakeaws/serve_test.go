package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

func TestServeOverLoopback(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	cfg := aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := context.Background()
	client := kms.NewFromConfig(cfg)
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey over loopback: %v", err)
	}
	gen, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.Arn, KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("GenerateDataKey over loopback: %v", err)
	}
	if _, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext}); err != nil {
		t.Errorf("Decrypt over loopback: %v", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != fakeaws.DefaultAccountID {
		t.Errorf("GetCallerIdentity over loopback = %v, %v; want account %s", id, err, fakeaws.DefaultAccountID)
	}
}

// Clients other than the Go SDK name the CloudTrail operation by its full
// Smithy shape ID; the fake must dispatch on the part after the last dot.
func TestCloudTrailFullTargetName(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	tests := []struct {
		target     string
		wantStatus int
	}{
		{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", http.StatusOK},
		{"CloudTrail_20131101.LookupEvents", http.StatusOK},
		{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.NoSuchOperation", http.StatusBadRequest},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(`{"MaxResults": 5}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", tt.target)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240301/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", tt.target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("POST %s = %d %s, want %d", tt.target, resp.StatusCode, body, tt.wantStatus)
			continue
		}
		if resp.Header.Get("x-amzn-RequestId") == "" {
			t.Errorf("POST %s answer has no x-amzn-RequestId", tt.target)
		}
		if tt.wantStatus != http.StatusOK {
			var e struct {
				Type string `json:"__type"`
			}
			if json.Unmarshal(body, &e) != nil || e.Type != "UnknownOperationException" {
				t.Errorf("POST %s = %s, want UnknownOperationException", tt.target, body)
			}
			continue
		}
		var out struct{ Events []json.RawMessage }
		if err := json.Unmarshal(body, &out); err != nil || out.Events == nil {
			t.Errorf("POST %s = %s, want an Events list", tt.target, body)
		}
	}
}

// serveWith serves srv on 127.0.0.1 with opts until the test ends; it
// returns the address and a function that stops the server and returns what
// Serve returned.
func serveWith(t *testing.T, srv *fakeaws.Server, opts fakeaws.ServeOptions) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fakeaws.Serve(ctx, ln, srv, opts) }()
	var once sync.Once
	var served error
	stop = func() error {
		once.Do(func() {
			cancel()
			served = <-done
		})
		return served
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
}

// waitClosed reads from c until the server closes it; it fails the test if
// the server keeps it open for more than a generous guard time.
func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Errorf("%s: the server kept the connection open", what)
	}
}

const requestHead = "POST / HTTP/1.1\r\nHost: kms\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Type: application/x-amz-json-1.1\r\n"

// A client that trickles its request (a body byte now and then, or headers
// that never end) is cut off, so that it cannot hold a connection, and a
// file descriptor, for as long as it likes.
func TestServeCutsOffSlowClients(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serveWith(t, srv, fakeaws.ServeOptions{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	for _, tc := range []struct{ name, send string }{
		{"headers that never end", "POST / HTTP/1.1\r\nHost: kms\r\n"},
		{"a body that never comes", requestHead + "Content-Length: 100\r\n\r\n{"},
		{"a body trickled a byte at a time", requestHead + "Content-Length: 100\r\n\r\n"},
		{"an idle kept-alive connection", requestHead + "Content-Length: 2\r\n\r\n{}"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, tc.send); err != nil {
			t.Fatal(err)
		}
		if tc.name == "a body trickled a byte at a time" {
			go func() {
				for {
					time.Sleep(50 * time.Millisecond)
					if _, err := c.Write([]byte(" ")); err != nil {
						return
					}
				}
			}()
		}
		waitClosed(t, c, tc.name)
		c.Close()
	}
}

// A request body over the limit is refused as AWS refuses one, without the
// server reading it all.
func TestServeRefusesLargeBodies(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	large := strings.Repeat(" ", 5<<20) + "{}"
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"with its length", strings.NewReader(large)},
		{"chunked", io.MultiReader(strings.NewReader(large))}, // length unknown
	} {
		req, err := http.NewRequest(http.MethodPost, endpoint+"/", tc.body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.ListKeys")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("a 5 MiB request %s: %v, want 413 RequestEntityTooLargeException", tc.name, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "RequestEntityTooLargeException") {
			t.Errorf("a 5 MiB request %s = %d %s, want 413 RequestEntityTooLargeException", tc.name, resp.StatusCode, body)
		}
	}
}

// Beyond MaxConnections, new connections are closed at once; once some are
// closed, the server answers again.
func TestServeCapsConnections(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	var logMu sync.Mutex
	addr, _ := serveWith(t, srv, fakeaws.ServeOptions{MaxConnections: 2, ErrorLog: log.New(&lockedWriter{w: &logged, mu: &logMu}, "", 0)})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, extra, "a connection beyond the cap")
	extra.Close()
	logMu.Lock()
	if !strings.Contains(logged.String(), "refusing new connections") {
		t.Errorf("error log = %q, want a note that connections are refused", logged.String())
	}
	logMu.Unlock()

	for _, c := range held {
		c.Close()
	}
	// The server frees the slots as it notices the closes.
	client := kms.NewFromConfig(aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "secret", ""),
		BaseEndpoint: aws.String("http://" + addr),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, err := client.ListKeys(ctx, &kms.ListKeysInput{})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("ListKeys once the held connections are closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// Stopping the server while a client stalls in the middle of a request
// closes that client's connection and is not a failure.
func TestServeStopsWhileAClientStalls(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serveWith(t, srv, fakeaws.ServeOptions{ShutdownTimeout: 100 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, requestHead+"Content-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	// The request has reached the handler once the server asks for more of
	// the body; a stop before that is a stop with an idle connection.
	time.Sleep(50 * time.Millisecond)
	if err := stop(); err != nil {
		t.Errorf("Serve stopped while a client stalls = %v, want nil", err)
	}
	waitClosed(t, c, "a stalled client after the server stopped")
}

// OnCall sees each request that came over the socket, as the client sent
// it and as it was answered, failures included; the calls made in process
// through the RoundTripper are not its business.
func TestServeReportsCallsOverTheSocket(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var served []fakeaws.ServedCall
	addr, _ := serveWith(t, srv, fakeaws.ServeOptions{OnCall: func(c fakeaws.ServedCall) {
		mu.Lock()
		defer mu.Unlock()
		served = append(served, c)
	}})
	cfg := aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "secret", ""),
		BaseEndpoint: aws.String("http://" + addr),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := context.Background()
	overSocket := kms.NewFromConfig(cfg)
	if _, err := overSocket.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nosuch")}); err == nil {
		t.Fatal("DescribeKey of a missing alias succeeded")
	}
	if _, err := overSocket.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("over the socket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	inProcess := kms.NewFromConfig(sdkConfig(srv))
	if _, err := inProcess.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	type row struct{ service, operation, code string }
	var got []row
	for _, c := range served {
		got = append(got, row{c.Service, c.Operation, c.ErrorCode})
	}
	want := []row{{"KMS", "DescribeKey", "NotFoundException"}, {"KMS", "CreateKey", ""}, {"STS", "GetCallerIdentity", ""}}
	if len(got) != len(want) {
		t.Fatalf("OnCall saw %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %v, want %v", i+1, got[i], want[i])
		}
	}
	create := served[1]
	if !strings.Contains(string(create.Request), "over the socket") || !strings.Contains(string(create.Response), `"KeyMetadata"`) {
		t.Errorf("CreateKey bodies: request %s, response %s; want the request's description and the key's metadata", create.Request, create.Response)
	}
	if create.Status != http.StatusOK || served[0].Status != http.StatusBadRequest {
		t.Errorf("statuses %d and %d, want 200 and 400", create.Status, served[0].Status)
	}
	if !strings.HasPrefix(create.UserAgent, "aws-sdk-go-v2/") || create.RequestID == "" {
		t.Errorf("CreateKey user agent %q, request ID %q; want the SDK's and an ID", create.UserAgent, create.RequestID)
	}
}

// hostCall is one raw request to a served fake, with the Host header a
// client such as a web browser would send.
type hostCall struct {
	host   string
	target string // X-Amz-Target; "" for an STS query
}

// do sends c to the fake at addr and returns its status and body.
func (c hostCall) do(t *testing.T, addr string) (int, string) {
	t.Helper()
	body, contentType := `{}`, "application/x-amz-json-1.1"
	if c.target == "" {
		body, contentType = "Action=GetCallerIdentity&Version=2011-06-15", "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = c.host
	req.Header.Set("Content-Type", contentType)
	if c.target != "" {
		req.Header.Set("X-Amz-Target", c.target)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240301/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST with Host %q: %v", c.host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A web page whose domain name is rebound to 127.0.0.1 reaches a fake that
// listens on loopback, but names its own domain in Host: refused, with an
// AWS error that says why, and nothing done. Requests that name loopback,
// with or without a port, are answered.
func TestServeRefusesHostsOtherThanLoopback(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	addr, _ := serveWith(t, srv, fakeaws.ServeOptions{ErrorLog: log.New(&logged, "", 0)})
	_, port, _ := net.SplitHostPort(addr)

	for _, host := range []string{"attacker.example:" + port, "attacker.example", "127.0.0.1.attacker.example:" + port, "localhost.attacker.example", "10.0.0.1:" + port} {
		for _, target := range []string{"TrentService.CreateKey", ""} {
			status, body := hostCall{host: host, target: target}.do(t, addr)
			if status != http.StatusForbidden {
				t.Errorf("Host %q, target %q: %d %s, want 403", host, target, status, body)
				continue
			}
			if !strings.Contains(body, "127.0.0.1") || !strings.Contains(body, "rebound") {
				t.Errorf("Host %q: body %s, want it to say which hosts are answered, and why", host, body)
			}
			if target == "" {
				var e struct {
					Code string `xml:"Error>Code"`
				}
				if xml.Unmarshal([]byte(body), &e) != nil || e.Code != "AccessDenied" {
					t.Errorf("Host %q, STS: body %s, want an STS AccessDenied error", host, body)
				}
				continue
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if json.Unmarshal([]byte(body), &e) != nil || e.Type != "AccessDeniedException" || e.Message == "" {
				t.Errorf("Host %q, KMS: body %s, want an AccessDeniedException with a message", host, body)
			}
		}
	}
	for _, host := range []string{addr, "127.0.0.1", "localhost:" + port, "LOCALHOST", "localhost.:" + port, "[::1]:" + port, "[::1]", "127.0.0.2:" + port} {
		if status, body := (hostCall{host: host, target: "TrentService.CreateKey"}).do(t, addr); status != http.StatusOK {
			t.Errorf("Host %q: %d %s, want the key created", host, status, body)
		}
	}

	client := kms.NewFromConfig(aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "secret", ""),
		BaseEndpoint: aws.String("http://" + addr),
	})
	keys, err := client.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 8 {
		t.Errorf("%d keys, want the 8 that loopback hosts created and none of the refused requests'", len(keys.Keys))
	}
	if n := strings.Count(logged.String(), `"attacker.example:`+port+`"`); n != 1 {
		t.Errorf("log %q names the refused host %d times, want once", logged.String(), n)
	}
}

// mock-aws --allow-remote listens where other computers name the server as
// they reach it: with AnyHost, any Host is answered.
func TestServeAnyHost(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := serveWith(t, srv, fakeaws.ServeOptions{AnyHost: true})
	for _, host := range []string{"workshop.example:4566", "192.0.2.7"} {
		if status, body := (hostCall{host: host, target: "TrentService.CreateKey"}).do(t, addr); status != http.StatusOK {
			t.Errorf("AnyHost, Host %q: %d %s, want the key created", host, status, body)
		}
	}
}
