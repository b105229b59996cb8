package fakeaws

import (
	"regexp"
	"testing"
)

// The name checks accept exactly what KMS's patterns accept.
var namePatterns = []struct {
	name  string
	check func(string) bool
	re    *regexp.Regexp
}{
	{"isKeyID", isKeyID, regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)},
	{"isAliasName", isAliasName, regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)},
	{"isRegionName", isRegionName, regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)},
}

var nameSamples = []string{
	"", "-", "alias/", "alias/a", "alias/kms_key_cse_usecase_3", "alias/aws/ebs", "alias/a b", "alias/é", "Alias/a", "alias/a\n",
	"1234abcd-12ab-34cd-56ef-1234567890ab", "1234ABCD-12ab-34cd-56ef-1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890a",
	"1234abcd-12ab-34cd-56ef-1234567890abc", "1234abcd_12ab-34cd-56ef-1234567890ab", "1234abcg-12ab-34cd-56ef-1234567890ab",
	"mrk-1234abcd12ab34cd56ef1234567890ab", "1234abcd-12ab-34cd-56ef-1234567890ab\n",
	"us-east-1", "us-gov-west-1", "eu-central-2", "us", "us-", "-us-east-1", "us--east-1", "us-east-1-", "US-east-1", "us-East-1",
	"1us-east-1", "us-east-1\n", "a-1", "a-b",
}

func TestNameChecksMatchPatterns(t *testing.T) {
	for _, p := range namePatterns {
		for _, s := range nameSamples {
			if got, want := p.check(s), p.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, want %v", p.name, s, got, want)
			}
		}
	}
}

func FuzzNameChecksMatchPatterns(f *testing.F) {
	for _, s := range nameSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range namePatterns {
			if got, want := p.check(s), p.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, want %v", p.name, s, got, want)
			}
		}
	})
}
