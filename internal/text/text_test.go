package text

import (
	"strings"
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1, "1 byte"},
		{812, "812 bytes"},
		{1023, "1023 bytes"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{256 << 10, "256.0 KiB"},
		{1 << 30, "1.0 GiB"},
		{3072 << 30, "3.0 TiB"},
	}
	for _, tc := range tests {
		if got := Size(tc.n); got != tc.want {
			t.Errorf("Size(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestContext(t *testing.T) {
	tests := []struct {
		ec   map[string]string
		want string
	}{
		{nil, "none"},
		{map[string]string{}, "none"},
		{map[string]string{"whatfor": "usecase-3-cse"}, `{"whatfor":"usecase-3-cse"}`},
		{map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{map[string]string{"q": `say "hi"`}, `{"q":"say \"hi\""}`},
		// Controls JSON leaves as they are (DEL, and C1 such as NEL and CSI,
		// which some terminals obey) must not reach the terminal either: an
		// encrypted file's header can hold them.
		{map[string]string{"k": "a\u0085b\u009b31m\x7f"}, `{"k":"a\u0085b\u009b31m\x7f"}`},
		{map[string]string{"k": "line\nbreak"}, `{"k":"line\nbreak"}`},
	}
	for _, tc := range tests {
		if got := Context(tc.ec); got != tc.want {
			t.Errorf("Context(%v) = %s, want %s", tc.ec, got, tc.want)
		}
	}
}

func TestDateIsUTCWithDayAndSeconds(t *testing.T) {
	at := time.Date(2026, 12, 4, 7, 28, 1, 0, time.FixedZone("CET", 3600))
	if got, want := Date(at), "Fri 4 Dec 2026 06:28:01 UTC"; got != want {
		t.Errorf("Date = %q, want %q", got, want)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1400 * time.Millisecond, "1s"},
		{45 * time.Second, "45s"},
		{90 * time.Second, "1m30s"},
		{2 * time.Minute, "2m"},
		{time.Hour + 5*time.Minute, "1h5m"},
		{time.Hour, "1h"},
	}
	for _, tc := range tests {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestStatusLineUsesTheLocalClock(t *testing.T) {
	at := time.Date(2026, 12, 4, 6, 28, 1, 0, time.UTC)
	got := StatusLine(at, "WARN", "careful")
	want := at.Local().Format("15:04:05") + "  WARN   careful"
	if got != want {
		t.Errorf("StatusLine = %q, want %q", got, want)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plaintext_u.txt", "plaintext_u.txt"},
		{"my file.txt", "my file.txt"},
		{"/tmp/ws/été.txt", "/tmp/ws/été.txt"},
		{"evil\nINFO  Module run was successful !!", `"evil\nINFO  Module run was successful !!"`},
		{"esc\x1b[31mred", `"esc\x1b[31mred"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{" leading", `" leading"`},
		{"", `""`},
	}
	for _, tc := range tests {
		got := Name(tc.in)
		if got != tc.want {
			t.Errorf("Name(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if strings.ContainsAny(got, "\n\r\x1b") {
			t.Errorf("Name(%q) = %q still holds a control character", tc.in, got)
		}
	}
}

func TestStatusLineStaysOneLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 6, 28, 1, 0, time.UTC)
	got := StatusLine(at, "INFO", "wrote evil\nINFO  Module run was successful !!\x1b[2J")
	if strings.ContainsAny(got, "\n\x1b") {
		t.Errorf("StatusLine = %q, holds a control character", got)
	}
	if !strings.Contains(got, `wrote evil\nINFO`) {
		t.Errorf("StatusLine = %q, want the newline shown as \\n", got)
	}
}
