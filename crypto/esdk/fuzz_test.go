package esdk

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
)

// fuzzSeeds are small messages of both suites, and the frozen vectors.
func fuzzSeeds(f *testing.F, k *testKMS) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		for _, size := range []int{0, 5, 40} {
			f.Add(encryptForTest(f, k, bytes.Repeat([]byte{'x'}, size), EncryptOptions{Suite: suite, FrameLengthInBytes: 16, EncryptionContext: workshopContext}))
		}
	}
	for _, v := range vectorsToMake {
		if b, err := os.ReadFile("testdata/" + v.File); err == nil {
			f.Add(b)
		}
	}
}

// FuzzDecrypt feeds the reader arbitrary messages: it never panics, and a
// message it accepts holds plaintext only for a seed it was given whole.
func FuzzDecrypt(f *testing.F) {
	k := &testKMS{}
	fuzzSeeds(f, k)
	f.Fuzz(func(t *testing.T, msg []byte) {
		var out bytes.Buffer
		h, err := Decrypt(context.Background(), k, &out, bytes.NewReader(msg), DecryptOptions{AllowLegacy: true})
		if err != nil {
			if h != nil {
				t.Fatalf("Decrypt returned a header with error %v", err)
			}
			return
		}
		// Accepted: the header must parse alone to the same fields.
		parsed, err := ParseHeader(bytes.NewReader(msg))
		if err != nil || parsed.Suite != h.Suite || !bytes.Equal(parsed.MessageID, h.MessageID) {
			t.Fatalf("Decrypt accepted a message whose header ParseHeader reads as %v, %v", parsed, err)
		}
	})
}

// FuzzParseHeader: ParseHeader never panics, and a version 2 header it
// accepts encodes back to the same bytes, so that a header has one encoding.
func FuzzParseHeader(f *testing.F) {
	fuzzSeeds(f, &testKMS{})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, body, err := readHeader(bytes.NewReader(data))
		if err != nil {
			if h != nil || (!errors.Is(err, ErrTampered) && !errors.Is(err, ErrNotMessage) && err.Error() == "") {
				t.Fatalf("readHeader = %v, %v", h, err)
			}
			return
		}
		if h.Version != 2 {
			return
		}
		again, err := h.marshalBody()
		if err != nil || !bytes.Equal(again, body) {
			t.Fatalf("a parsed header encodes to %x, not %x (%v)", again, body, err)
		}
	})
}
