package text

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short", 10, "short"},
		{"one two three four", 9, "one two\nthree\nfour"},
		{"run cse-workshop step 6 --dir ws --aws --region eu-west-1 now", 30,
			"run cse-workshop step 6 --dir\nws --aws --region eu-west-1\nnow"},
		{"key arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", 50,
			"key\narn:aws:kms:us-east-1:111122223333:key/\n1234abcd-12ab-34cd-56ef-1234567890ab"},
		{"abcdefghij", 4, "abcd\nefgh\nij"},
		{"Suite 0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", 40, "Suite 0x0578\nAES_256_GCM_HKDF_SHA512_COMMIT_KEY_\nECDSA_P384"},
		{"  indented text that wraps", 15, "  indented text\n  that wraps"},
		{"two\nparagraphs", 20, "two\nparagraphs"},
	}
	for _, tc := range tests {
		got := Wrap(tc.in, tc.width)
		if got != tc.want {
			t.Errorf("Wrap(%q, %d) =\n%s\nwant\n%s", tc.in, tc.width, got, tc.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if ansi.StringWidth(l) > tc.width {
				t.Errorf("Wrap(%q, %d) has a line of %d columns: %q", tc.in, tc.width, ansi.StringWidth(l), l)
			}
		}
	}
}
