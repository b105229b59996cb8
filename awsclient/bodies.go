package awsclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The bodies of a call, as Call.Request and Call.Response keep them: for a
// person to read, and with no secret in them. The plaintext of a data key
// (GenerateDataKey, Decrypt), any key material and any secret credential is
// replaced by its size; ciphertext is shortened. Nothing else is changed.

// maskedFields are the fields whose values are secrets, whatever the
// operation: they are replaced by their size.
var maskedFields = map[string]bool{
	"Plaintext":           true, // a data key (GenerateDataKey, Decrypt) or the data Encrypt was given
	"KeyMaterial":         true, // ImportKeyMaterial
	"ImportToken":         true,
	"PrivateKeyPlaintext": true, // GenerateDataKeyPair
	"SecretAccessKey":     true, // STS credentials, in JSON from other services
	"SessionToken":        true,
}

// shortenedFields are long base64 values that are no secret, shown by
// their first characters and their size.
var shortenedFields = map[string]bool{
	"CiphertextBlob":           true,
	"CiphertextForRecipient":   true,
	"PrivateKeyCiphertextBlob": true,
	"PublicKey":                true,
}

// maxShownBody bounds the text kept of one body.
const maxShownBody = 16 << 10

// showBody is a request or response body as Call keeps it: indented JSON
// with its secrets masked, other text as it is (with the secrets of STS
// answers masked), "" for none.
func showBody(body []byte) string {
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return ""
	case !utf8.Valid(body):
		return fmt.Sprintf("<%d bytes of binary data>", len(body))
	}
	var out string
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if body[0] == '{' && dec.Decode(&v) == nil {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<32 bytes, not shown>" stays readable
		enc.SetIndent("", "  ")
		if err := enc.Encode(mask(v)); err != nil {
			panic("awsclient: encode a decoded body: " + err.Error()) // decoded JSON always encodes
		}
		out = strings.TrimSuffix(b.String(), "\n")
	} else {
		// Cut short, or not JSON: mask what looks like a secret, in either
		// protocol, before anything else is done with it.
		out = secretJSON().ReplaceAllString(string(body), `"$1": "<not shown>"`)
		out = secretXML().ReplaceAllString(out, "<$1><not shown></$1>")
	}
	if len(out) > maxShownBody {
		cut := strings.LastIndexByte(out[:maxShownBody], '\n')
		if cut < 0 {
			cut = maxShownBody
		}
		out = fmt.Sprintf("%s\n… (%d more bytes not shown)", out[:cut], len(out)-cut)
	}
	return out
}

var (
	secretJSON = lazyRegexp(`"(Plaintext|KeyMaterial|ImportToken|PrivateKeyPlaintext|SecretAccessKey|SessionToken)"\s*:\s*"[^"]*"?`)
	secretXML  = lazyRegexp(`<(SecretAccessKey|SessionToken)>[^<]*(?:</(?:SecretAccessKey|SessionToken)>)?`)
)

// lazyRegexp compiles expr on first use rather than when the program
// starts, where every command would pay for every pattern.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// mask replaces the secrets in a decoded JSON value.
func mask(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, field := range v {
			s, isString := field.(string)
			switch {
			case maskedFields[k] && isString:
				v[k] = fmt.Sprintf("<%s, not shown>", base64Size(s))
			case maskedFields[k]:
				v[k] = "<not shown>"
			case shortenedFields[k] && isString && len(s) > 24:
				v[k] = fmt.Sprintf("%s… (%s)", s[:16], base64Size(s))
			default:
				v[k] = mask(field)
			}
		}
	case []any:
		for i := range v {
			v[i] = mask(v[i])
		}
	}
	return v
}

// base64Size is the size of the bytes a base64 string encodes: "32 bytes".
func base64Size(s string) string {
	n := base64.StdEncoding.DecodedLen(len(s)) - strings.Count(s[max(len(s)-2, 0):], "=")
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// captureBodies keeps the bodies of each attempt of an operation on its
// operation record. It sits last in the deserialize step, next to the
// transport, so it sees the answer before the SDK reads it.
type captureBodies struct{}

func (captureBodies) ID() string { return "cse-workshop/CaptureBodies" }

func (captureBodies) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	op := operationOf(ctx)
	req, ok := in.Request.(*smithyhttp.Request)
	if op == nil || !ok {
		return next.HandleDeserialize(ctx, in)
	}
	var sent []byte
	if stream := req.GetStream(); stream != nil && req.IsStreamSeekable() {
		sent, _ = io.ReadAll(stream)
		if err := req.RewindStream(); err != nil {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("rewind request body: %w", err)
		}
	}
	out, md, err := next.HandleDeserialize(ctx, in)
	var answer []byte
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp.Body != nil {
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(answer))
	}
	op.mu.Lock()
	op.request, op.response = sent, answer
	op.mu.Unlock()
	return out, md, err
}
