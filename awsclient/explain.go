package awsclient

// Output rules for advice: What is one line that starts in lower case and
// says what happened, without a trailing period; Hint says what to do, with
// the command or flag to use in backquotes; either may name the profile, the
// region, the endpoint host, the KMS key or the IAM action involved.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"
)

// IAMPolicyFile is the repository file listing every IAM action the workshop
// needs.
const IAMPolicyFile = "docs/iam-policy.json"

// Advice is what went wrong and what to do about it.
type Advice struct {
	What string // one line: "the security token has expired"
	Hint string // what to do: "run `aws sso login --profile dev` and try again"
}

// String renders the advice as the command line prints it: What, then the
// hint on its own line after "hint: ".
func (a Advice) String() string {
	if a.Hint == "" {
		return a.What
	}
	return a.What + "\nhint: " + a.Hint
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
	deniedActionPattern = regexp.MustCompile(`not authorized to perform:? ([A-Za-z0-9-]+:[A-Za-z0-9*]+)`)
	keyARNPattern       = regexp.MustCompile(`arn:aws[A-Za-z-]*:kms:[a-z0-9-]*:[0-9]{12}:key/[A-Za-z0-9-]+`)
	aliasPattern        = regexp.MustCompile(`alias/[A-Za-z0-9/_-]+`)
)

// Explain turns an error from an AWS call into advice. Errors it does not
// recognise come back with What set to the error text and no Hint.
func Explain(err error) Advice {
	if err == nil {
		return Advice{}
	}
	// The demo backend has no profile; its credential errors come only from
	// injected faults.
	var src credentialSource
	var call *callError
	if errors.As(err, &call) && call.src != nil {
		src = *call.src
	}

	var credErr *credentialsError
	var apiErr smithy.APIError
	var noProfile config.SharedConfigProfileNotExistError
	switch {
	case errors.Is(err, context.Canceled):
		return Advice{
			What: "the AWS call was canceled before it finished",
			Hint: "run the step again when you are ready",
		}
	case errors.Is(err, context.DeadlineExceeded):
		return Advice{
			What: fmt.Sprintf("the AWS endpoint%s did not answer in time", onHost(err)),
			Hint: "check your network connection and try again",
		}
	case errors.Is(err, ErrNoRegion):
		return Advice{
			What: "no AWS region is set",
			Hint: "pass --region (for example `--region us-east-1`) or set AWS_REGION",
		}
	case errors.As(err, &noProfile):
		return Advice{
			What: fmt.Sprintf("the AWS profile %q is not in your AWS config files", noProfile.Profile),
			Hint: fmt.Sprintf("list your profiles with `aws configure list-profiles`, or create this one with `aws configure --profile %s`", noProfile.Profile),
		}
	case isSSOSessionError(err):
		return Advice{
			What: fmt.Sprintf("the SSO session%s has expired or was never started", ofProfile(src)),
			Hint: fmt.Sprintf("run `%s` and try again", ssoLogin(src.profile)),
		}
	case errors.As(err, &credErr) && !errors.As(credErr, &apiErr):
		if a, ok := explainNetwork(credErr.err); ok {
			// The chain found a source (SSO portal, STS, a container
			// endpoint) but could not reach it.
			a.What = fmt.Sprintf("cannot get AWS credentials%s: %s", forProfile(src), a.What)
			return a
		}
		return Advice{
			What: fmt.Sprintf("no AWS credentials found%s", forProfile(src)),
			Hint: "run `aws configure` (or `aws configure sso`), pass --profile NAME, or set AWS_PROFILE",
		}
	case errors.As(err, &apiErr):
		return explainAPIError(err, apiErr, src)
	case isInvalidRegion(err):
		_, region, _ := strings.Cut(err.Error(), "invalid input region ")
		return Advice{
			What: fmt.Sprintf("the AWS region %q is not a valid region name", region),
			Hint: "pass --region with a region like `us-east-1`, or set AWS_REGION",
		}
	}
	if a, ok := explainNetwork(err); ok {
		return a
	}
	return Advice{What: err.Error()}
}

func explainAPIError(err error, apiErr smithy.APIError, src credentialSource) Advice {
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch code {
	case "ExpiredTokenException", "ExpiredToken", "RequestExpired":
		hint := "refresh your credentials (get new temporary keys, or log in again) and try again"
		if src.sso {
			hint = fmt.Sprintf("refresh your credentials with `%s` and try again", ssoLogin(src.profile))
		}
		return Advice{What: "the AWS security token has expired", Hint: hint}

	case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId":
		return Advice{
			What: fmt.Sprintf("the access key%s is not recognised by AWS", ofProfile(src)),
			Hint: "check the keys with `aws configure list`, choose another --profile, or set fresh AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
		}

	case "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature":
		if _, rest, ok := strings.Cut(msg, "scoped to a valid region, not '"); ok {
			region, _, _ := strings.Cut(rest, "'")
			return Advice{
				What: fmt.Sprintf("the AWS endpoint%s does not serve region %s", onHost(err), region),
				Hint: "pass the --region the endpoint serves, or point AWS_ENDPOINT_URL at an endpoint of this region",
			}
		}
		if strings.Contains(strings.ToLower(msg), "expired") {
			return Advice{
				What: "the request signature was refused: this computer's clock is wrong",
				Hint: "set the system clock right (enable network time) and try again",
			}
		}
		return Advice{
			What: fmt.Sprintf("the request signature was refused: the secret access key%s does not match its access key", ofProfile(src)),
			Hint: "check the secret key with `aws configure`, or choose another --profile",
		}

	case "AccessDeniedException", "AccessDenied":
		action := deniedAction(err, msg)
		return Advice{
			What: fmt.Sprintf("access denied: your AWS identity may not call %s", action),
			Hint: fmt.Sprintf("allow %s in your IAM policy; %s lists every action the workshop needs", action, IAMPolicyFile),
		}

	case "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
		"RequestLimitExceeded", "RequestThrottled", "RequestThrottledException":
		return Advice{
			What: fmt.Sprintf("the requests were throttled by AWS (%s)%s", throttleText(code, msg), afterAttempts(err)),
			Hint: "wait a minute and run the step again",
		}

	case "DisabledException":
		key := keyOrPlaceholder(msg)
		return Advice{
			What: fmt.Sprintf("the KMS key %s is disabled", key),
			Hint: fmt.Sprintf("enable it with `aws kms enable-key --key-id %s`, or run step 1 again to make a new key", key),
		}

	case "KMSInvalidStateException":
		key := keyOrPlaceholder(msg)
		if strings.Contains(strings.ToLower(msg), "pending deletion") {
			return Advice{
				What: fmt.Sprintf("the KMS key %s is scheduled for deletion and cannot be used", key),
				Hint: fmt.Sprintf("cancel the deletion with `aws kms cancel-key-deletion --key-id %s` (then `aws kms enable-key --key-id %s`), or run step 1 again to make a new key", key, key),
			}
		}
		return Advice{
			What: fmt.Sprintf("the KMS key %s is not in a state that allows this (%s)", key, strings.TrimSuffix(msg, ".")),
			Hint: "run step 1 again to make a new key",
		}

	case "NotFoundException":
		name := "the KMS key"
		if alias := aliasPattern.FindString(msg); alias != "" {
			name = "the alias " + alias
		} else if key := keyARNPattern.FindString(msg); key != "" {
			name = "the KMS key " + key
		}
		return Advice{
			What: fmt.Sprintf("%s does not exist in this account and region", name),
			Hint: "run step 1 to create the key and its alias (check --profile and --region if you did)",
		}

	case "AlreadyExistsException":
		name := "the alias"
		if alias := aliasPattern.FindString(msg); alias != "" {
			name = "the alias " + alias
		}
		return Advice{
			What: fmt.Sprintf("%s already exists", name),
			Hint: "run step 6 to clean up the previous run, then step 1 again",
		}

	case "IncorrectKeyException":
		return Advice{
			What: "the encrypted data key belongs to a different KMS key than the one given",
			Hint: "decrypt without --key (the file's header names its key) or pass the key it was encrypted with",
		}

	case "InvalidCiphertextException":
		return Advice{
			What: "the encrypted data key could not be decrypted by KMS: the encryption context differs from the one used to encrypt, or the data key was made by another KMS key or damaged",
			Hint: "decrypt with exactly the same --context as when encrypting (keys and values are case-sensitive)",
		}

	case "LimitExceededException":
		return Advice{
			What: fmt.Sprintf("an AWS KMS quota was reached (%s)", strings.TrimSuffix(msg, ".")),
			Hint: "delete keys or aliases you no longer need (step 6 cleans up the workshop's), or wait and try again",
		}

	case "KMSInternalException", "InternalFailure", "InternalError", "ServiceUnavailable",
		"ServiceUnavailableException", "DependencyTimeoutException":
		return Advice{
			What: fmt.Sprintf("the AWS service failed with an internal error (%s)%s", code, afterAttempts(err)),
			Hint: "wait a moment and try again",
		}
	}
	if strings.Contains(msg, "Rate exceeded") {
		return Advice{
			What: fmt.Sprintf("the requests were throttled by AWS (%s)%s", throttleText(code, msg), afterAttempts(err)),
			Hint: "wait a minute and run the step again",
		}
	}
	return Advice{What: err.Error()}
}

// explainNetwork explains failures to reach the endpoint at all.
func explainNetwork(err error) (Advice, bool) {
	var dnsErr *net.DNSError
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return Advice{
			What: fmt.Sprintf("cannot resolve the AWS endpoint %s", dnsErr.Name),
			Hint: "check --region (for example `us-east-1`), AWS_ENDPOINT_URL and your network connection",
		}, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return Advice{
			What: fmt.Sprintf("cannot connect to the AWS endpoint%s: connection refused", onHost(err)),
			Hint: "check AWS_ENDPOINT_URL and your network or proxy settings, then try again",
		}, true
	case errors.As(err, &netErr) && netErr.Timeout():
		return Advice{
			What: fmt.Sprintf("the AWS endpoint%s did not answer in time", onHost(err)),
			Hint: "check your network connection and try again",
		}, true
	case errors.As(err, &opErr):
		return Advice{
			What: fmt.Sprintf("cannot reach the AWS endpoint%s: %v", onHost(err), opErr.Err),
			Hint: "check your network connection, proxy settings and AWS_ENDPOINT_URL, then try again",
		}, true
	}
	return Advice{}, false
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
	if m := deniedActionPattern.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		return iamAction(opErr.ServiceID, opErr.OperationName)
	}
	return "this action"
}

func keyOrPlaceholder(msg string) string {
	if key := keyARNPattern.FindString(msg); key != "" {
		return key
	}
	return "KEY_ID"
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
