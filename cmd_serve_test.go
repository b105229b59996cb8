package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeRefusesAWS: the server's AWS credentials are never lent to a
// room.
func TestServeRefusesAWS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "room")
	r := inProcess(t, autoClock(), "serve", "--aws", "--dir", dir)
	if r.code != exitUsage || !strings.Contains(r.stderr, "demo backend only") || !strings.Contains(r.stderr, "hint: ") {
		t.Errorf("serve --aws: exit %d, stderr %q; want 2 and why", r.code, r.stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("serve --aws made the room folder")
	}
	for _, args := range [][]string{{"--listen", "2222"}, {"--max-sessions", "-1"}, {"--facilitator-key", filepath.Join(dir, "none.pub")}} {
		r := inProcess(t, autoClock(), append([]string{"serve", "--dir", dir}, args...)...)
		if r.code != exitUsage {
			t.Errorf("serve %q: exit %d, want 2; stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestServeBanner: serve prints the line attendees type and the host key,
// which stays the same from one start to the next; SIGTERM ends it.
func TestServeBanner(t *testing.T) {
	dir := t.TempDir()
	start := func() (fingerprint string) {
		t.Helper()
		cmd := command("serve", "--listen", "127.0.0.1:0", "--dir", dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		sc := bufio.NewScanner(out)
		var banner []string
		for len(banner) < 4 && sc.Scan() {
			banner = append(banner, sc.Text())
		}
		text := strings.Join(banner, "\n")
		if !regexp.MustCompile(`(?m)^  ssh -p \d+ 127\.0\.0\.1$`).MatchString(text) {
			t.Errorf("banner lacks the ssh line:\n%s", text)
		}
		m := regexp.MustCompile(`host key (SHA256:\S+)`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("banner lacks the host key:\n%s", text)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() {
			for sc.Scan() {
			}
			done <- cmd.Wait()
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop after SIGTERM")
		}
		return m[1]
	}
	first, second := start(), start()
	if first != second {
		t.Errorf("host key changed between starts: %s, then %s", first, second)
	}
	info, err := os.Stat(filepath.Join(dir, "host_ed25519"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("host key file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
}
