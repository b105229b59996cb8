package main

import (
	"path/filepath"
	"testing"
)

// decrypt builds the P-384 table ahead only for a message that will need
// it: one whose suite signs.
func TestMessageSigned(t *testing.T) {
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"v1-0178-frame64.esdk", false},
		{"v1-0378-frame64.esdk", true},
		{"v2-0478-frame64.esdk", false},
		{"v2-0578-frame64.esdk", true},
		{"v2-0578-empty.esdk", true},
		{"plaintext.txt", false},
		{"empty.txt", false},
	} {
		format, first := sniff(filepath.Join("crypto", "esdk", "testdata", tc.file))
		if got := format == formatESDK && messageSigned(first); got != tc.want {
			t.Errorf("messageSigned(first bytes of %s, % x) = %v, want %v", tc.file, first, got, tc.want)
		}
	}
}
