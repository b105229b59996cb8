package crypto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testHeader() *Header {
	return &Header{
		Version:            FormatVersion,
		Scheme:             SchemeKMSDataKey,
		KeyARN:             "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		EncryptionContext:  map[string]string{"whatfor": "usecase-3-cse", "b": "2", "a": ""},
		EncryptedDataKey:   bytes.Repeat([]byte{0xab}, 184),
		SegmentSizeInBytes: DefaultSegmentSizeInBytes,
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	raw, err := testHeader().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	stream := []byte("the Tink stream follows")
	r := bytes.NewReader(append(raw, stream...))
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatalf("ReadHeader = %v", err)
	}
	if diff := cmp.Diff(testHeader(), h); diff != "" {
		t.Errorf("ReadHeader(MarshalBinary(h)) (-want +got):\n%s", diff)
	}
	if rest, _ := io.ReadAll(r); !bytes.Equal(rest, stream) {
		t.Errorf("ReadHeader left %q unread, want %q: it must read the header and nothing more", rest, stream)
	}
}

// TestHeaderLayout checks the byte layout docs/FORMAT.md describes.
func TestHeaderLayout(t *testing.T) {
	const keyARN = "arn:aws:kms:r:111122223333:key/k"
	h := &Header{
		Version:            FormatVersion,
		Scheme:             SchemeTink,
		KeyARN:             keyARN,
		EncryptionContext:  map[string]string{"b": "2", "a": "1"},
		EncryptedDataKey:   []byte{0xee},
		SegmentSizeInBytes: 0x00010000,
	}
	got, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		'C', 'S', 'E', 'W', // magic
		0x01,                   // version
		0x02,                   // scheme
		0x00, 0x01, 0x00, 0x00, // segment size
		0x00, byte(len(keyARN)), // key ARN
	}
	want = append(want, keyARN...)
	want = append(want,
		0x00, 0x0c, // encryption context: 12 bytes
		0x00, 0x01, 'a', 0x00, 0x01, '1',
		0x00, 0x01, 'b', 0x00, 0x01, '2',
		0x00, 0x01, 0xee, // encrypted data key
	)
	if !bytes.Equal(got, want) {
		t.Errorf("MarshalBinary =\n% x\nwant\n% x", got, want)
	}
}

func TestReadHeaderRejects(t *testing.T) {
	valid, err := testHeader().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// at returns valid with b written at offset i.
	at := func(i int, b ...byte) []byte {
		c := bytes.Clone(valid)
		copy(c[i:], b)
		return c
	}
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	u32 := func(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	arnOffset := fixedHeaderSizeInBytes
	ctxOffset := arnOffset + 2 + len(testHeader().KeyARN)
	// withKeyARN builds a header around another key ARN.
	withKeyARN := func(arn string) []byte {
		b := bytes.Clone(valid[:arnOffset])
		b = appendField(b, []byte(arn))
		return append(b, valid[ctxOffset:]...)
	}
	// withContext builds a header around an encoded encryption context.
	withContext := func(encoded []byte) []byte {
		b := bytes.Clone(valid[:ctxOffset])
		b = appendField(b, encoded)
		return appendField(b, []byte{1})
	}
	pair := func(k, v string) []byte { return appendField(appendField(nil, []byte(k)), []byte(v)) }

	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, ErrTampered},
		{"part of the magic", []byte("CS"), ErrTampered},
		{"plaintext", []byte("Hello, workshop!"), ErrNotEncrypted},
		{"short plaintext", []byte("Hi"), ErrNotEncrypted},
		{"future version", at(4, 2), ErrUnsupportedVersion},
		{"scheme 0", at(5, 0), ErrTampered},
		{"scheme 3", at(5, 3), ErrTampered},
		{"segment size too small", at(6, u32(MinSegmentSizeInBytes-1)...), ErrTampered},
		{"segment size too large", at(6, u32(MaxSegmentSizeInBytes+1)...), ErrTampered},
		{"empty key ARN", at(arnOffset, u16(0)...), ErrTampered},
		{"key ARN over the limit", at(arnOffset, u16(maxKeyARNSizeInBytes+1)...), ErrTampered},
		{"key ARN longer than the input", at(arnOffset, u16(maxKeyARNSizeInBytes)...), ErrTampered},
		{"key ARN not UTF-8", at(arnOffset+2, 0xff), ErrTampered},
		{"key ARN of an alias", withKeyARN("arn:aws:kms:us-east-1:111122223333:alias/kms_key_cse_usecase_3"), ErrTampered},
		{"key ID for a key ARN", withKeyARN("1234abcd-12ab-34cd-56ef-1234567890ab"), ErrTampered},
		{"key ARN of another service", withKeyARN("arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), ErrTampered},
		{"key ARN with a short account", withKeyARN("arn:aws:kms:us-east-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), ErrTampered},
		{"key ARN with a line break", withKeyARN("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n"), ErrTampered},
		{"key ARN with an empty key ID", withKeyARN("arn:aws:kms:us-east-1:111122223333:key/"), ErrTampered},
		{"context over the limit", at(ctxOffset, u16(maxEncryptionContextSizeInBytes+1)...), ErrTampered},
		{"context keys out of order", withContext(append(pair("b", "1"), pair("a", "2")...)), ErrTampered},
		{"context key twice", withContext(append(pair("a", "1"), pair("a", "2")...)), ErrTampered},
		{"context pair cut short", withContext(append(pair("a", "1"), 0, 1, 'b')), ErrTampered},
		{"context value not UTF-8", withContext(pair("a", "\xff")), ErrTampered},
		{"empty encrypted data key", append(bytes.Clone(valid[:len(valid)-186]), 0, 0), ErrTampered},
		{"truncated encrypted data key", valid[:len(valid)-1], ErrTampered},
	}
	for _, tt := range tests {
		_, err := ReadHeader(bytes.NewReader(tt.input))
		if !errors.Is(err, tt.want) {
			t.Errorf("ReadHeader(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestMarshalBinaryRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Header)
	}{
		{"version 0", func(h *Header) { h.Version = 0 }},
		{"scheme 0", func(h *Header) { h.Scheme = 0 }},
		{"segment size 0", func(h *Header) { h.SegmentSizeInBytes = 0 }},
		{"no key ARN", func(h *Header) { h.KeyARN = "" }},
		{"key ARN over the limit", func(h *Header) { h.KeyARN += strings.Repeat("a", maxKeyARNSizeInBytes) }},
		{"alias for a key ARN", func(h *Header) { h.KeyARN = "alias/kms_key_cse_usecase_3" }},
		{"key ID for a key ARN", func(h *Header) { h.KeyARN = "1234abcd-12ab-34cd-56ef-1234567890ab" }},
		{"context over the limit", func(h *Header) {
			h.EncryptionContext = map[string]string{"k": strings.Repeat("v", maxEncryptionContextSizeInBytes)}
		}},
		{"context not UTF-8", func(h *Header) { h.EncryptionContext = map[string]string{"\xff": ""} }},
		{"no encrypted data key", func(h *Header) { h.EncryptedDataKey = nil }},
		{"encrypted data key over the limit", func(h *Header) {
			h.EncryptedDataKey = make([]byte, maxEncryptedDataKeySizeInBytes+1)
		}},
	}
	for _, tt := range tests {
		h := testHeader()
		tt.edit(h)
		if _, err := h.MarshalBinary(); err == nil {
			t.Errorf("MarshalBinary(%s) = nil error, want error", tt.name)
		}
	}
}

func FuzzReadHeader(f *testing.F) {
	for _, h := range []*Header{testHeader(), {
		Version: FormatVersion, Scheme: SchemeTink, KeyARN: "arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1",
		EncryptedDataKey: []byte{1}, SegmentSizeInBytes: MinSegmentSizeInBytes,
	}} {
		raw, err := h.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(raw[:len(raw)/2])
	}
	for _, v := range loadVectors(f) {
		f.Add(v.ciphertext)
	}
	f.Add([]byte("CSEW"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, err := ReadHeader(r)
		if err != nil {
			return
		}
		n := len(data) - r.Len()
		raw, err := h.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary(ReadHeader(%x)) = %v", data, err)
		}
		if !bytes.Equal(raw, data[:n]) {
			t.Fatalf("MarshalBinary(ReadHeader(x)) =\n%x\nwant the bytes it read\n%x", raw, data[:n])
		}
	})
}

func TestLooksLikeFile(t *testing.T) {
	h := Header{Version: FormatVersion, Scheme: SchemeKMSDataKey, KeyARN: "arn:aws:kms:us-east-1:111122223333:key/k", EncryptedDataKey: []byte{1}, SegmentSizeInBytes: MinSegmentSizeInBytes}
	encoded, err := h.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		data []byte
		want bool
	}{
		{encoded, true},
		{encoded[:4], true},
		{encoded[:3], false},
		{[]byte("CSEx"), false},
		{[]byte{2, 5, 0x78}, false}, // an AWS Encryption SDK message
		{nil, false},
	} {
		if got := LooksLikeFile(tt.data); got != tt.want {
			t.Errorf("LooksLikeFile(%q) = %v, want %v", tt.data, got, tt.want)
		}
	}
}
