package fakeaws_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// BenchmarkGenerateDataKeyDecrypt is a GenerateDataKey then a Decrypt on a
// state file whose history already holds a number of events: the time per
// pair must not grow with the history.
func BenchmarkGenerateDataKeyDecrypt(b *testing.B) {
	for _, history := range []int{10, 10000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			stateFile := filepath.Join(b.TempDir(), "fake-aws.json")
			srv, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Clock: clock.Real{}})
			if err != nil {
				b.Fatal(err)
			}
			client := kms.NewFromConfig(sdkConfig(srv))
			ctx := context.Background()
			key, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
			if err != nil {
				b.Fatal(err)
			}
			gen := &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}
			for range history - 1 {
				if _, err := client.GenerateDataKey(ctx, gen); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				out, err := client.GenerateDataKey(ctx, gen)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: workshopContext, KeyId: aws.String(*key.KeyMetadata.Arn)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
