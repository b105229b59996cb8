// Package lookahead reads a stream in chunks and tells the last chunk from
// the others. Both formats mark their last segment or frame, and must know
// a chunk is the last before they seal it: a chunk is the last exactly
// when no byte follows it, so each read takes one byte more than the
// chunk, kept for the next.
package lookahead

import "io"

// Reader reads R in chunks, one byte ahead. The zero value reads nothing.
type Reader struct {
	R     io.Reader
	ahead byte // the byte read past the last chunk, if held
	held  bool
}

// Fill fills p with R's next bytes: a chunk of len(p)-1 bytes and the byte
// after it, or the rest of R, shorter. read is how many bytes of p hold
// R's data; more says whether R goes on after the chunk, in which case
// the chunk is p[:read-1] and p[read-1] is kept as the next chunk's
// first byte. err is R's, but for its end.
func (r *Reader) Fill(p []byte) (read int, more bool, err error) {
	if r.held {
		p[0] = r.ahead
		read = 1
	}
	m, err := io.ReadFull(r.R, p[read:])
	read += m
	switch err {
	case nil:
		r.ahead, r.held = p[len(p)-1], true
		return read, true, nil
	case io.EOF, io.ErrUnexpectedEOF:
		r.ahead, r.held = 0, false
		return read, false, nil
	}
	return read, false, err
}
