package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
