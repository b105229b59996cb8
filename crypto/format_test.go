package crypto

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatDocExample keeps the worked example of docs/FORMAT.md true: its
// hex dump is the header of a frozen vector.
func TestFormatDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- header dump"
	_, after, ok := strings.Cut(string(doc), marker)
	if !ok {
		t.Fatalf("docs/FORMAT.md has no %q", marker)
	}
	_, block, _ := strings.Cut(after, "```\n")
	block, _, _ = strings.Cut(block, "```")

	ciphertext, err := os.ReadFile(filepath.Join(vectorsDir, "hello.kms-data-key.cse"))
	if err != nil {
		t.Fatal(err)
	}
	_, n := parseHeader(t, ciphertext)
	if want := hex.Dump(ciphertext[:n]); block != want {
		t.Errorf("docs/FORMAT.md header dump =\n%s\nwant the vector's header\n%s", block, want)
	}
}
