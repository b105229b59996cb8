package esdk

import (
	"bytes"
	"testing"
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
