package fidelity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"cse-workshop/awsclient/fakeaws"
)

// What the original workshop created (see FACTS: step 1 and steps 2-3).
const (
	workshopAlias       = "alias/kms_key_cse_usecase_3"
	workshopDescription = "Master key to encrypt objects written to S3"
	workshopTagKey      = "crypto-aws-encryption"
	workshopTagValue    = "builder-aws-session"

	// unknownKeyID is well formed and names no key.
	unknownKeyID = "0b5e5e6b-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
	unknownAlias = "alias/no_such_alias"
)

func workshopContext() map[string]string { return map[string]string{"whatfor": "usecase-3-cse"} }

// outcomeOK is the outcome of a call that succeeded; any other outcome is
// the exception name (the SDK's ErrorCode).
const outcomeOK = "OK"

// facts are what a caller can see in one answer, written so that they read
// the same for two backends that behave alike: key identifiers are replaced
// by what they name ("workshop key ARN"), sizes and states are spelled out.
type facts map[string]string

// observation is what one case did on one backend.
type observation struct {
	Outcome string
	Facts   facts
}

// keyRef is one key of the sequence on one backend.
type keyRef struct {
	ID, ARN string
	created int64 // CreationDate, epoch seconds
}

// kmsSession is the state the sequence carries from case to case on one
// backend. The plaintext data key lives only here, in memory: it is compared,
// never printed.
type kmsSession struct {
	client *kms.Client

	key, other keyRef // the workshop's key and a second key

	dataKey, encryptedDataKey []byte // from GenerateDataKey under the alias
	secondDataKey             []byte

	message                     []byte // a small message for Encrypt
	encryptedMessage            []byte
	encryptedUnderOther         []byte
	secondEncryptionOfSameInput []byte

	reEncryptedDataKey []byte // the data key, re-encrypted under the second key
}

// label names an identifier the same way on every backend.
func (s *kmsSession) label(id *string) string {
	switch v := aws.ToString(id); v {
	case "":
		return "(absent)"
	case s.key.ARN:
		return "workshop key ARN"
	case s.key.ID:
		return "workshop key ID"
	case s.other.ARN:
		return "second key ARN"
	case s.other.ID:
		return "second key ID"
	default:
		return v
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// keyARNPrefix is how every key ARN of the simulated account starts.
const keyARNPrefix = "arn:aws:kms:" + fakeaws.DefaultRegion + ":" + fakeaws.DefaultAccountID + ":key/"

// metadataFacts describes a key as DescribeKey or CreateKey shows it.
func (s *kmsSession) metadataFacts(m *types.KeyMetadata) facts {
	if m == nil {
		return facts{"KeyMetadata": "(absent)"}
	}
	f := facts{
		"KeyState":             string(m.KeyState),
		"Enabled":              strconv.FormatBool(m.Enabled),
		"KeyUsage":             string(m.KeyUsage),
		"KeySpec":              string(m.KeySpec),
		"Origin":               string(m.Origin),
		"KeyManager":           string(m.KeyManager),
		"Description":          aws.ToString(m.Description),
		"AWSAccountId":         aws.ToString(m.AWSAccountId),
		"EncryptionAlgorithms": fmt.Sprint(m.EncryptionAlgorithms),
		"KeyId":                s.label(m.KeyId),
		"Arn":                  s.label(m.Arn),
		"CreationDate":         present(m.CreationDate != nil),
		"DeletionDate":         present(m.DeletionDate != nil),
	}
	if id := aws.ToString(m.KeyId); uuidPattern.MatchString(id) && f["KeyId"] == id {
		f["KeyId"] = "a UUID"
	}
	if id := aws.ToString(m.KeyId); aws.ToString(m.Arn) == keyARNPrefix+id && f["Arn"] == keyARNPrefix+id {
		f["Arn"] = keyARNPrefix + "{KeyId}"
	}
	return f
}

func present(ok bool) string {
	if ok {
		return "present"
	}
	return "(absent)"
}

// newKey records a key that CreateKey made.
func newKey(m *types.KeyMetadata) keyRef {
	if m == nil {
		return keyRef{}
	}
	k := keyRef{ID: aws.ToString(m.KeyId), ARN: aws.ToString(m.Arn)}
	if m.CreationDate != nil {
		k.created = m.CreationDate.Unix()
	}
	return k
}

// changed returns b with byte i inverted, or nil if b is too short.
func changed(b []byte, i int) []byte {
	if i < 0 || i >= len(b) {
		return nil
	}
	c := bytes.Clone(b)
	c[i] ^= 0xff
	return c
}

// notAWSError starts the outcome of a call whose error did not come from an
// AWS answer: a refused or broken connection, a timeout.
const notAWSError = "not an AWS error: "

// observe runs one case and turns its answer into an observation.
func observe(ctx context.Context, s *kmsSession, c kmsCase) observation {
	f, err := c.run(ctx, s)
	if f == nil {
		f = facts{}
	}
	if err == nil {
		return observation{Outcome: outcomeOK, Facts: f}
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return observation{Outcome: notAWSError + err.Error(), Facts: f}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		f["HTTP status"] = strconv.Itoa(respErr.HTTPStatusCode())
	}
	return observation{Outcome: apiErr.ErrorCode(), Facts: f}
}

// kmsCase is one request (or a few) of the sequence. Cases run in order on
// one backend and share its kmsSession.
type kmsCase struct {
	name string
	// want is what real KMS does, as its documentation says: outcomeOK or
	// the exception name. The fake must do the same.
	want string
	run  func(ctx context.Context, s *kmsSession) (facts, error)
}

// kmsCases is the sequence: the workshop's own calls, in the workshop's
// order, with the error cases woven in where their preconditions hold.
var kmsCases = []kmsCase{
	// Step 1.
	{name: "CreateKey (the workshop's key)", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.CreateKey(ctx, &kms.CreateKeyInput{
			Description: aws.String(workshopDescription),
			KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
			Tags:        []types.Tag{{TagKey: aws.String(workshopTagKey), TagValue: aws.String(workshopTagValue)}},
		})
		if err != nil {
			return nil, err
		}
		s.key = newKey(out.KeyMetadata)
		return s.metadataFacts(out.KeyMetadata), nil
	}},
	{name: "CreateAlias " + workshopAlias, want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "DescribeKey by alias", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
		if err != nil {
			return nil, err
		}
		return s.metadataFacts(out.KeyMetadata), nil
	}},

	// Step 2: one data key per file.
	{name: "GenerateDataKey AES_256 by alias, with the encryption context", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext(),
		})
		if err != nil {
			return nil, err
		}
		s.dataKey, s.encryptedDataKey = out.Plaintext, out.CiphertextBlob
		return facts{
			"KeyId":           s.label(out.KeyId),
			"Plaintext bytes": strconv.Itoa(len(out.Plaintext)),
			"CiphertextBlob":  present(len(out.CiphertextBlob) > 0),
		}, nil
	}},
	{name: "GenerateDataKey again", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
			KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext(),
		})
		if err != nil {
			return nil, err
		}
		s.secondDataKey = out.Plaintext
		return facts{
			"data key differs from the first":           strconv.FormatBool(!bytes.Equal(out.Plaintext, s.dataKey)),
			"encrypted data key differs from the first": strconv.FormatBool(!bytes.Equal(out.CiphertextBlob, s.encryptedDataKey)),
		}, nil
	}},

	// Step 3: Decrypt with the KeyId pinned, as the envelope's header names it.
	{name: "Decrypt the data key, KeyId pinned to the key ARN, with the encryption context", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.key.ARN), workshopContext())
	}},
	{name: "Decrypt the data key, KeyId pinned by alias", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(workshopAlias), workshopContext())
	}},
	{name: "Decrypt the data key without KeyId", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, nil, workshopContext())
	}},

	// The Tink scheme: Encrypt and Decrypt a small message (a wrapped key).
	{name: "Encrypt 100 bytes by key ID, with the encryption context", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		s.message = bytes.Repeat([]byte("envelope "), 12)[:100]
		out, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: s.message, EncryptionContext: workshopContext()})
		if err != nil {
			return nil, err
		}
		s.encryptedMessage = out.CiphertextBlob
		return facts{
			"KeyId":               s.label(out.KeyId),
			"EncryptionAlgorithm": string(out.EncryptionAlgorithm),
			"CiphertextBlob":      present(len(out.CiphertextBlob) > 0),
		}, nil
	}},
	{name: "Encrypt the same 100 bytes again", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: s.message, EncryptionContext: workshopContext()})
		if err != nil {
			return nil, err
		}
		s.secondEncryptionOfSameInput = out.CiphertextBlob
		return facts{"ciphertext differs from the first": strconv.FormatBool(!bytes.Equal(out.CiphertextBlob, s.encryptedMessage))}, nil
	}},
	{name: "Decrypt what Encrypt returned", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: s.encryptedMessage, KeyId: aws.String(s.key.ARN), EncryptionContext: workshopContext()})
		if err != nil {
			return nil, err
		}
		return facts{"KeyId": s.label(out.KeyId), "Plaintext equals the message": strconv.FormatBool(bytes.Equal(out.Plaintext, s.message))}, nil
	}},
	{name: "Encrypt 4096 bytes", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: make([]byte, 4096)})
		return nil, err
	}},
	{name: "Encrypt 4097 bytes", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: make([]byte, 4097)})
		return nil, err
	}},

	{name: "Encrypt 0 bytes", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: []byte{}})
		return nil, err
	}},
	{name: "Decrypt what Encrypt returned, without KeyId", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: s.encryptedMessage, EncryptionContext: workshopContext()})
		if err != nil {
			return nil, err
		}
		return facts{"KeyId": s.label(out.KeyId), "Plaintext equals the message": strconv.FormatBool(bytes.Equal(out.Plaintext, s.message))}, nil
	}},
	{name: "DescribeKey by alias ARN", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{
			KeyId: aws.String("arn:aws:kms:" + fakeaws.DefaultRegion + ":" + fakeaws.DefaultAccountID + ":" + workshopAlias),
		})
		if err != nil {
			return nil, err
		}
		return facts{"Arn": s.label(out.KeyMetadata.Arn)}, nil
	}},

	{name: "ListAliases", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.listAliases(ctx)
	}},
	{name: "ListResourceTags", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(s.key.ID)})
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, tag := range out.Tags {
			tags = append(tags, aws.ToString(tag.TagKey)+"="+aws.ToString(tag.TagValue))
		}
		sort.Strings(tags)
		return facts{"Tags": strings.Join(tags, ", ")}, nil
	}},

	// Names that lead nowhere.
	{name: "DescribeKey of an unknown key ID", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(unknownKeyID)})
		return nil, err
	}},
	{name: "GenerateDataKey with an unknown key ID", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(unknownKeyID), KeySpec: types.DataKeySpecAes256})
		return nil, err
	}},
	{name: "Encrypt with an unknown key ARN", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyARNPrefix + unknownKeyID), Plaintext: []byte("x")})
		return nil, err
	}},
	{name: "DescribeKey of an unknown alias", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(unknownAlias)})
		return nil, err
	}},
	{name: "GenerateDataKey with an unknown alias", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(unknownAlias), KeySpec: types.DataKeySpecAes256})
		return nil, err
	}},
	{name: "CreateAlias with a taken name", want: "AlreadyExistsException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "CreateAlias for an unknown key", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/orphan"), TargetKeyId: aws.String(unknownKeyID)})
		return nil, err
	}},
	{name: "CreateAlias without the alias/ prefix", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("kms_key_cse_usecase_3"), TargetKeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "ListResourceTags of an unknown key", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(unknownKeyID)})
		return nil, err
	}},
	{name: "DeleteAlias of an unknown alias", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(unknownAlias)})
		return nil, err
	}},

	// The encryption context and the key are bound into the blob.
	{name: "Decrypt with a different encryption context (value case changed)", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.key.ARN), map[string]string{"whatfor": "USECASE-3-CSE"})
	}},
	{name: "Decrypt without the encryption context", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.key.ARN), nil)
	}},
	{name: "Decrypt with an extra encryption context pair", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		extra := workshopContext()
		extra["purpose"] = "test"
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.key.ARN), extra)
	}},
	{name: "CreateKey (a second key)", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("second key")})
		if err != nil {
			return nil, err
		}
		s.other = newKey(out.KeyMetadata)
		return s.metadataFacts(out.KeyMetadata), nil
	}},
	{name: "Encrypt under the second key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.other.ARN), Plaintext: []byte("kept under the second key")})
		if err != nil {
			return nil, err
		}
		s.encryptedUnderOther = out.CiphertextBlob
		return facts{"KeyId": s.label(out.KeyId)}, nil
	}},
	{name: "Decrypt the data key with KeyId pinned to the second key", want: "IncorrectKeyException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.other.ARN), workshopContext())
	}},
	{name: "Decrypt the data key with its last byte changed", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, changed(s.encryptedDataKey, len(s.encryptedDataKey)-1), aws.String(s.key.ARN), workshopContext())
	}},
	{name: "Decrypt the data key with its last byte cut off", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey[:max(len(s.encryptedDataKey)-1, 0)], aws.String(s.key.ARN), workshopContext())
	}},
	{name: "Decrypt the data key with each byte changed in turn, KeyId pinned", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.tamperEveryByte(ctx)
	}},

	// GenerateDataKey's size parameters.
	{name: "GenerateDataKey with both KeySpec and NumberOfBytes", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ID), KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
		return nil, err
	}},
	{name: "GenerateDataKey with neither KeySpec nor NumberOfBytes", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "GenerateDataKey with NumberOfBytes 0", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ID), NumberOfBytes: aws.Int32(0)})
		return nil, err
	}},
	{name: "GenerateDataKey with NumberOfBytes 1025", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ID), NumberOfBytes: aws.Int32(1025)})
		return nil, err
	}},
	{name: "GenerateDataKey AES_128 by key ARN", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ARN), KeySpec: types.DataKeySpecAes128})
		if err != nil {
			return nil, err
		}
		return facts{"Plaintext bytes": strconv.Itoa(len(out.Plaintext)), "KeyId": s.label(out.KeyId)}, nil
	}},
	{name: "GenerateDataKey with NumberOfBytes 64", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(s.key.ID), NumberOfBytes: aws.Int32(64)})
		if err != nil {
			return nil, err
		}
		return facts{"Plaintext bytes": strconv.Itoa(len(out.Plaintext)), "KeyId": s.label(out.KeyId)}, nil
	}},

	// Beyond the workshop's path: what a learner or a client may try next.
	{name: "ReEncrypt the data key under the second key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.ReEncrypt(ctx, &kms.ReEncryptInput{
			CiphertextBlob: s.encryptedDataKey, SourceEncryptionContext: workshopContext(),
			DestinationKeyId: aws.String(s.other.ID), DestinationEncryptionContext: workshopContext(),
		})
		if err != nil {
			return nil, err
		}
		s.reEncryptedDataKey = out.CiphertextBlob
		return facts{
			"SourceKeyId":                    s.label(out.SourceKeyId),
			"KeyId":                          s.label(out.KeyId),
			"DestinationEncryptionAlgorithm": string(out.DestinationEncryptionAlgorithm),
		}, nil
	}},
	{name: "Decrypt the re-encrypted data key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.reEncryptedDataKey, nil, workshopContext())
	}},
	{name: "ReEncrypt without the source encryption context", want: "InvalidCiphertextException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: s.encryptedDataKey, DestinationKeyId: aws.String(s.other.ID)})
		return nil, err
	}},
	{name: "GenerateRandom 32 bytes", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(32)})
		if err != nil {
			return nil, err
		}
		return facts{"Plaintext bytes": strconv.Itoa(len(out.Plaintext))}, nil
	}},
	{name: "GenerateRandom 1025 bytes", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(1025)})
		return nil, err
	}},
	{name: "UpdateKeyDescription of the second key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: aws.String(s.other.ID), Description: aws.String("renamed")}); err != nil {
			return nil, err
		}
		return s.describe(ctx, s.other.ID)
	}},
	{name: "TagResource then UntagResource of the second key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.TagResource(ctx, &kms.TagResourceInput{KeyId: aws.String(s.other.ID), Tags: []types.Tag{
			{TagKey: aws.String("a"), TagValue: aws.String("1")}, {TagKey: aws.String("b"), TagValue: aws.String("2")},
		}}); err != nil {
			return nil, err
		}
		if _, err := s.client.UntagResource(ctx, &kms.UntagResourceInput{KeyId: aws.String(s.other.ID), TagKeys: []string{"a", "not-there"}}); err != nil {
			return nil, err
		}
		out, err := s.client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(s.other.ID)})
		if err != nil {
			return nil, err
		}
		var tags []string
		for _, tag := range out.Tags {
			tags = append(tags, aws.ToString(tag.TagKey)+"="+aws.ToString(tag.TagValue))
		}
		sort.Strings(tags)
		return facts{"Tags": strings.Join(tags, ", ")}, nil
	}},
	{name: "UpdateAlias to the second key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(s.other.ID)}); err != nil {
			return nil, err
		}
		return s.describe(ctx, workshopAlias)
	}},
	{name: "UpdateAlias back to the workshop key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: aws.String(s.key.ARN)}); err != nil {
			return nil, err
		}
		return s.describe(ctx, workshopAlias)
	}},
	{name: "UpdateAlias of an unknown alias", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(unknownAlias), TargetKeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "GetKeyPolicy of the workshop key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(s.key.ID), PolicyName: aws.String("default")})
		if err != nil {
			return nil, err
		}
		return policyFacts(aws.ToString(out.Policy)), nil
	}},
	{name: "GetKeyRotationStatus of the workshop key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.rotationStatus(ctx)
	}},
	{name: "EnableKeyRotation of the workshop key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(s.key.ID)}); err != nil {
			return nil, err
		}
		return s.rotationStatus(ctx)
	}},
	{name: "DisableKeyRotation of the workshop key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		if _, err := s.client.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: aws.String(s.key.ID)}); err != nil {
			return nil, err
		}
		return s.rotationStatus(ctx)
	}},
	{name: "CreateKey with KeySpec AES_256 (a data key spec)", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "AES_256"})
		return nil, err
	}},
	{name: "Encrypt with EncryptionAlgorithm AES_GCM", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: []byte("x"), EncryptionAlgorithm: "AES_GCM"})
		return nil, err
	}},
	{name: "CreateKey with a policy that is not JSON", want: "MalformedPolicyDocumentException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String("allow everything")})
		return nil, err
	}},

	// A disabled key refuses every cryptographic operation.
	{name: "DisableKey", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "DescribeKey of the disabled key", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.describe(ctx, s.key.ID)
	}},
	{name: "GenerateDataKey with the disabled key", want: "DisabledException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.generateDataKey(ctx, s.key.ID)
	}},
	{name: "Encrypt with the disabled key", want: "DisabledException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.key.ID), Plaintext: []byte("x")})
		return nil, err
	}},
	{name: "Decrypt with the disabled key, KeyId pinned", want: "DisabledException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, aws.String(s.key.ARN), workshopContext())
	}},
	{name: "Decrypt with the disabled key, no KeyId", want: "DisabledException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.decryptDataKey(ctx, s.encryptedDataKey, nil, workshopContext())
	}},
	{name: "EnableKey", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(s.key.ID)})
		return nil, err
	}},
	{name: "GenerateDataKey after EnableKey", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.generateDataKey(ctx, s.key.ID)
	}},

	// Deletion: a 7 to 30 day window, a key pending deletion refuses to
	// work, and CancelKeyDeletion leaves it disabled.
	{name: "ScheduleKeyDeletion with a 6-day window", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(s.other.ID), PendingWindowInDays: aws.Int32(6)})
		return nil, err
	}},
	{name: "ScheduleKeyDeletion with a 31-day window", want: "ValidationException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(s.other.ID), PendingWindowInDays: aws.Int32(31)})
		return nil, err
	}},
	{name: "ScheduleKeyDeletion of the second key, 7 days", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.scheduleDeletion(ctx, s.other)
	}},
	{name: "DescribeKey of the key pending deletion", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.describe(ctx, s.other.ID)
	}},
	{name: "GenerateDataKey with the key pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.generateDataKey(ctx, s.other.ID)
	}},
	{name: "Encrypt with the key pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.other.ID), Plaintext: []byte("x")})
		return nil, err
	}},
	{name: "Decrypt with the key pending deletion, KeyId pinned", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: s.encryptedUnderOther, KeyId: aws.String(s.other.ARN)})
		return nil, err
	}},
	{name: "ScheduleKeyDeletion of a key already pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(s.other.ID), PendingWindowInDays: aws.Int32(7)})
		return nil, err
	}},
	{name: "DisableKey of the key pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(s.other.ID)})
		return nil, err
	}},
	{name: "EnableKey of the key pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(s.other.ID)})
		return nil, err
	}},
	{name: "CreateAlias for the key pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: aws.String(s.other.ID)})
		return nil, err
	}},
	{name: "CancelKeyDeletion", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		out, err := s.client.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(s.other.ID)})
		if err != nil {
			return nil, err
		}
		return facts{"KeyId": s.label(out.KeyId)}, nil
	}},
	{name: "DescribeKey after CancelKeyDeletion", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.describe(ctx, s.other.ID)
	}},
	{name: "GenerateDataKey after CancelKeyDeletion", want: "DisabledException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.generateDataKey(ctx, s.other.ID)
	}},
	{name: "EnableKey after CancelKeyDeletion", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(s.other.ID)})
		return nil, err
	}},
	{name: "GenerateDataKey after CancelKeyDeletion and EnableKey", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.generateDataKey(ctx, s.other.ID)
	}},
	{name: "CancelKeyDeletion of a key not pending deletion", want: "KMSInvalidStateException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(s.other.ID)})
		return nil, err
	}},

	// Step 6: clean up so that the workshop can run again.
	{name: "ScheduleKeyDeletion of the workshop key, 7 days", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.scheduleDeletion(ctx, s.key)
	}},
	{name: "DeleteAlias " + workshopAlias, want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String(workshopAlias)})
		return nil, err
	}},
	{name: "DescribeKey by the deleted alias", want: "NotFoundException", run: func(ctx context.Context, s *kmsSession) (facts, error) {
		_, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(workshopAlias)})
		return nil, err
	}},
	{name: "ListAliases after DeleteAlias", want: outcomeOK, run: func(ctx context.Context, s *kmsSession) (facts, error) {
		return s.listAliases(ctx)
	}},
}

func (s *kmsSession) decryptDataKey(ctx context.Context, blob []byte, keyID *string, encryptionContext map[string]string) (facts, error) {
	out, err := s.client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, KeyId: keyID, EncryptionContext: encryptionContext})
	if err != nil {
		return nil, err
	}
	return facts{
		"KeyId":                         s.label(out.KeyId),
		"EncryptionAlgorithm":           string(out.EncryptionAlgorithm),
		"Plaintext equals the data key": strconv.FormatBool(len(s.dataKey) > 0 && bytes.Equal(out.Plaintext, s.dataKey)),
	}, nil
}

func (s *kmsSession) generateDataKey(ctx context.Context, keyID string) (facts, error) {
	out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext()})
	if err != nil {
		return nil, err
	}
	return facts{"KeyId": s.label(out.KeyId), "Plaintext bytes": strconv.Itoa(len(out.Plaintext))}, nil
}

func (s *kmsSession) describe(ctx context.Context, keyID string) (facts, error) {
	out, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return nil, err
	}
	return s.metadataFacts(out.KeyMetadata), nil
}

// scheduleDeletion schedules k for deletion in 7 days, as step 6 does.
func (s *kmsSession) scheduleDeletion(ctx context.Context, k keyRef) (facts, error) {
	out, err := s.client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(k.ID), PendingWindowInDays: aws.Int32(7)})
	if err != nil {
		return nil, err
	}
	f := facts{
		"KeyId":               s.label(out.KeyId),
		"KeyState":            string(out.KeyState),
		"PendingWindowInDays": "(absent)",
		"DeletionDate":        "(absent)",
	}
	if out.KeyState == "" {
		f["KeyState"] = "(absent)"
	}
	if out.PendingWindowInDays != nil {
		f["PendingWindowInDays"] = strconv.Itoa(int(*out.PendingWindowInDays))
	}
	if out.DeletionDate != nil {
		// Measured from the key's own creation, on the server's clock.
		days := float64(out.DeletionDate.Unix()-k.created) / (24 * 60 * 60)
		f["DeletionDate"] = fmt.Sprintf("%.0f days after CreationDate", days)
	}
	return f, nil
}

// listAliases reports the workshop's alias as ListAliases shows it. Real
// accounts also list AWS managed aliases (alias/aws/...), so only the
// workshop's alias is compared.
func (s *kmsSession) listAliases(ctx context.Context) (facts, error) {
	f := facts{workshopAlias: "(absent)"}
	in := &kms.ListAliasesInput{}
	for range 10 {
		out, err := s.client.ListAliases(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, a := range out.Aliases {
			if aws.ToString(a.AliasName) != workshopAlias {
				continue
			}
			arn := aws.ToString(a.AliasArn)
			if arn == "arn:aws:kms:"+fakeaws.DefaultRegion+":"+fakeaws.DefaultAccountID+":"+workshopAlias {
				arn = "arn:aws:kms:{region}:{account}:" + workshopAlias
			}
			f[workshopAlias] = "TargetKeyId " + s.label(a.TargetKeyId) + ", AliasArn " + arn
		}
		if !out.Truncated || out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	return f, nil
}

// tamperEveryByte changes each byte of the encrypted data key in turn and
// asks for it to be decrypted, KeyId pinned as the workshop pins it. Real KMS
// authenticates the whole blob: every change must be refused.
func (s *kmsSession) tamperEveryByte(ctx context.Context) (facts, error) {
	if len(s.encryptedDataKey) == 0 {
		return nil, errors.New("no encrypted data key to tamper with")
	}
	var accepted []int
	odd := map[string]bool{} // refusals other than the two KMS documents for a blob
	for i := range s.encryptedDataKey {
		_, err := s.client.Decrypt(ctx, &kms.DecryptInput{
			CiphertextBlob: changed(s.encryptedDataKey, i), KeyId: aws.String(s.key.ARN), EncryptionContext: workshopContext(),
		})
		var apiErr smithy.APIError
		switch {
		case err == nil:
			accepted = append(accepted, i)
		case errors.As(err, &apiErr):
			// Which of the two depends on where the change lands: in the
			// part that names the key, a pinned KeyId no longer matches.
			if code := apiErr.ErrorCode(); code != "InvalidCiphertextException" && code != "IncorrectKeyException" {
				odd[code] = true
			}
		default:
			return nil, err
		}
	}
	f := facts{
		"changed blobs accepted": describeAccepted(accepted, s.encryptedDataKey, s.key.ARN),
		"refused with other than InvalidCiphertextException or IncorrectKeyException": "none",
	}
	if len(odd) > 0 {
		f["refused with other than InvalidCiphertextException or IncorrectKeyException"] = strings.Join(slices.Sorted(maps.Keys(odd)), ", ")
	}
	return f, nil
}

// describeAccepted says which changed bytes were accepted: none, exactly the
// bytes that spell the key ARN inside the blob, or which.
func describeAccepted(accepted []int, blob []byte, arn string) string {
	if len(accepted) == 0 {
		return "none"
	}
	if at := bytes.Index(blob, []byte(arn)); at >= 0 && len(accepted) == len(arn) &&
		accepted[0] == at && accepted[len(accepted)-1] == at+len(arn)-1 {
		return "every change to the key ARN stored in the blob"
	}
	return fmt.Sprintf("%d of %d bytes (first at %d)", len(accepted), len(blob), accepted[0])
}

// policyFacts describes a key policy by what it grants, whatever its
// layout.
func policyFacts(doc string) facts {
	var p struct {
		Version, Id string
		Statement   []struct {
			Sid, Effect, Resource string
			Principal             struct{ AWS string }
			Action                any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return facts{"Policy": "not JSON: " + err.Error()}
	}
	f := facts{"Version": p.Version, "Id": p.Id, "Statements": strconv.Itoa(len(p.Statement))}
	for i, st := range p.Statement {
		f[fmt.Sprintf("Statement %d", i+1)] = fmt.Sprintf("%s: %s %v on %s to %s", st.Sid, st.Effect, st.Action, st.Resource, st.Principal.AWS)
	}
	return f
}

func (s *kmsSession) rotationStatus(ctx context.Context) (facts, error) {
	out, err := s.client.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(s.key.ID)})
	if err != nil {
		return nil, err
	}
	return facts{"KeyRotationEnabled": strconv.FormatBool(out.KeyRotationEnabled)}, nil
}
