package main

// The two file formats of encrypt and decrypt: the AWS Encryption SDK
// message (the default) and cse-workshop's older CSEW container. What is
// printed here follows cmd_files.go's rules: "describe" lines on stdout,
// advice as "error:" and "hint:" lines on stderr.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"cse-workshop/awsclient"
	"cse-workshop/crypto"
	"cse-workshop/crypto/esdk"
	"cse-workshop/internal/text"
)

// fileFormat is the format encrypt writes. The zero value is invalid.
type fileFormat int

const (
	formatESDK fileFormat = iota + 1 // an AWS Encryption SDK message
	formatCSEW                       // cse-workshop's own container
)

func (f fileFormat) String() string {
	switch f {
	case formatESDK:
		return "esdk"
	case formatCSEW:
		return "csew"
	}
	return fmt.Sprintf("fileFormat(%d)", int(f))
}

// parseFormat parses --format.
func parseFormat(s string) (fileFormat, error) {
	switch strings.ToLower(s) {
	case "esdk":
		return formatESDK, nil
	case "csew":
		return formatCSEW, nil
	}
	return 0, fmt.Errorf("unknown format %q: want esdk (an AWS Encryption SDK message, the default) or csew", s)
}

// sniffSizeInBytes is how much of a file decrypt reads to tell the formats
// apart: CSEW's magic, or an AWS Encryption SDK message's version and suite
// (and its base64 encoding's first characters).
const sniffSizeInBytes = 4

// sniff tells which format the file at path is in from its first bytes,
// which it also returns. Only a regular file is read: a pipe, a FIFO or a
// terminal cannot be read twice, so first is nil and decrypt tells the
// format from the stream itself (crypto.DecryptEitherFile). Neither is an
// error: decrypting the file reports what is wrong with it.
func sniff(path string) (format fileFormat, first []byte) {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return formatESDK, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return formatESDK, nil
	}
	defer f.Close()
	first = make([]byte, sniffSizeInBytes)
	n, _ := io.ReadFull(f, first)
	first = first[:n]
	if crypto.LooksLikeFile(first) {
		return formatCSEW, first
	}
	return formatESDK, first
}

// looksBase64 reports whether the first bytes of a file are those of an AWS
// Encryption SDK message in base64, as aws-encryption-cli --encode writes
// it: "AgV4" or "AgR4" (version 2), "AY" (version 1).
func looksBase64(first []byte) bool {
	s := string(first)
	return strings.HasPrefix(s, "AgV4") || strings.HasPrefix(s, "AgR4") || strings.HasPrefix(s, "AY")
}

// checkFrameSize checks --frame-size.
func checkFrameSize(n int) error {
	if n < 1 || n > esdk.MaxFrameLengthInBytes {
		return &usageError{fmt.Sprintf("--frame-size %d: want a number of bytes from 1 to %d (the SDKs' default is %d)",
			n, esdk.MaxFrameLengthInBytes, esdk.DefaultFrameLengthInBytes)}
	}
	return nil
}

// describeMessage prints what encrypt or decrypt did with an AWS
// Encryption SDK message.
func (a *app) describeMessage(verb, in, out string, h *esdk.Header) {
	a.describeFiles(verb, in, out)
	fmt.Fprintf(a.stdout, "  format:             AWS Encryption SDK message, version %d\n", h.Version)
	fmt.Fprintf(a.stdout, "  algorithm suite:    %s %s\n", h.Suite, h.Suite.Name())
	fmt.Fprintf(a.stdout, "  frame size:         %d bytes\n", h.FrameLengthInBytes)
	for _, edk := range h.EncryptedDataKeys {
		if keyARN := edk.KeyARN(); keyARN != "" {
			fmt.Fprintf(a.stdout, "  KMS key:            %s\n", keyARN)
		}
	}
	fmt.Fprintf(a.stdout, "  encryption context: %s\n", text.Context(h.EncryptionContext))
}

// describeCSEW prints what encrypt or decrypt did with a CSEW file.
func (a *app) describeCSEW(verb, in, out string, h *crypto.Header) {
	a.describeFiles(verb, in, out)
	fmt.Fprintf(a.stdout, "  format:             CSEW (cse-workshop's own), version %d\n", h.Version)
	fmt.Fprintf(a.stdout, "  KMS key:            %s\n", h.KeyARN)
	fmt.Fprintf(a.stdout, "  encryption context: %s\n", text.Context(h.EncryptionContext))
	fmt.Fprintf(a.stdout, "  scheme:             %s\n", h.Scheme)
}

// describeFiles prints the first line of a description: which file became
// which.
func (a *app) describeFiles(verb, in, out string) {
	// A pipe or terminal (/dev/stdin) has no size to show: its Stat says 0.
	size := func(name string) string {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			return " (" + text.Size(fi.Size()) + ")"
		}
		return ""
	}
	fmt.Fprintf(a.stdout, "%s %s%s into %s%s\n", verb, text.Name(in), size(in), text.Name(out), size(out))
}

// adviseMessage attaches to a failure of decrypt on an AWS Encryption SDK
// message the hint for its situation: first what only such messages have,
// then what adviseDecrypt says of either format.
func (a *app) adviseMessage(in string, err error, first []byte, clients *awsclient.Clients, flags fileFlags) error {
	if hint := messageHint(err, in, first); hint != "" {
		return awsclient.WithHint(err, hint)
	}
	if _, ok := awsclient.Diagnose(err); !ok {
		if advised := keyringAdvice(in, err, first); advised != nil {
			return advised
		}
	}
	return a.adviseDecrypt(in, err, clients, flags)
}

// keyringAdvice explains a message that has no data key encrypted under a
// KMS key named by its ARN, from its header, or returns nil when it has one
// or its header cannot be read again (a pipe).
func keyringAdvice(in string, err error, first []byte) error {
	if first == nil {
		return nil
	}
	f, openErr := os.Open(in)
	if openErr != nil {
		return nil
	}
	defer f.Close()
	h, parseErr := esdk.ParseHeader(bufio.NewReader(f))
	if parseErr != nil {
		return nil
	}
	var providers []string
	for _, edk := range h.EncryptedDataKeys {
		keyARN := edk.KeyARN()
		if _, ok := parseKeyARN(keyARN); ok {
			return nil
		}
		if keyARN != "" {
			return awsclient.WithAdvice(err, awsclient.Advice{
				What: fmt.Sprintf("decrypt %s: the file's header is damaged: its encrypted data key names %q, not a KMS key ARN", in, keyARN),
				Hint: "the file was changed after it was encrypted, so encrypt the original again; nothing was written",
			})
		}
		providers = append(providers, fmt.Sprintf("%q", edk.ProviderID))
	}
	return awsclient.WithHint(err, fmt.Sprintf("the message's data key is encrypted by another keyring than AWS KMS (key provider %s); decrypt reads messages whose data key is under a KMS key, as aws-encryption-cli --wrapping-keys key=KEY_ARN makes them",
		strings.Join(providers, ", ")))
}

// messageHint is the hint for a failure of decrypt that only an AWS
// Encryption SDK message has, or "". first is the file's first bytes, nil
// when they could not be read ahead (a pipe).
func messageHint(err error, in string, first []byte) string {
	switch {
	case errors.Is(err, esdk.ErrNotMessage) && looksBase64(first):
		return fmt.Sprintf("aws-encryption-cli --encode writes messages in base64: `base64 -d < %s > %s.bin`, then decrypt %s.bin",
			text.Name(in), text.Name(in), text.Name(in))
	case errors.Is(err, esdk.ErrNotMessage):
		return "decrypt reads AWS Encryption SDK messages (from `cse-workshop encrypt`, step 2, aws-encryption-cli or any AWS Encryption SDK) and files from `cse-workshop encrypt --format csew`"
	case errors.Is(err, esdk.ErrLegacySuite):
		return "this is a version 1 message (ESDK 1.x's default, as in the 2018 workshop): its algorithm suite does not commit to one data key, " +
			"so a crafted message could decrypt to different plaintexts, and decrypt refuses it as the SDKs do by default; " +
			"if you trust its source, pass --allow-legacy (the SDKs' require-encrypt-allow-decrypt commitment policy)"
	case errors.Is(err, esdk.ErrNoAllowedKey):
		return "the file's data key is encrypted under another KMS key than --key: decrypt without --key (the file's header names its key), or pass the key it was encrypted with"
	case errors.Is(err, esdk.ErrEncryptionContextMismatch):
		return "each --context entry must be in the file's encryption context with the same value (the file may hold more); pass none to accept the file's own"
	}
	return ""
}
