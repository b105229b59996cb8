package crypto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// chunkReader returns reads of at most n bytes.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// chunkWriter passes each write on in pieces of at most n bytes.
type chunkWriter struct {
	w io.Writer
	n int
}

func (c chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n, err := c.w.Write(p[:min(len(p), c.n)])
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// fullWriter takes room bytes, then fails the rest like a full disk.
type fullWriter struct {
	room int
	got  bytes.Buffer
}

var errDiskFull = errors.New("no space left on device")

func (f *fullWriter) Write(p []byte) (int, error) {
	n := min(len(p), f.room)
	f.room -= n
	f.got.Write(p[:n])
	if n < len(p) {
		return n, errDiskFull
	}
	return n, nil
}

// oddReaders are sources that hand out their bytes in other sizes than a
// file or a bytes.Reader does, as pipes and network streams do.
var oddReaders = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"one byte at a time", iotest.OneByteReader},
	{"half of each read", iotest.HalfReader},
	{"end with the last data", iotest.DataErrReader},
	{"7 bytes at a time", func(r io.Reader) io.Reader { return chunkReader{r, 7} }},
	{"a segment less one", func(r io.Reader) io.Reader { return chunkReader{r, testSegment - 1} }},
	{"a segment and one", func(r io.Reader) io.Reader { return chunkReader{r, testSegment + 1} }},
	{"three segments and 5", func(r io.Reader) io.Reader { return chunkReader{r, 3*testSegment + 5} }},
	{"no WriteTo", func(r io.Reader) io.Reader { return struct{ io.Reader }{r} }},
}

// boundarySizes are plaintext sizes at and around the segment boundaries.
var boundarySizes = []int{
	0, 1,
	testFirstSegment - 1, testFirstSegment, testFirstSegment + 1,
	testFirstSegment + testSegment - 1, testFirstSegment + testSegment, testFirstSegment + testSegment + 1,
	testFirstSegment + 5*testSegment + 17,
}

// The segments depend on the plaintext alone, not on how it arrives: any
// read sizes, on either side, and any write sizes give the same file.
func TestRoundTripWithOddReadAndWriteSizes(t *testing.T) {
	k := &constantKMS{}
	opts := EncryptOptions{KeyID: "k", EncryptionContext: testContext, SegmentSizeInBytes: testSegmentSizeInBytes}
	for _, size := range boundarySizes {
		plaintext := randomBytes(size)
		reference, h := encryptBytes(t, k, plaintext, opts)
		rawHeader, _ := h.MarshalBinary()
		for _, reader := range oddReaders {
			t.Run(fmt.Sprintf("%d bytes/%s", size, reader.name), func(t *testing.T) {
				var ciphertext bytes.Buffer
				if _, err := Encrypt(t.Context(), k, chunkWriter{&ciphertext, 7}, reader.wrap(bytes.NewReader(plaintext)), opts); err != nil {
					t.Fatalf("Encrypt = %v", err)
				}
				if ciphertext.Len() != len(reference) || !bytes.HasPrefix(ciphertext.Bytes(), rawHeader) {
					t.Errorf("Encrypt wrote %d bytes, want %d starting with the same header", ciphertext.Len(), len(reference))
				}
				for name, c := range map[string][]byte{"its own ciphertext": ciphertext.Bytes(), "one read whole": reference} {
					var got bytes.Buffer
					if _, err := Decrypt(t.Context(), k, chunkWriter{&got, 7}, reader.wrap(bytes.NewReader(c)), DecryptOptions{}); err != nil {
						t.Fatalf("Decrypt(%s) = %v", name, err)
					}
					if !bytes.Equal(got.Bytes(), plaintext) {
						t.Errorf("Decrypt(%s) = %d bytes, not the plaintext", name, got.Len())
					}
				}
			})
		}
	}
}

// Cut short, read in odd sizes, a file still fails as a whole.
func TestTruncatedFailsWithOddReadSizes(t *testing.T) {
	k := &constantKMS{}
	ciphertext, h := encryptBytes(t, k, randomBytes(testFirstSegment+2*testSegment), EncryptOptions{KeyID: "k", SegmentSizeInBytes: testSegmentSizeInBytes})
	rawHeader, _ := h.MarshalBinary()
	streamStart := len(rawHeader) + streamHeaderSizeInBytes
	for _, reader := range oddReaders {
		for _, n := range []int{
			streamStart, streamStart + 1,
			len(rawHeader) + testSegmentSizeInBytes, // at the end of the first segment
			len(rawHeader) + 2*testSegmentSizeInBytes - 1,
			len(ciphertext) - 1,
		} {
			var got bytes.Buffer
			_, err := Decrypt(t.Context(), k, &got, reader.wrap(bytes.NewReader(ciphertext[:n])), DecryptOptions{})
			if err != ErrTampered {
				t.Errorf("Decrypt(first %d of %d bytes, %s) = %v, want ErrTampered", n, len(ciphertext), reader.name, err)
			}
		}
	}
}

// A destination that fails, a full disk, fails the call, wherever it
// fails: in the header, in the first segment or later.
func TestWriteErrorsFail(t *testing.T) {
	k := &constantKMS{}
	opts := EncryptOptions{KeyID: "k", SegmentSizeInBytes: testSegmentSizeInBytes}
	plaintext := randomBytes(testFirstSegment + 3*testSegment)
	ciphertext, _ := encryptBytes(t, k, plaintext, opts)
	for _, room := range []int{0, 1, 20, 300, len(ciphertext) - 1} {
		_, err := Encrypt(t.Context(), k, &fullWriter{room: room}, bytes.NewReader(plaintext), opts)
		if !errors.Is(err, errDiskFull) {
			t.Errorf("Encrypt(into %d bytes of room) = %v, want %v", room, err, errDiskFull)
		}
	}
	for _, room := range []int{0, 1, testFirstSegment + 1, len(plaintext) - 1} {
		_, err := Decrypt(t.Context(), k, &fullWriter{room: room}, bytes.NewReader(ciphertext), DecryptOptions{})
		if !errors.Is(err, errDiskFull) {
			t.Errorf("Decrypt(into %d bytes of room) = %v, want %v", room, err, errDiskFull)
		}
	}
}
