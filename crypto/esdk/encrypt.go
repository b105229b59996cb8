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
	"strings"

	"cse-workshop/crypto/internal/lookahead"
	"cse-workshop/crypto/internal/pipeline"
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

	reader := newPlaintextReader(src, opts.FrameLengthInBytes, totalBytes)
	sealer := frameSealer{aead: keys.aead, messageID: h.MessageID}
	progress := progressReporter{callback: opts.OnProgress, totalBytes: totalBytes}
	var batches madeBatches
	defer batches.wipe(func(b *frameBatch) []byte { return b.in })
	stages := pipeline.Stages[frameBatch]{
		New:  func() *frameBatch { return batches.keep(reader.newBatch(sealer)) },
		Read: reader.read,
		Work: func(b *frameBatch) error {
			b.seal(reader.frameLength)
			return nil
		},
		Write: func(b *frameBatch) error {
			if _, err := dst.Write(b.out); err != nil {
				return fmt.Errorf("write message: %w", err)
			}
			progress.batchWritten(len(b.in), b.last)
			return nil
		},
	}
	if signature != nil {
		// In order, on a goroutine of its own, while earlier frames are written.
		stages.Digest = func(b *frameBatch) { signature.Write(b.out) }
	}
	if err := pipeline.Run(ctx, pipeline.Workers(), stages); err != nil {
		return nil, err
	}
	progress.finish()

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

// frameBatch is a pipeline buffer: consecutive frames of the message.
// Sealing, in holds their plaintext as read and out the frames, in one
// buffer: each frame is sealed in place (seal). Opening, in holds the
// frames as read and out their plaintext, opened in place for an unsigned
// message, from one buffer into another for a signed one. Frames of the
// default 4 KiB are too small to read one at a time.
type frameBatch struct {
	in, out             []byte
	frames              int
	firstSequenceNumber uint32
	last                bool        // whether the batch holds the final frame
	body                int         // opening: the bytes of in that are frames
	footer              []byte      // opening, in the last batch: the footer
	sealer              frameSealer // this batch's own nonce and AAD
	// inPlace: opening, out is the start of in's buffer (an unsigned
	// message's frames are opened in place).
	inPlace bool
	// held is the most plaintext the batch's buffer (in when sealing, out
	// when opening) ever held: the part to wipe at the end, so that a
	// small file does not touch the whole of a large buffer.
	held int
}

// madeBatches are the batches a pipeline made, kept to wipe the plaintext
// they held once it is done.
type madeBatches []*frameBatch

// keep adds b to the batches made, and returns it.
func (m *madeBatches) keep(b *frameBatch) *frameBatch {
	*m = append(*m, b)
	return b
}

// wipe clears the part of each batch's plaintext buffer that ever held
// plaintext.
func (m *madeBatches) wipe(plaintext func(*frameBatch) []byte) {
	for _, b := range *m {
		clear(plaintext(b)[:b.held])
	}
}

// framesPerBatch is how many frames of frameLength plaintext bytes make a
// batch of about batchSizeInBytes of message, or hold the whole message
// when its plaintext, totalBytes (-1: unknown), is smaller: a small file's
// buffers are of its size. A message longer than announced (a file that
// grew while read) takes more batches.
func framesPerBatch(frameLength int, totalBytes int64) int {
	n := max(1, batchSizeInBytes/(regularFrameOverheadInBytes+frameLength))
	if totalBytes >= 0 {
		// The final frame may be empty: one more than whole frames.
		n = int(min(int64(n), totalBytes/int64(frameLength)+1))
	}
	return n
}

// plaintextReader reads plaintext into batches, a frame length at a time.
// It reads one byte ahead, for the final frame is the one nothing follows.
type plaintextReader struct {
	r                  lookahead.Reader
	frameLength        int
	perBatch           int
	nextSequenceNumber uint64
}

func newPlaintextReader(r io.Reader, frameLength int, totalBytes int64) *plaintextReader {
	return &plaintextReader{r: lookahead.Reader{R: r}, frameLength: frameLength, perBatch: framesPerBatch(frameLength, totalBytes), nextSequenceNumber: 1}
}

// newBatch returns an empty batch. Sealing works in place: the plaintext is
// read at the start of the buffer, and each frame is moved to its place in
// the message and sealed there, so that a batch is one buffer, not two.
func (r *plaintextReader) newBatch(sealer frameSealer) *frameBatch {
	buf := make([]byte, r.perBatch*(regularFrameOverheadInBytes+r.frameLength)+finalFrameOverheadInBytes-regularFrameOverheadInBytes)
	return &frameBatch{in: buf[:r.perBatch*r.frameLength+1], out: buf[:0], sealer: sealer}
}

// read fills b with the plaintext of its frames and reports whether they
// end the message.
func (r *plaintextReader) read(b *frameBatch) (last bool, err error) {
	room := r.perBatch * r.frameLength
	in := b.in[:room+1]
	read, more, err := r.r.Fill(in)
	// What was read is plaintext to wipe at the end, even when the read
	// failed part-way (a Ctrl-C on a pipe ends it so), and so is the byte
	// read ahead.
	b.held = max(b.held, read)
	if err != nil {
		return false, fmt.Errorf("read plaintext: %w", err)
	}
	// As the SDKs do, a plaintext that is a whole number of frames ends in
	// a full final frame, and an empty one is a single empty final frame.
	n, last := read, !more
	if more {
		n = room
	}
	b.in, b.last = in[:n], last
	b.frames = max(1, (n+r.frameLength-1)/r.frameLength)
	if r.nextSequenceNumber+uint64(b.frames)-1 > maxSequenceNumber {
		return false, errors.New("encrypt: too many frames for one message; use a larger frame length")
	}
	b.firstSequenceNumber = uint32(r.nextSequenceNumber)
	r.nextSequenceNumber += uint64(b.frames)
	return last, nil
}

// seal seals b's plaintext into frames (client-apis/encrypt.md, "Construct
// a frame"), in place: in and out share one buffer, the plaintext at its
// start. Frame i's plaintext, at i frame lengths, moves to its place in
// the message, i frames' overhead further on; from the last frame to the
// first, none is moved over one not yet sealed. Every byte of plaintext
// ends up under a frame, so none is left in the clear.
func (b *frameBatch) seal(frameLength int) {
	buf := b.out[:cap(b.out)]
	end := 0
	for i := b.frames - 1; i >= 0; i-- {
		start := i * (regularFrameOverheadInBytes + frameLength)
		from, to := i*frameLength, min((i+1)*frameLength, len(b.in))
		final := b.last && i == b.frames-1
		frame := b.sealer.sealAt(buf[start:start], final, b.firstSequenceNumber+uint32(i), buf[from:to])
		if i == b.frames-1 {
			end = start + len(frame)
		}
	}
	b.out = buf[:end]
}

// show:seal-frame begin
// sealAt makes a frame in frame's room, from a plaintext that lies there at
// or after its own place in the frame (after the header): the plaintext is
// moved to that place, sealed there, and the tag appended. It returns the
// frame.
func (w *frameSealer) sealAt(frame []byte, final bool, sequenceNumber uint32, plaintext []byte) []byte {
	headerSize := regularFrameOverheadInBytes - tagSizeInBytes
	if final {
		headerSize = finalFrameOverheadInBytes - tagSizeInBytes
	}
	body := frame[headerSize : headerSize+len(plaintext)]
	copy(body, plaintext) // a move: the two may overlap
	frame = frame[:0]
	if final {
		frame = binary.BigEndian.AppendUint32(frame, finalFrameMarker)
	}
	frame = binary.BigEndian.AppendUint32(frame, sequenceNumber)
	nonce := w.frameNonce(sequenceNumber)
	frame = append(frame, nonce...)
	if final {
		frame = binary.BigEndian.AppendUint32(frame, uint32(len(body)))
	}
	return w.aead.Seal(frame, nonce, body, w.frameAAD(final, sequenceNumber, len(body)))
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

// batchSizeInBytes is about how much of the message a batch of the
// pipeline holds (or one frame, when frames are larger): enough that
// handing a batch from one goroutine to another costs little next to
// sealing it, small enough to stay in a core's cache.
const batchSizeInBytes = 256 << 10

// progressReporter calls OnProgress about once per batch, and once at the
// end.
type progressReporter struct {
	callback      func(doneBytes, totalBytes int64)
	doneBytes     int64
	totalBytes    int64
	reportedBytes int64
	reported      bool
}

// batchWritten counts a batch of n plaintext bytes as written, and reports
// it unless it is the last: finish reports that one, with the true total.
func (p *progressReporter) batchWritten(n int, last bool) {
	p.doneBytes += int64(n)
	if !last {
		p.report()
	}
}

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
