package steps

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/crypto/esdk"
	"cse-workshop/internal/text"
)

// The experiment on a tampered copy of encrypted_e.txt, and the layout of
// an AWS Encryption SDK message that lets the learner choose the byte.

// The sizes of the fixed fields of a version 2 message whose suite commits
// to its key (data-format/message-header.md, message-body.md).
const (
	layoutVersionSuiteIDBytes = 1 + 2 + 32 // version, suite ID, message ID
	layoutLengthBytes         = 2          // each length or count field
	layoutHeaderTailBytes     = 1 + 4 + 32 + 16
	layoutFrameHeadBytes      = 4 + 12 // sequence number, IV
	layoutFinalFrameHeadBytes = 4 + 4 + 12 + 4
	layoutTagBytes            = 16
	finalFrameMarker          = 0xFFFFFFFF
)

// byteRegion is a range of bytes of a message, [From, To), and what it holds.
type byteRegion struct {
	From, To int64
	What     string
}

// messageLayout is where the parts of a message lie in its file.
type messageLayout struct {
	Size        int64
	HeaderEnd   int64 // the body starts here
	FooterStart int64 // the signature starts here (Size when unsigned)
	Frames      int
	Regions     []byteRegion // in order, covering [0, Size)
}

// readLayout reads the layout of the message in path: its header, then
// the frames of its body one after the other.
func readLayout(path string) (*messageLayout, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	h, err := esdk.ParseHeader(io.TeeReader(f, &raw))
	if err != nil {
		return nil, err
	}
	if h.Version != 2 || !h.Suite.Committing() {
		return nil, fmt.Errorf("a version %d message of suite %s, not the one step 2 writes", h.Version, h.Suite)
	}
	l := &messageLayout{Size: info.Size(), HeaderEnd: int64(raw.Len())}

	// The header's parts: the encryption context's size is what is left
	// once the other fields are counted.
	edksBytes := int64(0)
	for _, edk := range h.EncryptedDataKeys {
		edksBytes += int64(3*layoutLengthBytes + len(edk.ProviderID) + len(edk.ProviderInfo) + len(edk.Ciphertext))
	}
	contextEnd := l.HeaderEnd - layoutHeaderTailBytes - edksBytes - layoutLengthBytes
	at := int64(0)
	add := func(size int64, what string) {
		l.Regions = append(l.Regions, byteRegion{From: at, To: at + size, What: what})
		at += size
	}
	add(layoutVersionSuiteIDBytes, "header: version, algorithm suite, message ID")
	add(contextEnd-at, "header: encryption context "+text.Context(shortPublicKey(h.EncryptionContext)))
	for i, edk := range h.EncryptedDataKeys {
		prefix := layoutLengthBytes // the count, before the first
		if i > 0 {
			prefix = 0
		}
		add(int64(prefix+2*layoutLengthBytes+len(edk.ProviderID)+len(edk.ProviderInfo)+layoutLengthBytes), "header: key provider and KMS key ARN")
		add(int64(len(edk.Ciphertext)), fmt.Sprintf("header: the encrypted data key (%d bytes, KMS's ciphertext)", len(edk.Ciphertext)))
	}
	add(l.HeaderEnd-at, "header: frame length, key commitment, header authentication tag")

	// The body: regular frames, then the final frame.
	pos := l.HeaderEnd
	var word [4]byte
	for {
		if _, err := f.ReadAt(word[:], pos); err != nil {
			return nil, fmt.Errorf("read frame %d: %w", l.Frames+1, err)
		}
		l.Frames++
		if binary.BigEndian.Uint32(word[:]) != finalFrameMarker {
			pos += layoutFrameHeadBytes + int64(h.FrameLengthInBytes) + layoutTagBytes
			continue
		}
		if _, err := f.ReadAt(word[:], pos+layoutFinalFrameHeadBytes-4); err != nil {
			return nil, fmt.Errorf("read the final frame: %w", err)
		}
		pos += layoutFinalFrameHeadBytes + int64(binary.BigEndian.Uint32(word[:])) + layoutTagBytes
		break
	}
	if pos > l.Size {
		return nil, errors.New("the body is cut short")
	}
	l.FooterStart = pos
	frames := "1 frame of encrypted content with its IV and tag"
	if l.Frames > 1 {
		frames = fmt.Sprintf("%d frames of encrypted content, each with its IV and tag", l.Frames)
	}
	add(l.FooterStart-at, "body: "+frames)
	if l.Size > l.FooterStart {
		add(l.Size-l.FooterStart, "footer: the ECDSA signature over the whole message")
	}
	return l, nil
}

// region returns what lies at offset.
func (l *messageLayout) region(offset int64) byteRegion {
	for _, r := range l.Regions {
		if offset >= r.From && offset < r.To {
			return r
		}
	}
	return byteRegion{From: offset, To: offset + 1, What: "past the message"}
}

// defaultOffset is a byte in the middle of the body.
func (l *messageLayout) defaultOffset() int64 {
	return l.HeaderEnd + (l.FooterStart-l.HeaderEnd)/2
}

// lines draws the layout, one region a line: "   0–34     header: …".
func (l *messageLayout) lines() []string {
	width := len(strconv.FormatInt(l.Size, 10))
	out := make([]string, len(l.Regions))
	for i, r := range l.Regions {
		out[i] = fmt.Sprintf("%*d–%-*d %s", width, r.From, width, r.To-1, r.What)
	}
	return out
}

// parseOffset reads a byte offset, in decimal or with 0x in hex, within a
// file of size bytes.
func parseOffset(s string, size int64) (int64, error) {
	s = strings.TrimSpace(s)
	want := fmt.Sprintf("type a byte offset from 0 to %d (decimal, or hex with 0x)", size-1)
	if s == "" {
		return 0, errors.New(want)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number: %s", s, want)
	}
	if n < 0 || n >= size {
		return 0, fmt.Errorf("%d is outside %s (%d bytes): %s", n, EncryptedFile, size, want)
	}
	return n, nil
}

func flipByteExperiment() Experiment {
	return Experiment{
		ID:     "flip-byte",
		Step:   3,
		Title:  "Flip one bit of a copy of encrypted_e.txt, then decrypt",
		Expect: "decryption is refused and nothing is written, wherever the changed byte lies",
		Explanation: "Every byte of an AWS Encryption SDK message is authenticated: the header by its authentication tag, " +
			"each frame by its AES-GCM tag, and the whole message by the ECDSA signature in its footer. " +
			"One changed bit anywhere makes decryption fail; a changed encrypted data key is refused by KMS itself. " +
			"No plaintext of a message that does not verify is released: the tutorial writes into a temporary file that becomes the output only once everything verified.",
		Source:  assets.Source{Title: "AWS Encryption SDK message format reference", URL: "https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html"},
		missing: missingBefore(3),
		prompt:  flipBytePrompt,
		run:     runFlipByte,
	}
}

// flipBytePrompt asks for the byte to change, showing what lies where.
func flipBytePrompt(w *Workshop) (Prompt, error) {
	l, err := workshopLayout(w)
	if err != nil {
		return Prompt{}, err
	}
	help := []string{fmt.Sprintf("%s is %d bytes: pick one from 0 to %d. What lies where:", EncryptedFile, l.Size, l.Size-1)}
	help = append(help, l.lines()...)
	return Prompt{
		Label:       "Byte offset",
		Default:     strconv.FormatInt(l.defaultOffset(), 10),
		Placeholder: fmt.Sprintf("0 to %d", l.Size-1),
		Help:        help,
		Check: func(input string) error {
			_, err := parseOffset(input, l.Size)
			return err
		},
	}, nil
}

// workshopLayout reads the layout of encrypted_e.txt, with advice when it
// is missing or is not the message step 2 writes.
func workshopLayout(w *Workshop) (*messageLayout, error) {
	l, err := readLayout(w.path(EncryptedFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, awsclient.WithHint(fmt.Errorf("%s is missing", EncryptedFile), "run step 2 again to make it")
	case err != nil:
		return nil, awsclient.WithHint(fmt.Errorf("read %s: %w", EncryptedFile, err), "run step 2 again to make a fresh encrypted file")
	}
	return l, nil
}

// runFlipByte flips the lowest bit of one byte of a copy of encrypted_e.txt
// and decrypts the copy as step 3 would. The learner's file is only read.
func runFlipByte(ctx context.Context, w *Workshop, p reporter, input string) (*ExperimentDetail, error) {
	l, err := workshopLayout(w)
	if err != nil {
		return nil, err
	}
	offset, err := parseOffset(input, l.Size)
	if err != nil {
		return nil, fmt.Errorf("read the byte offset: %w", err)
	}
	dir, err := os.MkdirTemp(w.path(privateDir), experimentDirPattern)
	if err != nil {
		return nil, fmt.Errorf("make a folder for the experiment: %w", err)
	}
	defer os.RemoveAll(dir)
	tampered, out := filepath.Join(dir, EncryptedFile), filepath.Join(dir, CycledFile)
	before, after, err := copyFlipped(w.path(EncryptedFile), tampered, offset)
	if err != nil {
		return nil, err
	}
	where := l.region(offset)
	p.info("copied %s and changed byte %d of the copy from 0x%02x to 0x%02x (one bit); it lies in the %s", EncryptedFile, offset, before, after, where.What)
	p.info("decrypting the copy as step 3 does, into %s", filepath.Join(privateDir, filepath.Base(dir), CycledFile))
	_, err = esdk.DecryptFile(ctx, w.Clients.KMS, tampered, out, esdk.DecryptOptions{
		KeyIDs:            []string{w.State.KeyARN},
		EncryptionContext: EncryptionContext(),
	})
	if ctxErr(err) {
		return nil, err
	}
	_, statErr := os.Stat(out)
	written := statErr == nil
	if err == nil {
		return &ExperimentDetail{Result: fmt.Sprintf("the copy with byte %d changed decrypted, which must never happen", offset)}, nil
	}
	why := damage(err, tampered, w.State.KeyARN)
	if why == "" {
		return nil, unexpected(w, "decrypt the changed copy", err)
	}
	code := awsCode(err)
	if code != "" {
		p.info("decryption refused: KMS refused the changed encrypted data key: %s", answer(err))
	} else {
		p.info("decryption refused: %s (%s)", why, text.OneLine(err.Error()))
	}
	if written {
		return &ExperimentDetail{Code: code, Result: fmt.Sprintf("decryption was refused, but %s was written", CycledFile)}, nil
	}
	p.info("nothing was written: %s does not exist", CycledFile)
	answer := "refused by the message's own checks: " + why
	if code != "" {
		answer = code + ", from KMS"
	}
	return &ExperimentDetail{
		Code:   code,
		Answer: answer,
		Result: fmt.Sprintf("with byte %d changed (%s), the copy did not decrypt (%s), and no plaintext was written",
			offset, where.What, why),
		AsPredicted: true,
	}, nil
}

// copyFlipped copies src to dst, 0600, with the lowest bit of the byte at
// offset flipped, and returns that byte before and after.
func copyFlipped(src, dst string, offset int64) (before, after byte, err error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, fmt.Errorf("read %s: %w", filepath.Base(src), err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	_, err = io.Copy(out, in)
	var b [1]byte
	if err == nil {
		_, err = in.ReadAt(b[:], offset)
	}
	before, after = b[0], b[0]^1
	if err == nil {
		_, err = out.WriteAt([]byte{after}, offset)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	return before, after, nil
}
