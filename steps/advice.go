package steps

import (
	"errors"
	"fmt"

	"cse-workshop/awsclient"
)

// hinter is an error that says what to do about it. Explain uses the hint
// of the outermost one in an error's chain.
type hinter interface {
	error
	Hint() string
}

// withHint attaches a hint to a failure of the workshop itself (not of an
// AWS call).
func withHint(err error, hint string) error { return awsclient.WithHint(err, hint) }

// stepError is the error of one step; it names the step.
type stepError struct {
	n   int
	err error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d: %v", e.n, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// Explain turns an error of a step into advice: the error's own hint when
// it has one (an error in its chain with a method Hint() string), else awsclient.Explain's reading of the AWS error inside (What
// then starts with the step's number), else the error's text.
func Explain(err error) awsclient.Advice {
	if err == nil {
		return awsclient.Advice{}
	}
	var h hinter
	if errors.As(err, &h) {
		return awsclient.Advice{What: err.Error(), Hint: h.Hint()}
	}
	a := awsclient.Explain(err)
	if a.Hint == "" {
		return awsclient.Advice{What: err.Error()}
	}
	var s *stepError
	if errors.As(err, &s) {
		a.What = fmt.Sprintf("step %d: %s", s.n, a.What)
	}
	return a
}
