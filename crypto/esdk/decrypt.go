package esdk

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"math"
	"slices"

	"cse-workshop/crypto/internal/pipeline"

	"cse-workshop/internal/text"
)

// Decrypt reads a message from src and writes its plaintext to dst. It calls
// KMS Decrypt once (more only if the message has several encrypted data
// keys and the first ones fail), and returns the header, now authenticated.
//
// Nothing reaches dst before the header has been authenticated; then each
// regular frame's plaintext once that frame has been, and the final frame's
// once the signature (if any) has been verified and the message is known to
// end there. The message as a whole is authentic only if Decrypt returns no
// error: on error, discard whatever dst received. DecryptFile does that for
// files.
func Decrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, opts DecryptOptions) (*Header, error) {
	return decrypt(ctx, k, dst, src, -1, opts)
}

func decrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, srcBytes int64, opts DecryptOptions) (*Header, error) {
	h, headerBody, err := readHeader(src)
	if err != nil {
		return nil, err
	}
	if !h.Suite.Committing() && !opts.AllowLegacy {
		return nil, fmt.Errorf("%w: suite %s", ErrLegacySuite, h.Suite)
	}
	var publicKey *ecdsa.PublicKey
	encodedPublicKey, hasPublicKey := h.EncryptionContext[publicKeyContextKey]
	switch {
	case h.Suite.Signed() && !hasPublicKey, !h.Suite.Signed() && hasPublicKey:
		return nil, ErrTampered
	case h.Suite.Signed():
		var ok bool
		if publicKey, ok = decodePublicKey(h.Suite, encodedPublicKey); !ok {
			return nil, ErrTampered
		}
	}
	authenticateOnly, err := checkRequiredContext(h.EncryptionContext, opts.EncryptionContext)
	if err != nil {
		return nil, err
	}
	encodedAuthenticateOnly, err := marshalEncryptionContext(authenticateOnly)
	if err != nil {
		return nil, fmt.Errorf("required encryption context: %w", err)
	}
	// KMS sees the context the data key was made under: the message's,
	// and the pairs authenticated but not stored.
	kmsContext := maps.Clone(h.EncryptionContext)
	maps.Copy(kmsContext, authenticateOnly)

	dataKey, err := unwrapDataKey(ctx, k, h.EncryptedDataKeys, kmsContext, opts.KeyIDs)
	if err != nil && len(authenticateOnly) > 0 && !errors.Is(err, ErrNoAllowedKey) {
		// KMS refuses a context with pairs the data key was not made under.
		return nil, fmt.Errorf("%w: the message's context is %s; the required context %s has pairs it lacks: %w",
			ErrEncryptionContextMismatch, text.Context(h.EncryptionContext), text.Context(opts.EncryptionContext), err)
	}
	if err != nil {
		return nil, err
	}
	// show:open-data-key begin
	keys := deriveKeys(h.Suite, dataKey, h.MessageID)
	clear(dataKey)
	if h.Suite.Committing() && !checkCommitKey(keys.commitKey, h.CommitKey) {
		return nil, ErrTampered
	}
	// show:open-data-key end
	nonce := h.IV // version 1 keeps the header's IV; version 2's is zero
	if h.Version == 2 {
		nonce = make([]byte, ivSizeInBytes)
	}
	headerAAD := append(slices.Clip(headerBody), encodedAuthenticateOnly...)
	if _, err := keys.aead.Open(nil, nonce, h.AuthenticationTag, headerAAD); err != nil {
		if len(authenticateOnly) > 0 {
			return nil, fmt.Errorf("%w (or the message was tampered with): the message's context is %s; the required context %s has pairs it lacks",
				ErrEncryptionContextMismatch, text.Context(h.EncryptionContext), text.Context(opts.EncryptionContext))
		}
		return nil, ErrTampered
	}

	var signature hash.Hash
	if publicKey != nil {
		signature = sha512.New384()
		signature.Write(headerBody)
		if h.Version == 1 {
			signature.Write(h.IV)
		}
		signature.Write(h.AuthenticationTag)
	}
	totalBytes := int64(-1)
	if srcBytes >= 0 {
		totalBytes = plaintextSize(h, srcBytes-int64(len(headerBody)+len(h.IV)+len(h.AuthenticationTag)))
	}
	reader := newMessageReader(src, int(h.FrameLengthInBytes), signature != nil, totalBytes)
	opener := frameOpener{aead: keys.aead, messageID: h.MessageID, frameLength: int(h.FrameLengthInBytes)}
	progress := progressReporter{callback: opts.OnProgress, totalBytes: totalBytes}
	var batches madeBatches
	defer batches.wipe(openedPlaintext)
	stages := pipeline.Stages[frameBatch]{
		New:  func() *frameBatch { return batches.keep(reader.newBatch()) },
		Read: reader.read,
		Work: func(b *frameBatch) error { return opener.open(b) },
		// The last batch, with the final frame, is released only once the
		// signature verified: its Digest, as every earlier one's, has run.
		Write: func(b *frameBatch) error {
			if b.last && signature != nil && !ecdsa.VerifyASN1(publicKey, signature.Sum(nil), b.footer[2:]) {
				return ErrTampered
			}
			if _, err := dst.Write(b.out); err != nil {
				return fmt.Errorf("write plaintext: %w", err)
			}
			progress.batchWritten(len(b.out), b.last)
			return nil
		},
	}
	if signature != nil {
		// The signature hashes the message in order, on one core: on a
		// goroutine of its own, the hash runs while the plaintext before
		// is written.
		stages.Digest = func(b *frameBatch) { signature.Write(b.in[:b.body]) }
	}
	if err := pipeline.Run(ctx, pipeline.Workers(), stages); err != nil {
		return nil, err
	}
	progress.finish()
	return h, nil
}

// checkRequiredContext checks the required (reproduced) encryption context
// against the message's, as the default CMM does (framework/cmm-interface.md,
// "Decrypt Materials"): a key both have must have one value. It returns the
// pairs only the required context has, which the header's tag must also
// cover, as they would have been authenticated but not stored
// (client-apis/decrypt.md, "Verify the header").
func checkRequiredContext(stored, required map[string]string) (map[string]string, error) {
	authenticateOnly := map[string]string{}
	for k, v := range required {
		storedValue, ok := stored[k]
		switch {
		case !ok:
			authenticateOnly[k] = v
		case storedValue != v:
			return nil, fmt.Errorf("%w: the message's context is %s, the required context %s",
				ErrEncryptionContextMismatch, text.Context(stored), text.Context(required))
		}
	}
	return authenticateOnly, nil
}

// frameOpener decrypts and authenticates frames (client-apis/decrypt.md,
// "Decrypt the message body").
type frameOpener struct {
	aead        cipher.AEAD // shared by the workers: AES-GCM keeps no state between calls
	messageID   []byte
	frameLength int
}

// open opens b's frames into its plaintext. A frame out of place (dropped,
// repeated, moved) or that does not authenticate is ErrTampered.
func (o *frameOpener) open(b *frameBatch) error {
	b.sealer.messageID = o.messageID // for the nonces and AADs, the same both ways
	b.out = b.out[:0]
	stride := regularFrameOverheadInBytes + o.frameLength
	for i := range b.frames {
		frame := b.in[i*stride:]
		final := b.last && i == b.frames-1
		if final {
			frame = frame[sequenceNumberInBytes:] // the final frame's marker
		}
		// The sequence number and IV must be the ones this frame's place
		// gives.
		sequenceNumber := uint64(b.firstSequenceNumber) + uint64(i)
		nonce := b.sealer.frameNonce(uint32(sequenceNumber))
		if sequenceNumber > maxSequenceNumber || uint64(binary.BigEndian.Uint32(frame)) != sequenceNumber ||
			!bytes.Equal(frame[sequenceNumberInBytes:sequenceNumberInBytes+ivSizeInBytes], nonce) {
			return ErrTampered
		}
		fields, size := sequenceNumberInBytes+ivSizeInBytes, o.frameLength
		if final {
			size = int(binary.BigEndian.Uint32(frame[fields:]))
			fields += 4
		}
		ciphertext := frame[fields : fields+size+tagSizeInBytes]
		aad := b.sealer.frameAAD(final, uint32(sequenceNumber), size)
		// On failure Open wipes what it wrote and returns nil: b.out keeps
		// its buffer, and the frames opened before, to be wiped at the end.
		if !b.inPlace {
			opened, err := o.aead.Open(b.out, nonce, ciphertext, aad)
			if err != nil {
				return ErrTampered
			}
			b.out = opened
			b.held = max(b.held, len(b.out))
			continue
		}
		// In place: the plaintext, where the ciphertext was, moves down to
		// the end of the frames opened before, over bytes already read.
		at := len(b.in) - len(frame) + fields // ciphertext's offset in b.in
		b.held = max(b.held, at+size)
		opened, err := o.aead.Open(ciphertext[:0], nonce, ciphertext, aad)
		if err != nil {
			return ErrTampered
		}
		b.out = append(b.out, opened...)
	}
	return nil
}

// openedPlaintext is the buffer of b that held plaintext: in, where an
// unsigned message's frames were opened in place and gathered, or out.
func openedPlaintext(b *frameBatch) []byte {
	if b.inPlace {
		return b.in
	}
	return b.out
}

// messageReader reads the message body into batches of whole frames, in
// large reads: regular frames all have one size, so a batch is read in
// one go, and only the final frame, which holds its own length, and the
// footer after it need a look at what was read.
type messageReader struct {
	r                  io.Reader
	frameLength        int
	perBatch           int
	signed             bool
	nextSequenceNumber uint64
}

func newMessageReader(r io.Reader, frameLength int, signed bool, totalBytes int64) *messageReader {
	return &messageReader{r: r, frameLength: frameLength, perBatch: framesPerBatch(frameLength, totalBytes), signed: signed, nextSequenceNumber: 1}
}

// newBatch returns an empty batch. An unsigned message's frames are opened
// in place, their plaintext gathered at the start of the one buffer; a
// signed message's are opened into a buffer of their own, for the
// signature hashes the frames as read, after they were opened.
func (r *messageReader) newBatch() *frameBatch {
	frames := r.perBatch * (regularFrameOverheadInBytes + r.frameLength)
	// The final frame may be longer than a regular one by its marker and
	// content length.
	in := make([]byte, frames+finalFrameOverheadInBytes-regularFrameOverheadInBytes)
	if !r.signed {
		return &frameBatch{in: in, out: in[:0], inPlace: true}
	}
	return &frameBatch{in: in, out: make([]byte, 0, r.perBatch*r.frameLength)}
}

// maxFooterSizeInBytes: an ECDSA P-384 signature in DER takes at most 104
// bytes, after its 2-byte length.
const maxFooterSizeInBytes = 2 + 128

// read fills b with the next frames and, after the final frame, the
// footer, and reports whether they end the message. A message cut short,
// or with bytes after its end, is ErrTampered.
func (r *messageReader) read(b *frameBatch) (last bool, err error) {
	stride := regularFrameOverheadInBytes + r.frameLength
	in := b.in[:cap(b.in)]
	n, err := io.ReadFull(r.r, in[:r.perBatch*stride])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false, fmt.Errorf("read message: %w", err)
	}
	// readTo reads until in holds end bytes.
	readTo := func(end int) error {
		if n >= end {
			return nil
		}
		m, err := io.ReadFull(r.r, in[n:end])
		n += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ErrTampered
		} else if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		return nil
	}
	b.frames, b.last, b.footer = 0, false, b.footer[:0]
	b.firstSequenceNumber = uint32(min(r.nextSequenceNumber, math.MaxUint32))
	for at := 0; b.frames < r.perBatch; at += stride {
		// A frame starts with its sequence number, or with the final
		// frame's marker, its sequence number, its IV and its content
		// length.
		if err := readTo(at + sequenceNumberInBytes); err != nil {
			return false, err
		}
		b.frames++
		if binary.BigEndian.Uint32(in[at:]) != finalFrameMarker {
			if err := readTo(at + stride); err != nil {
				return false, err
			}
			continue
		}
		fields := 2*sequenceNumberInBytes + ivSizeInBytes + 4
		if err := readTo(at + fields); err != nil {
			return false, err
		}
		size := int(binary.BigEndian.Uint32(in[at+fields-4:]))
		if size > r.frameLength {
			return false, ErrTampered
		}
		end := at + fields + size + tagSizeInBytes
		if err := readTo(end); err != nil {
			return false, err
		}
		b.in, b.body, b.last = in[:n], end, true
		return true, r.readFooter(b, in[end:n])
	}
	b.in, b.body = in[:n], n
	r.nextSequenceNumber += uint64(b.frames)
	return false, nil
}

// readFooter reads the footer, of which read is what was read already,
// into b, and checks that the message ends there: a signature's length
// and that many bytes for signed suites, nothing otherwise.
func (r *messageReader) readFooter(b *frameBatch, read []byte) error {
	b.footer = append(b.footer, read...)
	if len(b.footer) <= maxFooterSizeInBytes {
		rest, err := io.ReadAll(io.LimitReader(r.r, int64(maxFooterSizeInBytes+1-len(b.footer))))
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
		b.footer = append(b.footer, rest...)
	}
	if !r.signed {
		if len(b.footer) > 0 {
			return ErrTampered // data after the end of the message
		}
		return nil
	}
	if len(b.footer) < 2 || len(b.footer) != 2+int(binary.BigEndian.Uint16(b.footer)) {
		return ErrTampered
	}
	return nil
}

// plaintextSize returns the plaintext size of a message whose body and
// footer take rest bytes, or -1 if no message of that size is valid. An
// ECDSA P-384 signature takes 102 to 104 bytes, most often 103: for signed
// suites the size is that of the likeliest valid layout, so an estimate
// within two bytes.
func plaintextSize(h *Header, rest int64) int64 {
	footerSizes := []int64{0}
	if h.Suite.Signed() {
		footerSizes = []int64{2 + 103, 2 + 104, 2 + 102}
	}
	for _, footer := range footerSizes {
		// Regular frames, then a final frame of at most a frame length.
		body := rest - footer - finalFrameOverheadInBytes
		regularFrame := regularFrameOverheadInBytes + int64(h.FrameLengthInBytes)
		regularFrames := body / regularFrame
		if body >= 0 && body-regularFrames*regularFrame <= int64(h.FrameLengthInBytes) {
			return body - regularFrames*regularFrameOverheadInBytes
		}
	}
	return -1
}
