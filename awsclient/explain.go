package awsclient

// Output rules for advice: What is one line that starts in lower case and
// says what happened, without a trailing period; Hint says what to do, with
// the command or flag to use in backquotes; either may name the profile, the
// region, the endpoint host, the KMS key or the IAM action involved. A
// person sees them as age shows its errors: "error: " What, then
// "hint: " Hint on a line of its own.
//
// Which hints this package writes: only advice that is right wherever the
// call was made, in any step of the workshop and in encrypt or decrypt,
// because it is about what lies under every call (credentials, profile,
// region, network, IAM permissions, throttling, a failing service). What to
// do about a KMS key (missing, disabled, pending deletion, the wrong one, a
// damaged encrypted data key) depends on what the caller was doing, so
// Diagnose says only what happened, with the Reason and the key, and the
// caller (steps, which knows the step, or the command line, which knows
// its flags) attaches the hint with WithHint.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"

	"cse-workshop/internal/text"
)

// IAMPolicyFile is the repository file listing every IAM action the workshop
// needs.
const IAMPolicyFile = "docs/iam-policy.json"

// Advice is what went wrong and what to do about it.
type Advice struct {
	What string // one line: "the security token has expired"
	Hint string // what to do: "run `aws sso login --profile dev` and try again"; may be empty
}

// Reason is why an AWS call failed, for callers that choose their advice by
// it. The zero value is invalid: no AWS failure that Diagnose recognised.
type Reason int

const (
	Canceled              Reason = iota + 1 // the caller's context was cancelled
	TimedOut                                // a deadline passed, or the endpoint did not answer in time
	NoRegion                                // no region configured (live only)
	InvalidRegion                           // a region name the SDK refuses ("us east 1")
	WrongRegion                             // the endpoint serves another region than the one signed for
	UnknownProfile                          // --profile names no profile in the AWS config files
	NoCredentials                           // the credential chain found nothing usable
	SSOExpired                              // the SSO session is missing or expired
	ExpiredCredentials                      // the temporary keys have expired
	UnrecognizedAccessKey                   // AWS does not know the access key
	SignatureMismatch                       // the secret key does not match the access key
	ClockSkew                               // the request's time is too far from AWS's
	AccessDenied                            // IAM refused the action; Problem.Action names it
	Throttled                               // the service asks the client to slow down (see throttleCodes)
	ServiceFailure                          // the service failed internally
	EndpointUnreachable                     // the endpoint's name does not resolve, or it cannot be reached
	QuotaExceeded                           // a KMS quota (keys, aliases) is used up
	KeyNotFound                             // no KMS key or alias by that name in this account and region
	InvalidKeyID                            // the key ID is not a key ID, key ARN or alias at all
	KeyDisabled                             // the KMS key is disabled
	KeyPendingDeletion                      // the KMS key is scheduled for deletion
	KeyUnavailable                          // the KMS key is in another state that refuses the operation
	AliasExists                             // the alias name is taken
	IncorrectKey                            // Decrypt: the encrypted data key belongs to another KMS key than the KeyId given
	InvalidCiphertext                       // Decrypt: the encrypted data key or its encryption context does not check out
)

var reasonNames = [...]string{
	Canceled: "Canceled", TimedOut: "TimedOut", NoRegion: "NoRegion", InvalidRegion: "InvalidRegion",
	WrongRegion: "WrongRegion", UnknownProfile: "UnknownProfile", NoCredentials: "NoCredentials",
	SSOExpired: "SSOExpired", ExpiredCredentials: "ExpiredCredentials", UnrecognizedAccessKey: "UnrecognizedAccessKey",
	SignatureMismatch: "SignatureMismatch", ClockSkew: "ClockSkew", AccessDenied: "AccessDenied",
	Throttled: "Throttled", ServiceFailure: "ServiceFailure", EndpointUnreachable: "EndpointUnreachable",
	QuotaExceeded: "QuotaExceeded", KeyNotFound: "KeyNotFound", InvalidKeyID: "InvalidKeyID",
	KeyDisabled: "KeyDisabled", KeyPendingDeletion: "KeyPendingDeletion", KeyUnavailable: "KeyUnavailable",
	AliasExists: "AliasExists", IncorrectKey: "IncorrectKey", InvalidCiphertext: "InvalidCiphertext",
}

func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Problem is an AWS failure as Diagnose reads it.
type Problem struct {
	Reason Reason
	What   string // what happened, following the output rules above
	// Hint is advice that is right wherever the call was made (see the
	// package's rules above), or "" when what to do depends on the caller.
	Hint   string
	Key    string // the KMS key ARN, key ID or alias the failure names, when AWS named one
	Action string // AccessDenied: the IAM action refused, "kms:GenerateDataKey"
}

// Explain turns any error into advice for a person. What is the error's
// text, or Diagnose's account of an AWS failure in it; Hint is the hint
// attached with WithHint nearest the top of the chain, else Diagnose's.
// When a WithAdvice in the chain restated what happened, What is the
// error's text as restated.
func Explain(err error) Advice {
	if err == nil {
		return Advice{}
	}
	hint, restated := attached(err)
	a := Advice{What: err.Error()}
	if p, ok := Diagnose(err); ok && !restated {
		a = Advice{What: p.What, Hint: p.Hint}
	}
	if hint != "" {
		a.Hint = hint
	}
	return a
}

// WithHint attaches to err what to do about it. A caller that knows the
// situation (the step, the command and its flags) attaches hints; the
// outermost one wins in Explain.
func WithHint(err error, hint string) error {
	return &advised{err: err, advice: Advice{Hint: hint}}
}

// WithAdvice is WithHint that also restates what happened: a.What, when
// set, becomes the error's text (the original stays in the chain for
// errors.Is and errors.As).
func WithAdvice(err error, a Advice) error {
	return &advised{err: err, advice: a}
}

// advised is an error with advice; see WithHint and WithAdvice.
type advised struct {
	err    error
	advice Advice
}

func (e *advised) Error() string {
	if e.advice.What != "" {
		return e.advice.What
	}
	return e.err.Error()
}

func (e *advised) Unwrap() error { return e.err }

// attached returns the outermost hint attached in err's chain, and whether
// something in it restated what happened.
func attached(err error) (hint string, restated bool) {
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if a, ok := err.(*advised); ok {
			if hint == "" {
				hint = a.advice.Hint
			}
			restated = restated || a.advice.What != ""
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return hint, restated
}

// credentialSource is where the live configuration came from.
type credentialSource struct {
	profile string // "default" when nothing else was chosen; empty only in the demo
	sso     bool   // the profile signs in through IAM Identity Center (SSO)
}

// callError is how every error leaves an SDK operation: with the endpoint
// host it went to and, for the live backend, the credential source. Its
// message is the wrapped error's.
type callError struct {
	src  *credentialSource // nil for the demo backend
	host string            // "" when no request was built
	err  error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// credentialsError marks a failure to get credentials (nothing found, an
// expired SSO session, a failed role assumption), which the SDK reports only
// as text. Its message is the wrapped error's.
type credentialsError struct {
	err error
}

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// taggedCredentials marks the errors of the live credential chain.
type taggedCredentials struct {
	inner aws.CredentialsProvider
}

func (p *taggedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.inner.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return creds, &credentialsError{err: err}
	}
	return creds, err
}

// IsCredentialsProvider lets the SDK see through the wrapper (it checks for
// anonymous credentials this way).
func (p *taggedCredentials) IsCredentialsProvider(target aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.inner, target)
}

// ProviderSources reports the inner chain, for the SDK's user agent.
func (p *taggedCredentials) ProviderSources() []aws.CredentialSource {
	if s, ok := p.inner.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

var (
	// "User: arn:... is not authorized to perform: kms:CreateKey on resource: ..."
	deniedActionPattern = lazyRegexp(`not authorized to perform:? ([A-Za-z0-9-]+:[A-Za-z0-9*]+)`)
	keyARNPattern       = lazyRegexp(`arn:aws[A-Za-z-]*:kms:[a-z0-9-]*:[0-9]{12}:key/[A-Za-z0-9-]+`)
	aliasPattern        = lazyRegexp(`alias/[A-Za-z0-9/_-]+`)
	// aliasNotFoundPattern is KMS's message for an alias it did not find,
	// which names the alias (or its ARN) as it was given, spaces included.
	aliasNotFoundPattern = lazyRegexp(`(?s)^Alias (?:arn:[^:]*:kms:[^:]*:[^:]*:)?(alias/.*) is not found\.?$`)
)

// Diagnose reads an error from an AWS call (or from New): why it failed
// and what happened. ok is false when err holds no failure it recognises.
// A cancellation or a network error counts only when it ended an AWS call:
// the same error from a file or a listening socket is not about AWS.
func Diagnose(err error) (p Problem, ok bool) {
	if err == nil {
		return Problem{}, false
	}
	var call *callError
	fromCall := errors.As(err, &call)
	// The demo backend has no profile; its credential errors come only from
	// injected faults.
	var src credentialSource
	if fromCall && call.src != nil {
		src = *call.src
	}

	var credErr *credentialsError
	var apiErr smithy.APIError
	var noProfile config.SharedConfigProfileNotExistError
	switch {
	case fromCall && errors.Is(err, context.Canceled):
		return Problem{Reason: Canceled, What: "the AWS call was canceled before it finished"}, true
	case fromCall && errors.Is(err, context.DeadlineExceeded):
		return Problem{
			Reason: TimedOut,
			What:   fmt.Sprintf("the AWS endpoint%s did not answer in time", onHost(err)),
			Hint:   "check your network connection and try again",
		}, true
	case errors.Is(err, ErrNoRegion):
		return Problem{
			Reason: NoRegion,
			What:   "no AWS region is set",
			Hint:   "pass --region (for example `--region us-east-1`) or set AWS_REGION",
		}, true
	case errors.As(err, &noProfile):
		return Problem{
			Reason: UnknownProfile,
			What:   fmt.Sprintf("the AWS profile %q is not in your AWS config files", noProfile.Profile),
			Hint:   fmt.Sprintf("list your profiles with `aws configure list-profiles`, or create this one with `aws configure --profile %s`", noProfile.Profile),
		}, true
	case isSSOSessionError(err):
		return Problem{
			Reason: SSOExpired,
			What:   fmt.Sprintf("the SSO session%s has expired or was never started", ofProfile(src)),
			Hint:   fmt.Sprintf("run `%s` and try again", ssoLogin(src.profile)),
		}, true
	case errors.As(err, &credErr) && !errors.As(credErr, &apiErr):
		if p, ok := diagnoseNetwork(credErr.err); ok {
			// The chain found a source (SSO portal, STS, a container
			// endpoint) but could not reach it.
			p.What = fmt.Sprintf("cannot get AWS credentials%s: %s", forProfile(src), p.What)
			return p, true
		}
		return Problem{
			Reason: NoCredentials,
			What:   fmt.Sprintf("no AWS credentials found%s", forProfile(src)),
			Hint:   "run `aws configure` (or `aws configure sso`), pass --profile NAME, or set AWS_PROFILE",
		}, true
	case errors.As(err, &apiErr):
		return diagnoseAPIError(err, apiErr, src)
	case fromCall && isInvalidRegion(err):
		_, region, _ := strings.Cut(err.Error(), "invalid input region ")
		return Problem{
			Reason: InvalidRegion,
			What:   fmt.Sprintf("the AWS region %q is not a valid region name", region),
			Hint:   "pass --region with a region like `us-east-1`, or set AWS_REGION",
		}, true
	case fromCall:
		return diagnoseNetwork(err)
	}
	return Problem{}, false
}

func diagnoseAPIError(err error, apiErr smithy.APIError, src credentialSource) (Problem, bool) {
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch code {
	case "ExpiredTokenException", "ExpiredToken", "RequestExpired":
		hint := "refresh your credentials (get new temporary keys, or log in again) and try again"
		if src.sso {
			hint = fmt.Sprintf("refresh your credentials with `%s` and try again", ssoLogin(src.profile))
		}
		return Problem{Reason: ExpiredCredentials, What: "the AWS security token has expired", Hint: hint}, true

	case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId":
		return Problem{
			Reason: UnrecognizedAccessKey,
			What:   fmt.Sprintf("the access key%s is not recognised by AWS", ofProfile(src)),
			Hint:   "check the keys with `aws configure list`, choose another --profile, or set fresh AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
		}, true

	case "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature":
		if _, rest, ok := strings.Cut(msg, "scoped to a valid region, not '"); ok {
			region, _, _ := strings.Cut(rest, "'")
			return Problem{
				Reason: WrongRegion,
				What:   fmt.Sprintf("the AWS endpoint%s does not serve region %s", onHost(err), region),
				Hint:   "pass the --region the endpoint serves, or point AWS_ENDPOINT_URL at an endpoint of this region",
			}, true
		}
		if strings.Contains(strings.ToLower(msg), "expired") {
			return Problem{
				Reason: ClockSkew,
				What:   "the request signature was refused: this computer's clock is wrong",
				Hint:   "set the system clock right (enable network time) and try again",
			}, true
		}
		return Problem{
			Reason: SignatureMismatch,
			What:   fmt.Sprintf("the request signature was refused: the secret access key%s does not match its access key", ofProfile(src)),
			Hint:   "check the secret key with `aws configure`, or choose another --profile",
		}, true

	case "AccessDeniedException", "AccessDenied":
		action := deniedAction(err, msg)
		return Problem{
			Reason: AccessDenied,
			What:   fmt.Sprintf("access denied: your AWS identity may not call %s", action),
			Hint:   fmt.Sprintf("allow %s in your IAM policy; %s lists every action the workshop needs", action, IAMPolicyFile),
			Action: action,
		}, true

	case "DisabledException":
		key := keyARNPattern().FindString(msg)
		return Problem{Reason: KeyDisabled, What: fmt.Sprintf("the KMS key%s is disabled", spaced(key)), Key: key}, true

	case "KMSInvalidStateException":
		key := keyARNPattern().FindString(msg)
		if strings.Contains(strings.ToLower(msg), "pending deletion") {
			return Problem{
				Reason: KeyPendingDeletion,
				What:   fmt.Sprintf("the KMS key%s is scheduled for deletion and cannot be used", spaced(key)),
				Key:    key,
			}, true
		}
		return Problem{
			Reason: KeyUnavailable,
			What:   fmt.Sprintf("the KMS key%s is not in a state that allows this (%s)", spaced(key), strings.TrimSuffix(msg, ".")),
			Key:    key,
		}, true

	case "NotFoundException":
		// KMS says "Invalid keyId X" or "Invalid arn X" for a name that
		// cannot be a key at all, and names the alias or key ARN it did
		// not find otherwise.
		for _, prefix := range []string{"Invalid keyId ", "Invalid arn "} {
			if ref, ok := strings.CutPrefix(msg, prefix); ok {
				return Problem{
					Reason: InvalidKeyID,
					What:   fmt.Sprintf("%q is not a KMS key ID, key ARN or alias", ref),
					Key:    ref,
				}, true
			}
		}
		name, key := "the KMS key", keyARNPattern().FindString(msg)
		if alias := notFoundAlias(msg); alias != "" {
			name, key = "the alias "+text.Name(alias), alias
		} else if key != "" {
			name = "the KMS key " + key
		}
		return Problem{Reason: KeyNotFound, What: fmt.Sprintf("%s does not exist in this account and region", name), Key: key}, true

	case "AlreadyExistsException":
		name, alias := "the alias", aliasPattern().FindString(msg)
		if alias != "" {
			name = "the alias " + alias
		}
		return Problem{Reason: AliasExists, What: name + " already exists", Key: alias}, true

	case "IncorrectKeyException":
		return Problem{Reason: IncorrectKey, What: "the encrypted data key belongs to another KMS key than the one given"}, true

	case "InvalidCiphertextException":
		return Problem{
			Reason: InvalidCiphertext,
			What:   "the encrypted data key could not be decrypted by KMS: the encryption context differs from the one used to encrypt, or the encrypted data key was made by another KMS key or damaged",
		}, true

	case "LimitExceededException":
		return Problem{
			Reason: QuotaExceeded,
			What:   fmt.Sprintf("an AWS KMS quota was reached (%s)", strings.TrimSuffix(msg, ".")),
			Hint:   "delete KMS keys or aliases you no longer need, or use another account or region",
		}, true

	case "KMSInternalException", "InternalFailure", "InternalError", "ServiceUnavailable",
		"ServiceUnavailableException", "DependencyTimeoutException":
		return Problem{
			Reason: ServiceFailure,
			What:   fmt.Sprintf("the AWS service failed with an internal error (%s)%s", code, afterAttempts(err)),
			Hint:   "wait a moment and try again",
		}, true
	}
	if isThrottle(code, msg) {
		return Problem{
			Reason: Throttled,
			What:   fmt.Sprintf("the requests were throttled by AWS (%s)%s", throttleText(code, msg), afterAttempts(err)),
			Hint:   "wait a minute and try again",
		}, true
	}
	return Problem{}, false
}

// diagnoseNetwork reads failures to reach the endpoint at all.
func diagnoseNetwork(err error) (Problem, bool) {
	var dnsErr *net.DNSError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return Problem{
			Reason: EndpointUnreachable,
			What:   fmt.Sprintf("cannot resolve the AWS endpoint %s", dnsErr.Name),
			Hint:   "check --region (for example `us-east-1`), AWS_ENDPOINT_URL and your network connection",
		}, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return Problem{
			Reason: EndpointUnreachable,
			What:   fmt.Sprintf("cannot connect to the AWS endpoint%s: connection refused", onHost(err)),
			Hint:   "check AWS_ENDPOINT_URL and your network or proxy settings, then try again",
		}, true
	case errors.As(err, &netErr) && netErr.Timeout():
		return Problem{
			Reason: TimedOut,
			What:   fmt.Sprintf("the AWS endpoint%s did not answer in time", onHost(err)),
			Hint:   "check your network connection and try again",
		}, true
	case errors.As(err, &opErr):
		return Problem{
			Reason: EndpointUnreachable,
			What:   fmt.Sprintf("cannot reach the AWS endpoint%s: %v", onHost(err), opErr.Err),
			Hint:   "check your network connection, proxy settings and AWS_ENDPOINT_URL, then try again",
		}, true
	}
	return Problem{}, false
}

// onHost is " HOST" for the endpoint host a request went to, or "".
func onHost(err error) string {
	var call *callError
	if errors.As(err, &call) && call.host != "" {
		return " " + call.host
	}
	var urlErr *url.Error
	if !errors.As(err, &urlErr) {
		return ""
	}
	u, perr := url.Parse(urlErr.URL)
	if perr != nil || u.Host == "" {
		return ""
	}
	return " " + u.Host
}

// isSSOSessionError reports a missing, unreadable or expired SSO token. The
// SDK has a type only for legacy SSO profiles; sso-session profiles fail with
// text ("cached SSO token is expired", "failed to read cached SSO token file").
func isSSOSessionError(err error) bool {
	var tokenErr *ssocreds.InvalidTokenError
	if errors.As(err, &tokenErr) {
		return true
	}
	var credErr *credentialsError
	return errors.As(err, &credErr) && strings.Contains(credErr.Error(), "SSO token")
}

// isInvalidRegion reports a region the SDK refused to build an endpoint for
// ("us east 1"); the SDK says so only in text.
func isInvalidRegion(err error) bool {
	return strings.Contains(err.Error(), "invalid input region")
}

// ofProfile is " of profile NAME" for the live backend, or "".
func ofProfile(src credentialSource) string {
	if src.profile == "" {
		return ""
	}
	return " of profile " + src.profile
}

// forProfile is " for profile NAME" for the live backend, or "".
func forProfile(src credentialSource) string {
	if src.profile == "" {
		return ""
	}
	return " for profile " + src.profile
}

func ssoLogin(profile string) string {
	if profile == "" || profile == "default" {
		return "aws sso login"
	}
	return "aws sso login --profile " + profile
}

// deniedAction names the IAM action of an access-denied error: from the
// message when AWS says it, else from the operation that failed.
func deniedAction(err error, msg string) string {
	if m := deniedActionPattern().FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		return iamAction(opErr.ServiceID, opErr.OperationName)
	}
	return "this action"
}

// spaced is " s", or "" for an empty s.
func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func throttleText(code, msg string) string {
	if msg == "" {
		return code
	}
	return code + ": " + strings.TrimSuffix(msg, ".")
}

// afterAttempts is ", still after N attempts" when the SDK gave up retrying.
func afterAttempts(err error) string {
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) {
		return fmt.Sprintf(", still after %d attempts", maxErr.Attempt)
	}
	return ""
}

// notFoundAlias is the alias name in KMS's NotFoundException message, or ""
// when the message names none.
func notFoundAlias(msg string) string {
	if m := aliasNotFoundPattern().FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return aliasPattern().FindString(msg)
}
