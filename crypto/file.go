package crypto

import (
	"context"
	"io"

	"cse-workshop/crypto/internal/safefile"
)

// EncryptFile encrypts src into dst atomically: dst appears, mode 0600, only
// once it is complete; on any error or cancellation there is no new file and
// an existing dst is untouched.
//
// src may be a pipe, a FIFO or a terminal: cancelling ctx stops a read (or,
// for a FIFO, an open) that waits for its writer, and if ctx is done when
// src ends, the end is taken for the interruption it probably is (a producer
// killed by the same Ctrl-C) and nothing is written.
func EncryptFile(ctx context.Context, k KMS, src, dst string, opts EncryptOptions) (*Header, error) {
	var h *Header
	err := safefile.Transform(ctx, src, dst, func(w io.Writer, r io.Reader, srcBytes int64) error {
		var err error
		h, err = encrypt(ctx, k, w, r, srcBytes, opts)
		return err
	})
	return h, err
}

// DecryptFile decrypts src into dst atomically; dst appears, mode 0600, only
// if the whole stream authenticated. On any error or cancellation there is no
// new file and an existing dst is untouched. src may be a pipe, a FIFO or a
// terminal, as for EncryptFile.
func DecryptFile(ctx context.Context, k KMS, src, dst string, opts DecryptOptions) (*Header, error) {
	var h *Header
	err := safefile.Transform(ctx, src, dst, func(w io.Writer, r io.Reader, srcBytes int64) error {
		var err error
		h, err = decrypt(ctx, k, w, r, srcBytes, opts)
		return err
	})
	return h, err
}
