package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/spf13/cobra"

	"cse-workshop/awsclient"
	"cse-workshop/crypto"
	"cse-workshop/steps"
)

func (a *app) encryptCommand() *cobra.Command {
	var keyID, scheme string
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "encrypt IN OUT",
		Short: "Encrypt any file with a data key from KMS (envelope encryption)",
		Long: `Encrypt the file IN into OUT, the way step 2 does: KMS makes a data key, the
data key encrypts the file locally, and the encrypted data key goes into OUT's
header. OUT appears only when complete.

The encryption context is empty unless you give --context; the workshop's own
files use whatfor=usecase-3-cse. Decrypting needs the same context.`,
		Example: `  cse-workshop step 1        # once: the demo's KMS key and alias
  cse-workshop encrypt notes.txt notes.txt.enc --context project=demo`,
		Args: exactFiles,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			encryptionContext, err := parseContext(contextPairs)
			if err != nil {
				return err
			}
			if scheme == "kms" {
				scheme = crypto.SchemeKMSDataKey.String()
			}
			s, err := crypto.ParseScheme(scheme)
			if err != nil {
				return &usageError{"--scheme: " + err.Error()}
			}
			ctx := cmd.Context()
			clients, err := a.clients(ctx)
			if err != nil {
				return err
			}
			defer clients.Close()
			in, out := args[0], args[1]
			h, err := crypto.EncryptFile(ctx, clients.KMS, in, out, crypto.EncryptOptions{
				KeyID:             keyID,
				EncryptionContext: encryptionContext,
				Scheme:            s,
			})
			if err != nil {
				return explainKey(fmt.Errorf("encrypt %s: %w", in, err), cmd.Flags().Changed("key"))
			}
			a.describe("encrypted", in, out, h)
			return nil
		}),
	}
	cmd.Flags().StringVar(&keyID, "key", steps.AliasName, "KMS key: alias name, alias ARN, key ID or key ARN")
	cmd.Flags().StringArrayVar(&contextPairs, "context", nil, "encryption context entry `key=value` (repeatable; default none)")
	cmd.Flags().StringVar(&scheme, "scheme", crypto.SchemeKMSDataKey.String(), "how the data key is made: kms-data-key or kms (KMS GenerateDataKey), or tink (made locally, wrapped by KMS Encrypt)")
	return cmd
}

func (a *app) decryptCommand() *cobra.Command {
	var keyID string
	var contextPairs []string
	cmd := &cobra.Command{
		Use:   "decrypt IN OUT",
		Short: "Decrypt a file made by encrypt (or by step 2)",
		Long: `Decrypt the file IN into OUT. IN's header names its KMS key, so --key is needed
only to insist on one. OUT appears only after the whole file authenticated.

With --context, the file's encryption context must be exactly the one given.`,
		Example: `  cse-workshop decrypt notes.txt.enc notes.txt --context project=demo`,
		Args:    exactFiles,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			opts := crypto.DecryptOptions{KeyID: keyID}
			if len(contextPairs) > 0 {
				var err error
				if opts.EncryptionContext, err = parseContext(contextPairs); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			clients, err := a.clients(ctx)
			if err != nil {
				return err
			}
			defer clients.Close()
			in, out := args[0], args[1]
			h, err := crypto.DecryptFile(ctx, clients.KMS, in, out, opts)
			if err != nil {
				return explainKey(explainDecrypt(in, err), cmd.Flags().Changed("key"))
			}
			a.describe("decrypted", in, out, h)
			return nil
		}),
	}
	cmd.Flags().StringVar(&keyID, "key", "", "KMS key the file must be encrypted under (default: the one its header names)")
	cmd.Flags().StringArrayVar(&contextPairs, "context", nil, "require this encryption context entry `key=value` (repeatable)")
	return cmd
}

// exactFiles checks for the IN and OUT arguments.
func exactFiles(cmd *cobra.Command, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("%s needs two files, IN and OUT; got %d arguments", cmd.Name(), len(args))
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

// describe prints what encrypt or decrypt did.
func (a *app) describe(verb, in, out string, h *crypto.Header) {
	// A pipe or terminal (/dev/stdin) has no size to show: its Stat says 0.
	size := func(name string) string {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			return fmt.Sprintf(" (%d bytes)", fi.Size())
		}
		return ""
	}
	fmt.Fprintf(a.stdout, "%s %s%s into %s%s\n", verb, in, size(in), out, size(out))
	fmt.Fprintf(a.stdout, "  KMS key:            %s\n", h.KeyARN)
	fmt.Fprintf(a.stdout, "  encryption context: %s\n", contextText(h.EncryptionContext))
	fmt.Fprintf(a.stdout, "  scheme:             %s\n", h.Scheme)
}

func contextText(c map[string]string) string {
	if len(c) == 0 {
		return "none"
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// explainDecrypt gives the errors of decrypt that are about the file its
// advice.
func explainDecrypt(in string, err error) error {
	wrapped := fmt.Errorf("decrypt %s: %w", in, err)
	switch {
	case errors.Is(err, crypto.ErrNotEncrypted):
		return &hinted{wrapped, "decrypt reads only files made by `cse-workshop encrypt` or step 2"}
	case errors.Is(err, crypto.ErrTampered):
		return &hinted{wrapped, "the file was changed or cut short after it was encrypted; nothing was written. Encrypt the original again"}
	case errors.Is(err, crypto.ErrEncryptionContextMismatch):
		return &hinted{wrapped, "pass exactly the --context entries the file was encrypted with, or none to accept the file's own"}
	}
	// The general advice for an unusable key offers a new key as well,
	// which cannot open a file made with the old one.
	var pending *types.KMSInvalidStateException
	var disabled *types.DisabledException
	if !errors.As(err, &pending) && !errors.As(err, &disabled) {
		return wrapped
	}
	switch key := headerKeyARN(err); {
	case key == "":
	case pending != nil:
		return &hinted{&restated{msg: awsclient.Explain(err).What, err: wrapped},
			fmt.Sprintf("a file decrypts only with the KMS key that encrypted it, so a new key cannot help: cancel the key's deletion with `aws kms cancel-key-deletion --key-id %s`, enable it with `aws kms enable-key --key-id %s`, then decrypt again", key, key)}
	default:
		return &hinted{&restated{msg: awsclient.Explain(err).What, err: wrapped},
			fmt.Sprintf("a file decrypts only with the KMS key that encrypted it, so a new key cannot help: enable it with `aws kms enable-key --key-id %s`, then decrypt again", key)}
	}
	return wrapped
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

// explainKey gives a KMS key that --key names and that does not exist advice
// about --key: the general advice, to run step 1, fits only the workshop's
// own alias.
func explainKey(err error, keyGiven bool) error {
	var notFound *types.NotFoundException
	if !keyGiven || !errors.As(err, &notFound) {
		return err
	}
	return &hinted{
		err:  &restated{msg: awsclient.Explain(err).What, err: err},
		hint: "check --key: an alias name (alias/NAME), alias ARN, key ID or key ARN of a KMS key in this account and region (--profile, --region)",
	}
}

// restated is an error told in other words; the original stays in the
// chain.
type restated struct {
	msg string
	err error
}

func (e *restated) Error() string { return e.msg }
func (e *restated) Unwrap() error { return e.err }
