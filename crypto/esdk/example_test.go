package esdk

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
)

func Example() {
	ctx := context.Background()
	var k KMS = &testKMS{} // in real use, a *kms.Client
	var msg bytes.Buffer
	_, err := Encrypt(ctx, k, &msg, strings.NewReader("hello, envelope"), EncryptOptions{
		KeyID:             "alias/esdk-test",
		EncryptionContext: map[string]string{"whatfor": "usecase-3-cse"},
	})
	if err != nil {
		panic(err)
	}

	h, err := ParseHeader(bytes.NewReader(msg.Bytes()))
	if err != nil {
		panic(err)
	}
	fmt.Println("suite:", h.Suite, h.Suite.Name())
	fmt.Println("frame length:", h.FrameLengthInBytes)
	fmt.Println("encryption context keys:", slices.Sorted(maps.Keys(h.EncryptionContext)))
	fmt.Println("data key under:", h.EncryptedDataKeys[0].KeyARN())

	_, err = Decrypt(ctx, k, os.Stdout, &msg, DecryptOptions{
		EncryptionContext: map[string]string{"whatfor": "usecase-3-cse"},
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// suite: 0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
	// frame length: 4096
	// encryption context keys: [aws-crypto-public-key whatfor]
	// data key under: arn:aws:kms:us-east-1:111122223333:key/0e5c0a7e-0000-4000-8000-000000e5d000
	// hello, envelope
}
