package fakeaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

// panicOnce makes the next change of srv's state panic under the state lock.
func panicOnce(srv *fakeaws.Server) {
	fakeaws.PanicUnderLock(srv, func() {
		fakeaws.PanicUnderLock(srv, nil)
		panic("a bug in a handler")
	})
}

// A handler that panics under the state lock answers the service's internal
// error, and releases the locks: the next requests, this server's and
// another's on the same state file, are answered. In process, the panic
// must not take the program down either.
func TestPanicUnderLockAnswersInternalError(t *testing.T) {
	stateFile := filepath.Join(t.TempDir(), "fake-aws.json")
	var logged bytes.Buffer
	c := newClients(t, fakeaws.Options{StateFile: stateFile, ErrorLog: log.New(&logged, "", 0)})
	other := newClients(t, fakeaws.Options{StateFile: stateFile})

	panicOnce(c.srv)
	_, err := c.kms.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if code := errorCode(err); code != "KMSInternalException" {
		t.Errorf("CreateKey that panics = %v, want KMSInternalException", err)
	}
	if !strings.Contains(logged.String(), "a bug in a handler") {
		t.Errorf("error log = %q, want the panic", logged.String())
	}

	// A lock left held would make these wait for ever: give up well before.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.kms.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Errorf("CreateKey after a panic, same server: %v", err)
	}
	if _, err := other.kms.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Errorf("CreateKey after a panic, another server on the state file: %v", err)
	}
	keys, err := other.kms.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 2 {
		t.Errorf("ListKeys = %v, %v; want the 2 keys made after the panic, not one made half", keys, err)
	}
}

// Over a socket too, and the server still stops when asked (the test's
// cleanup stops it).
func TestPanicOverLoopback(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{StateFile: filepath.Join(t.TempDir(), "fake-aws.json"), Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	post := func() (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			t.Fatalf("POST CreateKey: %v", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(body, &e)
		return resp.StatusCode, e.Type
	}
	panicOnce(srv)
	if status, code := post(); status != http.StatusInternalServerError || code != "KMSInternalException" {
		t.Errorf("CreateKey that panics = %d %s, want 500 KMSInternalException", status, code)
	}
	if status, code := post(); status != http.StatusOK {
		t.Errorf("CreateKey after a panic = %d %s, want 200", status, code)
	}
}
