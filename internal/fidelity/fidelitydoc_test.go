package fidelity

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cse-workshop/internal/toolbin"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the known-differences table in docs/fidelity.md")

// The generated table sits between these two lines of docs/fidelity.md.
const (
	docTableBegin = "<!-- known differences: generated from knownDifferences by `go test ./internal/fidelity -run TestFidelityDoc -update` -->\n"
	docTableEnd   = "<!-- end of known differences -->\n"
)

// knownDifferencesMarkdown renders knownDifferences as a markdown table.
func knownDifferencesMarkdown() string {
	var b strings.Builder
	b.WriteString("| Case | What differs | Real KMS, and the fake | local-kms | Source |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, k := range knownDifferences {
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | [%s](%s) |\n",
			cell(k.Case), cell(k.Field), cell(k.Real), cell(k.LocalKMS), cell(k.Source.Title), k.Source.URL)
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// TestFidelityDoc checks that docs/fidelity.md lists exactly the known
// differences the differential test accepts, so that the page cannot drift
// from the test. With -update it rewrites the table.
func TestFidelityDoc(t *testing.T) {
	path := filepath.Join(toolbin.RepoRoot(t), "docs", "fidelity.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the fidelity page: %v", err)
	}
	begin := bytes.Index(doc, []byte(docTableBegin))
	end := bytes.Index(doc, []byte(docTableEnd))
	if begin < 0 || end < begin {
		t.Fatalf("docs/fidelity.md has no generated table: it needs the lines\n%s(table)\n%s", docTableBegin, docTableEnd)
	}
	got := string(doc[begin+len(docTableBegin) : end])
	want := knownDifferencesMarkdown()
	if *update {
		var out []byte
		out = append(out, doc[:begin+len(docTableBegin)]...)
		out = append(out, want...)
		out = append(out, doc[end:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatalf("update the fidelity page: %v", err)
		}
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("docs/fidelity.md does not list the known differences of the test (-test +doc):\n%s\nrun: go test ./internal/fidelity -run TestFidelityDoc -update", diff)
	}
}

// TestKnownDifferencesAreConsistent checks the table itself: each entry names
// a case of the sequence, says something different for the two backends,
// agrees with what the case expects of real KMS, has a source, and is there
// once.
func TestKnownDifferencesAreConsistent(t *testing.T) {
	cases := map[string]kmsCase{}
	for _, c := range kmsCases {
		if _, dup := cases[c.name]; dup {
			t.Errorf("two cases are named %q", c.name)
		}
		cases[c.name] = c
	}
	seen := map[[2]string]bool{}
	for _, k := range knownDifferences {
		c, ok := cases[k.Case]
		if !ok {
			t.Errorf("known difference %q / %q names no case of the sequence", k.Case, k.Field)
			continue
		}
		if seen[[2]string{k.Case, k.Field}] {
			t.Errorf("known difference %q / %q is listed twice", k.Case, k.Field)
		}
		seen[[2]string{k.Case, k.Field}] = true
		if k.Real == k.LocalKMS {
			t.Errorf("known difference %q / %q: real KMS and local-kms both %q: no difference", k.Case, k.Field, k.Real)
		}
		if k.Field == fieldOutcome && k.Real != c.want {
			t.Errorf("known difference %q: real KMS %q, but the case expects %q", k.Case, k.Real, c.want)
		}
		if k.Source.Title == "" || !strings.HasPrefix(k.Source.URL, "https://docs.aws.amazon.com/") {
			t.Errorf("known difference %q / %q: source %+v, want a page of the AWS documentation", k.Case, k.Field, k.Source)
		}
	}
}
