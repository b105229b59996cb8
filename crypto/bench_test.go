package crypto

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// The benchmarks push benchSizeInBytes from memory to io.Discard, so that
// the cipher and the copies around it are measured, not the disk. They
// measure the data path: the one KMS call of each file, a fixed cost per
// file that bench/startup measures with the command itself, is made once
// and replayed (replayKMS).
//
//	go test ./crypto -run '^$' -bench Ratio -benchtime 20x
const benchSizeInBytes = 64 << 20

func benchEncryptOptions(k *testKMS) EncryptOptions {
	return EncryptOptions{KeyID: k.alias, EncryptionContext: testContext}
}

// replayKMS answers every GenerateDataKey and Decrypt with a copy of the
// fake KMS's first answer to it: the envelope clears the data key it is
// given, and the fake's own cost, an SDK round trip and a CloudTrail
// event per call, stays out of the data path's figures.
type replayKMS struct {
	*testKMS
	mu        sync.Mutex
	generated *kms.GenerateDataKeyOutput
	decrypted *kms.DecryptOutput
}

func newReplayKMS(b *testing.B) *replayKMS { return &replayKMS{testKMS: newTestKMS(b)} }

func (k *replayKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.generated == nil {
		out, err := k.testKMS.GenerateDataKey(ctx, in, optFns...)
		if err != nil {
			return nil, err
		}
		k.generated = out
		k.generated.Plaintext = bytes.Clone(out.Plaintext)
	}
	out := *k.generated
	out.Plaintext = bytes.Clone(k.generated.Plaintext)
	return &out, nil
}

func (k *replayKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.decrypted == nil {
		out, err := k.testKMS.Decrypt(ctx, in, optFns...)
		if err != nil {
			return nil, err
		}
		k.decrypted = out
		k.decrypted.Plaintext = bytes.Clone(out.Plaintext)
	}
	out := *k.decrypted
	out.Plaintext = bytes.Clone(k.decrypted.Plaintext)
	return &out, nil
}

// envelopeBench holds what the benchmarks push through: the plaintext,
// the envelope's ciphertext of it, and the baseline's.
type envelopeBench struct {
	k          *replayKMS
	plaintext  []byte
	ciphertext []byte
	baseline   *gcmBaseline
}

func newEnvelopeBench(b *testing.B) *envelopeBench {
	k := newReplayKMS(b)
	plaintext := randomBytes(benchSizeInBytes)
	var ciphertext bytes.Buffer
	if _, err := Encrypt(b.Context(), k, &ciphertext, bytes.NewReader(plaintext), benchEncryptOptions(k.testKMS)); err != nil {
		b.Fatal(err)
	}
	e := &envelopeBench{k: k, plaintext: plaintext, ciphertext: ciphertext.Bytes(), baseline: newGCMBaseline(plaintext)}
	e.decrypt(b) // the one real KMS Decrypt
	return e
}

func (e *envelopeBench) encrypt(b *testing.B) {
	if _, err := Encrypt(b.Context(), e.k, io.Discard, bytes.NewReader(e.plaintext), benchEncryptOptions(e.k.testKMS)); err != nil {
		b.Fatal(err)
	}
}

func (e *envelopeBench) decrypt(b *testing.B) {
	if _, err := Decrypt(b.Context(), e.k, io.Discard, bytes.NewReader(e.ciphertext), DecryptOptions{}); err != nil {
		b.Fatal(err)
	}
}

// gcmBaseline is the physical limit the envelope is measured against, on
// one core: the same plaintext read from memory in segments of the
// envelope's default size and sealed with plain AES-256-GCM, each segment
// under its own nonce, into io.Discard; and those segments read back and
// opened. It makes the same copy out of the source that the envelope
// makes, and nothing else.
type gcmBaseline struct {
	gcm       cipher.AEAD
	plaintext []byte
	sealed    []byte // the segments, one after the other
	segment   []byte // the buffer a segment is read into
	nonce     []byte
}

func newGCMBaseline(plaintext []byte) *gcmBaseline {
	block, err := aes.NewCipher(randomBytes(32))
	if err != nil {
		panic(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	g := &gcmBaseline{
		gcm:       gcm,
		plaintext: plaintext,
		segment:   make([]byte, DefaultSegmentSizeInBytes),
		nonce:     make([]byte, gcm.NonceSize()),
	}
	var sealed bytes.Buffer
	g.seal(&sealed)
	g.sealed = sealed.Bytes()
	return g
}

// seal seals the plaintext, segment by segment, into w.
func (g *gcmBaseline) seal(w io.Writer) {
	src := bytes.NewReader(g.plaintext)
	chunk := g.segment[:DefaultSegmentSizeInBytes-g.gcm.Overhead()]
	for counter := uint32(0); ; counter++ {
		n, err := io.ReadFull(src, chunk)
		if n > 0 {
			binary.BigEndian.PutUint32(g.nonce[len(g.nonce)-4:], counter)
			w.Write(g.gcm.Seal(chunk[:0], g.nonce, chunk[:n], nil))
		}
		if err != nil {
			return
		}
	}
}

// open opens the sealed segments into io.Discard.
func (g *gcmBaseline) open(b *testing.B) {
	src := bytes.NewReader(g.sealed)
	for counter := uint32(0); ; counter++ {
		n, err := io.ReadFull(src, g.segment)
		if n > 0 {
			binary.BigEndian.PutUint32(g.nonce[len(g.nonce)-4:], counter)
			opened, openErr := g.gcm.Open(g.segment[:0], g.nonce, g.segment[:n], nil)
			if openErr != nil {
				b.Fatal(openErr)
			}
			io.Discard.Write(opened)
		}
		if err != nil {
			return
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	e := newEnvelopeBench(b)
	b.SetBytes(benchSizeInBytes)
	for b.Loop() {
		e.encrypt(b)
	}
}

func BenchmarkDecrypt(b *testing.B) {
	e := newEnvelopeBench(b)
	b.SetBytes(benchSizeInBytes)
	for b.Loop() {
		e.decrypt(b)
	}
}

func BenchmarkBaselineAESGCM(b *testing.B) {
	g := newGCMBaseline(randomBytes(benchSizeInBytes))
	b.Run("seal", func(b *testing.B) {
		b.SetBytes(benchSizeInBytes)
		for b.Loop() {
			g.seal(io.Discard)
		}
	})
	b.Run("open", func(b *testing.B) {
		b.SetBytes(benchSizeInBytes)
		for b.Loop() {
			g.open(b)
		}
	})
}

// BenchmarkRatio runs encrypt (or decrypt) and its baseline, sealing (or
// opening) with one core's AES-GCM, in turn over the same bytes, in
// alternate order, so that both see the same load; it reports the ratio of
// their speeds (1 is as fast as the baseline; the envelope, parallel, may
// pass it) and each one's MB/s. bench/run judges the ratio.
func BenchmarkRatio(b *testing.B) {
	e := newEnvelopeBench(b)
	for _, direction := range []string{"encrypt", "decrypt"} {
		b.Run(direction, func(b *testing.B) {
			op, baseline := func() { e.encrypt(b) }, func() { e.baseline.seal(io.Discard) }
			if direction == "decrypt" {
				op, baseline = func() { e.decrypt(b) }, func() { e.baseline.open(b) }
			}
			timed := func(f func()) time.Duration {
				start := time.Now()
				f()
				return time.Since(start)
			}
			var opTime, baselineTime time.Duration
			round := 0
			for b.Loop() {
				if round++; round%2 == 1 {
					opTime += timed(op)
					baselineTime += timed(baseline)
				} else {
					baselineTime += timed(baseline)
					opTime += timed(op)
				}
			}
			pushed := float64(benchSizeInBytes * b.N)
			b.ReportMetric(float64(baselineTime)/float64(opTime), "ratio")
			b.ReportMetric(pushed/opTime.Seconds()/1e6, "MB/s")
			b.ReportMetric(pushed/baselineTime.Seconds()/1e6, "baseline-MB/s")
		})
	}
}
