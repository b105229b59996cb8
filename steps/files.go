package steps

import (
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
	"cse-workshop/crypto"
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
	p.info("encrypting %s (%s) under %s with encryption context %s", PlaintextFile, text.Size(in.Size()), AliasName, text.Context(encryptionContext))

	at := w.Clock.Now()
	h, err := crypto.EncryptFile(ctx, w.Clients.KMS, src, dst, crypto.EncryptOptions{
		KeyID:             AliasName,
		EncryptionContext: encryptionContext,
		OnDataKey: func(info crypto.DataKeyInfo) {
			edk := info.Header.EncryptedDataKey
			detail := &DataKeyDetail{
				MaskedDataKey:           info.MaskedDataKey,
				EncryptedDataKeySize:    len(edk),
				EncryptedDataKeyPreview: hex.EncodeToString(edk[:min(len(edk), previewSizeInBytes)]),
				Header:                  info.Header,
			}
			p.line(LevelInfo, detail, "KMS GenerateDataKey returned a data key, %s (shown masked; it stays in memory only)", info.MaskedDataKey)
			p.info("and the same data key encrypted under the KMS key: %d bytes, %s…, kept in the file's header",
				len(edk), detail.EncryptedDataKeyPreview)
		},
		OnProgress: progressReporter(p),
	})
	if err != nil {
		return fmt.Errorf("encrypt %s: %w", PlaintextFile, err)
	}
	if h.KeyARN != w.State.KeyARN {
		// The alias was moved to another key behind the workshop's back;
		// step 3 pins the workshop's key and would fail.
		removeIfExists(dst)
		return awsclient.WithHint(fmt.Errorf("%s now points to KMS key %s, not to the workshop's key %s", AliasName, h.KeyARN, w.State.KeyARN),
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
	}, "wrote %s (%s): the header, then the data encrypted with the data key", EncryptedFile, text.Size(out.Size()))
	p.success(2)
	return nil
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
	_, err = crypto.DecryptFile(ctx, w.Clients.KMS, src, dst, crypto.DecryptOptions{
		KeyID:             w.State.KeyARN,
		EncryptionContext: EncryptionContext(),
		OnProgress:        progressReporter(p),
	})
	if err != nil {
		if why := damage(err); why != "" {
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
	p.line(LevelInfo, &FilesDetail{
		Input:  FileSummary{Path: src, SizeInBytes: in.Size()},
		Output: FileSummary{Path: dst, SizeInBytes: out.Size()},
	}, "wrote %s (%s), after the whole file authenticated", CycledFile, text.Size(out.Size()))
	p.success(3)
	return nil
}

// damage says why a decryption failed because of the encrypted file
// itself, or returns "" when the failure lies elsewhere (the network,
// credentials, the key's state).
func damage(err error) string {
	p, _ := awsclient.Diagnose(err)
	switch {
	case errors.Is(err, crypto.ErrNotEncrypted):
		return "it does not start like an encrypted file"
	case errors.Is(err, crypto.ErrUnsupportedVersion):
		return "its header names an unknown format version"
	case errors.Is(err, crypto.ErrEncryptionContextMismatch):
		return "its encryption context is not the workshop's"
	case errors.Is(err, crypto.ErrTampered):
		return "it failed authentication"
	case p.Reason == awsclient.InvalidCiphertext, p.Reason == awsclient.IncorrectKey:
		// Step 3 pins the workshop's key and passes the workshop's
		// encryption context, so KMS refuses only a changed header.
		return "KMS refused its encrypted data key"
	}
	return ""
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
	match := original.SizeInBytes == cycled.SizeInBytes && original.SHA256 == cycled.SHA256
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
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
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
