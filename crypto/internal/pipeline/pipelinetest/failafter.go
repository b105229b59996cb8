package pipelinetest

import "io"

// FailAfter is a reader (of R) or a writer (to W) that passes N bytes, then
// fails with Err: an input or output that breaks in the middle of a stream.
type FailAfter struct {
	R   io.Reader
	W   io.Writer
	N   int
	Err error
}

func (f *FailAfter) Read(p []byte) (int, error) {
	if f.N <= 0 {
		return 0, f.Err
	}
	n, err := f.R.Read(p[:min(len(p), f.N)])
	f.N -= n
	return n, err
}

func (f *FailAfter) Write(p []byte) (int, error) {
	if f.N < len(p) {
		return 0, f.Err
	}
	f.N -= len(p)
	return f.W.Write(p)
}
