package crypto

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/internal/clock"
)

// testKMS is the KMS the package tests use, with two keys and an alias of
// the first, and counters of the calls this package makes.
type testKMS struct {
	KMS
	keyARN      string
	otherKeyARN string
	alias       string
	client      *kms.Client

	generateDataKeyCalls, encryptCalls, decryptCalls atomic.Int64
}

// newTestKMS returns the fake AWS's KMS, reached by a real SDK client, with
// two new keys.
func newTestKMS(t testing.TB) *testKMS {
	t.Helper()
	k := openTestKMS(t, "")
	ctx := t.Context()
	for _, arn := range []*string{&k.keyARN, &k.otherKeyARN} {
		out, err := k.client.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("crypto tests")})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		*arn = aws.ToString(out.KeyMetadata.Arn)
	}
	if _, err := k.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(k.alias), TargetKeyId: aws.String(k.keyARN)}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	return k
}

// openTestKMS starts the fake AWS, from stateFile when it is set, and
// returns its KMS with no keys named.
func openTestKMS(t testing.TB, stateFile string) *testKMS {
	t.Helper()
	srv, err := fakeaws.New(fakeaws.Options{
		Clock:     clock.NewFake(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)),
		StateFile: stateFile,
	})
	if err != nil {
		t.Fatalf("fakeaws.New: %v", err)
	}
	client := kms.NewFromConfig(aws.Config{
		Region:      fakeaws.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: srv.RoundTripper()},
		// Every KMS error reaches the code under test, and each call
		// counts once.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	})
	return &testKMS{KMS: client, client: client, alias: "alias/kms_key_cse_usecase_3"}
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
