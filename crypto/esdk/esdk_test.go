package esdk

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/go-cmp/cmp"
)

var workshopContext = map[string]string{"whatfor": "usecase-3-cse"}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// encryptForTest encrypts plaintext with the test double and fails the test
// on error.
func encryptForTest(t testing.TB, k KMS, plaintext []byte, opts EncryptOptions) []byte {
	t.Helper()
	if opts.KeyID == "" {
		opts.KeyID = testKeyARN
	}
	var out bytes.Buffer
	if _, err := Encrypt(context.Background(), k, &out, bytes.NewReader(plaintext), opts); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return out.Bytes()
}

// boundarySizes are the plaintext sizes around frame boundaries.
func boundarySizes(frameLength int) []int {
	return []int{0, 1, frameLength - 1, frameLength, frameLength + 1, 2 * frameLength, 3*frameLength + 7}
}

func TestRoundTrip(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		for _, frameLength := range []int{1, 16, DefaultFrameLengthInBytes} {
			for _, size := range boundarySizes(frameLength) {
				if size < 0 {
					continue
				}
				t.Run(fmt.Sprintf("%s/frame%d/size%d", suite, frameLength, size), func(t *testing.T) {
					k := &testKMS{}
					plaintext := randomBytes(size)
					msg := encryptForTest(t, k, plaintext, EncryptOptions{Suite: suite, FrameLengthInBytes: frameLength, EncryptionContext: workshopContext})
					var got bytes.Buffer
					h, err := Decrypt(context.Background(), k, &got, bytes.NewReader(msg), DecryptOptions{})
					if err != nil {
						t.Fatalf("Decrypt = %v, want nil", err)
					}
					if !bytes.Equal(got.Bytes(), plaintext) {
						t.Fatalf("Decrypt returned %d bytes, not the %d-byte plaintext", got.Len(), size)
					}
					if h.Suite != suite || h.FrameLengthInBytes != uint32(frameLength) || h.EncryptionContext["whatfor"] != "usecase-3-cse" {
						t.Errorf("header = %+v", h)
					}
					if generate, decrypt := k.calls(); generate != 1 || decrypt != 1 {
						t.Errorf("KMS calls: %d GenerateDataKey, %d Decrypt; want 1 and 1", generate, decrypt)
					}
				})
			}
		}
	}
}

// The frames are what the SDKs write: a plaintext that fills its frames
// exactly ends in a full final frame, not an empty one.
func TestFrameLayout(t *testing.T) {
	const frameLength = 16
	for _, tc := range []struct {
		size, frames int
	}{{0, 1}, {1, 1}, {15, 1}, {16, 1}, {17, 2}, {32, 2}, {33, 3}} {
		msg := encryptForTest(t, &testKMS{}, randomBytes(tc.size), EncryptOptions{Suite: SuiteCommitKey, FrameLengthInBytes: frameLength})
		h, err := ParseHeader(bytes.NewReader(msg))
		if err != nil {
			t.Fatal(err)
		}
		headerSize := len(mustMarshalBody(t, h)) + tagSizeInBytes
		wantSize := headerSize + (tc.frames-1)*(regularFrameOverheadInBytes+frameLength) +
			finalFrameOverheadInBytes + tc.size - (tc.frames-1)*frameLength
		if len(msg) != wantSize {
			t.Errorf("%d bytes of plaintext: message of %d bytes, want %d (%d frames)", tc.size, len(msg), wantSize, tc.frames)
		}
	}
}

func mustMarshalBody(t testing.TB, h *Header) []byte {
	t.Helper()
	b, err := h.marshalBody()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The KMS requests are the AWS KMS keyring's.
func TestKMSRequests(t *testing.T) {
	k := &testKMS{}
	msg := encryptForTest(t, k, []byte("hello"), EncryptOptions{KeyID: testKeyAlias, EncryptionContext: workshopContext})
	if _, err := Decrypt(context.Background(), k, new(bytes.Buffer), bytes.NewReader(msg), DecryptOptions{}); err != nil {
		t.Fatal(err)
	}
	gen := k.generate[0]
	if aws.ToString(gen.KeyId) != testKeyAlias || aws.ToInt32(gen.NumberOfBytes) != 32 || gen.KeySpec != "" {
		t.Errorf("GenerateDataKey(KeyId %q, NumberOfBytes %d, KeySpec %q), want the alias, 32 and none",
			aws.ToString(gen.KeyId), aws.ToInt32(gen.NumberOfBytes), gen.KeySpec)
	}
	publicKey := gen.EncryptionContext[publicKeyContextKey]
	if gen.EncryptionContext["whatfor"] != "usecase-3-cse" || len(gen.EncryptionContext) != 2 || len(publicKey) != 68 {
		t.Errorf("GenerateDataKey's encryption context = %v, want whatfor and a 49-byte public key in base64", gen.EncryptionContext)
	}
	dec := k.decrypt[0]
	if aws.ToString(dec.KeyId) != testKeyARN || !maps.Equal(dec.EncryptionContext, gen.EncryptionContext) {
		t.Errorf("Decrypt(KeyId %q, context %v), want the key ARN and %v", aws.ToString(dec.KeyId), dec.EncryptionContext, gen.EncryptionContext)
	}

	k = &testKMS{}
	encryptForTest(t, k, nil, EncryptOptions{Suite: SuiteCommitKey, EncryptionContext: workshopContext})
	if got := k.generate[0].EncryptionContext; !maps.Equal(got, workshopContext) {
		t.Errorf("unsigned suite: GenerateDataKey's context = %v, want %v", got, workshopContext)
	}
}

func TestParseHeaderFields(t *testing.T) {
	msg := encryptForTest(t, &testKMS{}, []byte("x"), EncryptOptions{EncryptionContext: workshopContext, FrameLengthInBytes: 1024})
	h, err := ParseHeader(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("ParseHeader = %v", err)
	}
	if h.Version != 2 || h.Suite != SuiteCommitKeyECDSAP384 || len(h.MessageID) != 32 || h.FrameLengthInBytes != 1024 ||
		len(h.CommitKey) != 32 || len(h.AuthenticationTag) != 16 || h.IV != nil {
		t.Errorf("header = %+v", h)
	}
	if len(h.EncryptedDataKeys) != 1 || h.EncryptedDataKeys[0].ProviderID != "aws-kms" || h.EncryptedDataKeys[0].KeyARN() != testKeyARN {
		t.Errorf("encrypted data keys = %+v, want one of aws-kms under %s", h.EncryptedDataKeys, testKeyARN)
	}
	if !LooksLikeMessage(msg) || LooksLikeMessage([]byte("CSEW\x01")) || LooksLikeMessage(nil) {
		t.Error("LooksLikeMessage is wrong")
	}
}

func TestEncryptRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts EncryptOptions
	}{
		{"reserved context key", EncryptOptions{KeyID: testKeyARN, EncryptionContext: map[string]string{"aws-crypto-public-key": "x"}}},
		{"reserved prefix", EncryptOptions{KeyID: testKeyARN, EncryptionContext: map[string]string{"aws-crypto-mine": "x"}}},
		{"legacy suite", EncryptOptions{KeyID: testKeyARN, Suite: SuiteLegacyECDSAP384}},
		{"frame too long", EncryptOptions{KeyID: testKeyARN, FrameLengthInBytes: MaxFrameLengthInBytes + 1}},
		{"unknown key", EncryptOptions{KeyID: "alias/none"}},
		{"context too large", EncryptOptions{KeyID: testKeyARN, EncryptionContext: map[string]string{"a": strings.Repeat("x", 40000), "b": strings.Repeat("y", 40000)}}},
	} {
		k := &testKMS{}
		var out bytes.Buffer
		if _, err := Encrypt(context.Background(), k, &out, bytes.NewReader([]byte("x")), tc.opts); err == nil || out.Len() > 0 {
			t.Errorf("%s: Encrypt = %v with %d bytes out, want an error and nothing", tc.name, err, out.Len())
		}
		if generate, _ := k.calls(); generate > 0 && tc.opts.KeyID == testKeyARN {
			t.Errorf("%s: Encrypt called KMS before refusing", tc.name)
		}
	}
}

func TestRequiredEncryptionContext(t *testing.T) {
	k := &testKMS{}
	stored := map[string]string{"whatfor": "usecase-3-cse", "team": "blue"}
	msg := encryptForTest(t, k, []byte("secret"), EncryptOptions{EncryptionContext: stored})
	for _, tc := range []struct {
		required map[string]string
		wantErr  error
	}{
		{nil, nil},
		{map[string]string{}, nil},
		{map[string]string{"whatfor": "usecase-3-cse"}, nil},
		{stored, nil},
		{map[string]string{"whatfor": "usecase-3-CSE"}, ErrEncryptionContextMismatch},
		{map[string]string{"whatfor": "usecase-3-cse", "extra": "1"}, ErrEncryptionContextMismatch},
	} {
		var out bytes.Buffer
		_, err := Decrypt(context.Background(), k, &out, bytes.NewReader(msg), DecryptOptions{EncryptionContext: tc.required})
		if !errors.Is(err, tc.wantErr) || (err != nil && out.Len() > 0) {
			t.Errorf("Decrypt(required %v) = %v with %d bytes out, want %v", tc.required, err, out.Len(), tc.wantErr)
		}
	}
}

func TestStrictKeys(t *testing.T) {
	k := &testKMS{}
	msg := encryptForTest(t, k, []byte("secret"), EncryptOptions{})
	for _, tc := range []struct {
		keyIDs  []string
		wantErr error
		pinned  string
	}{
		{[]string{testKeyARN}, nil, testKeyARN},
		{[]string{otherKeyARN, testKeyARN}, nil, testKeyARN},
		{[]string{otherKeyARN}, ErrNoAllowedKey, ""},
		{[]string{testKeyAlias}, nil, testKeyAlias},
	} {
		k.decrypt = nil
		var out bytes.Buffer
		_, err := Decrypt(context.Background(), k, &out, bytes.NewReader(msg), DecryptOptions{KeyIDs: tc.keyIDs})
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("Decrypt(KeyIDs %v) = %v, want %v", tc.keyIDs, err, tc.wantErr)
		}
		if tc.pinned == "" && len(k.decrypt) != 0 {
			t.Errorf("Decrypt(KeyIDs %v) called KMS", tc.keyIDs)
		}
		if tc.pinned != "" && (len(k.decrypt) != 1 || aws.ToString(k.decrypt[0].KeyId) != tc.pinned) {
			t.Errorf("Decrypt(KeyIDs %v): KMS Decrypt not pinned to %s", tc.keyIDs, tc.pinned)
		}
	}
	// An alias of another key: KMS refuses it.
	_, err := Decrypt(context.Background(), k, new(bytes.Buffer), bytes.NewReader(msg), DecryptOptions{KeyIDs: []string{"alias/other"}})
	var ke *kmsError
	if !errors.As(err, &ke) || ke.code != "IncorrectKeyException" {
		t.Errorf("Decrypt(KeyIDs alias/other) = %v, want KMS's IncorrectKeyException", err)
	}
}

// Every byte of a small message, flipped in turn, is refused, and nothing is
// released: by the stream when the message is one frame, by DecryptFile
// when it is several.
func TestTamperEveryByte(t *testing.T) {
	dir := t.TempDir()
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		k := &testKMS{}
		for _, plaintext := range []string{"one frame", "a small message in three frames"} {
			msg := encryptForTest(t, k, []byte(plaintext), EncryptOptions{Suite: suite, FrameLengthInBytes: 12, EncryptionContext: workshopContext})
			for i := range msg {
				tampered := bytes.Clone(msg)
				tampered[i] ^= 0x01
				var out bytes.Buffer
				_, err := Decrypt(context.Background(), k, &out, bytes.NewReader(tampered), DecryptOptions{})
				if err == nil {
					t.Fatalf("%s: Decrypt(byte %d of %d flipped) = nil, want error", suite, i, len(msg))
				}
				if out.Len() > 0 && (len(plaintext) <= 12 || !isRegularFrameByte(t, msg, i)) {
					t.Fatalf("%s: Decrypt(byte %d flipped) released %d bytes", suite, i, out.Len())
				}
				sealed, opened := filepath.Join(dir, "sealed"), filepath.Join(dir, "opened")
				os.WriteFile(sealed, tampered, 0o600)
				if _, err := DecryptFile(context.Background(), k, sealed, opened, DecryptOptions{}); err == nil {
					t.Fatalf("%s: DecryptFile(byte %d flipped) = nil, want error", suite, i)
				}
				if _, err := os.Stat(opened); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s: DecryptFile(byte %d flipped) left an output", suite, i)
				}
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("after the tampered messages the folder holds %d files, want only the message", len(entries))
	}
}

// isRegularFrameByte reports whether byte i of msg lies after the first
// regular frame: flipping it may let earlier, authentic frames through, as
// the stream releases them (the file functions then discard them).
func isRegularFrameByte(t testing.TB, msg []byte, i int) bool {
	h, err := ParseHeader(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	headerSize := len(mustMarshalBody(t, h)) + tagSizeInBytes
	return i >= headerSize+regularFrameOverheadInBytes+int(h.FrameLengthInBytes)
}

func TestTruncated(t *testing.T) {
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		k := &testKMS{}
		msg := encryptForTest(t, k, randomBytes(100), EncryptOptions{Suite: suite, FrameLengthInBytes: 32})
		for n := range len(msg) {
			var out bytes.Buffer
			if _, err := Decrypt(context.Background(), k, &out, bytes.NewReader(msg[:n]), DecryptOptions{}); err == nil {
				t.Fatalf("%s: Decrypt(first %d of %d bytes) = nil, want error", suite, n, len(msg))
			}
		}
		var out bytes.Buffer
		_, err := Decrypt(context.Background(), k, &out, bytes.NewReader(append(bytes.Clone(msg), 0)), DecryptOptions{})
		if !errors.Is(err, ErrTampered) {
			t.Errorf("%s: Decrypt(a byte appended) = %v, want ErrTampered", suite, err)
		}
	}
}

func TestNotMessage(t *testing.T) {
	for _, input := range []string{"", "CSEW\x01\x01", "hello", "AgV4bWVzc2FnZQ=="} {
		_, err := Decrypt(context.Background(), &testKMS{}, new(bytes.Buffer), bytes.NewReader([]byte(input)), DecryptOptions{})
		if !errors.Is(err, ErrNotMessage) {
			t.Errorf("Decrypt(%q) = %v, want ErrNotMessage", input, err)
		}
	}
}

func TestParseSuite(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Suite
	}{
		{"0x0578", SuiteCommitKeyECDSAP384}, {"0578", SuiteCommitKeyECDSAP384}, {"578", SuiteCommitKeyECDSAP384},
		{"0x0478", SuiteCommitKey}, {"AES_256_GCM_HKDF_SHA512_COMMIT_KEY", SuiteCommitKey},
		{"ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", SuiteCommitKeyECDSAP384},
		{"0x0378", 0}, {"0x0178", 0}, {"", 0}, {"rot13", 0},
	} {
		got, err := ParseSuite(tc.in)
		if got != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("ParseSuite(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if diff := cmp.Diff("0x0578", SuiteCommitKeyECDSAP384.String()); diff != "" {
		t.Error(diff)
	}
}

func TestOnDataKey(t *testing.T) {
	k := &testKMS{fixedDataKey: bytes.Repeat([]byte{0xab}, 32)}
	var info DataKeyInfo
	var out bytes.Buffer
	h, err := Encrypt(context.Background(), k, &out, bytes.NewReader([]byte("x")), EncryptOptions{
		KeyID: testKeyARN, EncryptionContext: workshopContext, OnDataKey: func(i DataKeyInfo) { info = i },
	})
	if err != nil {
		t.Fatal(err)
	}
	if info.DataKeySizeInBytes != 32 {
		t.Errorf("DataKeySizeInBytes = %d, want 32", info.DataKeySizeInBytes)
	}
	if strings.Contains(fmt.Sprintf("%+v", info), "abab") {
		t.Errorf("OnDataKey's info shows bytes of the data key: %+v", info)
	}
	if info.Header == nil || !bytes.Equal(info.Header.MessageID, h.MessageID) || info.Header.EncryptionContext["whatfor"] != "usecase-3-cse" {
		t.Errorf("OnDataKey's header = %+v, want the message's", info.Header)
	}
	if bytes.Contains(out.Bytes(), k.fixedDataKey) {
		t.Error("the message holds the plaintext data key")
	}
}

// However the plaintext arrives (in memory, a byte at a time, in odd
// reads), the frames are the same.
func TestSources(t *testing.T) {
	const frameLength = 16
	sources := map[string]func([]byte) io.Reader{
		"memory":   func(b []byte) io.Reader { return bytes.NewReader(b) },
		"bytewise": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"halves":   func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for _, size := range append(boundarySizes(frameLength), 1000) {
		plaintext := randomBytes(size)
		var sizes []int
		for name, source := range sources {
			k := &testKMS{}
			var msg bytes.Buffer
			if _, err := Encrypt(context.Background(), k, &msg, source(plaintext), EncryptOptions{KeyID: testKeyARN, Suite: SuiteCommitKey, FrameLengthInBytes: frameLength}); err != nil {
				t.Fatalf("%s, %d bytes: Encrypt = %v", name, size, err)
			}
			sizes = append(sizes, msg.Len())
			var got bytes.Buffer
			if _, err := Decrypt(context.Background(), k, &got, iotest.HalfReader(&msg), DecryptOptions{}); err != nil || !bytes.Equal(got.Bytes(), plaintext) {
				t.Fatalf("%s, %d bytes: Decrypt = %v with %d bytes", name, size, err, got.Len())
			}
		}
		if slices.Min(sizes) != slices.Max(sizes) {
			t.Errorf("%d bytes of plaintext: messages of sizes %v, want one size", size, sizes)
		}
	}
	_, err := Encrypt(context.Background(), &testKMS{}, new(bytes.Buffer), iotest.ErrReader(errors.New("disk on fire")), EncryptOptions{KeyID: testKeyARN})
	if err == nil || !strings.Contains(err.Error(), "read plaintext: disk on fire") {
		t.Errorf("Encrypt(failing source) = %v", err)
	}
}

// misbehavingKMS answers like testKMS, then spoils the answer.
type misbehavingKMS struct {
	testKMS
	spoilGenerate func(*kms.GenerateDataKeyOutput)
	spoilDecrypt  func(*kms.DecryptOutput)
}

func (k *misbehavingKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	out, err := k.testKMS.GenerateDataKey(ctx, in, opts...)
	if err == nil && k.spoilGenerate != nil {
		k.spoilGenerate(out)
	}
	return out, err
}

func (k *misbehavingKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	out, err := k.testKMS.Decrypt(ctx, in, opts...)
	if err == nil && k.spoilDecrypt != nil {
		k.spoilDecrypt(out)
	}
	return out, err
}

// What KMS returns is checked as the AWS KMS keyring checks it.
func TestKMSAnswersChecked(t *testing.T) {
	for name, spoil := range map[string]func(*kms.GenerateDataKeyOutput){
		"short data key": func(o *kms.GenerateDataKeyOutput) { o.Plaintext = o.Plaintext[:16] },
		"alias for ARN":  func(o *kms.GenerateDataKeyOutput) { o.KeyId = aws.String(testKeyAlias) },
		"no blob":        func(o *kms.GenerateDataKeyOutput) { o.CiphertextBlob = nil },
	} {
		var out bytes.Buffer
		if _, err := Encrypt(context.Background(), &misbehavingKMS{spoilGenerate: spoil}, &out, strings.NewReader("x"), EncryptOptions{KeyID: testKeyARN}); err == nil || out.Len() > 0 {
			t.Errorf("%s: Encrypt = %v with %d bytes out, want an error and nothing", name, err, out.Len())
		}
	}
	msg := encryptForTest(t, &testKMS{}, []byte("x"), EncryptOptions{})
	for name, spoil := range map[string]func(*kms.DecryptOutput){
		"other key":      func(o *kms.DecryptOutput) { o.KeyId = aws.String(otherKeyARN) },
		"short data key": func(o *kms.DecryptOutput) { o.Plaintext = o.Plaintext[:16] },
		"wrong data key": func(o *kms.DecryptOutput) { o.Plaintext[0] ^= 1 },
	} {
		var out bytes.Buffer
		if _, err := Decrypt(context.Background(), &misbehavingKMS{spoilDecrypt: spoil}, &out, bytes.NewReader(msg), DecryptOptions{}); !errors.Is(err, ErrTampered) || out.Len() > 0 {
			t.Errorf("%s: Decrypt = %v with %d bytes out, want ErrTampered and nothing", name, err, out.Len())
		}
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// A destination that fails stops both directions with its error.
func TestWriteErrors(t *testing.T) {
	plaintext := randomBytes(1 << 20)
	for _, suite := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		k := &testKMS{}
		for _, after := range []int{0, 1000, 300 << 10} {
			_, err := Encrypt(context.Background(), k, &failingWriter{after: after}, bytes.NewReader(plaintext), EncryptOptions{KeyID: testKeyARN, Suite: suite})
			if err == nil || !strings.Contains(err.Error(), "write message: disk full") {
				t.Errorf("%s: Encrypt to a writer failing after %d bytes = %v", suite, after, err)
			}
		}
		msg := encryptForTest(t, k, plaintext, EncryptOptions{Suite: suite})
		_, err := Decrypt(context.Background(), k, &failingWriter{after: 5000}, bytes.NewReader(msg), DecryptOptions{})
		if err == nil || !strings.Contains(err.Error(), "write plaintext: disk full") {
			t.Errorf("%s: Decrypt to a failing writer = %v", suite, err)
		}
	}
}
