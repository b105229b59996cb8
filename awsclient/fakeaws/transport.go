package fakeaws

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// RoundTripper returns a transport that hands requests straight to the
// server, with no socket. A request whose context ends before the answer is
// ready fails with the context's error, as a real transport would. So does
// a request whose change the server could not save: RoundTrip returns the
// *StateFileError, which names the file and the cause. A handler that
// panics answers an internal error, and never takes the program down.
func (s *Server) RoundTripper() http.RoundTripper { return roundTripper{s} }

type roundTripper struct{ s *Server }

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The handler gets its own copy of the body, so that it never reads the
	// caller's reader after RoundTrip has returned.
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
	}
	in := req.Clone(ctx)
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.RequestURI = in.URL.RequestURI()
	if in.Host == "" {
		in.Host = in.URL.Host
	}

	rec := newResponseRecorder()
	done := make(chan any, 1)
	go func() {
		// ServeHTTP answers its handlers' panics; what is left (an answer
		// begun, then a panic) must not end the program either.
		defer func() { done <- recover() }()
		rt.s.ServeHTTP(rec, in)
	}()
	select {
	case p := <-done:
		if p != nil {
			return nil, fmt.Errorf("fake aws: %s %s failed inside the server", in.Method, in.URL)
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if rec.err != nil {
		return nil, rec.err
	}
	return rec.response(req), nil
}

// responseRecorder is the http.ResponseWriter of an in-process request.
type responseRecorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	err    error // the server's own failure, given back instead of an answer
}

// fail replaces the answer with err.
func (r *responseRecorder) fail(err error) { r.err = err }

func newResponseRecorder() *responseRecorder {
	return &responseRecorder{header: make(http.Header)}
}

func (r *responseRecorder) Header() http.Header { return r.header }

func (r *responseRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *responseRecorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

func (r *responseRecorder) response(req *http.Request) *http.Response {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	header := r.header.Clone()
	header.Set("Content-Length", strconv.Itoa(r.body.Len()))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(r.body.Bytes())),
		ContentLength: int64(r.body.Len()),
		Request:       req,
	}
}
