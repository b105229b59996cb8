package crypto

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// testKMS is the KMS the package tests use, with two keys and an alias of
// the first, and counters of the calls made.
type testKMS struct {
	KMS
	keyARN      string
	otherKeyARN string
	alias       string

	generateDataKeyCalls, encryptCalls, decryptCalls atomic.Int64
}

func newTestKMS(t testing.TB) *testKMS {
	t.Helper()
	d := &kmsDouble{keys: map[string][]byte{}, aliases: map[string]string{}}
	k := &testKMS{KMS: d}
	k.keyARN = d.createKey("1234abcd-12ab-34cd-56ef-1234567890ab")
	k.otherKeyARN = d.createKey("0987dcba-09fe-87dc-65ba-ab0987654321")
	k.alias = "alias/kms_key_cse_usecase_3"
	d.aliases[k.alias] = k.keyARN
	return k
}

func (k *testKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	k.generateDataKeyCalls.Add(1)
	return k.KMS.GenerateDataKey(ctx, in, optFns...)
}

func (k *testKMS) Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	k.encryptCalls.Add(1)
	return k.KMS.Encrypt(ctx, in, optFns...)
}

func (k *testKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	k.decryptCalls.Add(1)
	return k.KMS.Decrypt(ctx, in, optFns...)
}

func (k *testKMS) calls() int64 {
	return k.generateDataKeyCalls.Load() + k.encryptCalls.Load() + k.decryptCalls.Load()
}

// kmsDouble wraps with AES-GCM under a per-key secret, binding the key ARN
// and the encryption context; its blobs name their key, as KMS's do.
type kmsDouble struct {
	mu      sync.Mutex
	keys    map[string][]byte // by ARN
	aliases map[string]string // alias name to ARN
}

const doubleARNPrefix = "arn:aws:kms:us-east-1:111122223333:key/"

func (d *kmsDouble) createKey(id string) string {
	secret := make([]byte, 32)
	rand.Read(secret)
	arn := doubleARNPrefix + id
	d.keys[arn] = secret
	return arn
}

func (d *kmsDouble) resolve(keyID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	arn := keyID
	if !strings.HasPrefix(keyID, "arn:") && !strings.HasPrefix(keyID, "alias/") {
		arn = doubleARNPrefix + keyID
	}
	if a, ok := d.aliases[keyID]; ok {
		arn = a
	}
	if _, ok := d.keys[arn]; !ok {
		return "", &types.NotFoundException{Message: aws.String(fmt.Sprintf("Key '%s' does not exist", keyID))}
	}
	return arn, nil
}

func (d *kmsDouble) aead(arn string) cipher.AEAD {
	d.mu.Lock()
	defer d.mu.Unlock()
	block, err := aes.NewCipher(d.keys[arn])
	if err != nil {
		panic(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return gcm
}

func doubleAD(arn string, ec map[string]string) []byte {
	b, err := json.Marshal(ec) // sorted keys
	if err != nil {
		panic(err)
	}
	return append([]byte(arn+"\x00"), b...)
}

func (d *kmsDouble) wrap(keyID string, plaintext []byte, ec map[string]string) (blob []byte, arn string, err error) {
	if arn, err = d.resolve(keyID); err != nil {
		return nil, "", err
	}
	nonce := make([]byte, 12)
	rand.Read(nonce)
	blob = append([]byte{byte(len(arn))}, arn...)
	blob = append(blob, nonce...)
	return d.aead(arn).Seal(blob, nonce, plaintext, doubleAD(arn, ec)), arn, nil
}

func (d *kmsDouble) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	if in.KeySpec != types.DataKeySpecAes256 {
		return nil, &types.InvalidKeyUsageException{Message: aws.String("want AES_256")}
	}
	dataKey := make([]byte, 32)
	rand.Read(dataKey)
	blob, arn, err := d.wrap(aws.ToString(in.KeyId), dataKey, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &kms.GenerateDataKeyOutput{CiphertextBlob: blob, KeyId: aws.String(arn), Plaintext: dataKey}, nil
}

func (d *kmsDouble) Encrypt(ctx context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	blob, arn, err := d.wrap(aws.ToString(in.KeyId), in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	return &kms.EncryptOutput{CiphertextBlob: blob, KeyId: aws.String(arn)}, nil
}

func (d *kmsDouble) Decrypt(ctx context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	blob := in.CiphertextBlob
	invalid := &types.InvalidCiphertextException{Message: aws.String("")}
	if len(blob) < 1 || len(blob) < 1+int(blob[0])+12+16 {
		return nil, invalid
	}
	arn, err := d.resolve(string(blob[1 : 1+blob[0]]))
	if err != nil {
		return nil, invalid
	}
	if in.KeyId != nil {
		pinned, err := d.resolve(*in.KeyId)
		if err != nil {
			return nil, err
		}
		if pinned != arn {
			return nil, &types.IncorrectKeyException{Message: aws.String("The key ID in the request does not identify a CMK that can perform this operation.")}
		}
	}
	rest := blob[1+blob[0]:]
	plaintext, err := d.aead(arn).Open(nil, rest[:12], rest[12:], doubleAD(arn, in.EncryptionContext))
	if err != nil {
		return nil, invalid
	}
	return &kms.DecryptOutput{KeyId: aws.String(arn), Plaintext: plaintext}, nil
}
