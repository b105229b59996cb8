package esdk

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "remake the frozen vectors in testdata with the official SDK")

// vector is a message the official SDK wrote, frozen under testdata with
// the plaintext it holds. Its data key is sealed by testKMS, whose master
// key is fixed, so it decrypts without the SDK or any state.
type vector struct {
	File               string            `json:"file"`
	Plaintext          string            `json:"plaintext"`
	Suite              Suite             `json:"suite"`
	FrameLengthInBytes int               `json:"frameLengthInBytes"`
	EncryptionContext  map[string]string `json:"encryptionContext"`
}

const vectorsManifest = "testdata/vectors.json"

var vectorsToMake = []vector{
	{"v2-0578-frame64.esdk", "plaintext.txt", SuiteCommitKeyECDSAP384, 64, workshopContext},
	{"v2-0478-frame64.esdk", "plaintext.txt", SuiteCommitKey, 64, workshopContext},
	{"v2-0578-empty.esdk", "empty.txt", SuiteCommitKeyECDSAP384, 4096, map[string]string{}},
	{"v1-0378-frame64.esdk", "plaintext.txt", SuiteLegacyECDSAP384, 64, workshopContext},
	{"v1-0178-frame64.esdk", "plaintext.txt", SuiteLegacy, 64, workshopContext},
}

// TestMakeVectors remakes the vectors with the official SDK when -update is
// given.
func TestMakeVectors(t *testing.T) {
	if !*update {
		t.Skip("run with -update to remake the frozen vectors")
	}
	bin := buildOracle(t)
	o := &oracleEnv{bin: bin, env: oracleEnviron(serveTestKMS(t, &testKMS{})), dir: t.TempDir()}
	for _, v := range vectorsToMake {
		args := []string{"encrypt", "-key", testKeyARN, "-suite", v.Suite.String(), "-frame", fmt.Sprint(v.FrameLengthInBytes)}
		args = append(args, contextArgs(v.EncryptionContext)...)
		if _, err := o.run(t, append(args, filepath.Join("testdata", v.Plaintext), filepath.Join("testdata", v.File))...); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.MarshalIndent(vectorsToMake, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsManifest, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(vectorsManifest)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []vector
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) != len(vectorsToMake) {
		t.Fatalf("%s has %d vectors, want %d: run go test -run TestMakeVectors -update", vectorsManifest, len(vectors), len(vectorsToMake))
	}
	return vectors
}

// The frozen messages of the official SDK decrypt to their plaintext, and
// their headers parse to what it was asked for.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.File, func(t *testing.T) {
			msg, err := os.ReadFile(filepath.Join("testdata", v.File))
			if err != nil {
				t.Fatal(err)
			}
			plaintext, err := os.ReadFile(filepath.Join("testdata", v.Plaintext))
			if err != nil {
				t.Fatal(err)
			}
			k := &testKMS{}
			var got bytes.Buffer
			h, err := Decrypt(context.Background(), k, &got, bytes.NewReader(msg), DecryptOptions{
				KeyIDs: []string{testKeyARN}, EncryptionContext: v.EncryptionContext, AllowLegacy: !v.Suite.Committing(),
			})
			if err != nil {
				t.Fatalf("Decrypt = %v", err)
			}
			if !bytes.Equal(got.Bytes(), plaintext) {
				t.Errorf("Decrypt returned %q, want %q", got.Bytes(), plaintext)
			}
			wantVersion := uint8(2)
			if !v.Suite.Committing() {
				wantVersion = 1
			}
			stored := maps.Clone(h.EncryptionContext)
			if v.Suite.Signed() {
				if _, ok := decodePublicKey(v.Suite, stored[publicKeyContextKey]); !ok {
					t.Errorf("no public key in the context %v", stored)
				}
				delete(stored, publicKeyContextKey)
			}
			if h.Version != wantVersion || h.Suite != v.Suite || h.FrameLengthInBytes != uint32(v.FrameLengthInBytes) ||
				!maps.Equal(stored, v.EncryptionContext) || len(h.EncryptedDataKeys) != 1 || h.EncryptedDataKeys[0].KeyARN() != testKeyARN {
				t.Errorf("header = %+v", h)
			}
			if _, err := Decrypt(context.Background(), k, new(bytes.Buffer), bytes.NewReader(msg), DecryptOptions{}); v.Suite.Committing() != (err == nil) {
				t.Errorf("Decrypt without AllowLegacy = %v", err)
			}
		})
	}
}

// Every byte of the official SDK's signed message, flipped in turn, is
// refused.
func TestVectorTamperEveryByte(t *testing.T) {
	msg, err := os.ReadFile("testdata/v2-0578-frame64.esdk")
	if err != nil {
		t.Fatal(err)
	}
	k := &testKMS{}
	for i := range msg {
		tampered := bytes.Clone(msg)
		tampered[i] ^= 0x80
		if _, err := Decrypt(context.Background(), k, new(bytes.Buffer), bytes.NewReader(tampered), DecryptOptions{}); err == nil {
			t.Fatalf("Decrypt(byte %d of %d flipped) = nil, want error", i, len(msg))
		}
	}
}
