// Command esdkoracle encrypts and decrypts files with the official AWS
// Encryption SDK for Go, for the tests of cse-workshop/crypto/esdk to hold
// that package to. It is never linked into cse-workshop.
//
//	esdkoracle encrypt -key ARN [-suite 0x0578] [-frame 4096] [-context k=v]... IN OUT
//	esdkoracle decrypt -key ARN [-allow-legacy] [-context k=v]... IN OUT
//
// KMS is reached as the AWS SDK's defaults say: AWS_ENDPOINT_URL,
// AWS_REGION and the credentials in the environment. Decrypt prints the
// message's encryption context and suite as JSON on stdout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	mpl "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygenerated"
	mpltypes "github.com/aws/aws-cryptographic-material-providers-library/releases/go/mpl/awscryptographymaterialproviderssmithygeneratedtypes"
	esdk "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygenerated"
	esdktypes "github.com/aws/aws-encryption-sdk/releases/go/encryption-sdk/awscryptographyencryptionsdksmithygeneratedtypes"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// contextFlag collects -context k=v pairs.
type contextFlag map[string]string

func (c contextFlag) String() string { return fmt.Sprint(map[string]string(c)) }

func (c contextFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want k=v, got %q", s)
	}
	c[k] = v
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "esdkoracle:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || (args[0] != "encrypt" && args[0] != "decrypt") {
		return fmt.Errorf("usage: esdkoracle encrypt|decrypt -key ARN [flags] IN OUT")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	keyID := fs.String("key", "", "KMS key ARN (or, to encrypt, any key id)")
	suite := fs.String("suite", "0x0578", "algorithm suite ID, to encrypt")
	frame := fs.Int64("frame", 4096, "frame length in bytes, to encrypt")
	allowLegacy := fs.Bool("allow-legacy", false, "decrypt messages without key commitment")
	ec := contextFlag{}
	fs.Var(ec, "context", "encryption context pair k=v (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 2 || *keyID == "" {
		return fmt.Errorf("want -key and two files, IN and OUT")
	}
	in, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	matProv, err := mpl.NewClient(mpltypes.MaterialProvidersConfig{})
	if err != nil {
		return err
	}
	keyring, err := matProv.CreateAwsKmsKeyring(ctx, mpltypes.CreateAwsKmsKeyringInput{
		KmsClient: kms.NewFromConfig(cfg),
		KmsKeyId:  *keyID,
	})
	if err != nil {
		return err
	}
	suiteID := mpltypes.ESDKAlgorithmSuiteId(*suite)
	policy := mpltypes.ESDKCommitmentPolicyRequireEncryptRequireDecrypt
	switch {
	case args[0] == "encrypt" && (suiteID == "0x0378" || suiteID == "0x0178"):
		// The legacy suites can only be written as ESDK 1.x did.
		policy = mpltypes.ESDKCommitmentPolicyForbidEncryptAllowDecrypt
	case *allowLegacy:
		policy = mpltypes.ESDKCommitmentPolicyRequireEncryptAllowDecrypt
	}
	client, err := esdk.NewClient(esdktypes.AwsEncryptionSdkConfig{CommitmentPolicy: &policy})
	if err != nil {
		return err
	}

	if args[0] == "encrypt" {
		out, err := client.Encrypt(ctx, esdktypes.EncryptInput{
			Plaintext:         in,
			EncryptionContext: ec,
			Keyring:           keyring,
			AlgorithmSuiteId:  &suiteID,
			FrameLength:       frame,
		})
		if err != nil {
			return err
		}
		return os.WriteFile(fs.Arg(1), out.Ciphertext, 0o600)
	}
	out, err := client.Decrypt(ctx, esdktypes.DecryptInput{
		Ciphertext:        in,
		EncryptionContext: ec,
		Keyring:           keyring,
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(fs.Arg(1), out.Plaintext, 0o600); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"suite":             out.AlgorithmSuiteId,
		"encryptionContext": out.EncryptionContext,
	})
}
