package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault is a failure the server returns instead of answering, for tests and
// demos of error handling. Empty Service or Operation match any.
//
// The code is translated to the service's own spelling where services
// differ (ThrottlingException is Throttling in STS, UnrecognizedClientException
// is InvalidClientTokenId, ...), so one Fault can target every service. An
// empty Message is filled in as AWS words it, naming the caller and the
// operation (for AccessDenied, the IAM action that was denied). An empty Code
// with a 5xx Status is the service's internal error.
type Fault struct {
	Service   string        // "kms", "cloudtrail", "sts"
	Operation string        // e.g. "GenerateDataKey"
	Latency   time.Duration // added before answering (on the server's clock)
	Status    int           // HTTP status; 0 means no error, only latency
	Code      string        // the __type / XML Code, e.g. "ThrottlingException"
	Message   string
	Times     int // how many requests it affects; 0 means all
}

// ThrottlingFault makes service's operation answer as an API over its rate
// limit does.
func ThrottlingFault(service, operation string) Fault {
	return Fault{Service: service, Operation: operation, Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"}
}

// InternalErrorFault makes service's operation fail on the AWS side (HTTP
// 500): KMSInternalException for KMS, InternalFailure for the others.
func InternalErrorFault(service, operation string) Fault {
	return Fault{Service: service, Operation: operation, Status: http.StatusInternalServerError}
}

// AccessDeniedFault makes service's operation fail as it does for a user
// whose IAM policy does not allow it.
func AccessDeniedFault(service, operation string) Fault {
	return Fault{Service: service, Operation: operation, Status: http.StatusBadRequest, Code: "AccessDeniedException"}
}

// ExpiredTokenFault makes every request fail as it does when the caller's
// temporary credentials have expired.
func ExpiredTokenFault() Fault {
	return Fault{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"}
}

// InvalidTokenFault makes every request fail as it does when the caller's
// access key is unknown to AWS.
func InvalidTokenFault() Fault {
	return Fault{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
}

// LatencyFault slows service's operation down by d (on the server's clock)
// without failing it.
func LatencyFault(service, operation string, d time.Duration) Fault {
	return Fault{Service: service, Operation: operation, Latency: d}
}

type activeFault struct {
	Fault
	left int // requests still to affect; negative means no limit
}

// InjectFault adds a fault. Faults apply in the order they were added: each
// matching one adds its latency, and the first matching one with a Status
// decides the error.
func (s *Server) InjectFault(f Fault) {
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &activeFault{Fault: f, left: left})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

func (f *Fault) matches(service, operation string) bool {
	return (f.Service == "" || strings.EqualFold(f.Service, service)) &&
		(f.Operation == "" || f.Operation == operation)
}

// applyFaults waits out the latency of the faults that match req and
// returns the error one of them dictates, if any. It fails only when the
// request's context ends during the wait.
func (s *Server) applyFaults(req *request) (*apiError, error) {
	latency, failure := s.takeFaults(req)
	if err := s.wait(req.http.Context(), latency); err != nil {
		return nil, err
	}
	if failure == nil {
		return nil, nil
	}
	return s.faultError(req, *failure), nil
}

// takeFaults counts req against the faults that match it, and returns
// their total latency and the first one that fails it, if any.
func (s *Server) takeFaults(req *request) (time.Duration, *Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	var latency time.Duration
	var failure *Fault
	kept := s.faults[:0]
	for _, f := range s.faults {
		if f.matches(req.service, req.operation) {
			affected := false
			if f.Latency > 0 {
				latency += f.Latency
				affected = true
			}
			if f.Status != 0 && failure == nil {
				failure = &f.Fault
				affected = true
			}
			if affected && f.left > 0 {
				f.left--
			}
		}
		if f.left != 0 {
			kept = append(kept, f)
		}
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return latency, failure
}

// serviceCodes maps a code to its spelling, and HTTP status, in services
// that spell it differently.
var serviceCodes = map[string]map[string]struct {
	code   string
	status int
}{
	serviceSTS: {
		"ThrottlingException":         {"Throttling", http.StatusBadRequest},
		"ExpiredTokenException":       {"ExpiredToken", http.StatusBadRequest},
		"UnrecognizedClientException": {"InvalidClientTokenId", http.StatusForbidden},
		"AccessDeniedException":       {"AccessDenied", http.StatusForbidden},
		"KMSInternalException":        {"InternalFailure", http.StatusInternalServerError},
	},
	serviceCloudTrail: {
		"KMSInternalException": {"InternalFailure", http.StatusInternalServerError},
	},
	serviceKMS: {
		"Throttling":           {"ThrottlingException", http.StatusBadRequest},
		"ExpiredToken":         {"ExpiredTokenException", http.StatusBadRequest},
		"InvalidClientTokenId": {"UnrecognizedClientException", http.StatusBadRequest},
		"AccessDenied":         {"AccessDeniedException", http.StatusBadRequest},
	},
}

// internalFailureMessage is AWS's wording of an unexplained server failure.
const internalFailureMessage = "The request processing has failed because of an unknown error, exception or failure."

func (s *Server) faultError(req *request, f Fault) *apiError {
	e := &apiError{Status: f.Status, Code: f.Code, Message: f.Message}
	if e.Code == "" {
		e.Code = "InternalFailure"
		if req.service == serviceKMS {
			e.Code = "KMSInternalException"
		}
	}
	if alt, ok := serviceCodes[req.service][e.Code]; ok {
		e.Code, e.Status = alt.code, alt.status
	}
	if e.Message == "" {
		switch e.Code {
		case "AccessDeniedException", "AccessDenied":
			e.Message = s.accessDeniedMessage(req)
		case "ThrottlingException", "Throttling":
			e.Message = "Rate exceeded"
		case "ExpiredTokenException", "ExpiredToken":
			e.Message = "The security token included in the request is expired"
		case "UnrecognizedClientException", "InvalidClientTokenId":
			e.Message = "The security token included in the request is invalid."
		case "InternalFailure", "KMSInternalException":
			e.Message = internalFailureMessage
		}
	}
	return e
}

// accessDeniedMessage words an AccessDenied error as IAM does: the user,
// the action and, for KMS, the key it was asked about.
func (s *Server) accessDeniedMessage(req *request) string {
	action := req.service + ":" + req.operation
	if req.service != serviceKMS {
		return fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", s.userARN(), action, action)
	}
	resource := "*"
	var in struct{ KeyId, TargetKeyId string }
	if json.Unmarshal(req.body, &in) == nil {
		if ref := firstNonEmpty(in.KeyId, in.TargetKeyId); ref != "" {
			s.mu.Lock()
			defer s.mu.Unlock()
			if k, err := s.resolveKeyLocked(ref, keyIDsOrAlias); err == nil {
				resource = s.keyARN(k.ID)
			}
		}
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", s.userARN(), action, resource, action)
}
