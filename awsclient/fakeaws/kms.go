package fakeaws

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// KMS key states, key spec and algorithm names as KMS spells them.
const (
	keyStateEnabled         = "Enabled"
	keyStateDisabled        = "Disabled"
	keyStatePendingDeletion = "PendingDeletion"

	keySpecSymmetric   = "SYMMETRIC_DEFAULT"
	keyUsageEncrypt    = "ENCRYPT_DECRYPT"
	algorithmSymmetric = "SYMMETRIC_DEFAULT"
	originAWSKMS       = "AWS_KMS"

	keyManagerCustomer = "CUSTOMER"
	keyManagerAWS      = "AWS"
)

// Limits of the KMS API.
const (
	maxPlaintextBytes       = 4096
	maxCiphertextBytes      = 6144
	maxDataKeyBytes         = 1024
	minPendingWindowDays    = 7
	maxPendingWindowDays    = 30
	defaultPendingWindow    = 30
	defaultListKeysLimit    = 100
	maxListKeysLimit        = 1000
	defaultListAliasesLimit = 50
	maxListAliasesLimit     = 100
	defaultListTagsLimit    = 50
	maxListTagsLimit        = 50
	maxTagKeyLength         = 128
	maxTagValueLength       = 256
	maxAliasNameLength      = 256
	maxDescriptionLength    = 8192
	keyMaterialBytes        = 32
	aliasPrefix             = "alias/"
	reservedAliasPrefix     = "alias/aws/"
	awsTagPrefix            = "aws:"
)

// kmsOp is one KMS operation: readOnly is CloudTrail's readOnly flag. An
// operation that is not read-only may change a key or an alias, and the
// state file is written after it; the others change nothing there (but
// an AWS managed key made on first use, and keys whose deletion date has
// passed, which mark the change themselves).
type kmsOp struct {
	readOnly bool
	run      func(*Server, *kmsCall) (any, *apiError)
}

// kmsOps is the dispatch table of the KMS operations the fake knows; any
// other target is answered as a service answers a target it does not have
// (see unknownOperation).
var kmsOps = map[string]kmsOp{
	"CreateKey":                       {false, (*Server).kmsCreateKey},
	"DescribeKey":                     {true, (*Server).kmsDescribeKey},
	"ListKeys":                        {true, (*Server).kmsListKeys},
	"CreateAlias":                     {false, (*Server).kmsCreateAlias},
	"DeleteAlias":                     {false, (*Server).kmsDeleteAlias},
	"ListAliases":                     {true, (*Server).kmsListAliases},
	"TagResource":                     {false, (*Server).kmsTagResource},
	"ListResourceTags":                {true, (*Server).kmsListResourceTags},
	"GenerateDataKey":                 {true, (*Server).kmsGenerateDataKey},
	"GenerateDataKeyWithoutPlaintext": {true, (*Server).kmsGenerateDataKeyWithoutPlaintext},
	"Encrypt":                         {true, (*Server).kmsEncrypt},
	"Decrypt":                         {true, (*Server).kmsDecrypt},
	"ScheduleKeyDeletion":             {false, (*Server).kmsScheduleKeyDeletion},
	"CancelKeyDeletion":               {false, (*Server).kmsCancelKeyDeletion},
	"EnableKey":                       {false, (*Server).kmsEnableKey},
	"DisableKey":                      {false, (*Server).kmsDisableKey},
	// In kms_ops.go.
	"ReEncrypt":            {true, (*Server).kmsReEncrypt},
	"UpdateAlias":          {false, (*Server).kmsUpdateAlias},
	"UntagResource":        {false, (*Server).kmsUntagResource},
	"UpdateKeyDescription": {false, (*Server).kmsUpdateKeyDescription},
	"GenerateRandom":       {true, (*Server).kmsGenerateRandom},
	"GetKeyPolicy":         {true, (*Server).kmsGetKeyPolicy},
	"ListKeyPolicies":      {true, (*Server).kmsListKeyPolicies},
	"GetKeyRotationStatus": {true, (*Server).kmsGetKeyRotationStatus},
	"EnableKeyRotation":    {false, (*Server).kmsEnableKeyRotation},
	"DisableKeyRotation":   {false, (*Server).kmsDisableKeyRotation},
	"ListGrants":           {true, (*Server).kmsListGrants},
}

// kmsCall is one KMS request being answered, and what its CloudTrail record
// will say about it.
type kmsCall struct {
	req        *request
	now        time.Time
	params     map[string]any // requestParameters; never plaintext or key material
	response   any            // responseElements; nil is JSON null
	additional map[string]any // additionalEventData, written only on success
	resources  []string       // ARNs of the keys and aliases involved
	malformed  bool           // the body did not parse: no CloudTrail record
}

// decode reads the request body into in.
func (c *kmsCall) decode(in any) *apiError {
	body := bytes.TrimSpace(c.req.body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, in); err != nil {
		c.malformed = true
		return badRequest("SerializationException", "Start of structure or map found where not expected.")
	}
	return nil
}

func (c *kmsCall) involve(s *Server, k *kmsKey) {
	c.involveARN(s.keyARN(k.ID))
}

// involveAlias lists an alias among the resources, after its key, as
// CloudTrail lists both for the alias operations.
func (c *kmsCall) involveAlias(s *Server, name string) {
	c.involveARN(s.aliasARN(name))
}

func (c *kmsCall) involveARN(arn string) {
	if !slices.Contains(c.resources, arn) {
		c.resources = append(c.resources, arn)
	}
}

// changed fills responseElements as CloudTrail has written it, since
// December 2022, for the operations that change a key but answer nothing:
// the key ARN.
func (c *kmsCall) changed(s *Server, k *kmsKey) {
	c.response = map[string]any{"keyId": s.keyARN(k.ID)}
}

func (s *Server) serveKMS(w http.ResponseWriter, req *request) {
	op, ok := kmsOps[req.operation]
	if !ok {
		writeJSONError(w, unknownOperation("KMS", req.operation))
		return
	}
	fault, err := s.applyFaults(req)
	if err != nil {
		return // the caller has gone
	}

	var resp any
	var aerr *apiError
	stateErr := s.update(func() {
		c := &kmsCall{req: req, now: s.clock.Now()}
		s.expireKeysLocked(c.now)
		if fault != nil {
			aerr = fault
		} else {
			resp, aerr = op.run(s, c)
			if !op.readOnly {
				s.keysChanged = true
			}
		}
		if !c.malformed {
			s.recordKMSLocked(c, op.readOnly, aerr)
		}
	})

	switch {
	case stateErr != nil:
		writeStateError(w, stateErr)
	case aerr != nil:
		writeJSONError(w, aerr)
	default:
		writeJSON(w, resp)
	}
}

// ARNs.

func (s *Server) keyARN(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.region, s.accountID, id)
}

func (s *Server) aliasARN(name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", s.region, s.accountID, name)
}

// keyRefs says which forms of key identifier an operation accepts.
type keyRefs int

const (
	keyIDsOnly    keyRefs = iota // key ID or key ARN
	keyIDsOrAlias                // also alias name or alias ARN
)

// resolveKeyLocked finds the key named by ref (a key ID or key ARN, and
// with keyIDsOrAlias also an alias name or alias ARN), failing as KMS does.
func (s *Server) resolveKeyLocked(ref string, refs keyRefs) (*kmsKey, *apiError) {
	if ref == "" {
		return nil, badRequest("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	if len(ref) > 2048 {
		return nil, badRequest("ValidationException", "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length less than or equal to 2048")
	}
	name := ref
	if rest, ok := strings.CutPrefix(ref, "arn:"); ok {
		parts := strings.SplitN(rest, ":", 5) // aws kms region account resource
		if len(parts) != 5 || parts[0] != "aws" || parts[1] != "kms" {
			return nil, badRequest("NotFoundException", "Invalid arn "+ref)
		}
		if parts[2] != s.region || parts[3] != s.accountID {
			if strings.HasPrefix(parts[4], aliasPrefix) {
				return nil, badRequest("NotFoundException", fmt.Sprintf("Alias %s is not found.", ref))
			}
			return nil, badRequest("NotFoundException", fmt.Sprintf("Key '%s' does not exist", ref))
		}
		name = parts[4]
		if id, ok := strings.CutPrefix(name, "key/"); ok {
			name = id
		} else if !strings.HasPrefix(name, aliasPrefix) {
			return nil, badRequest("NotFoundException", "Invalid arn "+ref)
		}
	}
	if strings.HasPrefix(name, aliasPrefix) {
		if refs != keyIDsOrAlias {
			return nil, badRequest("NotFoundException", "Invalid keyId "+ref)
		}
		a, ok := s.st.Aliases[name]
		if !ok {
			if a, ok = s.createAWSManagedKeyLocked(name); !ok {
				return nil, badRequest("NotFoundException", fmt.Sprintf("Alias %s is not found.", s.aliasARN(name)))
			}
		}
		name = a.KeyID
	}
	if !isKeyID(name) {
		return nil, badRequest("NotFoundException", "Invalid keyId "+ref)
	}
	k, ok := s.st.Keys[name]
	if !ok {
		return nil, badRequest("NotFoundException", fmt.Sprintf("Key '%s' does not exist", s.keyARN(name)))
	}
	return k, nil
}

// usable checks that k may encrypt or decrypt now, for the caller of c.
func (s *Server) usable(c *kmsCall, k *kmsKey) *apiError {
	if err := s.customerManaged(c, k); err != nil {
		return err
	}
	switch k.State {
	case keyStateDisabled:
		return badRequest("DisabledException", s.keyARN(k.ID)+" is disabled.")
	case keyStatePendingDeletion:
		return badRequest("KMSInvalidStateException", s.keyARN(k.ID)+" is pending deletion.")
	}
	return nil
}

// notPendingDeletion refuses a management operation on a key that is
// pending deletion, as KMS does.
func (s *Server) notPendingDeletion(k *kmsKey) *apiError {
	if k.State == keyStatePendingDeletion {
		return badRequest("KMSInvalidStateException", s.keyARN(k.ID)+" is pending deletion.")
	}
	return nil
}

// expireKeysLocked deletes the keys whose deletion date has passed, with
// their aliases, as KMS does at the end of the waiting period, and logs
// each deletion as KMS does, at the deletion date. It returns how many
// keys it deleted.
func (s *Server) expireKeysLocked(now time.Time) int {
	deleted := 0
	for _, k := range s.sortedKeys() {
		if k.State == keyStatePendingDeletion && !now.Before(k.DeletionDate) {
			id := k.ID
			s.recordKeyDeletedLocked(k)
			delete(s.st.Keys, id)
			for name, a := range s.st.Aliases {
				if a.KeyID == id {
					delete(s.st.Aliases, name)
				}
			}
			deleted++
			s.keysChanged = true
		}
	}
	return deleted
}

// keyMetadata is KMS's KeyMetadata structure.
type keyMetadata struct {
	AWSAccountID          string        `json:"AWSAccountId"`
	KeyID                 string        `json:"KeyId"`
	Arn                   string        `json:"Arn"`
	CreationDate          epochSeconds  `json:"CreationDate"`
	Enabled               bool          `json:"Enabled"`
	Description           string        `json:"Description"`
	KeyUsage              string        `json:"KeyUsage"`
	KeyState              string        `json:"KeyState"`
	DeletionDate          *epochSeconds `json:"DeletionDate,omitempty"`
	Origin                string        `json:"Origin"`
	KeyManager            string        `json:"KeyManager"`
	CustomerMasterKeySpec string        `json:"CustomerMasterKeySpec"`
	KeySpec               string        `json:"KeySpec"`
	EncryptionAlgorithms  []string      `json:"EncryptionAlgorithms"`
	MultiRegion           bool          `json:"MultiRegion"`
}

func (s *Server) metadata(k *kmsKey) keyMetadata {
	m := keyMetadata{
		AWSAccountID:          s.accountID,
		KeyID:                 k.ID,
		Arn:                   s.keyARN(k.ID),
		CreationDate:          epochSeconds(k.Created),
		Enabled:               k.State == keyStateEnabled,
		Description:           k.Description,
		KeyUsage:              keyUsageEncrypt,
		KeyState:              k.State,
		Origin:                originAWSKMS,
		KeyManager:            k.keyManager(),
		CustomerMasterKeySpec: keySpecSymmetric,
		KeySpec:               keySpecSymmetric,
		EncryptionAlgorithms:  []string{algorithmSymmetric},
	}
	if k.State == keyStatePendingDeletion {
		d := epochSeconds(k.DeletionDate)
		m.DeletionDate = &d
	}
	return m
}

// trailMetadata is KeyMetadata as CloudTrail writes it in responseElements.
func (s *Server) trailMetadata(k *kmsKey) map[string]any {
	return map[string]any{
		"AWSAccountId":          s.accountID,
		"keyId":                 k.ID,
		"arn":                   s.keyARN(k.ID),
		"creationDate":          trailDate(k.Created),
		"enabled":               k.State == keyStateEnabled,
		"description":           k.Description,
		"keyUsage":              keyUsageEncrypt,
		"keyState":              k.State,
		"origin":                originAWSKMS,
		"keyManager":            k.keyManager(),
		"customerMasterKeySpec": keySpecSymmetric,
		"keySpec":               keySpecSymmetric,
		"encryptionAlgorithms":  []string{algorithmSymmetric},
		"multiRegion":           false,
	}
}

// trailDate is how CloudTrail writes dates inside KMS responseElements.
func trailDate(t time.Time) string {
	return t.UTC().Format("Jan 2, 2006, 3:04:05 PM")
}

// tagJSON is a tag as KMS answers it.
type tagJSON struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

// tagInput is a tag as a request sends it, where either member may be
// missing.
type tagInput struct {
	TagKey   *string
	TagValue *string
}

func (t tagInput) key() string   { return deref(t.TagKey) }
func (t tagInput) value() string { return deref(t.TagValue) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func trailTags(tags []tagInput) []map[string]string {
	out := make([]map[string]string, 0, len(tags))
	for _, t := range tags {
		out = append(out, map[string]string{"tagKey": t.key(), "tagValue": t.value()})
	}
	return out
}

// validTags checks tags as TagResource and CreateKey do: the model's
// constraints first, then KMS's reserved prefix.
func validTags(tags []tagInput) *apiError {
	var v validation
	v.tags(tags)
	if err := v.err(); err != nil {
		return err
	}
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(t.key()), awsTagPrefix) {
			return badRequest("TagException", "Tags beginning with aws: are reserved")
		}
	}
	return nil
}

// tagsAfter is how many tags k would have with tags added.
func tagsAfter(k *kmsKey, tags []tagInput) int {
	keys := map[string]bool{}
	for _, t := range k.Tags {
		keys[t.Key] = true
	}
	for _, t := range tags {
		keys[t.key()] = true
	}
	return len(keys)
}

// tooManyTags is KMS's refusal of more than maxTagsPerKey tags on a key.
func tooManyTags(n int) *apiError {
	return badRequest("TagException", fmt.Sprintf("A KMS key can have at most %d tags; this request would give it %d.", maxTagsPerKey, n))
}

func setTags(k *kmsKey, tags []tagInput) {
	for _, t := range tags {
		i := slices.IndexFunc(k.Tags, func(have tag) bool { return have.Key == t.key() })
		if i >= 0 {
			k.Tags[i].Value = t.value()
			continue
		}
		k.Tags = append(k.Tags, tag{Key: t.key(), Value: t.value()})
	}
}

// Operations.

func (s *Server) kmsCreateKey(c *kmsCall) (any, *apiError) {
	var in struct {
		Description                    *string
		KeyUsage                       string
		KeySpec                        string
		CustomerMasterKeySpec          string
		Origin                         string
		MultiRegion                    bool
		Tags                           []tagInput
		Policy                         *string
		BypassPolicyLockoutSafetyCheck bool
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	spec := firstNonEmpty(in.KeySpec, in.CustomerMasterKeySpec, keySpecSymmetric)
	usage := firstNonEmpty(in.KeyUsage, keyUsageEncrypt)
	origin := firstNonEmpty(in.Origin, originAWSKMS)
	description := deref(in.Description)
	c.params = map[string]any{
		"description":                    description,
		"keyUsage":                       usage,
		"keySpec":                        spec,
		"origin":                         origin,
		"bypassPolicyLockoutSafetyCheck": in.BypassPolicyLockoutSafetyCheck,
		"multiRegion":                    in.MultiRegion,
	}
	if len(in.Tags) > 0 {
		c.params["tags"] = trailTags(in.Tags)
	}
	if in.Policy != nil {
		c.params["policy"] = *in.Policy
	}
	var v validation
	v.maxLength("description", len(description), maxDescriptionLength)
	v.enum("keyUsage", in.KeyUsage, keyUsageValues)
	v.enum("customerMasterKeySpec", in.CustomerMasterKeySpec, customerMasterKeySpecValues)
	v.enum("origin", in.Origin, originValues)
	v.enum("keySpec", in.KeySpec, keySpecValues)
	if in.Policy != nil {
		v.minLength("policy", len(*in.Policy), 1)
		v.maxLength("policy", len(*in.Policy), maxPolicyLength)
	}
	v.tags(in.Tags)
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case in.KeySpec != "" && in.CustomerMasterKeySpec != "":
		return nil, badRequest("ValidationException", "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.")
	case spec != keySpecSymmetric:
		return nil, badRequest("UnsupportedOperationException", fmt.Sprintf("This offline fake of KMS supports only %s keys, not %s.", keySpecSymmetric, spec))
	case usage != keyUsageEncrypt:
		return nil, badRequest("ValidationException", fmt.Sprintf("KeyUsage %s is not compatible with KeySpec %s", usage, spec))
	case origin != originAWSKMS:
		return nil, badRequest("UnsupportedOperationException", fmt.Sprintf("This offline fake of KMS supports only %s key material, not %s.", originAWSKMS, origin))
	case in.MultiRegion:
		return nil, badRequest("UnsupportedOperationException", "This offline fake of KMS does not support multi-Region keys.")
	case in.Policy != nil && !isJSONObject(*in.Policy):
		// Real KMS gives no message for a policy that does not parse.
		return nil, badRequest("MalformedPolicyDocumentException", "")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	k := &kmsKey{
		ID:          newUUID(),
		Created:     c.now,
		Description: description,
		State:       keyStateEnabled,
		Material:    make([]byte, keyMaterialBytes),
		Policy:      deref(in.Policy),
	}
	if n := tagsAfter(k, in.Tags); n > maxTagsPerKey {
		return nil, tooManyTags(n)
	}
	rand.Read(k.Material)
	setTags(k, in.Tags)
	s.st.Keys[k.ID] = k
	c.involve(s, k)
	c.response = map[string]any{"keyMetadata": s.trailMetadata(k)}
	return struct{ KeyMetadata keyMetadata }{s.metadata(k)}, nil
}

// firstNonEmpty returns the first non-empty string.
func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// keyOfRequest reads a request whose only parameter is KeyId, logs it and
// finds the key, for the operations that take nothing else.
func (s *Server) keyOfRequest(c *kmsCall, refs keyRefs) (*kmsKey, *apiError) {
	var in struct{ KeyId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId}
	k, err := s.resolveKeyLocked(in.KeyId, refs)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	return k, nil
}

func (s *Server) kmsDescribeKey(c *kmsCall) (any, *apiError) {
	k, err := s.keyOfRequest(c, keyIDsOrAlias)
	if err != nil {
		return nil, err
	}
	return struct{ KeyMetadata keyMetadata }{s.metadata(k)}, nil
}

// pageLimit checks a Limit parameter.
func pageLimit(limit *int32, def, max int) (int, *apiError) {
	if limit == nil {
		return def, nil
	}
	var v validation
	v.valueRange("limit", int(*limit), 1, max)
	if err := v.err(); err != nil {
		return 0, err
	}
	return int(*limit), nil
}

// page cuts one page out of items, named in order by name: a marker is the
// name of the last item of the previous page, encoded.
func page[T any](items []T, name func(T) string, marker string, limit int) (out []T, next string, aerr *apiError) {
	start := 0
	if marker != "" {
		raw, err := base64.RawURLEncoding.DecodeString(marker)
		if err != nil {
			return nil, "", badRequest("InvalidMarkerException", "Invalid marker")
		}
		after := string(raw)
		start = len(items)
		for i, it := range items {
			if name(it) > after {
				start = i
				break
			}
		}
	}
	end := min(start+limit, len(items))
	out = items[start:end]
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(name(items[end-1])))
	}
	return out, next, nil
}

// sortedKeys lists keys in a stable order: creation time, then ID. The
// marker compares names, so the name encodes that order.
func (s *Server) sortedKeys() []*kmsKey {
	keys := make([]*kmsKey, 0, len(s.st.Keys))
	for _, k := range s.st.Keys {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *kmsKey) int { return strings.Compare(keyOrderName(a), keyOrderName(b)) })
	return keys
}

func keyOrderName(k *kmsKey) string {
	return fmt.Sprintf("%020d/%s", k.Created.UnixNano(), k.ID)
}

func (s *Server) kmsListKeys(c *kmsCall) (any, *apiError) {
	var in struct {
		Limit  *int32
		Marker string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{}
	if in.Limit != nil {
		c.params["limit"] = *in.Limit
	}
	if in.Marker != "" {
		c.params["marker"] = in.Marker
	}
	limit, err := pageLimit(in.Limit, defaultListKeysLimit, maxListKeysLimit)
	if err != nil {
		return nil, err
	}
	keys, next, err := page(s.sortedKeys(), keyOrderName, in.Marker, limit)
	if err != nil {
		return nil, err
	}
	type entry struct{ KeyId, KeyArn string }
	out := struct {
		Keys       []entry
		Truncated  bool
		NextMarker string `json:",omitempty"`
	}{Keys: []entry{}, Truncated: next != "", NextMarker: next}
	for _, k := range keys {
		out.Keys = append(out.Keys, entry{k.ID, s.keyARN(k.ID)})
	}
	return out, nil
}

func (s *Server) kmsCreateAlias(c *kmsCall) (any, *apiError) {
	var in struct{ AliasName, TargetKeyId string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"aliasName": in.AliasName, "targetKeyId": in.TargetKeyId}
	if err := validAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.AliasName, reservedAliasPrefix) {
		return nil, badRequest("NotAuthorizedException", fmt.Sprintf("Cannot create alias with prefix '%s'", reservedAliasPrefix))
	}
	k, err := s.resolveKeyLocked(in.TargetKeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	c.involveAlias(s, in.AliasName)
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if _, taken := s.st.Aliases[in.AliasName]; taken {
		return nil, badRequest("AlreadyExistsException", fmt.Sprintf("An alias with the name %s already exists", s.aliasARN(in.AliasName)))
	}
	if err := s.notPendingDeletion(k); err != nil {
		return nil, err
	}
	s.st.Aliases[in.AliasName] = &alias{Name: in.AliasName, KeyID: k.ID, Created: c.now, Updated: c.now}
	c.changed(s, k)
	return struct{}{}, nil
}

func validAliasName(name string) *apiError {
	switch {
	case name == "":
		return badRequest("ValidationException", "1 validation error detected: Value null at 'aliasName' failed to satisfy constraint: Member must not be null")
	case len(name) > maxAliasNameLength:
		return badRequest("ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must have length less than or equal to %d", name, maxAliasNameLength))
	case !strings.HasPrefix(name, aliasPrefix):
		return badRequest("ValidationException", "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html")
	case !isAliasName(name):
		return badRequest("ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$", name))
	}
	return nil
}

func (s *Server) kmsDeleteAlias(c *kmsCall) (any, *apiError) {
	var in struct{ AliasName string }
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"aliasName": in.AliasName}
	if err := validAliasName(in.AliasName); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.AliasName, reservedAliasPrefix) {
		return nil, badRequest("NotAuthorizedException", fmt.Sprintf("Cannot delete alias with prefix '%s'", reservedAliasPrefix))
	}
	a, ok := s.st.Aliases[in.AliasName]
	if !ok {
		return nil, badRequest("NotFoundException", fmt.Sprintf("Alias %s is not found.", s.aliasARN(in.AliasName)))
	}
	if k, ok := s.st.Keys[a.KeyID]; ok {
		c.involve(s, k)
		c.changed(s, k)
	}
	c.involveAlias(s, in.AliasName)
	delete(s.st.Aliases, in.AliasName)
	return struct{}{}, nil
}

func (s *Server) kmsListAliases(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId  string
		Limit  *int32
		Marker string
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{}
	if in.KeyId != "" {
		c.params["keyId"] = in.KeyId
	}
	if in.Limit != nil {
		c.params["limit"] = *in.Limit
	}
	if in.Marker != "" {
		c.params["marker"] = in.Marker
	}
	limit, err := pageLimit(in.Limit, defaultListAliasesLimit, maxListAliasesLimit)
	if err != nil {
		return nil, err
	}
	var only *kmsKey
	if in.KeyId != "" {
		if only, err = s.resolveKeyLocked(in.KeyId, keyIDsOnly); err != nil {
			return nil, err
		}
		c.involve(s, only)
	}
	var aliases []*alias
	for _, a := range s.st.Aliases {
		if only == nil || a.KeyID == only.ID {
			aliases = append(aliases, a)
		}
	}
	if only == nil {
		// The predefined aliases of AWS managed keys not yet created: no
		// target, no dates.
		for _, m := range awsManagedAliases {
			if _, created := s.st.Aliases[m.name]; !created {
				aliases = append(aliases, &alias{Name: m.name})
			}
		}
	}
	slices.SortFunc(aliases, func(a, b *alias) int { return strings.Compare(a.Name, b.Name) })
	aliases, next, err := page(aliases, func(a *alias) string { return a.Name }, in.Marker, limit)
	if err != nil {
		return nil, err
	}
	type entry struct {
		AliasName       string
		AliasArn        string
		TargetKeyId     string        `json:",omitempty"`
		CreationDate    *epochSeconds `json:",omitempty"`
		LastUpdatedDate *epochSeconds `json:",omitempty"`
	}
	out := struct {
		Aliases    []entry
		Truncated  bool
		NextMarker string `json:",omitempty"`
	}{Aliases: []entry{}, Truncated: next != "", NextMarker: next}
	for _, a := range aliases {
		e := entry{AliasName: a.Name, AliasArn: s.aliasARN(a.Name), TargetKeyId: a.KeyID}
		if a.KeyID != "" {
			created, updated := epochSeconds(a.Created), epochSeconds(a.Updated)
			e.CreationDate, e.LastUpdatedDate = &created, &updated
		}
		out.Aliases = append(out.Aliases, e)
	}
	return out, nil
}

func (s *Server) kmsTagResource(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId string
		Tags  []tagInput
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId, "tags": trailTags(in.Tags)}
	if in.Tags == nil {
		return nil, badRequest("ValidationException", "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := validTags(in.Tags); err != nil {
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
	if n := tagsAfter(k, in.Tags); n > maxTagsPerKey {
		return nil, tooManyTags(n)
	}
	setTags(k, in.Tags)
	c.changed(s, k)
	return struct{}{}, nil
}

func (s *Server) kmsListResourceTags(c *kmsCall) (any, *apiError) {
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
	limit, err := pageLimit(in.Limit, defaultListTagsLimit, maxListTagsLimit)
	if err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	// Tags page in the order they were added; the marker names a position.
	type indexed struct {
		i int
		t tag
	}
	items := make([]indexed, len(k.Tags))
	for i, t := range k.Tags {
		items[i] = indexed{i, t}
	}
	tags, next, err := page(items, func(it indexed) string { return fmt.Sprintf("%08d", it.i) }, in.Marker, limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Tags       []tagJSON
		Truncated  bool
		NextMarker string `json:",omitempty"`
	}{Tags: []tagJSON{}, Truncated: next != "", NextMarker: next}
	for _, it := range tags {
		out.Tags = append(out.Tags, tagJSON{it.t.Key, it.t.Value})
	}
	return out, nil
}

// Cryptographic operations; the ciphertext blob is in blob.go.

func validAlgorithm(alg string) *apiError {
	if alg != "" && alg != algorithmSymmetric {
		return badRequest("InvalidKeyUsageException", fmt.Sprintf("The encryption algorithm %s is not compatible with the KeySpec %s", alg, keySpecSymmetric))
	}
	return nil
}

type generateDataKeyInput struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     *int32
	EncryptionContext map[string]string
	GrantTokens       []string
	DryRun            bool
}

// generateDataKey does the work of GenerateDataKey and its
// WithoutPlaintext twin.
func (s *Server) generateDataKey(c *kmsCall) (*kmsKey, []byte, []byte, *apiError) {
	var in generateDataKeyInput
	if err := c.decode(&in); err != nil {
		return nil, nil, nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId}
	if in.KeySpec != "" {
		c.params["keySpec"] = in.KeySpec
	}
	if in.NumberOfBytes != nil {
		c.params["numberOfBytes"] = *in.NumberOfBytes
	}
	if in.EncryptionContext != nil {
		c.params["encryptionContext"] = in.EncryptionContext
	}
	var v validation
	v.enum("keySpec", in.KeySpec, dataKeySpecValues)
	if in.NumberOfBytes != nil {
		v.valueRange("numberOfBytes", int(*in.NumberOfBytes), 1, maxDataKeyBytes)
	}
	v.grantTokens(in.GrantTokens)
	if err := v.err(); err != nil {
		return nil, nil, nil, err
	}
	if err := validEncryptionContext("encryptionContext", in.EncryptionContext); err != nil {
		return nil, nil, nil, err
	}
	var size int
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, nil, nil, badRequest("ValidationException", "Please specify either number of bytes or key spec, but not both.")
	case in.KeySpec == "AES_256":
		size = 32
	case in.KeySpec == "AES_128":
		size = 16
	case in.NumberOfBytes == nil:
		return nil, nil, nil, badRequest("ValidationException", "Please specify either number of bytes or key spec.")
	default:
		size = int(*in.NumberOfBytes)
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOrAlias)
	if err != nil {
		return nil, nil, nil, err
	}
	c.involve(s, k)
	if err := s.usable(c, k); err != nil {
		return nil, nil, nil, err
	}
	if in.DryRun {
		return nil, nil, nil, badRequest("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	dataKey := make([]byte, size)
	rand.Read(dataKey)
	c.usedMaterial(k)
	return k, dataKey, sealBlob(k, dataKey, in.EncryptionContext), nil
}

func (s *Server) kmsGenerateDataKey(c *kmsCall) (any, *apiError) {
	k, dataKey, blob, err := s.generateDataKey(c)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob []byte
		Plaintext      []byte
		KeyId          string
	}{blob, dataKey, s.keyARN(k.ID)}, nil
}

func (s *Server) kmsGenerateDataKeyWithoutPlaintext(c *kmsCall) (any, *apiError) {
	k, _, blob, err := s.generateDataKey(c)
	if err != nil {
		return nil, err
	}
	return struct {
		CiphertextBlob []byte
		KeyId          string
	}{blob, s.keyARN(k.ID)}, nil
}

func (s *Server) kmsEncrypt(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId               string
		Plaintext           []byte
		EncryptionContext   map[string]string
		EncryptionAlgorithm string
		GrantTokens         []string
		DryRun              bool
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"keyId": in.KeyId, "encryptionAlgorithm": firstNonEmpty(in.EncryptionAlgorithm, algorithmSymmetric)}
	if in.EncryptionContext != nil {
		c.params["encryptionContext"] = in.EncryptionContext
	}
	var v validation
	v.minLength("plaintext", len(in.Plaintext), 1)
	v.maxLength("plaintext", len(in.Plaintext), maxPlaintextBytes)
	v.enum("encryptionAlgorithm", in.EncryptionAlgorithm, encryptionAlgorithmValues)
	v.grantTokens(in.GrantTokens)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := validEncryptionContext("encryptionContext", in.EncryptionContext); err != nil {
		return nil, err
	}
	k, err := s.resolveKeyLocked(in.KeyId, keyIDsOrAlias)
	if err != nil {
		return nil, err
	}
	c.involve(s, k)
	if err := validAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	if err := s.usable(c, k); err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, badRequest("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	c.usedMaterial(k)
	return struct {
		CiphertextBlob      []byte
		KeyId               string
		EncryptionAlgorithm string
	}{sealBlob(k, in.Plaintext, in.EncryptionContext), s.keyARN(k.ID), algorithmSymmetric}, nil
}

func (s *Server) kmsDecrypt(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId               string
		CiphertextBlob      []byte
		EncryptionContext   map[string]string
		EncryptionAlgorithm string
		GrantTokens         []string
		DryRun              bool
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	c.params = map[string]any{"encryptionAlgorithm": firstNonEmpty(in.EncryptionAlgorithm, algorithmSymmetric)}
	if in.KeyId != "" {
		c.params["keyId"] = in.KeyId
	}
	if in.EncryptionContext != nil {
		c.params["encryptionContext"] = in.EncryptionContext
	}
	var v validation
	v.minLength("ciphertextBlob", len(in.CiphertextBlob), 1)
	v.maxLength("ciphertextBlob", len(in.CiphertextBlob), maxCiphertextBytes)
	v.enum("encryptionAlgorithm", in.EncryptionAlgorithm, encryptionAlgorithmValues)
	v.grantTokens(in.GrantTokens)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := validEncryptionContext("encryptionContext", in.EncryptionContext); err != nil {
		return nil, err
	}
	if err := validAlgorithm(in.EncryptionAlgorithm); err != nil {
		return nil, err
	}
	k, err := s.blobKey(c, in.KeyId, in.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	plaintext, err := openBlob(k, in.CiphertextBlob, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	if in.DryRun {
		return nil, badRequest("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	c.usedMaterial(k)
	return struct {
		KeyId               string
		Plaintext           []byte
		EncryptionAlgorithm string
	}{s.keyARN(k.ID), plaintext, algorithmSymmetric}, nil
}

// blobKey returns the key a ciphertext blob names, usable, as Decrypt and
// ReEncrypt find it: keyID, when given, pins the key the blob must name.
func (s *Server) blobKey(c *kmsCall, keyID string, blob []byte) (*kmsKey, *apiError) {
	var pinned *kmsKey
	if keyID != "" {
		var err *apiError
		if pinned, err = s.resolveKeyLocked(keyID, keyIDsOrAlias); err != nil {
			return nil, err
		}
	}
	id, err := blobKeyID(blob)
	if err != nil {
		return nil, err
	}
	if pinned != nil && pinned.ID != id {
		c.involve(s, pinned)
		return nil, badRequest("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
	}
	k, ok := s.st.Keys[id]
	if !ok {
		// A blob naming no key of this account is, to KMS, a bad blob.
		return nil, badRequest("InvalidCiphertextException", "")
	}
	c.involve(s, k)
	if err := s.usable(c, k); err != nil {
		return nil, err
	}
	return k, nil
}

// Key state operations.

func (s *Server) kmsScheduleKeyDeletion(c *kmsCall) (any, *apiError) {
	var in struct {
		KeyId               string
		PendingWindowInDays *int32
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	days := defaultPendingWindow
	if in.PendingWindowInDays != nil {
		days = int(*in.PendingWindowInDays)
	}
	c.params = map[string]any{"keyId": in.KeyId, "pendingWindowInDays": days}
	if days < minPendingWindowDays {
		return nil, badRequest("ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to %d", days, minPendingWindowDays))
	}
	if days > maxPendingWindowDays {
		return nil, badRequest("ValidationException", fmt.Sprintf("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to %d", days, maxPendingWindowDays))
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
	k.State = keyStatePendingDeletion
	k.DeletionDate = c.now.Add(time.Duration(days) * 24 * time.Hour)
	c.response = map[string]any{
		"keyId":               s.keyARN(k.ID),
		"deletionDate":        trailDate(k.DeletionDate),
		"keyState":            keyStatePendingDeletion,
		"pendingWindowInDays": days,
	}
	return struct {
		KeyId               string
		DeletionDate        epochSeconds
		KeyState            string
		PendingWindowInDays int
	}{s.keyARN(k.ID), epochSeconds(k.DeletionDate), k.State, days}, nil
}

func (s *Server) kmsCancelKeyDeletion(c *kmsCall) (any, *apiError) {
	k, err := s.keyOfRequest(c, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if k.State != keyStatePendingDeletion {
		return nil, badRequest("KMSInvalidStateException", s.keyARN(k.ID)+" is not pending deletion.")
	}
	// As in KMS, a key whose deletion is cancelled comes back disabled.
	k.State = keyStateDisabled
	k.DeletionDate = time.Time{}
	c.response = map[string]any{"keyId": s.keyARN(k.ID)}
	return struct{ KeyId string }{s.keyARN(k.ID)}, nil
}

func (s *Server) kmsEnableKey(c *kmsCall) (any, *apiError) {
	return s.setEnabled(c, keyStateEnabled)
}

func (s *Server) kmsDisableKey(c *kmsCall) (any, *apiError) {
	return s.setEnabled(c, keyStateDisabled)
}

func (s *Server) setEnabled(c *kmsCall, to string) (any, *apiError) {
	k, err := s.keyOfRequest(c, keyIDsOnly)
	if err != nil {
		return nil, err
	}
	if err := s.customerManaged(c, k); err != nil {
		return nil, err
	}
	if err := s.notPendingDeletion(k); err != nil {
		return nil, err
	}
	k.State = to
	c.changed(s, k)
	return struct{}{}, nil
}
