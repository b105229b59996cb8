package esdk

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// The test double's one KMS key, under its ARN, key id and alias.
const (
	testKeyARN   = "arn:aws:kms:us-east-1:111122223333:key/0e5c0a7e-0000-4000-8000-000000e5d000"
	testKeyID    = "0e5c0a7e-0000-4000-8000-000000e5d000"
	testKeyAlias = "alias/esdk-test"
	otherKeyARN  = "arn:aws:kms:us-east-1:111122223333:key/0e5c0a7e-0000-4000-8000-0000000000ff"
)

// testKMS is a deterministic KMS double: its data keys are random, but its
// ciphertext blobs are the data key sealed under a fixed master key, with the
// key ARN and the encryption context as associated data, so a blob it made
// once (in a frozen vector) opens forever, and only under the same context.
// It records the requests it got.
type testKMS struct {
	mu       sync.Mutex
	generate []*kms.GenerateDataKeyInput
	decrypt  []*kms.DecryptInput
	// fixedDataKey, when set, is the data key of every GenerateDataKey.
	fixedDataKey []byte
}

var testMasterKey = sha256.Sum256([]byte("cse-workshop esdk test double master key"))

func (k *testKMS) aead() cipher.AEAD {
	block, _ := aes.NewCipher(testMasterKey[:])
	a, _ := cipher.NewGCM(block)
	return a
}

func (k *testKMS) blobAAD(ec map[string]string) []byte {
	encoded, err := marshalEncryptionContext(ec)
	if err != nil {
		panic(err)
	}
	return append([]byte(testKeyARN), encoded...)
}

// resolve returns the key ARN that keyID names, or "".
func resolve(keyID string) string {
	switch keyID {
	case testKeyARN, testKeyID, testKeyAlias:
		return testKeyARN
	}
	return ""
}

type kmsError struct{ code, message string }

func (e *kmsError) Error() string { return e.code + ": " + e.message }

func (k *testKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	k.mu.Lock()
	k.generate = append(k.generate, in)
	k.mu.Unlock()
	if resolve(aws.ToString(in.KeyId)) == "" {
		return nil, &kmsError{"NotFoundException", "no such key"}
	}
	if aws.ToInt32(in.NumberOfBytes) != 32 || in.KeySpec != "" {
		return nil, &kmsError{"ValidationException", "want NumberOfBytes 32"}
	}
	dataKey := make([]byte, 32)
	rand.Read(dataKey)
	if k.fixedDataKey != nil {
		copy(dataKey, k.fixedDataKey)
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	blob := k.aead().Seal(nonce, nonce, dataKey, k.blobAAD(in.EncryptionContext))
	return &kms.GenerateDataKeyOutput{KeyId: aws.String(testKeyARN), Plaintext: dataKey, CiphertextBlob: blob}, nil
}

func (k *testKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	k.mu.Lock()
	k.decrypt = append(k.decrypt, in)
	k.mu.Unlock()
	if resolve(aws.ToString(in.KeyId)) == "" {
		return nil, &kmsError{"IncorrectKeyException", "the ciphertext was not encrypted under that key"}
	}
	blob := in.CiphertextBlob
	if len(blob) < 12 {
		return nil, &kmsError{"InvalidCiphertextException", ""}
	}
	dataKey, err := k.aead().Open(nil, blob[:12], blob[12:], k.blobAAD(in.EncryptionContext))
	if err != nil {
		return nil, &kmsError{"InvalidCiphertextException", ""}
	}
	return &kms.DecryptOutput{KeyId: aws.String(testKeyARN), Plaintext: dataKey}, nil
}

func (k *testKMS) calls() (generate, decrypt int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.generate), len(k.decrypt)
}

// ServeHTTP serves GenerateDataKey and Decrypt over KMS's wire protocol (AWS
// JSON 1.1), for the official SDK to make frozen vectors with.
func (k *testKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct {
		KeyId             *string
		NumberOfBytes     *int32
		KeySpec           string
		EncryptionContext map[string]string
		CiphertextBlob    []byte
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out any
	var err error
	switch target := r.Header.Get("X-Amz-Target"); target {
	case "TrentService.GenerateDataKey":
		var o *kms.GenerateDataKeyOutput
		o, err = k.GenerateDataKey(r.Context(), &kms.GenerateDataKeyInput{KeyId: in.KeyId, NumberOfBytes: in.NumberOfBytes, EncryptionContext: in.EncryptionContext})
		if err == nil {
			out = map[string]string{"KeyId": *o.KeyId, "Plaintext": base64.StdEncoding.EncodeToString(o.Plaintext), "CiphertextBlob": base64.StdEncoding.EncodeToString(o.CiphertextBlob)}
		}
	case "TrentService.Decrypt":
		var o *kms.DecryptOutput
		o, err = k.Decrypt(r.Context(), &kms.DecryptInput{KeyId: in.KeyId, CiphertextBlob: in.CiphertextBlob, EncryptionContext: in.EncryptionContext})
		if err == nil {
			out = map[string]string{"KeyId": *o.KeyId, "Plaintext": base64.StdEncoding.EncodeToString(o.Plaintext), "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
		}
	default:
		err = &kmsError{"UnknownOperationException", target}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	var ke *kmsError
	if errors.As(err, &ke) {
		w.WriteHeader(http.StatusBadRequest)
		out = map[string]string{"__type": ke.code, "message": ke.message}
	}
	json.NewEncoder(w).Encode(out)
}
