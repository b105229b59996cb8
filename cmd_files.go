package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/spf13/cobra"

	"cse-workshop/awsclient"
	"cse-workshop/crypto"
	"cse-workshop/crypto/esdk"
	"cse-workshop/steps"
)

func (a *app) encryptCommand() *cobra.Command {
	var keyID, formatName, suiteName, scheme string
	var frameSize int
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "encrypt IN OUT",
		Short: "Encrypt any file with a data key from KMS (envelope encryption)",
		Long: `Encrypt the file IN into OUT, the way step 2 does: KMS makes a data key, the
data key encrypts the file locally, and the encrypted data key goes into OUT's
header. OUT appears only when complete.

OUT is an AWS Encryption SDK message, which aws-encryption-cli and the AWS
Encryption SDKs decrypt too (--format esdk, the default; --suite and
--frame-size as the SDKs name them). --format csew writes cse-workshop's
older container instead, whose --scheme can also be tink.

The encryption context is empty unless you give --context; the workshop's own
files use whatfor=usecase-3-cse. Decrypting needs the same context.`,
		Example: `  cse-workshop step 1        # once: the demo's KMS key and alias
  cse-workshop encrypt notes.txt notes.txt.enc --context project=demo
  cse-workshop encrypt notes.txt notes.txt.enc --suite 0x0478 --frame-size 65536`,
		Args:        exactFiles,
		Annotations: map[string]string{signalsLater: "yes"},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			collectLess()
			encryptionContext, err := parseContext(contextPairs)
			if err != nil {
				return err
			}
			format, err := parseFormat(formatName)
			if err != nil {
				return &usageError{"--format: " + err.Error()}
			}
			changed := cmd.Flags().Changed
			var suite esdk.Suite
			var s crypto.Scheme
			switch format {
			case formatESDK:
				if changed("scheme") {
					return &usageError{"--scheme goes with --format csew only (add --format csew): an AWS Encryption SDK message's data key always comes from KMS GenerateDataKey"}
				}
				if suite, err = esdk.ParseSuite(suiteName); err != nil {
					return &usageError{"--suite: " + err.Error()}
				}
				if err := checkFrameSize(frameSize); err != nil {
					return err
				}
				for k := range encryptionContext {
					if strings.HasPrefix(k, "aws-crypto-") {
						return &usageError{fmt.Sprintf("--context %q: keys starting with aws-crypto- are the AWS Encryption SDK's own", k)}
					}
				}
			case formatCSEW:
				for _, name := range []string{"suite", "frame-size"} {
					if changed(name) {
						return &usageError{fmt.Sprintf("--%s goes with --format esdk only, the AWS Encryption SDK message; a CSEW file has no algorithm suite or frames to choose", name)}
					}
				}
				if scheme == "kms" {
					scheme = crypto.SchemeKMSDataKey.String()
				}
				if s, err = crypto.ParseScheme(scheme); err != nil {
					return &usageError{"--scheme: " + err.Error()}
				}
			}
			ctx := cmd.Context()
			clients, err := a.clients(ctx)
			if err != nil {
				return err
			}
			defer clients.Close()
			in, out := args[0], args[1]
			if format == formatESDK {
				h, err := esdk.EncryptFile(ctx, clients.KMS, in, out, esdk.EncryptOptions{
					KeyID:              keyID,
					EncryptionContext:  encryptionContext,
					Suite:              suite,
					FrameLengthInBytes: frameSize,
				})
				if err != nil {
					return a.adviseEncrypt(fmt.Errorf("encrypt %s: %w", in, err), clients, fileFlags{cmd})
				}
				a.describeMessage("encrypted", in, out, h)
				return nil
			}
			h, err := crypto.EncryptFile(ctx, clients.KMS, in, out, crypto.EncryptOptions{
				KeyID:             keyID,
				EncryptionContext: encryptionContext,
				Scheme:            s,
			})
			if err != nil {
				return a.adviseEncrypt(fmt.Errorf("encrypt %s: %w", in, err), clients, fileFlags{cmd})
			}
			a.describeCSEW("encrypted", in, out, h)
			return nil
		}),
	}
	cmd.Flags().StringVar(&keyID, "key", steps.AliasName, "KMS key: alias name, alias ARN, key ID or key ARN")
	cmd.Flags().StringArrayVar(&contextPairs, "context", nil, "encryption context entry `key=value` (repeatable; default none)")
	cmd.Flags().StringVar(&formatName, "format", formatESDK.String(), "file format: esdk (an AWS Encryption SDK message) or csew (cse-workshop's older container)")
	cmd.Flags().StringVar(&suiteName, "suite", esdk.DefaultSuite.String(), "esdk: algorithm suite, by ID or name: 0x0578 (signed with ECDSA P-384) or 0x0478 (unsigned); both commit to the data key")
	cmd.Flags().IntVar(&frameSize, "frame-size", esdk.DefaultFrameLengthInBytes, "esdk: plaintext bytes per frame, 1 to 16777216")
	cmd.Flags().StringVar(&scheme, "scheme", crypto.SchemeKMSDataKey.String(), "csew: how the data key is made: kms-data-key or kms (KMS GenerateDataKey), or tink (made locally, wrapped by KMS Encrypt)")
	return cmd
}

func (a *app) decryptCommand() *cobra.Command {
	var keyID string
	var contextPairs []string
	var allowLegacy bool
	cmd := &cobra.Command{
		Use:   "decrypt IN OUT",
		Short: "Decrypt a file made by encrypt (or by step 2)",
		Long: `Decrypt the file IN into OUT. IN's header names its KMS key, so --key is needed
only to insist on one. OUT appears only after the whole file authenticated.

IN may be an AWS Encryption SDK message (from encrypt, step 2, aws-encryption-cli
or any AWS Encryption SDK) or a CSEW file (encrypt --format csew): decrypt tells
them apart by their first bytes. Messages of version 1 (ESDK 1.x's default)
lack key commitment and are refused unless --allow-legacy.

With --context, each entry given must be in the file's encryption context
(for a CSEW file, the context must be exactly the one given).`,
		Example:     `  cse-workshop decrypt notes.txt.enc notes.txt --context project=demo`,
		Args:        exactFiles,
		Annotations: map[string]string{signalsLater: "yes"},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			collectLess()
			var encryptionContext map[string]string
			if len(contextPairs) > 0 {
				var err error
				if encryptionContext, err = parseContext(contextPairs); err != nil {
					return err
				}
			}
			in, out := args[0], args[1]
			format, first := sniff(in)
			ctx := cmd.Context()
			clients, err := a.clients(ctx)
			if err != nil {
				return err
			}
			defer clients.Close()
			messageOpts := esdk.DecryptOptions{EncryptionContext: encryptionContext, AllowLegacy: allowLegacy}
			if keyID != "" {
				messageOpts.KeyIDs = []string{keyID}
			}
			csewOpts := crypto.DecryptOptions{KeyID: keyID, EncryptionContext: encryptionContext}
			if first == nil {
				// Not a regular file (a pipe, a FIFO): it can be read only
				// once, so the format is told from the stream itself.
				got, err := crypto.DecryptEitherFile(ctx, clients.KMS, in, out, csewOpts, messageOpts)
				switch {
				case err != nil && got.IsCSEW:
					return a.adviseDecrypt(in, fmt.Errorf("decrypt %s: %w", in, err), clients, fileFlags{cmd})
				case err != nil:
					return a.adviseMessage(in, fmt.Errorf("decrypt %s: %w", in, err), nil, clients, fileFlags{cmd})
				case got.IsCSEW:
					a.describeCSEW("decrypted", in, out, got.CSEW)
				default:
					a.describeMessage("decrypted", in, out, got.Message)
				}
				return nil
			}
			if format == formatESDK {
				h, err := esdk.DecryptFile(ctx, clients.KMS, in, out, messageOpts)
				if err != nil {
					return a.adviseMessage(in, fmt.Errorf("decrypt %s: %w", in, err), first, clients, fileFlags{cmd})
				}
				a.describeMessage("decrypted", in, out, h)
				return nil
			}
			h, err := crypto.DecryptFile(ctx, clients.KMS, in, out, csewOpts)
			if err != nil {
				return a.adviseDecrypt(in, fmt.Errorf("decrypt %s: %w", in, err), clients, fileFlags{cmd})
			}
			a.describeCSEW("decrypted", in, out, h)
			return nil
		}),
	}
	cmd.Flags().StringVar(&keyID, "key", "", "KMS key the file must be encrypted under (default: the one its header names)")
	cmd.Flags().StringArrayVar(&contextPairs, "context", nil, "require this encryption context entry `key=value` (repeatable)")
	cmd.Flags().BoolVar(&allowLegacy, "allow-legacy", false, "also decrypt version 1 messages (ESDK 1.x), whose algorithm suites lack key commitment")
	return cmd
}

// exactFiles checks for the IN and OUT arguments.
func exactFiles(cmd *cobra.Command, args []string) error {
	if len(args) != 2 {
		if len(args) == 1 {
			return fmt.Errorf("%s needs two files, IN and OUT; got 1 argument", cmd.Name())
		}
		return fmt.Errorf("%s needs two files, IN and OUT; got %d arguments", cmd.Name(), len(args))
	}
	// Other tools read "-" as standard input or output; taken as a file
	// name, it would quietly write a file named "-".
	if args[1] == "-" {
		return errors.New("OUT cannot be - (standard output): OUT appears only once it is complete, so give a file name and read that (./- for a file named -)")
	}
	if args[0] == "-" {
		return errors.New("IN cannot be -: to read standard input, give /dev/stdin (./- for a file named -)")
	}
	return nil
}

// parseContext parses --context key=value entries.
func parseContext(pairs []string) (map[string]string, error) {
	c := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, &usageError{fmt.Sprintf("--context %q: want key=value", p)}
		}
		if _, dup := c[k]; dup {
			return nil, &usageError{fmt.Sprintf("--context: key %q given twice", k)}
		}
		c[k] = v
	}
	return c, nil
}

// fileFlags tells the advice of encrypt and decrypt which flags were given.
type fileFlags struct{ cmd *cobra.Command }

func (f fileFlags) key() bool { return f.cmd.Flags().Changed("key") }

// dir is --dir when given, for printed commands; "" for the default.
func (f fileFlags) dir() string {
	if f.cmd.Flags().Changed("dir") {
		d, _ := f.cmd.Flags().GetString("dir")
		return d
	}
	return ""
}

// checkKey is the hint for a --key that names no usable KMS key.
const checkKey = "check --key: an alias name (alias/NAME), alias ARN, key ID or key ARN of a KMS key in this account and region"

// adviseEncrypt attaches to a failure of encrypt the hint for its
// situation: the KMS key is the one --key names, or the workshop's alias,
// which only step 1 makes.
func (a *app) adviseEncrypt(err error, clients *awsclient.Clients, flags fileFlags) error {
	p, ok := awsclient.Diagnose(err)
	if !ok {
		return err
	}
	key := p.Key
	if !strings.HasPrefix(key, "arn:") {
		key = "KEY"
	}
	switch p.Reason {
	case awsclient.KeyNotFound, awsclient.InvalidKeyID:
		if flags.key() {
			return awsclient.WithHint(err, checkKey+accountFlags(clients))
		}
		return awsclient.WithHint(err, fmt.Sprintf("without --key, encrypt uses the workshop's alias %s, which %s makes; or pass --key",
			steps.AliasName, steps.Command(clients, a.profile, flags.dir(), "step 1")))
	case awsclient.KeyPendingDeletion:
		if flags.key() {
			return awsclient.WithHint(err, fmt.Sprintf("choose another --key, or cancel the deletion with %s",
				steps.AWSCLI(clients, a.profile, a.dir, "kms cancel-key-deletion --key-id "+key, "kms enable-key --key-id "+key)))
		}
		return awsclient.WithHint(err, fmt.Sprintf("%s offers to cancel the deletion of the workshop's key and reuse it (--yes agrees); or pass --key",
			steps.Command(clients, a.profile, flags.dir(), "step 1")))
	case awsclient.KeyDisabled:
		return awsclient.WithHint(err, fmt.Sprintf("enable the key with %s, or choose another --key",
			steps.AWSCLI(clients, a.profile, a.dir, "kms enable-key --key-id "+key)))
	}
	return err
}

// adviseDecrypt attaches to a failure of decrypt the hint for its
// situation. A file decrypts only with the KMS key that encrypted it, and
// without --key its header names that key; so advice never offers a new
// key, and a header that KMS refuses is a damaged file, not a missing step.
func (a *app) adviseDecrypt(in string, err error, clients *awsclient.Clients, flags fileFlags) error {
	const reencrypt = "so encrypt the original again; nothing was written"
	switch {
	case errors.Is(err, crypto.ErrNotEncrypted):
		return awsclient.WithHint(err, "decrypt reads only files made by `cse-workshop encrypt` or step 2")
	case errors.Is(err, crypto.ErrUnsupportedVersion):
		return awsclient.WithHint(err, "a newer cse-workshop made this file: decrypt it with that one")
	case errors.Is(err, crypto.ErrTampered), errors.Is(err, esdk.ErrTampered):
		return awsclient.WithHint(err, "the file was changed or cut short after it was encrypted, "+reencrypt)
	case errors.Is(err, crypto.ErrEncryptionContextMismatch):
		return awsclient.WithHint(err, "pass exactly the --context entries the file was encrypted with, or none to accept the file's own")
	}
	p, ok := awsclient.Diagnose(err)
	if !ok {
		return err
	}
	// The key KMS was asked for: --key, or the header's.
	key := p.Key
	if !flags.key() {
		if h := headerKeyARN(err); h != "" {
			key = h
		}
	}
	if key == "" {
		key = "KEY"
	}
	damaged := func(what string) error {
		return awsclient.WithAdvice(err, awsclient.Advice{
			What: fmt.Sprintf("decrypt %s: the file's header is damaged: %s", in, what),
			Hint: "the file was changed after it was encrypted, " + reencrypt,
		})
	}
	switch p.Reason {
	case awsclient.KeyNotFound, awsclient.InvalidKeyID:
		if flags.key() {
			return awsclient.WithHint(err, checkKey+accountFlags(clients))
		}
		// crypto refuses a header whose key ARN is not a KMS key ARN
		// (ErrTampered, above) before it calls KMS; this check stays for a
		// caller that names the key some other way.
		keyARN, ok := parseKeyARN(key)
		if !ok {
			return damaged(fmt.Sprintf("its KMS key ARN %q is not a KMS key ARN", key))
		}
		what := fmt.Sprintf("which this AWS account does not have in %s", clients.Region)
		where := "with the --profile and --region of the account that encrypted it"
		switch {
		case !clients.Live:
			what = "which the demo's account of this workshop folder does not have"
			where = "with the --dir of the workshop that encrypted it"
		case keyARN.Region != clients.Region:
			where = fmt.Sprintf("with --region %s, where its key is (and the --profile of account %s)", keyARN.Region, keyARN.AccountID)
		}
		return awsclient.WithAdvice(err, awsclient.Advice{
			What: fmt.Sprintf("decrypt %s: the file's header names KMS key %s, %s", in, key, what),
			Hint: fmt.Sprintf("decrypt it %s; if that is this one, the key was deleted and the file can no longer be decrypted, or the header was changed", where),
		})
	case awsclient.IncorrectKey:
		// Without --key the header names a key its encrypted data key does
		// not belong to (crypto calls this ErrTampered, above; esdk passes
		// KMS's refusal on).
		if !flags.key() {
			return damaged("its encrypted data key belongs to another KMS key than the one it names")
		}
		return awsclient.WithHint(err, "the file was encrypted under another KMS key than --key: decrypt without --key (the file's header names its key), or pass the key it was encrypted with")
	case awsclient.InvalidCiphertext:
		// crypto checked --context against the header before it called
		// KMS, and the header's own context is what KMS got: KMS refuses
		// only a changed encryption context or encrypted data key.
		return damaged("KMS refused its encrypted data key (the encryption context or the encrypted data key was changed)")
	case awsclient.KeyPendingDeletion:
		return awsclient.WithHint(err, fmt.Sprintf("a file decrypts only with the KMS key that encrypted it, so a new key cannot help: cancel the key's deletion with %s, then decrypt again",
			steps.AWSCLI(clients, a.profile, a.dir, "kms cancel-key-deletion --key-id "+key, "kms enable-key --key-id "+key)))
	case awsclient.KeyDisabled:
		return awsclient.WithHint(err, fmt.Sprintf("a file decrypts only with the KMS key that encrypted it, so a new key cannot help: enable it with %s, then decrypt again",
			steps.AWSCLI(clients, a.profile, a.dir, "kms enable-key --key-id "+key)))
	}
	return err
}

// accountFlags names the flags that choose the account and region: " (--profile, --region)" for real AWS.
func accountFlags(clients *awsclient.Clients) string {
	if clients.Live {
		return " (--profile, --region)"
	}
	return " (the demo's keys are those of the workshop folder, --dir)"
}

// keyIDPattern matches the key ID of a KMS key: a UUID, or "mrk-" and 32
// hex digits for a multi-Region key.
var keyIDPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
})

// parseKeyARN parses the ARN of a KMS key.
func parseKeyARN(s string) (arn.ARN, bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "kms" || len(a.AccountID) != 12 || a.Region == "" {
		return arn.ARN{}, false
	}
	id, ok := strings.CutPrefix(a.Resource, "key/")
	return a, ok && keyIDPattern().MatchString(id)
}

// headerKeyARN returns the KMS key ARN the header of the encrypted file
// names, from decrypt's error, or "" if decrypt did not read that far. (The
// file is not read again: a pipe or a FIFO cannot be.)
func headerKeyARN(err error) string {
	var dataKeyErr *crypto.DataKeyError
	if !errors.As(err, &dataKeyErr) {
		return ""
	}
	return dataKeyErr.HeaderKeyARN
}

// fileCommandGCPercent is the garbage collector's GOGC for encrypt and
// decrypt. Their live heap is a few MiB whatever the file's size (the
// pipeline's buffers are bounded), so a collection comes only when the
// heap has grown to five times that: never on a small file, where one
// collection of the start-up's garbage was a tenth of the run, and peak
// RSS on 1 GiB stays at about 18 MiB, as with the default (100).
const fileCommandGCPercent = 400

// collectLess sets fileCommandGCPercent, unless the user chose GOGC.
func collectLess() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(fileCommandGCPercent)
	}
}
