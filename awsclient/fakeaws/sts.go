package fakeaws

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// The STS query protocol: a form-encoded Action and Version, XML answers.
const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

type stsResponseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserID  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	Metadata stsResponseMetadata `xml:"ResponseMetadata"`
}

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func (s *Server) serveSTS(w http.ResponseWriter, req *request) {
	form, err := url.ParseQuery(string(req.body))
	if err != nil {
		writeSTSError(w, req, badRequest("MalformedInput", "The request body is not a valid form."))
		return
	}
	for k, v := range req.http.URL.Query() { // the query protocol also allows GET
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	action := form.Get("Action")
	req.operation = action
	switch {
	case action == "":
		writeSTSError(w, req, badRequest("MissingAction", "Missing Action"))
		return
	case action != "GetCallerIdentity" || form.Get("Version") != stsVersion:
		writeSTSError(w, req, badRequest("InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, form.Get("Version"))))
		return
	}
	fault, err := s.applyFaults(req)
	if err != nil {
		return // the caller has gone
	}
	// CloudTrail logs GetCallerIdentity, failed calls too.
	saveErr := s.update(func() { s.recordSTSLocked(req, fault) })
	if saveErr != nil {
		writeSTSError(w, req, &apiError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: saveErr.Error()})
		return
	}
	if fault != nil {
		writeSTSError(w, req, fault)
		return
	}
	resp := getCallerIdentityResponse{Xmlns: stsNamespace}
	resp.Result.Arn = s.userARN()
	resp.Result.UserID = DemoUserID
	resp.Result.Account = s.accountID
	resp.Metadata.RequestID = req.id
	writeXML(w, http.StatusOK, resp)
}

func writeSTSError(w http.ResponseWriter, req *request, e *apiError) {
	resp := stsErrorResponse{Xmlns: stsNamespace, RequestID: req.id}
	resp.Error.Type = "Sender"
	if e.Status >= 500 {
		resp.Error.Type = "Receiver"
	}
	resp.Error.Code = e.Code
	resp.Error.Message = e.Message
	writeXML(w, e.Status, resp)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil {
		panic("fakeaws: marshal xml: " + err.Error()) // our own types always marshal
	}
	data = append([]byte(xml.Header), data...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}
