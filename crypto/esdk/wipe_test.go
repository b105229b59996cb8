package esdk

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// The batches made after the wipe is deferred, as a pipeline makes them, are
// wiped too, each as far as it ever held plaintext.
func TestMadeBatchesWipeWhatHeldPlaintext(t *testing.T) {
	var m madeBatches
	first := m.keep(&frameBatch{in: []byte("secret, then untouched"), held: 6})
	var second *frameBatch
	func() {
		defer m.wipe(func(b *frameBatch) []byte { return b.in })
		second = m.keep(&frameBatch{in: []byte("more"), held: 4})
	}()
	if !bytes.Equal(first.in, []byte("\x00\x00\x00\x00\x00\x00, then untouched")) {
		t.Errorf("first batch after the wipe: %q", first.in)
	}
	if !bytes.Equal(second.in, make([]byte, 4)) {
		t.Errorf("a batch made after the wipe was deferred was not wiped: %q", second.in)
	}
}

// A read that fails part-way, as a Ctrl-C on a pipe makes it, still counts
// what it read as held: the wipe clears it.
func TestWipeAfterAFailedRead(t *testing.T) {
	secret := bytes.Repeat([]byte("SECRET!!"), 100)
	r := newPlaintextReader(io.MultiReader(bytes.NewReader(secret), iotest.ErrReader(os.ErrDeadlineExceeded)), 4096, -1)
	var m madeBatches
	b := m.keep(r.newBatch(frameSealer{}))
	if _, err := r.read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read = %v, want the source's error", err)
	}
	m.wipe(func(b *frameBatch) []byte { return b.in })
	if bytes.Contains(b.in[:cap(b.in)], []byte("SECRET!!")) {
		t.Errorf("after a failed read and the wipe, plaintext is still in the batch (held %d)", b.held)
	}
}

// An unsigned message's frames are opened in place: once the batch is
// wiped, no plaintext is left in its buffer, neither where it was gathered
// nor where each frame was opened.
func TestWipeAfterOpeningInPlace(t *testing.T) {
	const frameLength = 100
	key := make([]byte, 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	messageID := make([]byte, messageIDSizeV2InBytes)
	plaintext := bytes.Repeat([]byte("SECRET!!"), 40) // three whole frames and a final one of 20 bytes
	pr := newPlaintextReader(bytes.NewReader(plaintext), frameLength, int64(len(plaintext)))
	sealed := pr.newBatch(frameSealer{aead: aead, messageID: messageID})
	if last, err := pr.read(sealed); err != nil || !last {
		t.Fatalf("read plaintext = %v, %v; want the whole of it", last, err)
	}
	sealed.seal(frameLength)

	mr := newMessageReader(bytes.NewReader(bytes.Clone(sealed.out)), frameLength, false, int64(len(plaintext)))
	var m madeBatches
	b := m.keep(mr.newBatch())
	if !b.inPlace {
		t.Fatal("an unsigned message's batch is not opened in place")
	}
	if _, err := mr.read(b); err != nil {
		t.Fatal(err)
	}
	if err := (&frameOpener{aead: aead, messageID: messageID, frameLength: frameLength}).open(b); err != nil || !bytes.Equal(b.out, plaintext) {
		t.Fatalf("open = %v, %q; want the plaintext", err, b.out)
	}
	m.wipe(openedPlaintext)
	if bytes.Contains(b.in[:cap(b.in)], []byte("SECRET")) {
		t.Errorf("after the wipe, plaintext is left in the batch's buffer")
	}
}
