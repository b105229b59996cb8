package esdk

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"math"
	"os"
	"strings"
)

// The message body's literals (data-format/message-body.md,
// message-body-aad.md).
const (
	finalFrameMarker      = math.MaxUint32 // the final frame's Sequence Number End
	maxSequenceNumber     = math.MaxUint32 - 1
	bodyAADRegularFrame   = "AWSKMSEncryptionClient Frame"
	bodyAADFinalFrame     = "AWSKMSEncryptionClient Final Frame"
	sequenceNumberInBytes = 4

	// regularFrameOverheadInBytes is a regular frame's sequence number, IV
	// and tag; finalFrameOverheadInBytes adds the marker and the content
	// length.
	regularFrameOverheadInBytes = sequenceNumberInBytes + ivSizeInBytes + tagSizeInBytes
	finalFrameOverheadInBytes   = 4 + regularFrameOverheadInBytes + 4
)

// Encrypt reads plaintext from src until EOF and writes it to dst as a
// message. It calls KMS GenerateDataKey once, and returns the header it
// wrote.
func Encrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, opts EncryptOptions) (*Header, error) {
	return encrypt(ctx, k, dst, src, -1, opts)
}

func encrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, totalBytes int64, opts EncryptOptions) (*Header, error) {
	if opts.Suite == 0 {
		opts.Suite = DefaultSuite
	}
	if opts.Suite.messageVersion() != 2 {
		return nil, fmt.Errorf("encrypt: suite %s cannot be written; want 0x0578 or 0x0478", opts.Suite)
	}
	if opts.FrameLengthInBytes == 0 {
		opts.FrameLengthInBytes = DefaultFrameLengthInBytes
	}
	if opts.FrameLengthInBytes < 1 || opts.FrameLengthInBytes > MaxFrameLengthInBytes {
		return nil, fmt.Errorf("encrypt: frame length %d out of range [1, %d]", opts.FrameLengthInBytes, MaxFrameLengthInBytes)
	}
	for key := range opts.EncryptionContext {
		if strings.HasPrefix(key, reservedContextKeyPrefix) {
			return nil, fmt.Errorf("encrypt: encryption context key %q: the prefix %q is reserved for the AWS Encryption SDK", key, reservedContextKeyPrefix)
		}
	}

	h := &Header{
		Version:            2,
		Suite:              opts.Suite,
		MessageID:          make([]byte, messageIDSizeV2InBytes),
		EncryptionContext:  maps.Clone(opts.EncryptionContext),
		FrameLengthInBytes: uint32(opts.FrameLengthInBytes),
	}
	if h.EncryptionContext == nil {
		h.EncryptionContext = map[string]string{}
	}
	var signingKey *ecdsa.PrivateKey
	if h.Suite.Signed() {
		signingKey = must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
		h.EncryptionContext[publicKeyContextKey] = encodePublicKey(&signingKey.PublicKey)
	}
	// Refuse a context the header cannot hold before KMS sees it.
	encodedContext, err := marshalEncryptionContext(h.EncryptionContext)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if len(encodedContext) > maxUint16 {
		return nil, fmt.Errorf("encrypt: the encryption context takes %d bytes encoded; the format's limit is %d", len(encodedContext), maxUint16)
	}
	rand.Read(h.MessageID)

	dataKey, edk, err := generateDataKey(ctx, k, opts.KeyID, h.EncryptionContext)
	if err != nil {
		return nil, err
	}
	// show:derive-keys begin
	keys := deriveKeys(h.Suite, dataKey, h.MessageID)
	dataKeySizeInBytes := len(dataKey)
	clear(dataKey)
	// show:derive-keys end
	h.EncryptedDataKeys = []EncryptedDataKey{edk}
	h.CommitKey = keys.commitKey

	body, err := h.marshalBody()
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	h.AuthenticationTag = keys.aead.Seal(nil, make([]byte, ivSizeInBytes), nil, body)
	header := append(body, h.AuthenticationTag...)
	if opts.OnDataKey != nil {
		opts.OnDataKey(DataKeyInfo{DataKeySizeInBytes: dataKeySizeInBytes, Header: h.clone()})
	}

	var signature hash.Hash
	if h.Suite.Signed() {
		signature = sha512.New384()
		signature.Write(header)
	}
	if _, err := dst.Write(header); err != nil {
		return nil, fmt.Errorf("write message: %w", err)
	}

	b := newBatcher(func(batch []byte) error {
		if signature != nil {
			signature.Write(batch)
		}
		if _, err := dst.Write(batch); err != nil {
			return fmt.Errorf("write message: %w", err)
		}
		return nil
	}, signature != nil, finalFrameOverheadInBytes+opts.FrameLengthInBytes)
	defer b.close()

	w := &frameWriter{
		ctx:      ctx,
		sealer:   frameSealer{aead: keys.aead, messageID: h.MessageID},
		b:        b,
		pending:  make([]byte, 0, opts.FrameLengthInBytes),
		progress: progressReporter{callback: opts.OnProgress, totalBytes: totalBytes},
	}
	defer clear(w.pending[:cap(w.pending)])
	// A source in memory writes itself straight into the frames, a copy
	// fewer; others are read a batch at a time. A file's WriteTo would read
	// 32 KiB at a time, so a file is read like any other source.
	if _, ok := src.(*os.File); ok {
		src = struct{ io.Reader }{src}
	}
	if _, err := io.CopyBuffer(w, src, make([]byte, batchSizeInBytes)); err != nil {
		if w.err != nil {
			return nil, w.err
		}
		return nil, fmt.Errorf("read plaintext: %w", err)
	}
	if err := w.close(); err != nil {
		return nil, err
	}
	if err := b.close(); err != nil {
		return nil, err
	}

	if signature != nil {
		sig := must(ecdsa.SignASN1(rand.Reader, signingKey, signature.Sum(nil)))
		footer := binary.BigEndian.AppendUint16(nil, uint16(len(sig)))
		if _, err := dst.Write(append(footer, sig...)); err != nil {
			return nil, fmt.Errorf("write message: %w", err)
		}
	}
	return h, nil
}

// frameSealer encrypts frames (client-apis/encrypt.md, "Construct a frame").
type frameSealer struct {
	aead interface {
		Seal(dst, nonce, plaintext, aad []byte) []byte
	}
	messageID []byte
	nonce     [ivSizeInBytes]byte
	aad       []byte
}

// frameWriter seals what is written to it into frames of the pending
// buffer's capacity, then, on close, a final frame of the rest. As the SDKs
// do, a plaintext that is a whole number of frames ends in a full final frame,
// and an empty one is a single empty final frame. A frame is sealed straight
// from the bytes written when more follow it in the same Write; otherwise it
// waits in pending, as it may be the last.
type frameWriter struct {
	ctx            context.Context
	sealer         frameSealer
	b              *batcher
	batch          []byte
	pending        []byte
	sequenceNumber uint32 // of the last frame sealed
	progress       progressReporter
	err            error // the first error of ctx or the batcher
}

func (w *frameWriter) Write(p []byte) (int, error) {
	written := len(p)
	frameLength := cap(w.pending)
	for len(p) > 0 {
		if len(w.pending) == frameLength {
			// More follows the frame that was waiting.
			if err := w.seal(false, w.pending); err != nil {
				return 0, err
			}
			w.pending = w.pending[:0]
		}
		if len(w.pending) == 0 && len(p) > frameLength {
			if err := w.seal(false, p[:frameLength]); err != nil {
				return 0, err
			}
			p = p[frameLength:]
			continue
		}
		n := copy(w.pending[len(w.pending):frameLength], p)
		w.pending = w.pending[:len(w.pending)+n]
		p = p[n:]
	}
	return written, nil
}

// close seals the final frame and hands the last batch over.
func (w *frameWriter) close() error {
	if err := w.seal(true, w.pending); err != nil {
		return err
	}
	if err := w.b.submit(w.batch); err != nil {
		return err
	}
	w.progress.finish()
	return nil
}

// seal appends a frame to the batch, handing the batch over first if the
// frame might not fit.
func (w *frameWriter) seal(final bool, plaintext []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.batch == nil {
		w.batch = w.b.buffer()
	}
	if len(w.batch)+finalFrameOverheadInBytes+len(plaintext) > cap(w.batch) {
		if w.err = w.ctx.Err(); w.err != nil {
			return w.err
		}
		if w.err = w.b.submit(w.batch); w.err != nil {
			return w.err
		}
		w.batch = w.b.buffer()
		w.progress.report()
	}
	if w.sequenceNumber == maxSequenceNumber {
		w.err = errors.New("encrypt: too many frames for one message; use a larger frame length")
		return w.err
	}
	w.sequenceNumber++
	w.batch = w.sealer.seal(w.batch, final, w.sequenceNumber, plaintext)
	w.progress.add(len(plaintext))
	return nil
}

// show:seal-frame begin
// seal appends a frame of plaintext to batch.
func (w *frameSealer) seal(batch []byte, final bool, sequenceNumber uint32, plaintext []byte) []byte {
	if final {
		batch = binary.BigEndian.AppendUint32(batch, finalFrameMarker)
	}
	batch = binary.BigEndian.AppendUint32(batch, sequenceNumber)
	nonce := w.frameNonce(sequenceNumber)
	batch = append(batch, nonce...)
	if final {
		batch = binary.BigEndian.AppendUint32(batch, uint32(len(plaintext)))
	}
	return w.aead.Seal(batch, nonce, plaintext, w.frameAAD(final, sequenceNumber, len(plaintext)))
}

// show:seal-frame end

// frameNonce returns the IV of a frame: its sequence number, big-endian,
// padded on the left with zeros to the IV's length.
func (w *frameSealer) frameNonce(sequenceNumber uint32) []byte {
	binary.BigEndian.PutUint32(w.nonce[ivSizeInBytes-4:], sequenceNumber)
	return w.nonce[:]
}

// frameAAD returns the message body AAD of a frame: message ID, body AAD
// content, sequence number, plaintext length.
func (w *frameSealer) frameAAD(final bool, sequenceNumber uint32, plaintextSize int) []byte {
	content := bodyAADRegularFrame
	if final {
		content = bodyAADFinalFrame
	}
	w.aad = append(w.aad[:0], w.messageID...)
	w.aad = append(w.aad, content...)
	w.aad = binary.BigEndian.AppendUint32(w.aad, sequenceNumber)
	w.aad = binary.BigEndian.AppendUint64(w.aad, uint64(plaintextSize))
	return w.aad
}

// progressReporter calls OnProgress about once per batch, and once at the
// end.
type progressReporter struct {
	callback      func(doneBytes, totalBytes int64)
	doneBytes     int64
	totalBytes    int64
	reportedBytes int64
	reported      bool
}

// add counts n more bytes.
func (p *progressReporter) add(n int) { p.doneBytes += int64(n) }

// report reports the bytes so far.
func (p *progressReporter) report() {
	if p.callback != nil {
		p.callback(p.doneBytes, p.totalBytes)
	}
	p.reported, p.reportedBytes = true, p.doneBytes
}

// finish reports what no report has covered yet, with the true total.
func (p *progressReporter) finish() {
	if !p.reported || p.reportedBytes != p.doneBytes || p.totalBytes != p.doneBytes {
		p.totalBytes = p.doneBytes
		p.report()
	}
}
