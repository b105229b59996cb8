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
	"slices"

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
	b := newBatcher(func(batch []byte) error {
		if signature != nil {
			signature.Write(batch)
		}
		return nil
	}, signature != nil, finalFrameOverheadInBytes+int(h.FrameLengthInBytes))
	defer b.close()

	totalBytes := int64(-1)
	if srcBytes >= 0 {
		totalBytes = plaintextSize(h, srcBytes-int64(len(headerBody)+len(h.IV)+len(h.AuthenticationTag)))
	}
	o := frameOpener{aead: keys.aead, messageID: h.MessageID, frameLength: int(h.FrameLengthInBytes)}
	body := &bodyReader{r: src, b: b, frameRoom: finalFrameOverheadInBytes + int(h.FrameLengthInBytes)}
	final, err := o.openAll(ctx, body, dst, progressReporter{callback: opts.OnProgress, totalBytes: totalBytes})
	if err != nil {
		return nil, err
	}
	if err := b.close(); err != nil {
		return nil, err
	}
	if signature != nil {
		if err := readFooter(body, publicKey, signature.Sum(nil)); err != nil {
			return nil, err
		}
	}
	if err := body.end(); err != nil {
		return nil, err
	}
	if _, err := dst.Write(final.plaintext); err != nil {
		return nil, fmt.Errorf("write plaintext: %w", err)
	}
	clear(final.plaintext)
	final.progress.finish()
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

// readFooter reads the footer and verifies the signature over the digest of
// the header and body.
func readFooter(r *bodyReader, publicKey *ecdsa.PublicKey, digest []byte) error {
	size, err := r.next(2)
	if err != nil {
		return err
	}
	// An ECDSA P-384 signature in DER takes at most 104 bytes.
	n := int(binary.BigEndian.Uint16(size))
	if n > 128 {
		return ErrTampered
	}
	sig, err := r.next(n)
	if err != nil {
		return err
	}
	if !ecdsa.VerifyASN1(publicKey, digest, sig) {
		return ErrTampered
	}
	return nil
}

// frameOpener decrypts and authenticates frames (client-apis/decrypt.md,
// "Decrypt the message body").
type frameOpener struct {
	aead        cipher.AEAD
	messageID   []byte
	frameLength int
	sealer      frameSealer // for the nonces and AADs, the same both ways
}

// finalFrame is the final frame's plaintext, held back until the end of the
// message has been verified.
type finalFrame struct {
	plaintext []byte
	progress  progressReporter
}

// openAll reads frames until the final frame; it writes the plaintext of
// each regular frame to dst once authenticated and returns the final
// frame's.
func (o *frameOpener) openAll(ctx context.Context, r *bodyReader, dst io.Writer, progress progressReporter) (finalFrame, error) {
	o.sealer.messageID = o.messageID
	plaintext := make([]byte, 0, o.frameLength)
	for sequenceNumber := uint32(1); ; sequenceNumber++ {
		if err := ctx.Err(); err != nil {
			return finalFrame{}, err
		}
		if r.batchDone() {
			if err := r.submit(); err != nil {
				return finalFrame{}, err
			}
			progress.report()
		}
		// A frame starts with its sequence number, or the final frame's
		// marker and then its sequence number; then its IV, and for the
		// final frame its content length. No slice of r is kept across
		// calls of next, which may move the bytes.
		first, err := r.peek(sequenceNumberInBytes)
		if err != nil {
			return finalFrame{}, err
		}
		final := binary.BigEndian.Uint32(first) == finalFrameMarker
		fieldsSize := sequenceNumberInBytes + ivSizeInBytes
		if final {
			r.next(sequenceNumberInBytes)
			fieldsSize += 4
		}
		field, err := r.next(fieldsSize)
		if err != nil {
			return finalFrame{}, err
		}
		// The sequence number and IV must be the ones this frame's place
		// gives: no frame is dropped, repeated or moved.
		if binary.BigEndian.Uint32(field) != sequenceNumber || sequenceNumber > maxSequenceNumber ||
			!bytes.Equal(field[sequenceNumberInBytes:sequenceNumberInBytes+ivSizeInBytes], o.sealer.frameNonce(sequenceNumber)) {
			return finalFrame{}, ErrTampered
		}
		size := o.frameLength
		if final {
			size = int(binary.BigEndian.Uint32(field[sequenceNumberInBytes+ivSizeInBytes:]))
			if size > o.frameLength {
				return finalFrame{}, ErrTampered
			}
		}
		sealed, err := r.next(size + tagSizeInBytes)
		if err != nil {
			return finalFrame{}, err
		}
		nonce := o.sealer.frameNonce(sequenceNumber)
		opened, err := o.aead.Open(plaintext[:0], nonce, sealed, o.sealer.frameAAD(final, sequenceNumber, size))
		if err != nil {
			return finalFrame{}, ErrTampered
		}
		progress.add(len(opened))
		if final {
			if err := r.submit(); err != nil {
				return finalFrame{}, err
			}
			return finalFrame{plaintext: opened, progress: progress}, nil
		}
		if _, err := dst.Write(opened); err != nil {
			return finalFrame{}, fmt.Errorf("write plaintext: %w", err)
		}
	}
}

// bodyReader reads the message body straight into the batches that go to
// the batcher (for the signature), in large reads, and hands out its fields
// from there without a further copy.
type bodyReader struct {
	r      io.Reader
	b      *batcher
	batch  []byte // bytes read; those before parsed are handed out
	parsed int
	eof    bool
	// frameRoom is the size of the largest frame.
	frameRoom int
}

// next returns the next n bytes of the message, valid until the next call.
// A message that ends before them is ErrTampered.
func (r *bodyReader) next(n int) ([]byte, error) {
	field, err := r.peek(n)
	r.parsed += len(field)
	return field, err
}

// peek is next without moving on.
func (r *bodyReader) peek(n int) ([]byte, error) {
	if r.batch == nil {
		r.batch = r.b.buffer()
	}
	for len(r.batch)-r.parsed < n {
		if r.eof {
			return nil, ErrTampered
		}
		if cap(r.batch)-r.parsed < n {
			// submit makes room for a frame before each.
			panic("esdk: no room in the batch for a field")
		}
		m, err := r.r.Read(r.batch[len(r.batch):cap(r.batch)])
		r.batch = r.batch[:len(r.batch)+m]
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
	}
	return r.batch[r.parsed : r.parsed+n], nil
}

// batchDone reports whether the batch may lack room for another frame.
func (r *bodyReader) batchDone() bool {
	return r.batch != nil && cap(r.batch)-r.parsed < r.frameRoom
}

// submit hands the bytes parsed so far to the batcher and carries the rest
// into a new batch.
func (r *bodyReader) submit() error {
	if r.batch == nil {
		return nil
	}
	old := r.batch
	err := r.b.submit(old[:r.parsed])
	r.batch = r.b.buffer()
	r.batch = r.batch[:copy(r.batch[:cap(r.batch)], old[r.parsed:])]
	r.parsed = 0
	return err
}

// end checks that the message ends where it should: no byte is left.
func (r *bodyReader) end() error {
	if len(r.batch) > r.parsed {
		return ErrTampered
	}
	var one [1]byte
	for !r.eof {
		n, err := r.r.Read(one[:])
		if n > 0 {
			return ErrTampered // data after the end of the message
		}
		if err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
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
