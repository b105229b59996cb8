package fakeaws

import (
	"fmt"
	"slices"
	"strings"
)

// The enum value sets of the KMS API model, in the model's order: a request
// outside them fails model validation, before KMS looks at the key. Values
// the model allows but this fake does not support fail later, with an
// UnsupportedOperationException that says so.
var (
	keySpecValues = []string{
		"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512",
		"SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519", "ML_KEM_512",
		"ML_KEM_768", "ML_KEM_1024",
	}
	customerMasterKeySpecValues = []string{
		"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
	}
	keyUsageValues            = []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT", "ENCAPSULATE_DECAPSULATE"}
	originValues              = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
	encryptionAlgorithmValues = []string{"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"}
	dataKeySpecValues         = []string{"AES_256", "AES_128"}
)

// Limits of the KMS API model that the fake checks.
const (
	maxGrantTokens      = 10
	maxGrantTokenLength = 8192
	maxPolicyLength     = 131072
	// maxTagsPerKey is KMS's quota of tags on one key.
	maxTagsPerKey = 50
	// maxEncryptionContextBytes bounds the keys and values of one
	// encryption context, counted in UTF-8 bytes. The KMS documentation
	// states no figure; this is the fake's own bound, large enough for any
	// context the AWS Encryption SDK writes, so that a request cannot make
	// the fake store megabytes (see docs/fidelity.md).
	maxEncryptionContextBytes = 8192
)

// validation gathers the constraint violations of one request, worded as
// AWS's request validation words them, so that they can be reported
// together in one ValidationException as KMS reports them.
type validation struct {
	problems []string
}

// enum notes a value outside its enum; "" means the member was not sent.
func (v *validation) enum(member, value string, allowed []string) {
	if value != "" && !slices.Contains(allowed, value) {
		v.problems = append(v.problems, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			value, member, strings.Join(allowed, ", ")))
	}
}

// notNull notes a required member that was not sent.
func (v *validation) notNull(member string, sent bool) {
	if !sent {
		v.problems = append(v.problems, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
	}
}

// maxLength notes a string or list longer than max. AWS quotes strings it
// can show and leaves out blobs and long values.
func (v *validation) maxLength(member string, length, max int) {
	if length > max {
		v.problems = append(v.problems, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", member, max))
	}
}

// minLength notes a string shorter than min.
func (v *validation) minLength(member string, length, min int) {
	if length < min {
		v.problems = append(v.problems, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", member, min))
	}
}

// valueRange notes a number outside [min, max].
func (v *validation) valueRange(member string, value, min, max int) {
	switch {
	case value < min:
		v.problems = append(v.problems, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", value, member, min))
	case value > max:
		v.problems = append(v.problems, fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", value, member, max))
	}
}

// grantTokens checks a GrantTokens list against the model.
func (v *validation) grantTokens(tokens []string) {
	v.maxLength("grantTokens", len(tokens), maxGrantTokens)
	for i, t := range tokens {
		member := fmt.Sprintf("grantTokens.%d.member", i+1)
		v.minLength(member, len(t), 1)
		v.maxLength(member, len(t), maxGrantTokenLength)
	}
}

// tags checks a Tags list against the model: each tag needs a key of 1 to
// 128 characters and a value (possibly empty) of at most 256.
func (v *validation) tags(tags []tagInput) {
	for i, t := range tags {
		member := fmt.Sprintf("tags.%d.member", i+1)
		v.notNull(member+".tagKey", t.TagKey != nil)
		if t.TagKey != nil {
			v.minLength(member+".tagKey", len(*t.TagKey), 1)
			v.maxLength(member+".tagKey", len(*t.TagKey), maxTagKeyLength)
		}
		v.notNull(member+".tagValue", t.TagValue != nil)
		if t.TagValue != nil {
			v.maxLength(member+".tagValue", len(*t.TagValue), maxTagValueLength)
		}
	}
}

// err is the ValidationException for what was noted, or nil.
func (v *validation) err() *apiError {
	switch n := len(v.problems); n {
	case 0:
		return nil
	case 1:
		return badRequest("ValidationException", "1 validation error detected: "+v.problems[0])
	default:
		return badRequest("ValidationException", fmt.Sprintf("%d validation errors detected: %s", n, strings.Join(v.problems, "; ")))
	}
}

// validEncryptionContext bounds an encryption context. KMS logs the context
// in CloudTrail and the fake keeps those records, so an unbounded context
// would grow the state file without limit.
func validEncryptionContext(member string, ctx map[string]string) *apiError {
	size := 0
	for k, v := range ctx {
		size += len(k) + len(v)
	}
	if size > maxEncryptionContextBytes {
		return badRequest("ValidationException", fmt.Sprintf(
			"The %s has %d pairs and %d bytes of keys and values; this offline fake of KMS accepts at most %d bytes.",
			member, len(ctx), size, maxEncryptionContextBytes))
	}
	return nil
}
