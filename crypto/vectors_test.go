package crypto

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
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

// vectorsStateFile is the fake AWS state that holds the vectors' KMS key.
const vectorsStateFile = "testdata/fake-aws.json"

var update = flag.Bool("update", false, "write new frozen vectors and fake AWS state under testdata/")

func TestVectorsDecrypt(t *testing.T) {
	vectors := loadVectors(t)
	if len(vectors) < 6 {
		t.Fatalf("found %d vectors under %s, want 3 plaintexts with both schemes (go test -run TestWriteVectors -update writes them)", len(vectors), vectorsDir)
	}
	// Each call is recorded in the state, so the fake works on a copy.
	state, err := os.ReadFile(vectorsStateFile)
	if err != nil {
		t.Fatal(err)
	}
	stateCopy := filepath.Join(t.TempDir(), "fake-aws.json")
	if err := os.WriteFile(stateCopy, state, 0o600); err != nil {
		t.Fatal(err)
	}
	k := openTestKMS(t, stateCopy)
	alias, err := k.client.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String(k.alias)})
	if err != nil {
		t.Fatalf("DescribeKey(%s) in the vectors' state: %v", k.alias, err)
	}
	keyARN := aws.ToString(alias.KeyMetadata.Arn)

	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := decryptBytes(t, k, v.ciphertext, DecryptOptions{KeyID: k.alias})
			if err != nil {
				t.Fatalf("Decrypt(%s) = %v", v.name, err)
			}
			if !bytes.Equal(got, v.plaintext) {
				t.Errorf("Decrypt(%s) = %q, want %q", v.name, got, v.plaintext)
			}
			h, err := ReadHeader(bytes.NewReader(v.ciphertext))
			if err != nil {
				t.Fatal(err)
			}
			if h.Scheme != v.scheme || h.KeyARN != keyARN {
				t.Errorf("%s header: scheme %v, key %s; want %v, %s", v.name, h.Scheme, h.KeyARN, v.scheme, keyARN)
			}
		})
	}
}

// TestWriteVectors makes a new KMS key in a new fake AWS state and encrypts
// the vectors' plaintexts under it. It runs only with -update; the vectors
// are frozen otherwise.
func TestWriteVectors(t *testing.T) {
	if !*update {
		t.Skip("frozen; go test -run TestWriteVectors -update writes new vectors")
	}
	if err := os.RemoveAll("testdata"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(vectorsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	k := openTestKMS(t, vectorsStateFile)
	ctx := t.Context()
	key, err := k.client.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("Master key to encrypt objects written to S3")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(k.alias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}

	var lines strings.Builder
	for i := 1; lines.Len() < 3*testSegmentSizeInBytes; i++ {
		fmt.Fprintf(&lines, "line %02d: envelope encryption keeps the data key beside the data, wrapped by KMS\n", i)
	}
	plaintexts := []struct {
		name               string
		text               string
		encryptionContext  map[string]string
		segmentSizeInBytes int
	}{
		{"empty", "", nil, 0},
		{"hello", "Hello, workshop!\n", testContext, 0},
		{"segments", lines.String(), testContext, testSegmentSizeInBytes},
	}
	for _, p := range plaintexts {
		if err := os.WriteFile(filepath.Join(vectorsDir, p.name+".txt"), []byte(p.text), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, scheme := range schemes {
			opts := EncryptOptions{KeyID: k.alias, EncryptionContext: p.encryptionContext, Scheme: scheme, SegmentSizeInBytes: p.segmentSizeInBytes}
			ciphertext, _ := encryptBytes(t, k, []byte(p.text), opts)
			if err := os.WriteFile(filepath.Join(vectorsDir, p.name+"."+scheme.String()+".cse"), ciphertext, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(vectorsStateFile, 0o644); err != nil {
		t.Fatal(err)
	}
}
