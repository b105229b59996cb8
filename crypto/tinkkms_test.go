package crypto

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/tink-crypto/tink-go-awskms/v3/integration/awskms"
)

// The tink scheme wraps its data key with the KMS calls tink-go-awskms's
// AEAD makes, without linking Tink: each side opens what the other wraps,
// with and without an encryption context.
func TestTinkSchemeMatchesTinkAWSKMS(t *testing.T) {
	k := newTestKMS(t)
	for _, encryptionContext := range []map[string]string{nil, {"whatfor": "usecase-3-cse", "project": "demo"}} {
		ad, err := marshalEncryptionContext(encryptionContext)
		if err != nil {
			t.Fatal(err)
		}
		tink, err := awskms.NewAEADWithContext(t.Context(), k.keyARN, awskms.WithKMS(k.client))
		if err != nil {
			t.Fatal(err)
		}

		h := &Header{Scheme: SchemeTink, EncryptionContext: encryptionContext}
		dataKey, err := newDataKey(t.Context(), k, k.alias, h, ad)
		if err != nil {
			t.Fatalf("newDataKey(context %v) = %v", encryptionContext, err)
		}
		if h.KeyARN != k.keyARN {
			t.Errorf("newDataKey(context %v): header key ARN %q, want %q", encryptionContext, h.KeyARN, k.keyARN)
		}
		opened, err := tink.DecryptWithContext(t.Context(), h.EncryptedDataKey, ad)
		if err != nil || !bytes.Equal(opened, dataKey) {
			t.Errorf("tink-go-awskms Decrypt(our encrypted data key, context %v) = %v, want the data key", encryptionContext, err)
		}

		want := make([]byte, dataKeySizeInBytes)
		rand.Read(want)
		wrapped, err := tink.EncryptWithContext(t.Context(), want, ad)
		if err != nil {
			t.Fatal(err)
		}
		h = &Header{Scheme: SchemeTink, KeyARN: k.keyARN, EncryptionContext: encryptionContext, EncryptedDataKey: wrapped}
		got, err := unwrapDataKey(t.Context(), k, k.keyARN, h, ad)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("unwrapDataKey(tink-go-awskms's encrypted data key, context %v) = %v, want its data key", encryptionContext, err)
		}
	}
}
