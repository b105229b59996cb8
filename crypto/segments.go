package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"cse-workshop/crypto/internal/lookahead"
)

// The stream after the header is Tink's AES-GCM-HKDF streaming AEAD
// (tink-go's streamingaead/subtle.NewAESGCMHKDF with the data key, SHA-256,
// 32-byte keys, the header's segment size and a first segment offset of
// 0; "The Tink stream" in docs/FORMAT.md), sealed and opened here segment
// by segment so that segments can be worked on in parallel and in place:
// tests hold it to Tink's own writer and reader, byte for byte.
const (
	streamHeaderSizeInBytes = 1 + streamSaltSizeInBytes + noncePrefixSizeInBytes
	streamSaltSizeInBytes   = dataKeySizeInBytes
	noncePrefixSizeInBytes  = 7
	segmentTagSizeInBytes   = 16
	// The nonce's last byte says whether the segment is the last.
	lastSegmentFlag = 1
)

// batchTargetInBytes is about how much of the stream a batch of the
// pipeline holds: one segment at the default size, several small ones.
// Large enough that handing a batch from one goroutine to another costs
// little next to sealing it, small enough to stay in a core's cache.
const batchTargetInBytes = 256 << 10

// errTooManySegments: segment numbers are 32 bits in the nonce.
var errTooManySegments = errors.New("too many segments for one file; use a larger segment size")

// newStreamHeader returns a new stream header: its length, a random salt and
// a random nonce prefix, drawn in that order, as Tink does.
func newStreamHeader() []byte {
	h := make([]byte, streamHeaderSizeInBytes)
	h[0] = streamHeaderSizeInBytes
	rand.Read(h[1 : 1+streamSaltSizeInBytes])
	rand.Read(h[1+streamSaltSizeInBytes:])
	return h
}

// segmentCipher seals and opens the segments of one stream. Its AEAD is
// shared by the pipeline's workers: crypto/cipher's AES-GCM keeps no state
// between calls.
type segmentCipher struct {
	aead        cipher.AEAD
	noncePrefix [noncePrefixSizeInBytes]byte
}

// newSegmentCipher derives the stream key from the data key, the salt of
// streamHeader and the file's header (the associated data).
func newSegmentCipher(dataKey, streamHeader, rawHeader []byte) *segmentCipher {
	key, err := hkdf.Key(sha256.New, dataKey, streamHeader[1:1+streamSaltSizeInBytes], string(rawHeader), dataKeySizeInBytes)
	if err != nil {
		panic(fmt.Sprintf("crypto: derive the stream key: %v", err))
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(fmt.Sprintf("crypto: aes.NewCipher: %v", err))
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(fmt.Sprintf("crypto: cipher.NewGCM: %v", err))
	}
	c := &segmentCipher{aead: aead}
	copy(c.noncePrefix[:], streamHeader[1+streamSaltSizeInBytes:])
	return c
}

// nonce writes the nonce of a segment into b and returns it.
func (c *segmentCipher) nonce(b *[12]byte, segment uint32, last bool) []byte {
	copy(b[:], c.noncePrefix[:])
	binary.BigEndian.PutUint32(b[noncePrefixSizeInBytes:], segment)
	b[11] = 0
	if last {
		b[11] = lastSegmentFlag
	}
	return b[:]
}

// segmentBatch is a pipeline buffer: consecutive segments of the stream,
// read straight into place and sealed or opened there. Sealing, segment i
// holds its plaintext where its ciphertext goes, followed by room for its
// tag, so that the sealed batch is one run of stream bytes; opening, the
// segments lie as read and each plaintext is its segment less the tag.
type segmentBatch struct {
	buf   []byte
	sizes []int  // of each segment's content as read: plaintext sealing, ciphertext opening
	first uint32 // the number of the first segment
	last  bool   // whether the batch ends the stream
	nonce [12]byte
}

// segmentReader reads the stream's segments into batches. It reads one
// byte ahead, for a segment is the last exactly when nothing follows it.
type segmentReader struct {
	r                  lookahead.Reader
	segmentSizeInBytes int   // ciphertext, the header's segment size
	tagRoom            int   // bytes left after each segment's content: the tag when sealing, 0 opening
	perBatch           int   // segments per batch
	next               int64 // the number of the next segment
}

func newSegmentReader(r io.Reader, segmentSizeInBytes, tagRoom int) *segmentReader {
	return &segmentReader{
		r:                  lookahead.Reader{R: r},
		segmentSizeInBytes: segmentSizeInBytes,
		tagRoom:            tagRoom,
		perBatch:           max(1, batchTargetInBytes/segmentSizeInBytes),
	}
}

// newBatch returns an empty batch. The byte past the last segment is for
// the byte read ahead when opening.
func (r *segmentReader) newBatch() *segmentBatch {
	return &segmentBatch{
		buf:   make([]byte, r.perBatch*r.segmentSizeInBytes+1),
		sizes: make([]int, 0, r.perBatch),
	}
}

// read fills b with the next segments and reports whether they end the
// stream. Errors are the source's.
func (r *segmentReader) read(b *segmentBatch) (last bool, err error) {
	b.sizes, b.last = b.sizes[:0], false
	if r.next > math.MaxUint32-1 {
		return false, errTooManySegments
	}
	b.first = uint32(r.next)
	at := 0
	for len(b.sizes) < r.perBatch && r.next <= math.MaxUint32-1 {
		content := r.segmentSizeInBytes - r.tagRoom
		if r.next == 0 {
			content -= streamHeaderSizeInBytes
		}
		read, more, err := r.r.Fill(b.buf[at : at+content+1])
		r.next++
		if err != nil {
			return false, err
		}
		if more {
			b.sizes = append(b.sizes, content)
			at += content + r.tagRoom
			continue
		}
		b.sizes = append(b.sizes, read)
		b.last = true
		return true, nil
	}
	return false, nil
}

// seal seals b's segments in place.
func (c *segmentCipher) seal(b *segmentBatch) {
	at := 0
	for i, size := range b.sizes {
		plaintext := b.buf[at : at+size]
		c.aead.Seal(plaintext[:0], c.nonce(&b.nonce, b.first+uint32(i), b.last && i == len(b.sizes)-1), plaintext, nil)
		at += size + segmentTagSizeInBytes
	}
}

// writeSealed writes b's sealed segments to w, one at a time, and calls
// done after each with the segment's plaintext size; it stops at the first
// error of w or done.
func (b *segmentBatch) writeSealed(w io.Writer, done func(plaintextBytes int) error) error {
	at := 0
	for _, size := range b.sizes {
		if _, err := w.Write(b.buf[at : at+size+segmentTagSizeInBytes]); err != nil {
			return fmt.Errorf("write ciphertext: %w", err)
		}
		if err := done(size); err != nil {
			return err
		}
		at += size + segmentTagSizeInBytes
	}
	return nil
}

// open opens b's segments in place; any that fails is ErrTampered.
func (c *segmentCipher) open(b *segmentBatch) error {
	at := 0
	for i, size := range b.sizes {
		segment := b.buf[at : at+size]
		if size < segmentTagSizeInBytes {
			return ErrTampered
		}
		if _, err := c.aead.Open(segment[:0], c.nonce(&b.nonce, b.first+uint32(i), b.last && i == len(b.sizes)-1), segment, nil); err != nil {
			return ErrTampered
		}
		at += size
	}
	return nil
}

// writeOpened writes the plaintext of b's opened segments to w, one at a
// time, and calls done after each with its size; it stops at the first
// error of w or done.
func (b *segmentBatch) writeOpened(w io.Writer, done func(plaintextBytes int) error) error {
	at := 0
	for _, size := range b.sizes {
		if _, err := w.Write(b.buf[at : at+size-segmentTagSizeInBytes]); err != nil {
			return fmt.Errorf("write plaintext: %w", err)
		}
		if err := done(size - segmentTagSizeInBytes); err != nil {
			return err
		}
		at += size
	}
	return nil
}
