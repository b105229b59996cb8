package crypto

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The frozen vectors: testdata/vectors/NAME.txt is a plaintext and
// NAME.SCHEME.cse its encryption with that scheme, under the KMS key whose
// state the fake AWS keeps in testdata/fake-aws.json.
const vectorsDir = "testdata/vectors"

type vector struct {
	name       string // NAME.SCHEME
	scheme     Scheme
	plaintext  []byte
	ciphertext []byte
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(vectorsDir, "*.cse"))
	if err != nil {
		t.Fatal(err)
	}
	var vectors []vector
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".cse")
		plaintextName, schemeName, _ := strings.Cut(name, ".")
		scheme, err := ParseScheme(schemeName)
		if err != nil {
			t.Fatalf("vector %s: %v", path, err)
		}
		plaintext, err := os.ReadFile(filepath.Join(vectorsDir, plaintextName+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		ciphertext, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		vectors = append(vectors, vector{name: name, scheme: scheme, plaintext: plaintext, ciphertext: ciphertext})
	}
	return vectors
}
