package lookahead

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// Chunks come whole until the last, which is the one nothing follows: a
// stream of a whole number of chunks ends in a full one, an empty stream
// in an empty one, whatever sizes the source's reads return.
func TestFillTellsTheLastChunk(t *testing.T) {
	for _, tc := range []struct {
		size  int
		wants []int // the chunks' sizes; the last is the one without more
	}{
		{0, []int{0}},
		{1, []int{1}},
		{4, []int{4}},
		{5, []int{4, 1}},
		{8, []int{4, 4}},
		{9, []int{4, 4, 1}},
	} {
		data := make([]byte, tc.size)
		for i := range data {
			data[i] = byte(i + 1)
		}
		r := Reader{R: iotest.OneByteReader(bytes.NewReader(data))}
		var got []byte
		for i, want := range tc.wants {
			p := make([]byte, 5)
			read, more, err := r.Fill(p)
			if err != nil {
				t.Fatalf("%d bytes, chunk %d: %v", tc.size, i, err)
			}
			if last := i == len(tc.wants)-1; more == last {
				t.Fatalf("%d bytes, chunk %d: more = %v, want %v", tc.size, i, more, !last)
			}
			n := read
			if more {
				n--
			}
			if n != want {
				t.Fatalf("%d bytes, chunk %d: %d bytes, want %d", tc.size, i, n, want)
			}
			got = append(got, p[:n]...)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%d bytes: chunks make % x, want % x", tc.size, got, data)
		}
	}
}

// A failing source's error comes back with what was read before it.
func TestFillPassesTheSourcesError(t *testing.T) {
	boom := errors.New("boom")
	r := Reader{R: io.MultiReader(bytes.NewReader([]byte{1, 2}), iotest.ErrReader(boom))}
	read, more, err := r.Fill(make([]byte, 5))
	if !errors.Is(err, boom) || more || read != 2 {
		t.Errorf("Fill = %d, %v, %v; want 2 bytes read, no more, the source's error", read, more, err)
	}
}
