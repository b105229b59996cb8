package crypto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The header's literals and limits, as docs/FORMAT.md names them. The limits
// bound what a hostile header can make a reader allocate.
const (
	magic = "CSEW"

	// FormatVersion is the only header version this package reads and writes.
	FormatVersion uint8 = 1

	// MinSegmentSizeInBytes and MaxSegmentSizeInBytes bound the ciphertext
	// segment size of the streaming AEAD, in a header and in EncryptOptions.
	MinSegmentSizeInBytes = 256
	MaxSegmentSizeInBytes = 4 << 20

	maxKeyARNSizeInBytes            = 2048
	maxEncryptionContextSizeInBytes = 8192
	maxEncryptedDataKeySizeInBytes  = 6144

	// fixedHeaderSizeInBytes is magic, version, scheme and segment size.
	fixedHeaderSizeInBytes = len(magic) + 1 + 1 + 4
)

// keyARNPattern is the shape of the header's key ARN: what KMS returns as
// the KeyId of GenerateDataKey and Encrypt, the ARN of a key (never of an
// alias), in any partition. A header whose key ARN has another shape was
// damaged: no writer puts one there. Compiled on first use, not at every
// start of the program.
var keyARNPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`)
})

// ErrNotEncrypted is returned when the input does not start with the format's
// magic bytes: it is not a file this package wrote.
var ErrNotEncrypted = errors.New("not a cse-workshop encrypted file")

// LooksLikeFile reports whether data, the first bytes of a file (4 are
// enough), starts with this format's magic, "CSEW".
func LooksLikeFile(data []byte) bool {
	return len(data) >= len(magic) && string(data[:len(magic)]) == magic
}

// ErrUnsupportedVersion is returned (wrapped, with the version) for a header
// of a format version this package does not know.
var ErrUnsupportedVersion = errors.New("unsupported format version")

// MarshalBinary returns the header's encoding. It fails if a field breaks
// the format's limits.
func (h *Header) MarshalBinary() ([]byte, error) {
	if h.Version != FormatVersion {
		return nil, fmt.Errorf("header: version %d, want %d", h.Version, FormatVersion)
	}
	if !h.Scheme.valid() {
		return nil, fmt.Errorf("header: unknown scheme %d", h.Scheme)
	}
	if h.SegmentSizeInBytes < MinSegmentSizeInBytes || h.SegmentSizeInBytes > MaxSegmentSizeInBytes {
		return nil, fmt.Errorf("header: segment size %d out of range [%d, %d]", h.SegmentSizeInBytes, MinSegmentSizeInBytes, MaxSegmentSizeInBytes)
	}
	if err := checkField("key ARN", []byte(h.KeyARN), 1, maxKeyARNSizeInBytes); err != nil {
		return nil, err
	}
	if !keyARNPattern().MatchString(h.KeyARN) {
		return nil, fmt.Errorf("header: %q is not a KMS key ARN", h.KeyARN)
	}
	encodedContext, err := marshalEncryptionContext(h.EncryptionContext)
	if err != nil {
		return nil, err
	}
	if err := checkField("encrypted data key", h.EncryptedDataKey, 1, maxEncryptedDataKeySizeInBytes); err != nil {
		return nil, err
	}

	b := make([]byte, 0, fixedHeaderSizeInBytes+3*2+len(h.KeyARN)+len(encodedContext)+len(h.EncryptedDataKey))
	b = append(b, magic...)
	b = append(b, h.Version, byte(h.Scheme))
	b = binary.BigEndian.AppendUint32(b, h.SegmentSizeInBytes)
	b = appendField(b, []byte(h.KeyARN))
	b = appendField(b, encodedContext)
	b = appendField(b, h.EncryptedDataKey)
	return b, nil
}

func checkField(name string, v []byte, minSize, maxSize int) error {
	if len(v) < minSize || len(v) > maxSize {
		return fmt.Errorf("header: %s is %d bytes, want %d to %d", name, len(v), minSize, maxSize)
	}
	return nil
}

// appendField appends v with its uint16 big-endian length.
func appendField(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
	return append(b, v...)
}

// marshalEncryptionContext returns the canonical encoding of an encryption
// context: its pairs in ascending byte order of their keys, each as a
// length-prefixed key then a length-prefixed value. The empty context encodes
// to no bytes. The encoding is both a header field and, for SchemeTink, the
// associated data of the KMS wrap.
func marshalEncryptionContext(ec map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(ec))
	size := 0
	for k, v := range ec {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errors.New("encryption context: keys and values must be UTF-8")
		}
		keys = append(keys, k)
		size += 2 + len(k) + 2 + len(v)
	}
	if size > maxEncryptionContextSizeInBytes {
		return nil, fmt.Errorf("encryption context: %d bytes encoded, limit %d", size, maxEncryptionContextSizeInBytes)
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	for _, k := range keys {
		b = appendField(b, []byte(k))
		b = appendField(b, []byte(ec[k]))
	}
	return b, nil
}

// parseEncryptionContext is the inverse of marshalEncryptionContext. It
// accepts only the canonical encoding, so a context has one encoding.
func parseEncryptionContext(b []byte) (map[string]string, bool) {
	ec := make(map[string]string)
	prev := ""
	for len(b) > 0 {
		k, rest, ok := cutField(b)
		if !ok {
			return nil, false
		}
		v, rest, ok := cutField(rest)
		if !ok {
			return nil, false
		}
		key := string(k)
		if len(ec) > 0 && key <= prev {
			return nil, false
		}
		if !utf8.Valid(k) || !utf8.Valid(v) {
			return nil, false
		}
		ec[key] = string(v)
		prev = key
		b = rest
	}
	return ec, true
}

func cutField(b []byte) (v, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b)-2 < n {
		return nil, nil, false
	}
	return b[2 : 2+n], b[2+n:], true
}

// ReadHeader reads a header from r and leaves r at the first byte after it
// (the start of the Tink stream). It reads no more than the header, and never
// allocates more than the format's limits allow.
//
// A malformed header is ErrTampered; input that is not in this format at all
// is ErrNotEncrypted, and a newer format version ErrUnsupportedVersion.
func ReadHeader(r io.Reader) (*Header, error) {
	h, _, err := readHeader(r)
	return h, err
}

// readHeader returns the header and its exact bytes, which the stream
// authenticates as associated data.
func readHeader(r io.Reader) (*Header, []byte, error) {
	raw := make([]byte, fixedHeaderSizeInBytes, fixedHeaderSizeInBytes+512)
	if n, err := io.ReadFull(r, raw); err != nil {
		if !strings.HasPrefix(magic, string(raw[:min(n, len(magic))])) {
			return nil, nil, ErrNotEncrypted
		}
		return nil, nil, readError(err)
	}
	if string(raw[:len(magic)]) != magic {
		return nil, nil, ErrNotEncrypted
	}
	h := &Header{
		Version:            raw[4],
		Scheme:             Scheme(raw[5]),
		SegmentSizeInBytes: binary.BigEndian.Uint32(raw[6:10]),
	}
	if h.Version != FormatVersion {
		return nil, nil, fmt.Errorf("%w %d", ErrUnsupportedVersion, h.Version)
	}
	if !h.Scheme.valid() ||
		h.SegmentSizeInBytes < MinSegmentSizeInBytes || h.SegmentSizeInBytes > MaxSegmentSizeInBytes {
		return nil, nil, ErrTampered
	}

	var keyARN, encodedContext []byte
	var err error
	if raw, keyARN, err = readField(r, raw, 1, maxKeyARNSizeInBytes); err != nil {
		return nil, nil, err
	}
	if raw, encodedContext, err = readField(r, raw, 0, maxEncryptionContextSizeInBytes); err != nil {
		return nil, nil, err
	}
	if raw, h.EncryptedDataKey, err = readField(r, raw, 1, maxEncryptedDataKeySizeInBytes); err != nil {
		return nil, nil, err
	}
	if !keyARNPattern().Match(keyARN) {
		return nil, nil, ErrTampered
	}
	h.KeyARN = string(keyARN)
	var ok bool
	if h.EncryptionContext, ok = parseEncryptionContext(encodedContext); !ok {
		return nil, nil, ErrTampered
	}
	return h, raw, nil
}

// readField reads a uint16-length-prefixed field, appends it to raw, and
// returns the grown raw and the field's own bytes (a copy).
func readField(r io.Reader, raw []byte, minSize, maxSize int) ([]byte, []byte, error) {
	start := len(raw)
	raw = append(raw, 0, 0)
	if _, err := io.ReadFull(r, raw[start:]); err != nil {
		return nil, nil, readError(err)
	}
	n := int(binary.BigEndian.Uint16(raw[start:]))
	if n < minSize || n > maxSize {
		return nil, nil, ErrTampered
	}
	raw = append(raw, make([]byte, n)...)
	if _, err := io.ReadFull(r, raw[start+2:]); err != nil {
		return nil, nil, readError(err)
	}
	return raw, slices.Clone(raw[start+2:]), nil
}

// readError maps a short header to ErrTampered and keeps real I/O errors.
func readError(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTampered
	}
	return fmt.Errorf("read header: %w", err)
}
