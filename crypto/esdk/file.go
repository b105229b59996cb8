package esdk

// transformFile and its helpers are crypto/file.go's, copied so that this
// package does not import crypto (which will import it to read either
// format); the two copies are to become one shared helper.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// errSameFile is returned when the source and the destination are one file.
var errSameFile = errors.New("the source and the destination are the same file")

// EncryptFile encrypts src into dst atomically: dst appears, mode 0600, only
// once it is complete; on any error or cancellation there is no new file and
// an existing dst is untouched.
func EncryptFile(ctx context.Context, k KMS, src, dst string, opts EncryptOptions) (*Header, error) {
	var h *Header
	err := transformFile(src, dst, func(w io.Writer, r io.Reader, srcBytes int64) error {
		var err error
		h, err = encrypt(ctx, k, w, r, srcBytes, opts)
		return err
	})
	return h, err
}

// DecryptFile decrypts src into dst atomically; dst appears, mode 0600, only
// if the header, every frame and the signature verified. On any error or
// cancellation there is no new file and an existing dst is untouched.
func DecryptFile(ctx context.Context, k KMS, src, dst string, opts DecryptOptions) (*Header, error) {
	var h *Header
	err := transformFile(src, dst, func(w io.Writer, r io.Reader, srcBytes int64) error {
		var err error
		h, err = decrypt(ctx, k, w, r, srcBytes, opts)
		return err
	})
	return h, err
}

// transformFile runs transform from src into a temporary file beside dst,
// then syncs it and renames it to dst; on failure it removes the temporary
// file.
func transformFile(src, dst string, transform func(w io.Writer, r io.Reader, srcBytes int64) error) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("the source is a folder, not a file")
	}
	if same, err := sameFile(info, src, dst); err != nil {
		return err
	} else if same {
		return errSameFile
	}
	// The output is renamed into place, which would replace a device, a
	// pipe or a link to one (/dev/stdout) with a plain file.
	if dstInfo, err := os.Stat(dst); err == nil && !dstInfo.Mode().IsRegular() {
		if dstInfo.IsDir() {
			return fmt.Errorf("write %s: it is a folder, not a file", dst)
		}
		return fmt.Errorf("write %s: not a regular file (the output can only go to a file)", dst)
	}
	srcBytes := int64(-1)
	if info.Mode().IsRegular() {
		srcBytes = info.Size()
	}

	// os.CreateTemp makes the file with mode 0600.
	out, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write %s: the folder %s does not exist", dst, filepath.Dir(dst))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", dst, err)
	}
	// Removed on every way out but success, a panic in a callback included:
	// a partial file may hold plaintext that was never authenticated.
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(out.Name())
		}
	}()
	if err := transform(out, in, srcBytes); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(out.Name(), dst); err != nil {
		return err
	}
	done = true
	syncDir(filepath.Dir(dst))
	return nil
}

// sameFile reports whether dst names the file src, which is already open.
func sameFile(srcInfo os.FileInfo, src, dst string) (bool, error) {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return true, nil
	}
	dstInfo, err := os.Stat(dst)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(srcInfo, dstInfo), nil
}

// syncDir makes a rename in dir durable. Where directories cannot be synced
// the rename is still atomic, only not yet on disk, so errors are ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
