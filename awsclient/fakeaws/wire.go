package fakeaws

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// jsonContentType is the AWS JSON 1.1 protocol's media type.
const jsonContentType = "application/x-amz-json-1.1"

// writeJSON answers an AWS JSON 1.1 request with 200 and v.
func writeJSON(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic("fakeaws: marshal response: " + err.Error()) // our own types always marshal
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

// writeJSONError answers an AWS JSON 1.1 request with an error shaped as
// {"__type": "Code", "message": "..."}; real KMS leaves the message out of
// some errors (InvalidCiphertextException), and so does the fake.
func writeJSONError(w http.ResponseWriter, e *apiError) {
	body := struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{e.Code, e.Message}
	data, _ := json.Marshal(body)
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(e.Status)
	w.Write(data)
}

// epochSeconds is a time on the AWS JSON wire: seconds since the epoch as a
// JSON number, with milliseconds.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// optionalEpoch is an epoch-seconds time in a request; Set tells whether it
// was sent.
type optionalEpoch struct {
	Time time.Time
	Set  bool
}

func (t *optionalEpoch) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return err
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	t.Set = true
	return nil
}

// badRequest builds the common 400 error.
func badRequest(code, message string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, Message: message}
}

// unknownOperation is the answer to an operation the fake does not offer:
// what an AWS JSON service answers for a target it does not have (real
// services leave the message out), with a message that names the operation.
func unknownOperation(service, operation string) *apiError {
	return badRequest("UnknownOperationException", fmt.Sprintf(
		"%s operation %q is not offered by this offline fake of AWS (cse-workshop); docs/fidelity.md lists the operations it offers.",
		service, operation))
}
