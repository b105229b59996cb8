package fakeaws_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
)

// The real SDK client reaches the fake in process through RoundTripper.
func ExampleServer_RoundTripper() {
	srv, err := fakeaws.New(fakeaws.Options{})
	if err != nil {
		panic(err)
	}
	client := kms.NewFromConfig(aws.Config{
		Region:      fakeaws.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: srv.RoundTripper()},
	})
	ctx := context.Background()
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		panic(err)
	}
	encCtx := map[string]string{"whatfor": "usecase-3-cse"}
	gen, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: encCtx})
	if err != nil {
		panic(err)
	}
	dec, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: encCtx})
	if err != nil {
		panic(err)
	}
	fmt.Println("same data key:", bytes.Equal(dec.Plaintext, gen.Plaintext))
	_, err = client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob})
	fmt.Println("without the encryption context:", err != nil)
	// Output:
	// same data key: true
	// without the encryption context: true
}
