package fakeaws

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What the simulated CloudTrail writes and accepts.
const (
	// trailEventVersion is the record format of the KMS developer guide's
	// current GenerateDataKey example.
	trailEventVersion   = "1.11"
	kmsEventSource      = "kms.amazonaws.com"
	stsEventSource      = "sts.amazonaws.com"
	awsInternal         = "AWS Internal" // the caller CloudTrail names for AWS's own actions
	kmsKeyResourceType  = "AWS::KMS::Key"
	maxLookupResults    = 50
	maxLookupAttributes = 1
	// lookupEventsPerSecond is LookupEvents' rate limit per account and
	// region; it is also the burst the token bucket allows.
	lookupEventsPerSecond = 2
)

// trailRecord is a CloudTrail record, field for field and in the order
// CloudTrail writes it for a KMS call by an IAM user (the KMS developer
// guide's GenerateDataKey example), or for an action of AWS itself.
type trailRecord struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        any             `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   any             `json:"requestParameters"`
	ResponseElements    any             `json:"responseElements"`
	AdditionalEventData any             `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID,omitempty"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []trailResource `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	ManagementEvent     bool            `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *tlsDetails     `json:"tlsDetails,omitempty"`
}

type userIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	AccessKeyID string `json:"accessKeyId"`
	UserName    string `json:"userName"`
}

// serviceIdentity is the userIdentity of an action AWS takes on its own,
// such as deleting a key at the end of its waiting period.
type serviceIdentity struct {
	AccountID string `json:"accountId"`
	InvokedBy string `json:"invokedBy"`
}

type trailResource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// tlsDetails is how the caller reached the endpoint. The fake itself
// speaks plain HTTP; the record says what the real HTTPS endpoint
// negotiates, as in the developer guide's example, unless the request did
// arrive over TLS.
type tlsDetails struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

func requestTLSDetails(r *http.Request) *tlsDetails {
	d := &tlsDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_256_GCM_SHA384", ClientProvidedHostHeader: r.Host}
	if r.TLS != nil {
		d.TLSVersion = strings.Replace(tls.VersionName(r.TLS.Version), "TLS 1.", "TLSv1.", 1)
		d.CipherSuite = tls.CipherSuiteName(r.TLS.CipherSuite)
	}
	return d
}

func (s *Server) userARN() string {
	return fmt.Sprintf("arn:aws:iam::%s:user/%s", s.accountID, DemoUserName)
}

// callerIdentity is the userIdentity of the one IAM user of the account.
func (s *Server) callerIdentity(req *request) userIdentity {
	return userIdentity{
		Type:        "IAMUser",
		PrincipalID: DemoUserID,
		ARN:         s.userARN(),
		AccountID:   s.accountID,
		AccessKeyID: req.accessKeyID(),
		UserName:    DemoUserName,
	}
}

// apiCallRecord starts the record of an API call made by the account's
// user; the caller fills in the parameters and the outcome.
func (s *Server) apiCallRecord(req *request, e *trailEvent) trailRecord {
	return trailRecord{
		EventVersion:       trailEventVersion,
		UserIdentity:       s.callerIdentity(req),
		EventTime:          e.Time.Format(time.RFC3339),
		EventSource:        e.Source,
		EventName:          e.Name,
		AWSRegion:          s.region,
		SourceIPAddress:    req.sourceIP(),
		UserAgent:          req.http.UserAgent(),
		RequestID:          req.id,
		EventID:            e.ID,
		ReadOnly:           e.ReadOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: s.accountID,
		EventCategory:      "Management",
		TLSDetails:         requestTLSDetails(req.http),
	}
}

// newEventLocked numbers a new event of the account's history.
func (s *Server) newEventLocked(name, source string, readOnly bool, at time.Time) *trailEvent {
	e := &trailEvent{
		Seq:          s.log.nextSeq,
		ID:           newUUID(),
		Name:         name,
		Source:       source,
		ReadOnly:     readOnly,
		Time:         at.UTC().Truncate(time.Second), // CloudTrail's precision
		DeliveryDraw: deliveryDraw(),
	}
	s.log.nextSeq++
	return e
}

// appendEventLocked completes e with its record and adds it to the events
// of the change under way, which commitLocked saves; it becomes visible to
// LookupEvents after a delivery delay.
func (s *Server) appendEventLocked(e *trailEvent, rec trailRecord) {
	for _, arn := range e.Resources {
		rec.Resources = append(rec.Resources, trailResource{AccountID: s.accountID, Type: kmsKeyResourceType, ARN: arn})
	}
	data, err := json.Marshal(rec)
	if err != nil {
		panic("fakeaws: marshal cloudtrail record: " + err.Error()) // params are plain maps of JSON values
	}
	e.Record = data
	s.pending = append(s.pending, e)
}

// recordKMSLocked writes the CloudTrail record of a KMS call.
func (s *Server) recordKMSLocked(c *kmsCall, readOnly bool, failure *apiError) {
	e := s.newEventLocked(c.req.operation, kmsEventSource, readOnly, c.now)
	e.AccessKeyID = c.req.accessKeyID()
	e.Username = DemoUserName
	e.Resources = slices.Clone(c.resources)
	rec := s.apiCallRecord(c.req, e)
	rec.RequestParameters = boundParams(c.params)
	if failure != nil {
		rec.ErrorCode = failure.Code
		rec.ErrorMessage = failure.Message
	} else {
		rec.ResponseElements = c.response
		if c.additional != nil {
			rec.AdditionalEventData = c.additional
		}
	}
	s.appendEventLocked(e, rec)
}

// maxRecordedParamBytes bounds one request parameter in a CloudTrail
// record, as JSON. A request that fails validation can carry up to
// maxRequestBytes, and the fake keeps every record, so a parameter larger
// than any valid one is replaced by a note of its size.
const maxRecordedParamBytes = 32 << 10

func boundParams(params map[string]any) map[string]any {
	for name, v := range params {
		data, err := json.Marshal(v)
		if err != nil || len(data) > maxRecordedParamBytes {
			params[name] = fmt.Sprintf("(%d bytes, too large for this offline fake to keep)", len(data))
		}
	}
	return params
}

// recordKeyDeletedLocked writes the record KMS writes when it deletes a key
// at the end of its waiting period: an AwsServiceEvent at the deletion
// date, by AWS itself.
func (s *Server) recordKeyDeletedLocked(k *kmsKey) {
	e := s.newEventLocked("DeleteKey", kmsEventSource, false, k.DeletionDate)
	e.Resources = []string{s.keyARN(k.ID)}
	s.appendEventLocked(e, trailRecord{
		EventVersion:       trailEventVersion,
		UserIdentity:       serviceIdentity{AccountID: s.accountID, InvokedBy: awsInternal},
		EventTime:          e.Time.Format(time.RFC3339),
		EventSource:        kmsEventSource,
		EventName:          e.Name,
		AWSRegion:          s.region,
		SourceIPAddress:    awsInternal,
		UserAgent:          awsInternal,
		ResponseElements:   map[string]any{"keyId": s.keyARN(k.ID)},
		EventID:            e.ID,
		EventType:          "AwsServiceEvent",
		ManagementEvent:    true,
		RecipientAccountID: s.accountID,
		EventCategory:      "Management",
	})
}

// recordSTSLocked writes the CloudTrail record of an STS call: a read-only
// management event with no parameters and no response elements.
func (s *Server) recordSTSLocked(req *request, failure *apiError) {
	e := s.newEventLocked(req.operation, stsEventSource, true, s.clock.Now())
	e.AccessKeyID = req.accessKeyID()
	e.Username = DemoUserName
	rec := s.apiCallRecord(req, e)
	if failure != nil {
		rec.ErrorCode = failure.Code
		rec.ErrorMessage = failure.Message
	}
	s.appendEventLocked(e, rec)
}

// cloudTrailOps is the dispatch table of CloudTrail operations.
var cloudTrailOps = map[string]func(*Server, *request) (any, error){
	"LookupEvents": (*Server).lookupEvents,
}

func (s *Server) serveCloudTrail(w http.ResponseWriter, req *request) {
	op, ok := cloudTrailOps[req.operation]
	if !ok {
		writeJSONError(w, unknownOperation("CloudTrail", req.operation))
		return
	}
	fault, err := s.applyFaults(req)
	if err != nil {
		return // the caller has gone
	}
	if fault != nil {
		writeJSONError(w, fault)
		return
	}
	resp, err := op(s, req)
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		writeJSONError(w, aerr)
	case err != nil:
		writeStateError(w, err)
	default:
		writeJSON(w, resp)
	}
}

type lookupAttribute struct {
	AttributeKey   string
	AttributeValue string
}

type lookupEventsInput struct {
	LookupAttributes []lookupAttribute
	StartTime        optionalEpoch
	EndTime          optionalEpoch
	MaxResults       *int32
	NextToken        string
	EventCategory    string
}

// lookupToken is what a NextToken carries: where the last page ended, and
// a fingerprint of the query it belongs to.
type lookupToken struct {
	Time  int64  `json:"t"` // event time of the last event returned, Unix ns
	Seq   int64  `json:"s"`
	Query string `json:"q"`
}

func (in *lookupEventsInput) fingerprint() string {
	h := sha256.New()
	for _, a := range in.LookupAttributes {
		fmt.Fprintf(h, "%q=%q;", a.AttributeKey, a.AttributeValue)
	}
	if in.StartTime.Set {
		fmt.Fprintf(h, "start=%d;", in.StartTime.Time.UnixNano())
	}
	if in.EndTime.Set {
		fmt.Fprintf(h, "end=%d;", in.EndTime.Time.UnixNano())
	}
	fmt.Fprintf(h, "category=%q", in.EventCategory)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

type lookupEventOut struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string
	EventTime       epochSeconds
	EventSource     string
	Username        string
	Resources       []lookupResourceOut
	CloudTrailEvent string
}

type lookupResourceOut struct {
	ResourceType string
	ResourceName string
}

func (s *Server) lookupEvents(req *request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if !s.lookup.take(now) {
		return nil, badRequest("ThrottlingException", "Rate exceeded")
	}
	if s.mu.err != nil {
		return nil, s.mu.err
	}
	// Keys whose waiting period has ended are deleted, and that deletion
	// logged, whether or not KMS has been called since.
	if s.expireKeysLocked(now) > 0 {
		if err := s.commitLocked(); err != nil {
			return nil, err
		}
	}

	var in lookupEventsInput
	body := req.body
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("SerializationException", "Start of structure or map found where not expected.")
	}
	match, aerr := lookupFilter(in.LookupAttributes)
	if aerr != nil {
		return nil, aerr
	}
	limit := maxLookupResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxLookupResults {
			return nil, badRequest("InvalidMaxResultsException", fmt.Sprintf("Value %d for MaxResults is invalid. MaxResults must be between 1 and %d.", *in.MaxResults, maxLookupResults))
		}
		limit = int(*in.MaxResults)
	}
	if in.StartTime.Set && in.EndTime.Set && in.StartTime.Time.After(in.EndTime.Time) {
		return nil, badRequest("InvalidTimeRangeException", "Start time must be earlier than end time.")
	}
	switch in.EventCategory {
	case "", "insight":
	default:
		return nil, badRequest("InvalidEventCategoryException", fmt.Sprintf("Event category %s is not valid. The only valid value is insight.", in.EventCategory))
	}
	query := in.fingerprint()
	var after *lookupToken
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		var tok lookupToken
		if err != nil || json.Unmarshal(raw, &tok) != nil || tok.Query != query {
			return nil, badRequest("InvalidNextTokenException", "Invalid NextToken.")
		}
		after = &tok
	}

	out := struct {
		Events    []lookupEventOut
		NextToken string `json:",omitempty"`
	}{Events: []lookupEventOut{}}
	if in.EventCategory == "insight" {
		return out, nil // the fake has no Insights events
	}
	if err := s.loadEventsLocked(); err != nil {
		return nil, err
	}

	retained := now.Add(-eventRetention)
	var found []*trailEvent
	consider := func(e *trailEvent) {
		switch {
		case s.visibleAt(e).After(now), !e.Time.After(retained):
		case in.StartTime.Set && e.Time.Before(in.StartTime.Time):
		case in.EndTime.Set && e.Time.After(in.EndTime.Time):
		case !match(e):
		case after != nil && !newestFirstBefore(after.Time, after.Seq, e):
		default:
			found = append(found, e)
		}
	}
	if name, ok := lookupByName(in.LookupAttributes); ok {
		for _, i := range s.index.byName[name] {
			consider(s.index.events[i])
		}
	} else {
		for _, e := range s.index.events {
			consider(e)
		}
	}
	slices.SortFunc(found, func(a, b *trailEvent) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
	if len(found) > limit {
		last := found[limit-1]
		tok, _ := json.Marshal(lookupToken{Time: last.Time.UnixNano(), Seq: last.Seq, Query: query})
		out.NextToken = base64.RawURLEncoding.EncodeToString(tok)
		found = found[:limit]
	}
	var logFile *os.File
	if s.stateFile != "" && len(found) > 0 {
		f, err := s.openLog()
		if err != nil {
			return nil, err
		}
		if f != nil {
			defer f.Close()
		}
		logFile = f
	}
	for _, e := range found {
		record, err := s.recordLocked(logFile, e)
		if err != nil {
			return nil, err
		}
		ev := lookupEventOut{
			EventId:         e.ID,
			EventName:       e.Name,
			ReadOnly:        strconv.FormatBool(e.ReadOnly),
			AccessKeyId:     e.AccessKeyID,
			EventTime:       epochSeconds(e.Time),
			EventSource:     e.Source,
			Username:        e.Username,
			Resources:       []lookupResourceOut{},
			CloudTrailEvent: string(record),
		}
		for _, arn := range e.Resources {
			ev.Resources = append(ev.Resources, lookupResourceOut{kmsKeyResourceType, arn})
		}
		out.Events = append(out.Events, ev)
	}
	return out, nil
}

// lookupByName is the event name the lookup attributes ask for, if they
// ask for one: the index has the events of each name.
func lookupByName(attrs []lookupAttribute) (string, bool) {
	if len(attrs) != 1 || attrs[0].AttributeKey != "EventName" {
		return "", false
	}
	return attrs[0].AttributeValue, true
}

// newestFirstBefore tells whether e comes after the event (t, seq) in
// newest-first order.
func newestFirstBefore(t, seq int64, e *trailEvent) bool {
	et := e.Time.UnixNano()
	return et < t || (et == t && e.Seq < seq)
}

// lookupFilter turns LookupAttributes into a predicate.
func lookupFilter(attrs []lookupAttribute) (func(*trailEvent) bool, *apiError) {
	if len(attrs) == 0 {
		return func(*trailEvent) bool { return true }, nil
	}
	if len(attrs) > maxLookupAttributes {
		return nil, badRequest("InvalidLookupAttributesException", "You can only specify one lookup attribute.")
	}
	key, value := attrs[0].AttributeKey, attrs[0].AttributeValue
	if value == "" || len(value) > 2000 {
		return nil, badRequest("InvalidLookupAttributesException", "The lookup attribute value must be between 1 and 2000 characters.")
	}
	switch key {
	case "EventId":
		return func(e *trailEvent) bool { return e.ID == value }, nil
	case "EventName":
		return func(e *trailEvent) bool { return e.Name == value }, nil
	case "ReadOnly":
		want, err := strconv.ParseBool(value)
		if err != nil || (value != "true" && value != "false") {
			return nil, badRequest("InvalidLookupAttributesException", "The ReadOnly lookup attribute value must be true or false.")
		}
		return func(e *trailEvent) bool { return e.ReadOnly == want }, nil
	case "Username":
		return func(e *trailEvent) bool { return e.Username == value }, nil
	case "ResourceType":
		return func(e *trailEvent) bool { return value == kmsKeyResourceType && len(e.Resources) > 0 }, nil
	case "ResourceName":
		return func(e *trailEvent) bool { return slices.Contains(e.Resources, value) }, nil
	case "EventSource":
		return func(e *trailEvent) bool { return e.Source == value }, nil
	case "AccessKeyId":
		return func(e *trailEvent) bool { return e.AccessKeyID == value }, nil
	}
	return nil, badRequest("InvalidLookupAttributesException", fmt.Sprintf("%s is not a valid lookup attribute key.", key))
}

// tokenBucket is a rate limiter on the server's clock: it holds up to rate
// tokens and refills rate tokens per second.
type tokenBucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, now time.Time) tokenBucket {
	return tokenBucket{rate: rate, tokens: rate, last: now}
}

// take spends one token, or reports that there is none.
func (b *tokenBucket) take(now time.Time) bool {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.rate, b.tokens+elapsed.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
