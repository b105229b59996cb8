// Package esdk writes and reads the AWS Encryption SDK message format, as the
// aws-encryption-sdk-specification defines it (data-format/message-header.md,
// message-body.md, message-body-aad.md, message-footer.md,
// framework/algorithm-suites.md, client-apis/encrypt.md and decrypt.md), with
// the data key of the AWS KMS keyring (framework/aws-kms/aws-kms-keyring.md).
//
// It writes version 2 messages with framed content under suite 0x0578
// (AES-256-GCM, HKDF-SHA512, key commitment, ECDSA P-384 signature: the
// SDKs' default) or 0x0478 (the same without signature). It reads those, and,
// only when DecryptOptions.AllowLegacy says so, the version 1 messages that
// ESDK 1.x wrote by default under 0x0378 and 0x0178, which lack key
// commitment.
//
// Encrypt and Decrypt stream in constant memory: a few frames at a time,
// whatever the size of the message. EncryptFile and DecryptFile add what
// files need: the output appears, complete, only when everything succeeded,
// and decrypted output only once the header, every frame and the signature
// have been verified.
//
// The plaintext data key lives only in memory: this package never writes or
// logs it, and clears the copies it holds once the keys derived from it
// exist. (The AES-GCM cipher keeps its own expanded key until it is garbage.)
package esdk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMS is the part of *kms.Client this package calls: GenerateDataKey to
// encrypt, Decrypt to decrypt, once per message.
type KMS interface {
	GenerateDataKey(ctx context.Context, params *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Suite is an algorithm suite ID. The zero value is invalid.
type Suite uint16

const (
	// SuiteCommitKeyECDSAP384 is ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
	// the SDKs' default: key commitment and a signature over the message.
	SuiteCommitKeyECDSAP384 Suite = 0x0578
	// SuiteCommitKey is ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY: key
	// commitment, no signature.
	SuiteCommitKey Suite = 0x0478
	// SuiteLegacyECDSAP384 is ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
	// ESDK 1.x's default (message version 1, no key commitment). Decrypt only.
	SuiteLegacyECDSAP384 Suite = 0x0378
	// SuiteLegacy is ALG_AES_256_GCM_IV12_TAG16_HKDF_SHA256 (message version
	// 1, no key commitment, no signature). Decrypt only.
	SuiteLegacy Suite = 0x0178

	// DefaultSuite is the suite Encrypt uses when none is given.
	DefaultSuite = SuiteCommitKeyECDSAP384
)

// suiteNames are the specification's enum names.
var suiteNames = map[Suite]string{
	SuiteCommitKeyECDSAP384: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
	SuiteCommitKey:          "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
	SuiteLegacyECDSAP384:    "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384",
	SuiteLegacy:             "AES_256_GCM_IV12_TAG16_HKDF_SHA256",
}

// String returns the suite ID in hex, as the SDKs and ParseSuite write it:
// "0x0578".
func (s Suite) String() string { return fmt.Sprintf("0x%04X", uint16(s)) }

// Name returns the specification's name for the suite, or "" for a suite
// this package does not know.
func (s Suite) Name() string { return suiteNames[s] }

// Signed reports whether messages of the suite end in an ECDSA signature.
func (s Suite) Signed() bool { return s == SuiteCommitKeyECDSAP384 || s == SuiteLegacyECDSAP384 }

// Committing reports whether the suite commits to its data key: whether a
// message of the suite can decrypt under one data key only.
func (s Suite) Committing() bool { return s == SuiteCommitKeyECDSAP384 || s == SuiteCommitKey }

// messageVersion is the message format version the suite belongs to, or 0
// for a suite this package does not know.
func (s Suite) messageVersion() uint8 {
	switch s {
	case SuiteCommitKeyECDSAP384, SuiteCommitKey:
		return 2
	case SuiteLegacyECDSAP384, SuiteLegacy:
		return 1
	}
	return 0
}

// ParseSuite returns the suite that Encrypt can write named by name: its ID
// in hex ("0x0578", "0578", "578") or its specification name, with or without
// the "ALG_" prefix. The legacy suites are refused: they are for reading only.
func ParseSuite(name string) (Suite, error) {
	for _, s := range []Suite{SuiteCommitKeyECDSAP384, SuiteCommitKey} {
		if strings.EqualFold(strings.TrimPrefix(strings.ToUpper(name), "ALG_"), s.Name()) {
			return s, nil
		}
	}
	hex := strings.TrimPrefix(strings.TrimPrefix(name, "0x"), "0X")
	if id, err := strconv.ParseUint(hex, 16, 16); err == nil && hex != "" {
		switch s := Suite(id); s {
		case SuiteCommitKeyECDSAP384, SuiteCommitKey:
			return s, nil
		case SuiteLegacyECDSAP384, SuiteLegacy:
			return 0, fmt.Errorf("suite %s lacks key commitment: it can be read (allowing legacy) but not written; want 0x0578 or 0x0478", s)
		}
	}
	return 0, fmt.Errorf("unknown algorithm suite %q: want 0x0578 (signed, the default) or 0x0478", name)
}

// Frame lengths: the SDKs' default, and the largest this package writes or
// reads. The format allows up to 2^32-1 bytes; a reader holds two frames in
// memory, so a hostile header must not choose their size freely.
const (
	DefaultFrameLengthInBytes = 4096
	MaxFrameLengthInBytes     = 16 << 20
)

// EncryptOptions configure Encrypt and EncryptFile.
type EncryptOptions struct {
	// KeyID names the KMS key that generates the data key: key id, key ARN,
	// alias name or alias ARN. The message records the key's ARN.
	KeyID string
	// EncryptionContext may be empty; no key may start with "aws-crypto-",
	// which the format reserves. For signed suites the message's context
	// also holds aws-crypto-public-key, the signature's public key, which
	// KMS sees too.
	EncryptionContext map[string]string
	// Suite is DefaultSuite when zero.
	Suite Suite
	// FrameLengthInBytes is the plaintext size of each frame but the last,
	// DefaultFrameLengthInBytes when zero, at most MaxFrameLengthInBytes.
	FrameLengthInBytes int
	// OnDataKey, when set, is called once the data key and the header
	// exist, before the body is written.
	OnDataKey func(DataKeyInfo)
	// OnProgress, when set, is called now and then (about every 256 KiB,
	// and at the end) with the plaintext bytes consumed so far and the total
	// (-1 when unknown).
	OnProgress func(doneBytes, totalBytes int64)
}

// DataKeyInfo describes the data key of a message being encrypted, for
// display. It never holds the plaintext data key.
type DataKeyInfo struct {
	DataKeySizeInBytes int     // of the plaintext data key, which stays in memory
	Header             *Header // a copy of the header being written
}

// DecryptOptions configure Decrypt and DecryptFile.
type DecryptOptions struct {
	// KeyIDs, when set, are the only KMS keys that may unwrap the data key,
	// as the SDK's strict mode: an encrypted data key is tried only if one of
	// them is its key ARN. A key id or alias, which cannot be compared with
	// an ARN here, is instead sent as KMS Decrypt's KeyId, so KMS itself
	// refuses a data key of any other key. Empty means discovery: the key
	// ARN each encrypted data key names.
	KeyIDs []string
	// EncryptionContext, when set, is the required encryption context, as
	// the SDK checks it: each of its pairs whose key the message's context
	// has must match it exactly, and a key the message's context lacks must
	// have been authenticated (but not stored) when the message was made.
	// The message's context may have more pairs.
	EncryptionContext map[string]string
	// AllowLegacy accepts version 1 messages, whose suites lack key
	// commitment: the SDK's require-encrypt-allow-decrypt commitment policy.
	// Without it Decrypt refuses them with ErrLegacySuite.
	AllowLegacy bool
	// OnProgress, when set, is called now and then (about every 256 KiB,
	// and at the end) with the plaintext bytes authenticated so far and the
	// total (-1 when unknown).
	OnProgress func(doneBytes, totalBytes int64)
}

// ErrTampered is the one error for a message that does not authenticate or
// does not parse: any modification, truncation, trailing data or wrong key
// material.
var ErrTampered = errors.New("the message is damaged or was tampered with")

// ErrEncryptionContextMismatch is returned (wrapped, with both contexts) when
// DecryptOptions.EncryptionContext disagrees with the message's.
var ErrEncryptionContextMismatch = errors.New("encryption context mismatch")

// ErrLegacySuite is returned (wrapped, with the suite) for a message whose
// suite lacks key commitment, unless DecryptOptions.AllowLegacy.
var ErrLegacySuite = errors.New("the message's algorithm suite lacks key commitment (an ESDK 1.x message)")

// ErrNoAllowedKey is returned (wrapped, with the key ARNs) when no encrypted
// data key of the message is under a KMS key that DecryptOptions.KeyIDs
// allows.
var ErrNoAllowedKey = errors.New("no encrypted data key is under an allowed KMS key")

// ErrNotMessage is returned when the input does not start like an AWS
// Encryption SDK message at all.
var ErrNotMessage = errors.New("not an AWS Encryption SDK message")
