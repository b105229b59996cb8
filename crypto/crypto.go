// Package crypto implements the cse-workshop envelope format, specified in
// docs/FORMAT.md: a file encrypted with Tink's AES-GCM-HKDF streaming AEAD
// under a data key that AWS KMS generates (or wraps), after a versioned header
// that the stream authenticates.
//
// Encrypt and Decrypt work on streams in constant memory; EncryptFile and
// DecryptFile add what files need: the output appears, complete, only when
// everything succeeded, and decrypted output only once the whole stream has
// been authenticated; a run killed halfway leaves no file on Linux, and
// elsewhere a temporary file that the next run to the same destination
// removes ("Writing a file" in docs/FORMAT.md).
//
// The plaintext data key lives only in memory: this package never writes or
// logs it, tells a display only its size (DataKeyInfo), and clears the
// copies it holds once the stream cipher is set up. (Tink's cipher keeps its
// own copy until it is garbage.)
package crypto

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"

	"cse-workshop/crypto/internal/pipeline"
	"cse-workshop/internal/text"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMS is the part of *kms.Client this package calls.
type KMS interface {
	GenerateDataKey(ctx context.Context, params *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Encrypt(ctx context.Context, params *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Scheme says how the data key was obtained. The zero value is invalid.
type Scheme uint8

const (
	// SchemeKMSDataKey: one KMS GenerateDataKey (AES_256) per file.
	SchemeKMSDataKey Scheme = 1
	// SchemeTink: a data key made locally, wrapped by KMS Encrypt the way
	// tink-go-awskms's AEAD does.
	SchemeTink Scheme = 2
)

// Header is the authenticated header of an encrypted file.
type Header struct {
	Version            uint8
	Scheme             Scheme
	KeyARN             string
	EncryptionContext  map[string]string
	EncryptedDataKey   []byte
	SegmentSizeInBytes uint32 // Tink's ciphertext segment size
}

// DataKeyInfo describes the data key of a file being encrypted, for display.
// It never holds the plaintext data key.
type DataKeyInfo struct {
	DataKeySizeInBytes int // of the plaintext data key, which stays in memory
	Header             Header
}

// EncryptOptions configure Encrypt and EncryptFile.
type EncryptOptions struct {
	KeyID              string            // key id, key ARN, alias name or alias ARN
	EncryptionContext  map[string]string // may be empty
	Scheme             Scheme            // SchemeKMSDataKey when zero
	SegmentSizeInBytes int               // DefaultSegmentSizeInBytes when zero
	// OnDataKey, when set, is called once the data key exists.
	OnDataKey func(DataKeyInfo)
	// OnProgress, when set, is called at most once per segment with the
	// plaintext bytes consumed so far and the total (-1 when unknown).
	OnProgress func(doneBytes, totalBytes int64)
}

// DecryptOptions configure Decrypt and DecryptFile.
type DecryptOptions struct {
	// KeyID pins the KMS key used to unwrap the data key; empty means the
	// key ARN in the header.
	KeyID string
	// EncryptionContext, when non-nil, must equal the header's.
	EncryptionContext map[string]string
	// OnProgress, when set, is called at most once per segment with the
	// plaintext bytes authenticated so far and the total (-1 when unknown).
	OnProgress func(doneBytes, totalBytes int64)
}

// DefaultSegmentSizeInBytes is the streaming AEAD segment size when none is
// given. Per segment the envelope pays a 16-byte tag and a little
// bookkeeping, so larger segments run closer to plain AES-GCM; but the
// segment buffers should stay in a core's cache, and at 1 MiB they no longer
// do. 256 KiB measured best (bench/run compares BenchmarkEncrypt and
// BenchmarkDecrypt with BenchmarkBaselineAESGCM).
const DefaultSegmentSizeInBytes = 256 << 10

// ErrTampered is the one error for a file that does not authenticate: any
// modification, truncation or wrong key material.
var ErrTampered = errors.New("the file is damaged or was tampered with")

// ErrEncryptionContextMismatch is returned (wrapped, with both contexts) when
// DecryptOptions.EncryptionContext differs from the header's.
var ErrEncryptionContextMismatch = errors.New("encryption context mismatch")

// Encrypt reads plaintext from src until EOF and writes the encrypted file to
// dst. It calls KMS once. If ctx is done by the time src ends, Encrypt fails
// with ctx's error: the end may be the interruption's doing.
func Encrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, opts EncryptOptions) (*Header, error) {
	return encrypt(ctx, k, dst, src, -1, opts)
}

// Decrypt reads an encrypted file from src and writes its plaintext to dst.
// It calls KMS once.
//
// Plaintext reaches dst one segment at a time, each once it has been
// authenticated, but the stream as a whole is authentic only if Decrypt
// returns no error: on error, discard whatever dst received. DecryptFile
// does that for files.
func Decrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, opts DecryptOptions) (*Header, error) {
	return decrypt(ctx, k, dst, src, -1, opts)
}

// encrypt is Encrypt with the size of src, if known, for progress reports.
func encrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, totalBytes int64, opts EncryptOptions) (*Header, error) {
	h, err := encryptStream(ctx, k, dst, src, totalBytes, opts)
	if err := interrupted(ctx, err); err != nil {
		return nil, err
	}
	return h, nil
}

// decrypt is Decrypt with the size of src, if known, for progress reports.
func decrypt(ctx context.Context, k KMS, dst io.Writer, src io.Reader, totalBytes int64, opts DecryptOptions) (*Header, error) {
	h, err := decryptStream(ctx, k, dst, src, totalBytes, opts)
	if err := interrupted(ctx, err); err != nil {
		return nil, err
	}
	return h, nil
}

// interrupted returns ctx's error if ctx is done, else err. Once ctx is
// done, whatever else happened is suspect: a source cut short by the same
// Ctrl-C (a producer killed with this process's group) ends like a
// complete one, and a blocked read stopped by ctx fails like a broken one.
func interrupted(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return err
}

func encryptStream(ctx context.Context, k KMS, dst io.Writer, src io.Reader, totalBytes int64, opts EncryptOptions) (*Header, error) {
	if opts.Scheme == 0 {
		opts.Scheme = SchemeKMSDataKey
	}
	if !opts.Scheme.valid() {
		panic(fmt.Sprintf("crypto: EncryptOptions.Scheme %d is invalid", opts.Scheme))
	}
	if opts.SegmentSizeInBytes == 0 {
		opts.SegmentSizeInBytes = DefaultSegmentSizeInBytes
	}
	if opts.SegmentSizeInBytes < MinSegmentSizeInBytes || opts.SegmentSizeInBytes > MaxSegmentSizeInBytes {
		panic(fmt.Sprintf("crypto: EncryptOptions.SegmentSizeInBytes %d out of range [%d, %d]",
			opts.SegmentSizeInBytes, MinSegmentSizeInBytes, MaxSegmentSizeInBytes))
	}
	encodedContext, err := marshalEncryptionContext(opts.EncryptionContext)
	if err != nil {
		return nil, err
	}
	h := &Header{
		Version:            FormatVersion,
		Scheme:             opts.Scheme,
		EncryptionContext:  maps.Clone(opts.EncryptionContext),
		SegmentSizeInBytes: uint32(opts.SegmentSizeInBytes),
	}
	if h.EncryptionContext == nil {
		h.EncryptionContext = map[string]string{}
	}

	dataKey, err := newDataKey(ctx, k, opts.KeyID, h, encodedContext)
	if err != nil {
		return nil, err
	}
	defer clear(dataKey)
	rawHeader, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	streamHeader := newStreamHeader()
	segments := newSegmentCipher(dataKey, streamHeader, rawHeader)
	if opts.OnDataKey != nil {
		info := DataKeyInfo{DataKeySizeInBytes: len(dataKey), Header: *h}
		info.Header.EncryptionContext = maps.Clone(h.EncryptionContext)
		opts.OnDataKey(info)
	}
	clear(dataKey)

	if _, err := dst.Write(append(rawHeader, streamHeader...)); err != nil {
		return nil, fmt.Errorf("write header: %w", err)
	}
	reader := newSegmentReader(src, int(h.SegmentSizeInBytes), segmentTagSizeInBytes)
	progress := progressReporter{ctx: ctx, report: opts.OnProgress, totalBytes: totalBytes}
	err = pipeline.Run(ctx, pipeline.Workers(), pipeline.Stages[segmentBatch]{
		New: reader.newBatch,
		Read: func(b *segmentBatch) (bool, error) {
			last, err := reader.read(b)
			if err != nil && !errors.Is(err, errTooManySegments) {
				err = fmt.Errorf("read plaintext: %w", err)
			}
			return last, err
		},
		Work: func(b *segmentBatch) error {
			segments.seal(b)
			return nil
		},
		Write: func(b *segmentBatch) error {
			return b.writeSealed(dst, progress.segmentDone)
		},
	})
	if err != nil {
		return nil, err
	}
	progress.finish()
	return h, nil
}

func decryptStream(ctx context.Context, k KMS, dst io.Writer, src io.Reader, totalBytes int64, opts DecryptOptions) (*Header, error) {
	source := &sourceReader{r: src}
	h, rawHeader, err := readHeader(source)
	if err != nil {
		return nil, err
	}
	if opts.EncryptionContext != nil && !maps.Equal(opts.EncryptionContext, h.EncryptionContext) {
		return nil, fmt.Errorf("%w: the file has %s, expected %s", ErrEncryptionContextMismatch,
			text.Context(h.EncryptionContext), text.Context(opts.EncryptionContext))
	}
	if totalBytes >= 0 {
		totalBytes = plaintextSize(totalBytes-int64(len(rawHeader)), int64(h.SegmentSizeInBytes))
	}
	keyID := opts.KeyID
	if keyID == "" {
		keyID = h.KeyARN
	}
	encodedContext, err := marshalEncryptionContext(h.EncryptionContext)
	if err != nil {
		panic(fmt.Sprintf("crypto: a parsed encryption context does not marshal: %v", err))
	}

	dataKey, err := unwrapDataKey(ctx, k, keyID, h, encodedContext)
	if err != nil {
		return nil, err
	}
	streamHeader := make([]byte, streamHeaderSizeInBytes)
	if _, err := io.ReadFull(source, streamHeader); err != nil || streamHeader[0] != streamHeaderSizeInBytes {
		clear(dataKey)
		return nil, source.streamError()
	}
	segments := newSegmentCipher(dataKey, streamHeader, rawHeader)
	clear(dataKey)

	reader := newSegmentReader(source, int(h.SegmentSizeInBytes), 0)
	progress := progressReporter{ctx: ctx, report: opts.OnProgress, totalBytes: totalBytes}
	err = pipeline.Run(ctx, pipeline.Workers(), pipeline.Stages[segmentBatch]{
		New: reader.newBatch,
		Read: func(b *segmentBatch) (bool, error) {
			last, err := reader.read(b)
			if err != nil {
				return false, source.streamError()
			}
			return last, nil
		},
		// Segments open in any order, but their plaintext is written in
		// stream order, and none after the first that fails.
		Work: segments.open,
		Write: func(b *segmentBatch) error {
			return b.writeOpened(dst, progress.segmentDone)
		},
	})
	if err != nil {
		return nil, err
	}
	progress.finish()
	return h, nil
}

// sourceReader remembers a read error of the ciphertext source, so that it
// is not mistaken for tampering once Tink has turned it into its own error.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// streamError is the error for a failed Tink stream: the source's own read
// error if it had one, ErrTampered otherwise.
func (s *sourceReader) streamError() error {
	if s.err != nil {
		return fmt.Errorf("read ciphertext: %w", s.err)
	}
	return ErrTampered
}

// plaintextSize returns the plaintext size of a Tink stream of streamBytes
// bytes, or -1 if no valid stream has that size.
func plaintextSize(streamBytes, segmentSizeInBytes int64) int64 {
	rest := streamBytes - streamHeaderSizeInBytes
	firstSegment := segmentSizeInBytes - streamHeaderSizeInBytes
	segments := int64(1)
	if rest > firstSegment {
		segments += (rest - firstSegment + segmentSizeInBytes - 1) / segmentSizeInBytes
	}
	size := rest - segments*segmentTagSizeInBytes
	if size < 0 {
		return -1
	}
	return size
}

// progressReporter calls OnProgress once per segment, and once for an empty
// stream; it stops the stream, between segments, once ctx is done.
type progressReporter struct {
	ctx           context.Context
	report        func(doneBytes, totalBytes int64)
	doneBytes     int64
	totalBytes    int64
	reportedBytes int64 // doneBytes at the last report
	reported      bool
}

// segmentDone counts a segment of n plaintext bytes and reports the bytes
// so far, unless ctx is done.
func (p *progressReporter) segmentDone(n int) error {
	if err := p.ctx.Err(); err != nil {
		return err
	}
	p.doneBytes += int64(n)
	p.reportNow()
	return nil
}

func (p *progressReporter) reportNow() {
	if p.report != nil {
		p.report(p.doneBytes, p.totalBytes)
	}
	p.reported, p.reportedBytes = true, p.doneBytes
}

// finish reports what no report has covered yet.
func (p *progressReporter) finish() {
	if !p.reported || p.reportedBytes != p.doneBytes {
		p.reportNow()
	}
}
