package fakeaws

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// A ciphertext blob is
//
//	version (1 byte) | key ID (16 bytes, the UUID) | nonce (12) | AES-256-GCM sealed data
//
// sealed under the key's material, with the first 17 bytes and the
// canonical encryption context as associated data. The blob names its key,
// so Decrypt needs no KeyId, and the context is bound to it, so Decrypt with
// another context fails.
const (
	blobVersion     = 0x01
	blobHeaderBytes = 1 + 16
	blobNonceBytes  = 12
	blobTagBytes    = 16
)

// canonicalContext encodes an encryption context unambiguously: pairs in
// byte order of their keys, each string length-prefixed. Keys and values are
// case-sensitive.
func canonicalContext(ctx map[string]string) []byte {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ctx[k])))
		b = append(b, ctx[k]...)
	}
	return b
}

func keyIDBytes(id string) [16]byte {
	var b [16]byte
	raw, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
	if err != nil || len(raw) != 16 {
		panic("fakeaws: malformed key ID " + id) // key IDs are made by newUUID
	}
	copy(b[:], raw)
	return b
}

func keyAEAD(k *kmsKey) cipher.AEAD {
	block, err := aes.NewCipher(k.Material)
	if err != nil {
		panic("fakeaws: key material: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("fakeaws: key material: " + err.Error())
	}
	return aead
}

func sealBlob(k *kmsKey, plaintext []byte, encCtx map[string]string) []byte {
	id := keyIDBytes(k.ID)
	blob := make([]byte, 0, blobHeaderBytes+blobNonceBytes+len(plaintext)+blobTagBytes)
	blob = append(blob, blobVersion)
	blob = append(blob, id[:]...)
	nonce := make([]byte, blobNonceBytes)
	rand.Read(nonce)
	blob = append(blob, nonce...)
	ad := append(blob[:blobHeaderBytes:blobHeaderBytes], canonicalContext(encCtx)...)
	return keyAEAD(k).Seal(blob, nonce, plaintext, ad)
}

// blobKeyID reads the key ID a blob names, or fails as KMS does on a blob it
// cannot parse.
func blobKeyID(blob []byte) (string, *apiError) {
	if len(blob) < blobHeaderBytes+blobNonceBytes+blobTagBytes || blob[0] != blobVersion {
		return "", badRequest("InvalidCiphertextException", "")
	}
	return formatUUID([16]byte(blob[1:blobHeaderBytes])), nil
}

func openBlob(k *kmsKey, blob []byte, encCtx map[string]string) ([]byte, *apiError) {
	nonce := blob[blobHeaderBytes : blobHeaderBytes+blobNonceBytes]
	ad := append(slices.Clip(blob[:blobHeaderBytes]), canonicalContext(encCtx)...)
	plaintext, err := keyAEAD(k).Open(nil, nonce, blob[blobHeaderBytes+blobNonceBytes:], ad)
	if err != nil {
		return nil, badRequest("InvalidCiphertextException", "")
	}
	return plaintext, nil
}
