package steps

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"cse-workshop/awsclient"
	"cse-workshop/crypto/esdk"
	"cse-workshop/internal/text"
)

// progressInterval is how often a file's progress is reported, at most.
const progressInterval = 100 * time.Millisecond

// previewSizeInBytes is how much of the encrypted data key step 2 shows.
const previewSizeInBytes = 16

// runEncrypt is step 2.
func runEncrypt(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	src, dst := w.path(PlaintextFile), w.path(EncryptedFile)
	in, err := os.Stat(src)
	if err != nil {
		return awsclient.WithHint(fmt.Errorf("read %s: %w", PlaintextFile, err),
			fmt.Sprintf("put a file named %s in %s (any content, any size), or delete the folder's .cse-workshop to start over with the sample", PlaintextFile, w.Dir))
	}
	if in.IsDir() {
		return awsclient.WithHint(fmt.Errorf("read %s: it is a folder, not a file", PlaintextFile),
			fmt.Sprintf("replace the folder %s in %s with a file (any content, any size)", PlaintextFile, w.Dir))
	}
	encryptionContext := EncryptionContext()
	p.info("encrypting %s (%s) under %s with encryption context %s, as an AWS Encryption SDK message (suite %s)",
		PlaintextFile, text.Size(in.Size()), AliasName, text.Context(encryptionContext), esdk.DefaultSuite)

	at := w.Clock.Now()
	// The alias, as the original workshop gave its master key: KMS
	// answers with the key's ARN, which the message records and step 3
	// pins.
	// show:encrypt-file begin
	h, err := esdk.EncryptFile(ctx, w.Clients.KMS, src, dst, esdk.EncryptOptions{
		KeyID:             AliasName,
		EncryptionContext: encryptionContext,
		Suite:             esdk.DefaultSuite,
		// show:encrypt-file cut
		OnDataKey: func(info esdk.DataKeyInfo) {
			edk := info.Header.EncryptedDataKeys[0]
			detail := &DataKeyDetail{
				DataKeySizeInBytes:      info.DataKeySizeInBytes,
				EncryptedDataKeySize:    len(edk.Ciphertext),
				EncryptedDataKeyPreview: hex.EncodeToString(edk.Ciphertext[:min(len(edk.Ciphertext), previewSizeInBytes)]),
				KeyARN:                  edk.KeyARN(),
			}
			p.line(LevelInfo, detail, "KMS GenerateDataKey returned a data key: %s", detail.Plaintext())
			p.info("and the same data key encrypted under the KMS key: %d bytes, %s…, kept in the message's header",
				len(edk.Ciphertext), detail.EncryptedDataKeyPreview)
			p.detail(headerDetail(info.Header))
		},
		OnProgress: progressReporter(p),
	})
	if err != nil {
		return fmt.Errorf("encrypt %s: %w", PlaintextFile, err)
	}
	if keyARN := h.EncryptedDataKeys[0].KeyARN(); keyARN != w.State.KeyARN {
		// The alias was moved to another key behind the workshop's back;
		// step 3 pins the workshop's key and would fail.
		removeIfExists(dst)
		return awsclient.WithHint(fmt.Errorf("%s now points to KMS key %s, not to the workshop's key %s", AliasName, keyARN, w.State.KeyARN),
			"run step 1 again")
	}
	w.State.GenerateDataKeyAt = at
	out, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("encrypt %s: %w", PlaintextFile, err)
	}
	p.line(LevelInfo, &FilesDetail{
		Input:  FileSummary{Path: src, SizeInBytes: in.Size()},
		Output: FileSummary{Path: dst, SizeInBytes: out.Size()},
	}, "wrote %s (%s): the header, the data in %s frames, each encrypted with the data key, then the signature",
		EncryptedFile, text.Size(out.Size()), text.Size(int64(h.FrameLengthInBytes)))
	// Read the header back from the file, as anyone who has it can.
	header, err := readHeader(dst)
	if err != nil {
		return fmt.Errorf("read back the header of %s: %w", EncryptedFile, err)
	}
	p.line(LevelInfo, header, "read its header back, as anyone with the file can, without a key: AWS Encryption SDK message version %d, suite %s, %s frames",
		header.Version, header.SuiteID, text.Size(int64(header.FrameLengthInBytes)))
	p.success(2)
	return nil
}

// PublicKeyContextKey is the pair the AWS Encryption SDK adds to the
// encryption context of a signed message: the signature's public key.
const PublicKeyContextKey = "aws-crypto-public-key"

// readHeader parses the header of the message in path, unauthenticated.
func readHeader(path string) (*HeaderDetail, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := esdk.ParseHeader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	return headerDetail(h), nil
}

// headerDetail shows a message header.
func headerDetail(h *esdk.Header) *HeaderDetail {
	d := &HeaderDetail{
		Version:            int(h.Version),
		SuiteID:            h.Suite.String(),
		SuiteName:          h.Suite.Name(),
		Signed:             h.Suite.Signed(),
		MessageID:          hex.EncodeToString(h.MessageID),
		EncryptionContext:  h.EncryptionContext,
		FrameLengthInBytes: int(h.FrameLengthInBytes),
	}
	for _, edk := range h.EncryptedDataKeys {
		d.EncryptedDataKeys = append(d.EncryptedDataKeys, EncryptedDataKeySummary{
			ProviderID: edk.ProviderID, KeyARN: edk.KeyARN(), SizeInBytes: len(edk.Ciphertext),
		})
	}
	return d
}

// runDecrypt is step 3.
func runDecrypt(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	src, dst := w.path(EncryptedFile), w.path(CycledFile)
	in, err := os.Stat(src)
	if err != nil {
		return awsclient.WithHint(fmt.Errorf("read %s: %w", EncryptedFile, err), "run step 2 again to make it")
	}
	p.info("decrypting %s: KMS Decrypt unwraps the encrypted data key (KMS key pinned to %s, encryption context %s)",
		EncryptedFile, w.State.KeyARN, text.Context(EncryptionContext()))
	// show:decrypt-file begin
	h, err := esdk.DecryptFile(ctx, w.Clients.KMS, src, dst, esdk.DecryptOptions{
		KeyIDs:            []string{w.State.KeyARN},
		EncryptionContext: EncryptionContext(),
		OnProgress:        progressReporter(p),
	})
	// show:decrypt-file end
	if err != nil {
		if why := damage(err, src, w.State.KeyARN); why != "" {
			return awsclient.WithAdvice(err, awsclient.Advice{
				What: fmt.Sprintf("%s was modified or damaged since step 2 (%s); nothing was decrypted", EncryptedFile, why),
				Hint: "run step 2 again to make a fresh encrypted file, then step 3",
			})
		}
		return fmt.Errorf("decrypt %s: %w", EncryptedFile, err)
	}
	out, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("decrypt %s: %w", EncryptedFile, err)
	}
	verified := "the header and every frame"
	if h.Suite.Signed() {
		verified += ", then the signature"
	}
	p.line(LevelInfo, &FilesDetail{
		Input:  FileSummary{Path: src, SizeInBytes: in.Size()},
		Output: FileSummary{Path: dst, SizeInBytes: out.Size()},
	}, "wrote %s (%s), after %s verified", CycledFile, text.Size(out.Size()), verified)
	p.success(3)
	return nil
}

// damage says why a decryption of path failed because of the encrypted
// file itself, or returns "" when the failure lies elsewhere (the network,
// credentials, the key's state). keyARN is the workshop's key, which step 3
// pins.
func damage(err error, path, keyARN string) string {
	p, _ := awsclient.Diagnose(err)
	switch {
	case errors.Is(err, esdk.ErrNotMessage):
		return "it does not start like an AWS Encryption SDK message"
	case errors.Is(err, esdk.ErrLegacySuite):
		return "it is an ESDK 1.x message, whose algorithm suite lacks key commitment, not the one step 2 wrote"
	case errors.Is(err, esdk.ErrEncryptionContextMismatch):
		return "its encryption context is not the workshop's"
	case errors.Is(err, esdk.ErrTampered):
		return "it failed authentication"
	case errors.Is(err, esdk.ErrNoAllowedKey):
		return "its header names another KMS key than the workshop's"
	case p.Reason == awsclient.InvalidCiphertext, p.Reason == awsclient.IncorrectKey:
		// Step 3 pins the workshop's key and passes the workshop's
		// encryption context, so KMS refuses only a changed header.
		return "KMS refused its encrypted data key"
	case p.Reason != 0, ctxErr(err):
		return ""
	}
	// Not an AWS error: a header this program cannot read, or one with no
	// data key under a KMS key, was changed after step 2 wrote it.
	h, headerErr := readHeader(path)
	if headerErr != nil {
		if errors.Is(headerErr, fs.ErrNotExist) || errors.Is(headerErr, fs.ErrPermission) {
			return ""
		}
		return "its header cannot be read"
	}
	for _, edk := range h.EncryptedDataKeys {
		if edk.KeyARN == keyARN {
			return ""
		}
	}
	return "its header names no data key under the workshop's KMS key"
}

// ctxErr reports whether err is a cancellation or a deadline.
func ctxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// runCompare is step 4.
func runCompare(ctx context.Context, w *Workshop, r Reporter) error {
	p := reporter{w, r}
	original, err := summarize(ctx, w.path(PlaintextFile))
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	cycled, err := summarize(ctx, w.path(CycledFile))
	if errors.Is(err, fs.ErrNotExist) {
		return awsclient.WithHint(fmt.Errorf("compare: %s is missing", CycledFile), "run step 3 again to make it")
	}
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	for _, f := range []FileSummary{original, cycled} {
		p.info("%-22s %s, SHA-256 %s", filepath.Base(f.Path), text.Size(f.SizeInBytes), f.SHA256)
	}
	// show:compare begin
	match := original.SizeInBytes == cycled.SizeInBytes && original.SHA256 == cycled.SHA256
	// show:compare end
	detail := &CompareDetail{Original: original, Cycled: cycled, Match: match}
	if !match {
		p.line(LevelError, detail, "MISMATCH: %s differs from %s", CycledFile, PlaintextFile)
		return awsclient.WithHint(fmt.Errorf("%s differs from %s", CycledFile, PlaintextFile),
			"one of them changed after step 2 or 3: run steps 2 and 3 again, then step 4")
	}
	s, _ := Get(4)
	p.line(LevelSuccess, detail, "%s", s.Success)
	return nil
}

// summarize returns a file's size and SHA-256, reading it as a stream.
func summarize(ctx context.Context, path string) (FileSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileSummary{}, err
	}
	defer f.Close()
	// show:hash-file begin
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	// show:hash-file end
	if err != nil {
		return FileSummary{}, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return FileSummary{Path: path, SizeInBytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// progressReporter returns an OnProgress callback that reports a
// ProgressDetail at most every progressInterval, and always the last one.
func progressReporter(p reporter) func(done, total int64) {
	var last time.Time
	return func(done, total int64) {
		now := p.w.Clock.Now()
		if done != total && !last.IsZero() && now.Sub(last) < progressInterval {
			return
		}
		last = now
		p.detail(&ProgressDetail{DoneBytes: done, TotalBytes: total})
	}
}

// removeIfExists removes a file and reports whether it was there; a file
// that is not there is no error.
func removeIfExists(path string) (bool, error) {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
