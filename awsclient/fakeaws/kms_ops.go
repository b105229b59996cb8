package fakeaws

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The KMS operations beyond the workshop's path that a learner or a client
// is likely to try: re-encryption, alias and description changes, untagging,
// random bytes, the key policy, rotation settings and grants. Key policies
// and grants are reported, never enforced (see docs/fidelity.md).

// Limits of these operations in the KMS API.
const (
	maxRandomBytes             = 1024
	defaultListGrantsLimit     = 50
	maxListGrantsLimit         = 100
	defaultListPoliciesLimit   = 100
	maxListPoliciesLimit       = 1000
	minRotationPeriodDays      = 90
	maxRotationPeriodDays      = 2560
	defaultRotationPeriodDays  = 365
	defaultKeyPolicyName       = "default"
	awsManagedRotationInterval = 365
)

// keyRotation is a key's automatic rotation: on since Since, every
// PeriodInDays days. The fake reports it and never rotates the material.
type keyRotation struct {
	PeriodInDays int       `json:"periodInDays"`
	Since        time.Time `json:"since"`
}

// nextRotation is the first rotation date after now.
func (r *keyRotation) nextRotation(now time.Time) time.Time {
	period := time.Duration(r.PeriodInDays) * 24 * time.Hour
	next := r.Since.Add(period)
	for !next.After(now) {
		next = next.Add(period)
	}
	return next
}

// keyManager is KeyMetadata.KeyManager: AWS for the AWS managed keys, else
// CUSTOMER.
func (k *kmsKey) keyManager() string {
	if k.KeyManager == "" {
		return keyManagerCustomer
	}
	return k.KeyManager
}

// keyMaterialID names a key's material in CloudTrail records, as the
// keyMaterialId of additionalEventData does: derived from the key ID, so
// that nothing about the material itself is logged.
func keyMaterialID(k *kmsKey) string {
	sum := sha256.Sum256([]byte("fakeaws key material id\x00" + k.ID))
	return hex.EncodeToString(sum[:])
}

// usedMaterial notes, for the CloudTrail record, which key material a
// cryptographic operation used.
func (c *kmsCall) usedMaterial(k *kmsKey) {
	c.additional = map[string]any{"keyMaterialId": keyMaterialID(k)}
}

// customerManaged refuses to let the caller manage, or use directly, an
// AWS managed key: its key policy allows the account only to read its
// metadata, and allows its use only through the AWS service it belongs to.
func (s *Server) customerManaged(c *kmsCall, k *kmsKey) *apiError {
	if k.KeyManager != keyManagerAWS {
		return nil
	}
	action := "kms:" + c.req.operation
	return badRequest("AccessDeniedException", fmt.Sprintf(
		"User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
		s.userARN(), action, s.keyARN(k.ID), action))
}

// awsManagedAlias is one of the aliases AWS predefines in every account,
// for the AWS managed key of a service, created on first use.
type awsManagedAlias struct {
	name        string // alias name
	service     string // the service's name in its key policy
	endpoint    string // the service's endpoint prefix, for kms:ViaService
	description string // of the key, once created
}

// awsManagedAliases are the predefined aliases of the services whose AWS
// managed key descriptions are known; see docs/fidelity.md.
var awsManagedAliases = []awsManagedAlias{
	{"alias/aws/acm", "ACM", "acm", "Default key that protects my ACM private keys when no other key is defined"},
	{"alias/aws/backup", "Backup", "backup", "Default key that protects my Backup data when no other key is defined"},
	{"alias/aws/dynamodb", "DynamoDB", "dynamodb", "Default key that protects my DynamoDB data when no other key is defined"},
	{"alias/aws/ebs", "EBS", "ec2", "Default key that protects my EBS volumes when no other key is defined"},
	{"alias/aws/elasticfilesystem", "EFS", "elasticfilesystem", "Default key that protects my EFS filesystems when no other key is defined"},
	{"alias/aws/lambda", "Lambda", "lambda", "Default key that protects my Lambda functions when no other key is defined"},
	{"alias/aws/rds", "RDS", "rds", "Default key that protects my RDS database volumes when no other key is defined"},
	{"alias/aws/s3", "S3", "s3", "Default key that protects my S3 objects when no other key is defined"},
	{"alias/aws/secretsmanager", "Secrets Manager", "secretsmanager", "Default key that protects my Secrets Manager data when no other key is defined"},
	{"alias/aws/ssm", "SSM", "ssm", "Default key that protects my SSM parameters when no other key is defined"},
}

func findAWSManagedAlias(name string) (awsManagedAlias, bool) {
	for _, m := range awsManagedAliases {
		if m.name == name {
			return m, true
		}
	}
	return awsManagedAlias{}, false
}

// createAWSManagedKeyLocked creates the AWS managed key behind a
// predefined alias, as KMS does the first time the alias is used, and
// returns the alias; ok is false for any other name.
func (s *Server) createAWSManagedKeyLocked(name string) (a *alias, ok bool) {
	m, ok := findAWSManagedAlias(name)
	if !ok {
		return nil, false
	}
	now := s.clock.Now()
	k := &kmsKey{
		ID:          newUUID(),
		Created:     now,
		Description: m.description,
		State:       keyStateEnabled,
		Material:    make([]byte, keyMaterialBytes),
		KeyManager:  keyManagerAWS,
		Rotation:    &keyRotation{PeriodInDays: awsManagedRotationInterval, Since: now},
	}
	rand.Read(k.Material)
	s.st.Keys[k.ID] = k
	a = &alias{Name: name, KeyID: k.ID, Created: now, Updated: now}
	s.st.Aliases[name] = a
	s.keysChanged = true
	return a, true
}

// policyLocked is k's key policy: the one given to CreateKey, or the
// default KMS applies, in KMS's own layout.
func (s *Server) policyLocked(k *kmsKey) string {
	if k.Policy != "" {
		return k.Policy
	}
	if k.KeyManager == keyManagerAWS {
		for name, a := range s.st.Aliases {
			if m, ok := findAWSManagedAlias(name); ok && a.KeyID == k.ID {
				return s.awsManagedPolicy(m)
			}
		}
	}
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%s:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`, s.accountID)
}

// awsManagedPolicy is the key policy of an AWS managed key: use only
// through the service, by principals of the account, and direct access to
// the key's metadata.
func (s *Server) awsManagedPolicy(m awsManagedAlias) string {
	return fmt.Sprintf(`{
  "Version" : "2012-10-17",
  "Id" : "auto-%[1]s-2",
  "Statement" : [ {
    "Sid" : "Allow access through %[2]s for all principals in the account that are authorized to use %[2]s",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "%[3]s",
        "kms:ViaService" : "%[4]s.%[5]s.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::%[3]s:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`, strings.TrimPrefix(m.name, reservedAliasPrefix), m.service, s.accountID, m.endpoint, s.region)
}

// isJSONObject tells whether a policy document parses as a JSON object.
func isJSONObject(doc string) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal([]byte(doc), &v) == nil
}

func (s *Server) kmsReEncrypt(c *kmsCall) (any, *apiError) {
	var in struct {
		CiphertextBlob                 []byte
		SourceEncryptionContext        map[string]string
		SourceKeyId                    string
		DestinationKeyId               *string
		DestinationEncryptionContext   map[string]string
		SourceEncryptionAlgorithm      string
		DestinationEncryptionAlgorithm string
		GrantTokens                    []string
		DryRun                         bool
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{
		"destinationKeyId":               deref(in.DestinationKeyId),
		"sourceEncryptionAlgorithm":      firstNonEmpty(in.SourceEncryptionAlgorithm, algorithmSymmetric),
		"destinationEncryptionAlgorithm": firstNonEmpty(in.DestinationEncryptionAlgorithm, algorithmSymmetric),
	}
	if in.SourceKeyId != "" {
		c.params["sourceKeyId"] = in.SourceKeyId
	}
	if in.SourceEncryptionContext != nil {
		c.params["sourceEncryptionContext"] = in.SourceEncryptionContext
	}
	if in.DestinationEncryptionContext != nil {
		c.params["destinationEncryptionContext"] = in.DestinationEncryptionContext
	}
	var v validation
	v.minLength("ciphertextBlob", len(in.CiphertextBlob), 1)
	v.maxLength("ciphertextBlob", len(in.CiphertextBlob), maxCiphertextBytes)
	v.notNull("destinationKeyId", in.DestinationKeyId != nil)
	v.enum("sourceEncryptionAlgorithm", in.SourceEncryptionAlgorithm, encryptionAlgorithmValues)
	v.enum("destinationEncryptionAlgorithm", in.DestinationEncryptionAlgorithm, encryptionAlgorithmValues)
	v.grantTokens(in.GrantTokens)
	if err := v.err(); err != nil {
		return nil, err
	}
	for member, ctx := range map[string]map[string]string{
		"sourceEncryptionContext":      in.SourceEncryptionContext,
		"destinationEncryptionContext": in.DestinationEncryptionContext,
	} {
		if err := validEncryptionContext(member, ctx); err != nil {
			return nil, err
		}
	}
	if err := validAlgorithm(in.SourceEncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := validAlgorithm(in.DestinationEncryptionAlgorithm); err != nil {
		return nil, err
	}
	source, err := s.blobKey(c, in.SourceKeyId, in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	dest, err := s.resolveKeyLocked(*in.DestinationKeyId, keyIDsOrAlias)
	if err != nil {
		return nil, err
	}
	c.involve(s, dest)
	if err := s.usable(c, dest); err != nil {
		return nil, err
	}
	plaintext, err := openBlob(source, in.CiphertextBlob, in.SourceEncryptionContext)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, badRequest("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	c.additional = map[string]any{
		"sourceKeyMaterialId":      keyMaterialID(source),
		"destinationKeyMaterialId": keyMaterialID(dest),
	}
	blob := sealBlob(dest, plaintext, in.DestinationEncryptionContext)
	clear(plaintext)
	return struct {
		CiphertextBlob                 []byte
		SourceKeyId                    string
		KeyId                          string
		SourceEncryptionAlgorithm      string
		DestinationEncryptionAlgorithm string
	}{blob, s.keyARN(source.ID), s.keyARN(dest.ID), algorithmSymmetric, algorithmSymmetric}, nil
}

func (s *Server) kmsUpdateAlias(c *kmsCall) (any, *apiError) {
	var in struct{ AliasName, TargetKeyId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"aliasName": in.AliasName, "targetKeyId": in.TargetKeyId}
	if err := validAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.AliasName, reservedAliasPrefix) {
		return nil, badRequest("NotAuthorizedException", fmt.Sprintf("Cannot update alias with prefix '%s'", reservedAliasPrefix))
	}
	k, err := s.resolveKeyLocked(in.TargetKeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	c.involveAlias(s, in.AliasName)
	a, ok := s.st.Aliases[in.AliasName]
	if !ok {
		return nil, badRequest("NotFoundException", fmt.Sprintf("Alias %s is not found.", s.aliasARN(in.AliasName)))
	}
	if old, ok := s.st.Keys[a.KeyID]; ok {
		c.involve(s, old)
	}
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if err := s.notPendingDeletion(k); err != nil {
		return nil, err
	}
	a.KeyID = k.ID
	a.Updated = c.now
	c.changed(s, k)
	return struct{}{}, nil
}

func (s *Server) kmsUntagResource(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId   string
		TagKeys []string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId, "tagKeys": in.TagKeys}
	var v validation
	v.notNull("tagKeys", in.TagKeys != nil)
	for i, key := range in.TagKeys {
		member := fmt.Sprintf("tagKeys.%d.member", i+1)
		v.minLength(member, len(key), 1)
		v.maxLength(member, len(key), maxTagKeyLength)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if err := s.notPendingDeletion(k); err != nil {
		return nil, err
	}
	kept := k.Tags[:0]
	for _, t := range k.Tags {
		if !slices.Contains(in.TagKeys, t.Key) {
			kept = append(kept, t)
		}
	}
	k.Tags = kept
	c.changed(s, k)
	return struct{}{}, nil
}

func (s *Server) kmsUpdateKeyDescription(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId       string
		Description *string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId, "description": deref(in.Description)}
	var v validation
	v.notNull("description", in.Description != nil)
	v.maxLength("description", len(deref(in.Description)), maxDescriptionLength)
	if err := v.err(); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if err := s.notPendingDeletion(k); err != nil {
		return nil, err
	}
	k.Description = *in.Description
	c.changed(s, k)
	return struct{}{}, nil
}

func (s *Server) kmsGenerateRandom(c *kmsCall) (any, *apiError) {
	var in struct {
		NumberOfBytes    *int32
		CustomKeyStoreId string
		Recipient        json.RawMessage
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{}
	if in.NumberOfBytes != nil {
		c.params["numberOfBytes"] = *in.NumberOfBytes
	}
	var v validation
	v.notNull("numberOfBytes", in.NumberOfBytes != nil)
	if in.NumberOfBytes != nil {
		v.valueRange("numberOfBytes", int(*in.NumberOfBytes), 1, maxRandomBytes)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case in.CustomKeyStoreId != "":
		return nil, badRequest("CustomKeyStoreNotFoundException", "This offline fake of KMS has no custom key stores.")
	case len(in.Recipient) > 0 && string(in.Recipient) != "null":
		return nil, badRequest("UnsupportedOperationException", "This offline fake of KMS does not support Nitro Enclaves attestation (Recipient).")
	}
	out := make([]byte, *in.NumberOfBytes)
	rand.Read(out)
	return struct{ Plaintext []byte }{out}, nil
}

func (s *Server) kmsGetKeyPolicy(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId      string
		PolicyName *string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	name := defaultKeyPolicyName
	if in.PolicyName != nil {
		name = *in.PolicyName
	}
	c.params = map[string]any{"keyId": in.KeyId, "policyName": name}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	if name != defaultKeyPolicyName {
		return nil, badRequest("NotFoundException", fmt.Sprintf("No such policy exists: %s", name))
	}
	return struct{ Policy, PolicyName string }{s.policyLocked(k), defaultKeyPolicyName}, nil
}

func (s *Server) kmsListKeyPolicies(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId  string
		Limit  *int32
		Marker string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId}
	if in.Limit != nil {
		c.params["limit"] = *in.Limit
	}
	if _, err := pageLimit(in.Limit, defaultListPoliciesLimit, maxListPoliciesLimit); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	return struct {
		PolicyNames []string
		Truncated   bool
	}{[]string{defaultKeyPolicyName}, false}, nil
}

func (s *Server) kmsGetKeyRotationStatus(c *kmsCall) (any, *apiError) {
	k, err := s.keyOfRequest(c, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	out := struct {
		KeyRotationEnabled   bool
		KeyId                string
		RotationPeriodInDays int           `json:",omitempty"`
		NextRotationDate     *epochSeconds `json:",omitempty"`
	}{KeyId: s.keyARN(k.ID)}
	if r := k.Rotation; r != nil {
		next := epochSeconds(r.nextRotation(c.now))
		out.KeyRotationEnabled, out.RotationPeriodInDays, out.NextRotationDate = true, r.PeriodInDays, &next
	}
	return out, nil
}

func (s *Server) kmsEnableKeyRotation(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId                string
		RotationPeriodInDays *int32
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	days := defaultRotationPeriodDays
	if in.RotationPeriodInDays != nil {
		days = int(*in.RotationPeriodInDays)
	}
	c.params = map[string]any{"keyId": in.KeyId, "rotationPeriodInDays": days}
	var v validation
	v.valueRange("rotationPeriodInDays", days, minRotationPeriodDays, maxRotationPeriodDays)
	if err := v.err(); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	if err := s.changeRotation(c, k); err != nil {
		return nil, err
	}
	k.Rotation = &keyRotation{PeriodInDays: days, Since: c.now}
	c.changed(s, k)
	return struct{}{}, nil
}

func (s *Server) kmsDisableKeyRotation(c *kmsCall) (any, *apiError) {
	k, err := s.keyOfRequest(c, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	if err := s.changeRotation(c, k); err != nil {
		return nil, err
	}
	k.Rotation = nil
	c.changed(s, k)
	return struct{}{}, nil
}

// changeRotation checks that k's rotation may be changed: by its owner,
// while it is enabled.
func (s *Server) changeRotation(c *kmsCall, k *kmsKey) *apiError {
	if err := s.customerManaged(c, k); err != nil {
		return err
	}
	if k.State == keyStateDisabled {
		return badRequest("KMSInvalidStateException", s.keyARN(k.ID)+" is disabled.")
	}
	return s.notPendingDeletion(k)
}

func (s *Server) kmsListGrants(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId            string
		Limit            *int32
		Marker           string
		GrantId          string
		GranteePrincipal string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId}
	if in.Limit != nil {
		c.params["limit"] = *in.Limit
	}
	if _, err := pageLimit(in.Limit, defaultListGrantsLimit, maxListGrantsLimit); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	// The fake has no CreateGrant, so no key ever has a grant.
	return struct {
		Grants    []struct{}
		Truncated bool
	}{[]struct{}{}, false}, nil
}
