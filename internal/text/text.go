// Package text formats the quantities the workshop shows people: sizes,
// encryption contexts, moments, dates, durations, file names and wrapped
// paragraphs.
//
// Each quantity has one function here, used by the tutorial, the plain
// runner, the steps and the file commands alike, so that a size or an
// encryption context reads the same wherever it appears.
package text

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Size shows a size in bytes as a person reads it: "1 byte", "812 bytes",
// "1.5 KiB", "3.0 TiB". Units are powers of 1024 with one decimal.
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		if n == 1 {
			return "1 byte"
		}
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Context shows an encryption context as KMS and CloudTrail show it, JSON
// with its keys sorted: {"whatfor":"usecase-3-cse"}; an empty one is "none".
// The controls JSON lets through (DEL, and C1 controls such as NEL, which
// some terminals obey) are escaped as OneLine escapes them: a context comes
// from the header of a file that may have been forged.
func Context(ec map[string]string) string {
	if len(ec) == 0 {
		return "none"
	}
	b, err := json.Marshal(ec) // sorts the keys
	if err != nil {
		panic(fmt.Sprintf("text: json.Marshal of a map of strings: %v", err))
	}
	return OneLine(string(b))
}

// Clock shows a moment of this session as the person's own clock reads it:
// "20:01:05", local time. Status lines and the API pane use it.
func Clock(t time.Time) string {
	return t.Local().Format("15:04:05")
}

// Date shows a moment that may be on another day, or that AWS records,
// with its day and time zone: "Fri 4 Dec 2026 06:28:01 UTC". It is in UTC,
// as AWS (CloudTrail, KMS deletion dates) gives it.
func Date(t time.Time) string {
	return t.UTC().Format("Mon 2 Jan 2006 15:04:05 UTC")
}

// Duration shows a span of time briefly, to the second: "45s", "1m30s",
// "2m", "1h5m". Waits, delivery lags and give-up times use it.
func Duration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// StatusLine is one status line as the plain runner prints it and the
// tutorial's transcript keeps it: the clock, the level in five columns, the
// text on one line (see OneLine).
func StatusLine(t time.Time, level, msg string) string {
	return fmt.Sprintf("%s  %-5s  %s", Clock(t), level, OneLine(msg))
}

// OneLine keeps a text that must be one line on one line: a control
// character in it (a newline or an escape from a file name, say) is shown
// as its Go escape, \n or \x1b, so that it can neither break the line nor
// forge another.
func OneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// Name shows a file name or path inside a line of text: as it is when it
// is printable, else quoted with Go's escapes, so that a name holding a
// newline or an escape sequence cannot break or forge the line.
func Name(s string) string {
	for _, r := range s {
		if r == unicode.ReplacementChar || (!unicode.IsPrint(r) && r != ' ') {
			return strconv.Quote(s)
		}
	}
	if s == "" || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}
