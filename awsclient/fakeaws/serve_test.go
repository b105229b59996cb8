package fakeaws_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/awsclient/fakeaws/fakeawstest"
	"cse-workshop/internal/clock"
)

func TestServeOverLoopback(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	cfg := aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAOTHERKEY", "secret", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
	ctx := context.Background()
	client := kms.NewFromConfig(cfg)
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey over loopback: %v", err)
	}
	gen, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.Arn, KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
	if err != nil {
		t.Fatalf("GenerateDataKey over loopback: %v", err)
	}
	if _, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gen.CiphertextBlob, EncryptionContext: workshopContext}); err != nil {
		t.Errorf("Decrypt over loopback: %v", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != fakeaws.DefaultAccountID {
		t.Errorf("GetCallerIdentity over loopback = %v, %v; want account %s", id, err, fakeaws.DefaultAccountID)
	}
}

// Clients other than the Go SDK name the CloudTrail operation by its full
// Smithy shape ID; the fake must dispatch on the part after the last dot.
func TestCloudTrailFullTargetName(t *testing.T) {
	srv, err := fakeaws.New(fakeaws.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fakeawstest.Serve(t, srv)
	tests := []struct {
		target     string
		wantStatus int
	}{
		{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents", http.StatusOK},
		{"CloudTrail_20131101.LookupEvents", http.StatusOK},
		{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.NoSuchOperation", http.StatusBadRequest},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(`{"MaxResults": 5}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", tt.target)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240301/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", tt.target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("POST %s = %d %s, want %d", tt.target, resp.StatusCode, body, tt.wantStatus)
			continue
		}
		if resp.Header.Get("x-amzn-RequestId") == "" {
			t.Errorf("POST %s answer has no x-amzn-RequestId", tt.target)
		}
		if tt.wantStatus != http.StatusOK {
			var e struct {
				Type string `json:"__type"`
			}
			if json.Unmarshal(body, &e) != nil || e.Type != "UnknownOperationException" {
				t.Errorf("POST %s = %s, want UnknownOperationException", tt.target, body)
			}
			continue
		}
		var out struct{ Events []json.RawMessage }
		if err := json.Unmarshal(body, &out); err != nil || out.Events == nil {
			t.Errorf("POST %s = %s, want an Events list", tt.target, body)
		}
	}
}
