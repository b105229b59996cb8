package crypto

import (
	"bufio"
	"context"
	"io"

	"cse-workshop/crypto/esdk"
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

// Either is what DecryptEitherFile found: a CSEW file's header, or an AWS
// Encryption SDK message's; exactly one is set once the format is known.
type Either struct {
	CSEW    *Header
	Message *esdk.Header
	// IsCSEW says which format src was, also when decryption failed.
	IsCSEW bool
}

// DecryptEitherFile decrypts src into dst as DecryptFile does, whichever of
// the two formats src holds: a CSEW file (by its magic) with csewOpts, else
// an AWS Encryption SDK message with messageOpts. It tells them apart by
// the first bytes of the stream itself, so src may be a pipe, a FIFO or a
// terminal, which cannot be opened twice.
func DecryptEitherFile(ctx context.Context, k KMS, src, dst string, csewOpts DecryptOptions, messageOpts esdk.DecryptOptions) (Either, error) {
	var got Either
	err := safefile.Transform(ctx, src, dst, func(w io.Writer, r io.Reader, srcBytes int64) error {
		br := bufio.NewReader(r)
		first, _ := br.Peek(len(magic)) // a shorter input is no CSEW file
		var err error
		if got.IsCSEW = LooksLikeFile(first); got.IsCSEW {
			got.CSEW, err = decrypt(ctx, k, w, br, srcBytes, csewOpts)
			return err
		}
		got.Message, err = esdk.Decrypt(ctx, k, w, br, messageOpts)
		return err
	})
	return got, err
}
