package esdk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"unicode/utf8"
)

// The header's literals (data-format/message-header.md), and the limits this
// package adds to bound what a hostile header can make a reader allocate:
// the format allows 65,535 encrypted data keys of up to 196 KiB each.
const (
	messageTypeCustomerAEAD = 0x80 // version 1's Type field
	contentTypeNonFramed    = 0x01
	contentTypeFramed       = 0x02

	messageIDSizeV1InBytes = 16
	messageIDSizeV2InBytes = 32
	commitKeySizeInBytes   = 32 // the suite data of 0x0578 and 0x0478
	ivSizeInBytes          = 12
	tagSizeInBytes         = 16

	// providerIDAWSKMS is the AWS KMS keyring's key provider ID; its key
	// provider information is the key ARN.
	providerIDAWSKMS = "aws-kms"

	// publicKeyContextKey holds the signature's public key in the encryption
	// context of signed suites; the prefix is reserved for the SDK.
	publicKeyContextKey      = "aws-crypto-public-key"
	reservedContextKeyPrefix = "aws-crypto-"

	maxEncryptedDataKeys              = 32
	maxProviderIDSizeInBytes          = 1024
	maxProviderInfoSizeInBytes        = 2048
	maxEncryptedDataKeyCiphertextSize = 8192
	maxUint16                         = 1<<16 - 1
)

// Header is the header of a message: every field, for display. Until Decrypt
// has returned it, a header is unauthenticated.
type Header struct {
	Version           uint8 // message format version: 1 or 2
	Suite             Suite
	MessageID         []byte            // 32 bytes (version 1: 16)
	EncryptionContext map[string]string // as stored, aws-crypto-public-key included
	EncryptedDataKeys []EncryptedDataKey
	// FrameLengthInBytes is the plaintext size of each frame but the last.
	FrameLengthInBytes uint32
	// CommitKey is the key commitment of committing suites (the suite data):
	// it proves which data key the message is for. Nil for legacy suites.
	CommitKey []byte
	// IV is version 1's header IV, always zero; nil for version 2.
	IV []byte
	// AuthenticationTag authenticates the header under the data key.
	AuthenticationTag []byte
}

// EncryptedDataKey is one encrypted copy of the message's data key.
type EncryptedDataKey struct {
	ProviderID   string // "aws-kms" for the AWS KMS keyring
	ProviderInfo string // for aws-kms, the key ARN
	Ciphertext   []byte // for aws-kms, KMS's ciphertext blob
}

// KeyARN returns the ARN of the KMS key that encrypted the data key, or ""
// if another kind of keyring did.
func (k EncryptedDataKey) KeyARN() string {
	if k.ProviderID != providerIDAWSKMS {
		return ""
	}
	return k.ProviderInfo
}

// clone returns a deep copy of h.
func (h *Header) clone() *Header {
	c := *h
	c.MessageID = bytes.Clone(h.MessageID)
	c.EncryptionContext = maps.Clone(h.EncryptionContext)
	c.EncryptedDataKeys = slices.Clone(h.EncryptedDataKeys)
	for i := range c.EncryptedDataKeys {
		c.EncryptedDataKeys[i].Ciphertext = bytes.Clone(c.EncryptedDataKeys[i].Ciphertext)
	}
	c.CommitKey = bytes.Clone(h.CommitKey)
	c.IV = bytes.Clone(h.IV)
	c.AuthenticationTag = bytes.Clone(h.AuthenticationTag)
	return &c
}

// LooksLikeMessage reports whether data, the first bytes of a file (3 are
// enough), starts like a message this package may read: a version 2 message
// of suite 0x0578 or 0x0478, or a version 1 message.
func LooksLikeMessage(data []byte) bool {
	if len(data) >= 3 && data[0] == 2 {
		s := Suite(binary.BigEndian.Uint16(data[1:3]))
		return s == SuiteCommitKeyECDSAP384 || s == SuiteCommitKey
	}
	return len(data) >= 2 && data[0] == 1 && data[1] == messageTypeCustomerAEAD
}

// marshalHeaderBody returns the encoding of the header body: everything but
// the authentication tag (and version 1's IV).
func (h *Header) marshalBody() ([]byte, error) {
	if h.Version != 2 || h.Suite.messageVersion() != 2 {
		panic(fmt.Sprintf("esdk: marshal a version %d header of suite %s", h.Version, h.Suite))
	}
	aad, err := marshalEncryptionContext(h.EncryptionContext)
	if err != nil {
		return nil, err
	}
	if len(aad) > maxUint16 {
		return nil, fmt.Errorf("encryption context: %d bytes encoded, the format's limit is %d", len(aad), maxUint16)
	}
	b := []byte{h.Version}
	b = binary.BigEndian.AppendUint16(b, uint16(h.Suite))
	b = append(b, h.MessageID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(aad)))
	b = append(b, aad...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.EncryptedDataKeys)))
	for _, k := range h.EncryptedDataKeys {
		for _, f := range [][]byte{[]byte(k.ProviderID), []byte(k.ProviderInfo), k.Ciphertext} {
			if len(f) > maxUint16 {
				return nil, fmt.Errorf("encrypted data key: a field of %d bytes, the format's limit is %d", len(f), maxUint16)
			}
			b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
			b = append(b, f...)
		}
	}
	b = append(b, contentTypeFramed)
	b = binary.BigEndian.AppendUint32(b, h.FrameLengthInBytes)
	b = append(b, h.CommitKey...)
	return b, nil
}

// marshalEncryptionContext returns the specification's serialization of an
// encryption context (framework/structures.md): nothing for an empty one,
// else the pair count and the pairs sorted by the bytes of their keys, each
// as a length-prefixed key then a length-prefixed value.
func marshalEncryptionContext(ec map[string]string) ([]byte, error) {
	if len(ec) == 0 {
		return nil, nil
	}
	if len(ec) > maxUint16 {
		return nil, fmt.Errorf("encryption context: %d pairs, the format's limit is %d", len(ec), maxUint16)
	}
	keys := make([]string, 0, len(ec))
	for k, v := range ec {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, errors.New("encryption context: keys and values must be UTF-8")
		}
		if len(k) > maxUint16 || len(v) > maxUint16 {
			return nil, fmt.Errorf("encryption context: a key or value over the format's limit of %d bytes", maxUint16)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go compares strings by their bytes, as the format wants
	b := binary.BigEndian.AppendUint16(nil, uint16(len(keys)))
	for _, k := range keys {
		b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(ec[k])))
		b = append(b, ec[k]...)
	}
	return b, nil
}

// parseEncryptionContext is the inverse of marshalEncryptionContext. It
// accepts only that encoding (sorted, no duplicate key, UTF-8), so that a
// context has one encoding.
func parseEncryptionContext(b []byte) (map[string]string, bool) {
	ec := map[string]string{}
	if len(b) == 0 {
		return ec, true
	}
	if len(b) < 2 {
		return nil, false
	}
	count := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if count == 0 {
		return nil, false
	}
	prev := ""
	for i := range count {
		k, rest, ok := cutField(b)
		if !ok {
			return nil, false
		}
		v, rest, ok := cutField(rest)
		if !ok {
			return nil, false
		}
		key := string(k)
		if (i > 0 && key <= prev) || !utf8.Valid(k) || !utf8.Valid(v) {
			return nil, false
		}
		ec[key] = string(v)
		prev, b = key, rest
	}
	return ec, len(b) == 0
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

// ParseHeader reads a message header from r, and no further, and returns
// it, unauthenticated: for display, or to see which KMS key a message needs.
// It never allocates more than the limits of this package allow.
//
// Input that does not start like a message is ErrNotMessage; a malformed or
// truncated header is ErrTampered; a header this package cannot read (a
// non-framed body, another suite, a field beyond a limit) has its own error.
func ParseHeader(r io.Reader) (*Header, error) {
	h, _, err := readHeader(r)
	return h, err
}

// readHeader returns the header and the exact bytes of its body, which the
// header's authentication tag covers.
func readHeader(r io.Reader) (*Header, []byte, error) {
	hr := &headerReader{r: r}
	h := &Header{Version: hr.uint8()}
	switch {
	case hr.err == ErrTampered:
		return nil, nil, ErrNotMessage // empty input
	case hr.err != nil:
		return nil, nil, hr.err
	case h.Version == 'A':
		// The base64 encoding of a message starts "AY" (version 1), "AgV4"
		// or "AgR4" (version 2): a common mistake.
		return nil, nil, fmt.Errorf("%w: it looks base64-encoded; decode it first (base64 -d)", ErrNotMessage)
	case h.Version != 1 && h.Version != 2:
		return nil, nil, ErrNotMessage
	}
	if h.Version == 1 && hr.uint8() != messageTypeCustomerAEAD && hr.err == nil {
		return nil, nil, ErrNotMessage
	}
	h.Suite = Suite(hr.uint16())
	if hr.err == nil && h.Suite.messageVersion() != h.Version {
		return nil, nil, unsupportedSuite(h.Suite, h.Version)
	}
	if h.Version == 1 {
		h.MessageID = hr.bytes(messageIDSizeV1InBytes)
	} else {
		h.MessageID = hr.bytes(messageIDSizeV2InBytes)
	}

	ec, ok := parseEncryptionContext(hr.field(maxUint16))
	if !ok && hr.err == nil {
		return nil, nil, ErrTampered
	}
	h.EncryptionContext = ec

	count := int(hr.uint16())
	if hr.err == nil && count == 0 {
		return nil, nil, ErrTampered
	}
	if count > maxEncryptedDataKeys {
		return nil, nil, fmt.Errorf("the message has %d encrypted data keys; this program reads at most %d", count, maxEncryptedDataKeys)
	}
	for range count {
		k := EncryptedDataKey{
			ProviderID:   string(hr.field(maxProviderIDSizeInBytes)),
			ProviderInfo: string(hr.field(maxProviderInfoSizeInBytes)),
			Ciphertext:   hr.field(maxEncryptedDataKeyCiphertextSize),
		}
		if hr.err != nil {
			break
		}
		h.EncryptedDataKeys = append(h.EncryptedDataKeys, k)
	}

	contentType := hr.uint8()
	if hr.err == nil && contentType != contentTypeFramed {
		if contentType == contentTypeNonFramed {
			return nil, nil, errors.New("the message's body is not framed; this program reads only framed messages, which the SDKs write by default")
		}
		return nil, nil, ErrTampered
	}
	if h.Version == 1 {
		reserved := hr.uint32()
		ivLength := hr.uint8()
		if hr.err == nil && (reserved != 0 || ivLength != ivSizeInBytes) {
			return nil, nil, ErrTampered
		}
	}
	h.FrameLengthInBytes = hr.uint32()
	if hr.err == nil && h.FrameLengthInBytes == 0 {
		return nil, nil, ErrTampered
	}
	if h.FrameLengthInBytes > MaxFrameLengthInBytes {
		return nil, nil, fmt.Errorf("the message's frames are %d bytes; this program reads frames of at most %d", h.FrameLengthInBytes, MaxFrameLengthInBytes)
	}
	if h.Suite.Committing() {
		h.CommitKey = hr.bytes(commitKeySizeInBytes)
	}
	body := hr.raw
	if h.Version == 1 {
		h.IV = hr.bytes(ivSizeInBytes)
	}
	h.AuthenticationTag = hr.bytes(tagSizeInBytes)
	if hr.err != nil {
		return nil, nil, hr.err
	}
	return h, body, nil
}

// esdkSuiteVersions are the message versions of every suite the
// specification defines for the ESDK.
var esdkSuiteVersions = map[Suite]uint8{
	0x0014: 1, 0x0046: 1, 0x0078: 1, 0x0114: 1, 0x0146: 1, 0x0178: 1,
	0x0214: 1, 0x0346: 1, 0x0378: 1, 0x0478: 2, 0x0578: 2,
}

// unsupportedSuite is the error for a header of the given version that names
// suite s, which this package does not read in that version.
func unsupportedSuite(s Suite, version uint8) error {
	switch v, ok := esdkSuiteVersions[s]; {
	case !ok:
		return ErrNotMessage
	case v != version:
		return ErrTampered
	}
	return fmt.Errorf("the message uses algorithm suite %s, which this program does not read; it reads 0x0578, 0x0478 and, allowing legacy, 0x0378 and 0x0178", s)
}

// headerReader reads big-endian fields and keeps every byte it read. After
// the first error it reads nothing more and returns zero values.
type headerReader struct {
	r   io.Reader
	raw []byte
	err error
}

func (hr *headerReader) read(n int) []byte {
	if hr.err != nil {
		return nil
	}
	start := len(hr.raw)
	hr.raw = slices.Grow(hr.raw, n)[:start+n]
	if _, err := io.ReadFull(hr.r, hr.raw[start:]); err != nil {
		hr.raw = hr.raw[:start]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			hr.err = ErrTampered
		} else {
			hr.err = fmt.Errorf("read message: %w", err)
		}
		return nil
	}
	return hr.raw[start:]
}

func (hr *headerReader) uint8() uint8 {
	if b := hr.read(1); b != nil {
		return b[0]
	}
	return 0
}

func (hr *headerReader) uint16() uint16 {
	if b := hr.read(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (hr *headerReader) uint32() uint32 {
	if b := hr.read(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// bytes returns a copy of the next n bytes.
func (hr *headerReader) bytes(n int) []byte {
	return bytes.Clone(hr.read(n))
}

// field returns a copy of a length-prefixed field, refusing one longer than
// maxSize before reading it.
func (hr *headerReader) field(maxSize int) []byte {
	n := int(hr.uint16())
	if n > maxSize && hr.err == nil {
		hr.err = fmt.Errorf("the message has a header field of %d bytes; this program reads at most %d", n, maxSize)
	}
	if n == 0 || hr.err != nil {
		return []byte{}
	}
	return hr.bytes(n)
}
