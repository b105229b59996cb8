package steps

// Output rules for advice: a step's error reads "step N: what happened",
// in lower case; its hint says what to do in this workshop, naming the step
// to run and, for real AWS, the --region and --profile a printed command
// needs. awsclient says what happened to an AWS call; the hints about the
// workshop's KMS key are attached here, where the step is known.

import (
	"errors"
	"fmt"
	"strings"

	"cse-workshop/awsclient"
)

// stepError is the error of one step; it names the step.
type stepError struct {
	n   int
	err error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %d: %v", e.n, e.err) }
func (e *stepError) Unwrap() error { return e.err }

// Explain turns an error of a step into advice: awsclient.Explain's, with
// What starting with the step's number.
func Explain(err error) awsclient.Advice {
	a := awsclient.Explain(err)
	var s *stepError
	if errors.As(err, &s) {
		if prefix := fmt.Sprintf("step %d: ", s.n); !strings.HasPrefix(a.What, prefix) {
			a.What = prefix + a.What
		}
	}
	return a
}

// advise attaches to a failure of step n the hint of this workshop, when
// it is an AWS failure whose remedy depends on the step and the step
// attached no hint of its own.
func advise(w *Workshop, n int, err error) error {
	p, ok := awsclient.Diagnose(err)
	if !ok || awsclient.Explain(err).Hint != p.Hint {
		return err
	}
	if hint := stepHint(w, n, p); hint != "" {
		return awsclient.WithHint(err, hint)
	}
	return err
}

// stepHint says what to do about an AWS failure in step n, or "" to keep
// Diagnose's advice (credentials, region, network, IAM), which is right in
// any step.
func stepHint(w *Workshop, n int, p awsclient.Problem) string {
	key := p.Key
	if !strings.HasPrefix(key, "arn:") {
		key = w.State.KeyARN
	}
	switch p.Reason {
	case awsclient.KeyNotFound, awsclient.InvalidKeyID:
		elsewhere := ""
		if w.Live() {
			elsewhere = "; if step 1 made it in another AWS account, pass that account's --profile"
		}
		switch n {
		case 2:
			return fmt.Sprintf("run step 1 again to make the workshop's KMS key and its alias %s, then step 2%s", AliasName, elsewhere)
		case 3:
			return fmt.Sprintf("the KMS key that encrypted %s is gone, and no other key can decrypt it: run step 1 again for a new key, then steps 2 and 3%s", EncryptedFile, elsewhere)
		}
		return "run step 1 again to make the workshop's KMS key and its alias" + elsewhere
	case awsclient.KeyPendingDeletion:
		// Step 1 asks before it cancels the deletion, on screen or at the
		// command line, and says itself when --yes is needed.
		return fmt.Sprintf("run step 1 again: it offers to cancel the deletion and reuse the key, then step %d", n)
	case awsclient.KeyDisabled:
		return fmt.Sprintf("enable the key with %s, then run step %d again; or run step 6 to clean up and start over with step 1", w.awsCLI("kms enable-key --key-id "+key), n)
	case awsclient.KeyUnavailable:
		return "run step 6 to clean up, then start over with step 1"
	case awsclient.AliasExists:
		return fmt.Sprintf("run step 1 again: it reuses the key %s points to when this workshop made it", AliasName)
	}
	return ""
}
