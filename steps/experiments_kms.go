package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/crypto/esdk"
	"cse-workshop/internal/text"
)

// The experiments that talk to KMS directly: the Encrypt limit, another
// encryption context, a disabled key, a key pending deletion.

// kmsEncryptLimitInBytes is the most plaintext KMS Encrypt accepts.
const kmsEncryptLimitInBytes = 4096

// encryptSampleSizeInBytes is the sample the Encrypt experiment sends: 5 KiB.
const encryptSampleSizeInBytes = 5 << 10

// keptHeaderFile is where step 6 keeps the header of encrypted_e.txt (and
// so its encrypted data key) for the experiment on a key pending deletion,
// relative to the workshop folder.
const keptHeaderFile = privateDir + "/encrypted_e.header"

// missingBefore returns, for an experiment offered on a step's screen, the
// step that must run before step n can, by the progress s.
func missingBefore(n int) func(s State) int {
	return func(s State) int {
		snapshot := &Workshop{State: s}
		return snapshot.Missing(n)
	}
}

func encryptLimitExperiment() Experiment {
	return Experiment{
		ID:     "encrypt-limit",
		Step:   2,
		Title:  "Send a 5 KiB sample to KMS Encrypt",
		Expect: "KMS refuses more than 4,096 bytes of plaintext with ValidationException",
		Explanation: "KMS Encrypt takes at most 4,096 bytes of plaintext: it is made to protect small secrets, such as a data key, " +
			"and the KMS key never leaves KMS, so all the data would have to travel to it. " +
			"A file of any size is instead encrypted here, with a data key KMS generates (GenerateDataKey) and keeps only encrypted in the file's header: " +
			"envelope encryption. KMS then sees 32 bytes per file, whatever the file's size.",
		Source:  assets.Source{Title: "Encrypt", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html"},
		missing: missingBefore(2),
		run:     runEncryptLimit,
	}
}

// runEncryptLimit sends 5 KiB, then 4,096 bytes, to KMS Encrypt.
func runEncryptLimit(ctx context.Context, w *Workshop, p reporter, _ string) (*ExperimentDetail, error) {
	sample := encryptSample(w)
	defer clear(sample)
	p.info("calling KMS Encrypt directly with %s bytes of %s (repeated as needed) under %s",
		thousands(len(sample)), PlaintextFile, w.State.KeyARN)
	out, err := w.Clients.KMS.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(w.State.KeyARN),
		Plaintext:         sample,
		EncryptionContext: EncryptionContext(),
	})
	switch code := awsCode(err); {
	case err == nil:
		return &ExperimentDetail{
			Result: fmt.Sprintf("KMS Encrypt accepted %s bytes (a %d-byte ciphertext blob), which the documentation says it refuses", thousands(len(sample)), len(out.CiphertextBlob)),
		}, nil
	case code != "ValidationException":
		return nil, unexpected(w, "call KMS Encrypt", err)
	}
	p.info("KMS Encrypt refused %s bytes: %s", thousands(len(sample)), answer(err))

	limit := sample[:kmsEncryptLimitInBytes]
	out, err = w.Clients.KMS.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(w.State.KeyARN),
		Plaintext:         limit,
		EncryptionContext: EncryptionContext(),
	})
	if err != nil {
		return nil, unexpected(w, "call KMS Encrypt with 4,096 bytes", err)
	}
	p.info("the first %s bytes of the same sample: accepted (a %d-byte ciphertext blob, discarded)", thousands(len(limit)), len(out.CiphertextBlob))
	return &ExperimentDetail{
		Code:        "ValidationException",
		Result:      fmt.Sprintf("KMS Encrypt refused %s bytes with ValidationException and took %s: it takes at most 4,096 bytes, so files are encrypted with a data key", thousands(len(sample)), thousands(len(limit))),
		AsPredicted: true,
	}, nil
}

// encryptSample is the first 5 KiB of plaintext_u.txt, repeated as needed
// (the embedded sample when the file is empty or unreadable).
func encryptSample(w *Workshop) []byte {
	head := make([]byte, encryptSampleSizeInBytes)
	n := 0
	if f, err := os.Open(w.path(PlaintextFile)); err == nil {
		n, _ = io.ReadFull(f, head)
		f.Close()
	}
	if n == 0 {
		n = copy(head, assets.SamplePlaintext())
	}
	head = head[:n]
	return bytes.Repeat(head, encryptSampleSizeInBytes/n+1)[:encryptSampleSizeInBytes]
}

func wrongContextExperiment() Experiment {
	return Experiment{
		ID:     "wrong-context",
		Step:   3,
		Title:  "Decrypt with another encryption context",
		Expect: "KMS refuses with InvalidCiphertextException, unless the context is exactly the one the data key was made under",
		Explanation: "KMS binds the encryption context to the encrypted data key as additional authenticated data: " +
			"Decrypt succeeds only with exactly the same pairs, keys and values, case-sensitive. " +
			"With any other context KMS answers InvalidCiphertextException and returns no data key, so the file stays unreadable. " +
			"The context is not secret (it is in the file's header and in CloudTrail); it says what the data is for, and it must match.",
		Source:  assets.Source{Title: "Encryption context", URL: "https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html"},
		missing: missingBefore(3),
		prompt: func(w *Workshop) (Prompt, error) {
			return Prompt{
				Label:       "Encryption context",
				Default:     "whatfor=other",
				Placeholder: `whatfor=other  or  {"whatfor":"other"}`,
				Help: []string{
					`Type key=value pairs separated by commas, or a JSON object.`,
					fmt.Sprintf(`%s was encrypted with %s; the SDK's %s is sent as the header stores it.`,
						EncryptedFile, text.Context(EncryptionContext()), PublicKeyContextKey),
				},
				Check: func(input string) error {
					_, err := ParseEncryptionContext(input)
					return err
				},
			}, nil
		},
		run: runWrongContext,
	}
}

// runWrongContext asks KMS to decrypt the data key of encrypted_e.txt
// under the learner's context. It calls KMS itself: the crypto package
// would refuse a context that disagrees with the header before KMS saw it.
func runWrongContext(ctx context.Context, w *Workshop, p reporter, input string) (*ExperimentDetail, error) {
	typed, err := ParseEncryptionContext(input)
	if err != nil {
		return nil, fmt.Errorf("read the encryption context: %w", err)
	}
	h, edk, err := workshopDataKey(w, w.path(EncryptedFile))
	if err != nil {
		return nil, err
	}
	sent := maps.Clone(typed)
	if pk, ok := h.EncryptionContext[PublicKeyContextKey]; ok {
		if _, given := sent[PublicKeyContextKey]; !given {
			sent[PublicKeyContextKey] = pk
		}
	}
	same := maps.Equal(sent, h.EncryptionContext)
	p.info("calling KMS Decrypt on the encrypted data key of %s (%d bytes), KMS key pinned to %s, with encryption context %s",
		EncryptedFile, len(edk.Ciphertext), w.State.KeyARN, text.Context(shortPublicKey(sent)))
	out, err := w.Clients.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(w.State.KeyARN),
		CiphertextBlob:    edk.Ciphertext,
		EncryptionContext: sent,
	})
	code := awsCode(err)
	switch {
	case err == nil:
		size := len(out.Plaintext)
		clear(out.Plaintext)
		p.info("KMS Decrypt returned the data key (%d bytes, in memory only, cleared at once)", size)
		result := fmt.Sprintf("KMS accepted %s: it is exactly the context the data key was made under", text.Context(typed))
		if !same {
			result = fmt.Sprintf("KMS accepted %s, which differs from the header's %s", text.Context(typed), text.Context(shortPublicKey(h.EncryptionContext)))
		}
		return &ExperimentDetail{Answer: "KMS returned the data key", Result: result, AsPredicted: same}, nil
	case code != "InvalidCiphertextException":
		return nil, unexpected(w, "call KMS Decrypt", err)
	}
	p.info("KMS Decrypt refused: %s", answer(err))
	return &ExperimentDetail{
		Code: code,
		Result: fmt.Sprintf("KMS refused with InvalidCiphertextException: the data key was made under %s, not %s",
			text.Context(EncryptionContext()), text.Context(typed)),
		AsPredicted: !same,
	}, nil
}

// workshopDataKey reads the header of the message in path and returns its
// encrypted data key under the workshop's KMS key.
func workshopDataKey(w *Workshop, path string) (*esdk.Header, esdk.EncryptedDataKey, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, esdk.EncryptedDataKey{}, awsclient.WithHint(fmt.Errorf("%s is missing", name), "run step 2 again to make it")
	}
	if err != nil {
		return nil, esdk.EncryptedDataKey{}, fmt.Errorf("read %s: %w", name, err)
	}
	defer f.Close()
	h, err := esdk.ParseHeader(f)
	if err != nil {
		return nil, esdk.EncryptedDataKey{}, awsclient.WithHint(fmt.Errorf("read the header of %s: %w", name, err), "run step 2 again to make a fresh encrypted file")
	}
	for _, edk := range h.EncryptedDataKeys {
		if edk.KeyARN() == w.State.KeyARN {
			return h, edk, nil
		}
	}
	return nil, esdk.EncryptedDataKey{}, awsclient.WithHint(fmt.Errorf("%s has no data key under the workshop's KMS key %s", name, w.State.KeyARN),
		"run step 2 again to make a fresh encrypted file")
}

// shortPublicKey cuts the value of aws-crypto-public-key short, for a
// status line: it shows the pair is there, not its 68 characters.
func shortPublicKey(ec map[string]string) map[string]string {
	v, ok := ec[PublicKeyContextKey]
	if !ok || len(v) <= 12 {
		return ec
	}
	short := maps.Clone(ec)
	short[PublicKeyContextKey] = v[:12] + "…"
	return short
}

// confirmKeyChange asks, on real AWS, before an experiment changes the
// state of the learner's KMS key. On the demo it asks nothing.
func confirmKeyChange(ctx context.Context, w *Workshop, question string) error {
	if !w.Live() || (w.Confirm != nil && w.Confirm(ctx, question)) {
		return nil
	}
	return awsclient.WithHint(errors.New("nothing was changed: the experiment needs your agreement to change the state of your KMS key"),
		"try it again and answer yes; the experiment always puts the key back as it was")
}

func disabledKeyExperiment() Experiment {
	return Experiment{
		ID:         "disabled-key",
		Step:       3,
		Title:      "Disable the KMS key, then decrypt",
		Expect:     "KMS refuses with DisabledException; enabling the key makes the file readable again",
		ChangesKey: true,
		Explanation: "A disabled KMS key cannot be used in any cryptographic operation: Decrypt fails with DisabledException, " +
			"so no file whose data key it protects can be decrypted. Nothing is lost: once the key is enabled again, every such file decrypts as before. " +
			"Disabling is the reversible way to stop the use of a key; deleting it is not.",
		Source:  assets.Source{Title: "Key states of AWS KMS keys", URL: "https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html"},
		missing: missingBefore(3),
		run:     runDisabledKey,
	}
}

// runDisabledKey disables the workshop's key, decrypts encrypted_e.txt into
// a private folder, and enables the key again, whatever happened.
func runDisabledKey(ctx context.Context, w *Workshop, p reporter, _ string) (d *ExperimentDetail, err error) {
	keyARN := w.State.KeyARN
	src := w.path(EncryptedFile)
	if _, _, err := workshopDataKey(w, src); err != nil {
		return nil, err
	}
	refused := func(err error) (*ExperimentDetail, error) {
		if code := awsCode(err); code != "DisabledException" {
			return nil, unexpected(w, "decrypt "+EncryptedFile, err)
		}
		p.info("KMS Decrypt refused: %s", answer(err))
		return &ExperimentDetail{
			Code:        "DisabledException",
			Result:      fmt.Sprintf("KMS refused to decrypt the data key of %s with DisabledException while its KMS key was disabled", EncryptedFile),
			AsPredicted: true,
		}, nil
	}
	// A key someone disabled before stays disabled: putting back means
	// putting back what was, not enabling it.
	md, err := describeKey(ctx, w, keyARN)
	if err != nil {
		return nil, unexpected(w, "look up the KMS key", err)
	}
	if md != nil && md.KeyState == types.KeyStateDisabled {
		p.info("KMS key %s is already disabled, and stays so; decrypting %s as step 3 does", keyARN, EncryptedFile)
		d, err = decryptIntoPrivateFolder(ctx, w, src, refused)
		if d != nil && d.AsPredicted {
			d.Result += "; it was disabled before the experiment and stays disabled"
		}
		return d, err
	}
	if err := confirmKeyChange(ctx, w, fmt.Sprintf(
		"This experiment disables the workshop's KMS key %s in your AWS account for a moment, tries to decrypt %s, then enables the key again. Go ahead?",
		keyARN, EncryptedFile)); err != nil {
		return nil, err
	}
	// Saved first: a kill from here on leaves the key disabled, and the
	// next start enables it again.
	if err := w.recordRestore("disabled-key", RestoreEnable); err != nil {
		return nil, err
	}
	p.info("disabling KMS key %s", keyARN)
	_, disableErr := w.Clients.KMS.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyARN)})
	if disableErr != nil && awsCode(disableErr) != "" {
		// KMS answered: the key was not disabled.
		w.State.Restore = nil
		return nil, unexpected(w, "disable the KMS key", disableErr)
	}
	// From here the key may be disabled: enable it again however this ends.
	defer func() {
		if restoreErr := enableAgain(ctx, w, p); restoreErr != nil {
			d, err = nil, errors.Join(err, restoreErr)
		} else if d != nil {
			d.Restored = "the KMS key is enabled again"
		}
	}()
	if disableErr != nil {
		return nil, unexpected(w, "disable the KMS key", disableErr)
	}
	p.info("KMS key %s is disabled; decrypting %s as step 3 does", keyARN, EncryptedFile)
	d, err = decryptIntoPrivateFolder(ctx, w, src, refused)
	return d, err
}

// enableAgain enables the workshop's key, even after ctx was cancelled,
// and clears the restore the experiment recorded; when it fails, the
// record stays for the next start.
func enableAgain(ctx context.Context, w *Workshop, p reporter) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if _, err := w.Clients.KMS.EnableKey(cctx, &kms.EnableKeyInput{KeyId: aws.String(w.State.KeyARN)}); err != nil {
		return awsclient.WithHint(fmt.Errorf("enable KMS key %s again: %w", w.State.KeyARN, err), restoreHint(w, &PendingRestore{KeyARN: w.State.KeyARN, Action: RestoreEnable}, err))
	}
	w.State.Restore = nil
	p.info("enabled KMS key %s again: it can decrypt as before", w.State.KeyARN)
	return nil
}

// decryptIntoPrivateFolder decrypts src as step 3 does, into a folder of
// the workshop's private folder that is removed afterwards, and hands a
// failure to refused. A success is reported as not predicted.
func decryptIntoPrivateFolder(ctx context.Context, w *Workshop, src string, refused func(error) (*ExperimentDetail, error)) (*ExperimentDetail, error) {
	dir, err := os.MkdirTemp(w.path(privateDir), experimentDirPattern)
	if err != nil {
		return nil, fmt.Errorf("make a folder for the experiment: %w", err)
	}
	defer os.RemoveAll(dir)
	_, err = esdk.DecryptFile(ctx, w.Clients.KMS, src, filepath.Join(dir, CycledFile), esdk.DecryptOptions{
		KeyIDs:            []string{w.State.KeyARN},
		EncryptionContext: EncryptionContext(),
	})
	switch {
	case err == nil:
		return &ExperimentDetail{Result: fmt.Sprintf("%s decrypted, which the lesson says KMS refuses", filepath.Base(src))}, nil
	case ctxErr(err):
		return nil, err
	}
	return refused(err)
}

func pendingDeletionExperiment() Experiment {
	return Experiment{
		ID:         "pending-deletion",
		Step:       6,
		Title:      "Decrypt while the key is pending deletion, then cancel it",
		Expect:     "KMS refuses with KMSInvalidStateException; CancelKeyDeletion and EnableKey bring the data key back",
		ChangesKey: true,
		Explanation: "A KMS key scheduled for deletion is PendingDeletion: it cannot be used in cryptographic operations (KMSInvalidStateException), but it still exists. " +
			"Deleting a key is destructive and cannot be undone: every data key it encrypted, and so every file, becomes unrecoverable. " +
			"So KMS waits 7 to 30 days (30 by default) before it deletes, to let you find out that something still needs the key, from errors like this one or from CloudTrail, " +
			"and cancel with CancelKeyDeletion, then EnableKey, since a key whose deletion is cancelled comes back disabled.",
		Source: assets.Source{Title: "ScheduleKeyDeletion", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html"},
		missing: func(s State) int {
			switch {
			case s.KeyARN == "":
				return 1
			case s.KeyDeletionDate.IsZero():
				return 6
			}
			return 0
		},
		run: runPendingDeletion,
	}
}

// runPendingDeletion decrypts the data key step 6 kept while the key is
// pending deletion, cancels the deletion and enables the key, decrypts
// again, then schedules the deletion again, whatever happened.
func runPendingDeletion(ctx context.Context, w *Workshop, p reporter, _ string) (d *ExperimentDetail, err error) {
	keyARN := w.State.KeyARN
	_, edk, err := workshopDataKey(w, w.path(keptHeaderFile))
	if err != nil {
		return nil, awsclient.WithHint(fmt.Errorf("no encrypted data key of the workshop's KMS key was kept by step 6: %w", err),
			"step 6 keeps the header of encrypted_e.txt for this experiment: run step 1 (it offers to cancel the deletion and reuse the key), step 2, then step 6, and try again")
	}
	decrypt := func(ctx context.Context) error {
		out, err := w.Clients.KMS.Decrypt(ctx, &kms.DecryptInput{
			KeyId:             aws.String(keyARN),
			CiphertextBlob:    edk.Ciphertext,
			EncryptionContext: keptContext(w),
		})
		if err == nil {
			clear(out.Plaintext)
		}
		return err
	}
	p.info("calling KMS Decrypt on the encrypted data key of %s, which step 6 kept; KMS key %s is scheduled for deletion on %s",
		EncryptedFile, keyARN, text.Date(w.State.KeyDeletionDate))
	err = decrypt(ctx)
	switch code := awsCode(err); {
	case err == nil:
		return &ExperimentDetail{Result: "KMS decrypted the data key although its KMS key is pending deletion, which the documentation says it refuses"}, nil
	case code != "KMSInvalidStateException":
		return nil, unexpected(w, "call KMS Decrypt", err)
	}
	p.info("KMS Decrypt refused: %s", answer(err))

	if err := confirmKeyChange(ctx, w, fmt.Sprintf(
		"This experiment cancels the deletion of the workshop's KMS key %s in your AWS account, enables it, decrypts, then schedules the deletion again (%d days from now). Go ahead?",
		keyARN, deletionWindowInDays)); err != nil {
		return nil, err
	}
	// Saved first: a kill from here on leaves the key no longer scheduled
	// for deletion, and billed, and the next start schedules it again.
	if err := w.recordRestore("pending-deletion", RestoreScheduleDeletion); err != nil {
		return nil, err
	}
	_, err = w.Clients.KMS.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: aws.String(keyARN)})
	if err != nil && awsCode(err) != "" {
		// KMS answered: the deletion was not cancelled.
		w.State.Restore = nil
		return nil, unexpected(w, "cancel the deletion of the KMS key", err)
	}
	// From here the deletion may be cancelled: schedule it again however
	// this ends.
	defer func() {
		if restoreErr := deleteAgain(ctx, w, p); restoreErr != nil {
			d, err = nil, errors.Join(err, restoreErr)
		} else if d != nil {
			d.Restored = fmt.Sprintf("the KMS key is scheduled for deletion again, on %s", text.Date(w.State.KeyDeletionDate))
		}
	}()
	if err != nil {
		return nil, unexpected(w, "cancel the deletion of the KMS key", err)
	}
	p.info("cancelled the deletion of KMS key %s: it is Disabled now, as a key whose deletion is cancelled comes back", keyARN)
	if _, err := w.Clients.KMS.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(keyARN)}); err != nil {
		return nil, unexpected(w, "enable the KMS key", err)
	}
	p.info("enabled KMS key %s", keyARN)
	if err := decrypt(ctx); err != nil {
		return nil, unexpected(w, "call KMS Decrypt after the key was restored", err)
	}
	p.info("KMS Decrypt returned the data key (32 bytes, in memory only, cleared at once): %s, or any copy of it, would decrypt again", EncryptedFile)
	return &ExperimentDetail{
		Code:        "KMSInvalidStateException",
		Result:      "KMS refused with KMSInvalidStateException while the key was pending deletion; after CancelKeyDeletion and EnableKey it decrypted the data key again",
		AsPredicted: true,
	}, nil
}

// keptContext is the encryption context of the header step 6 kept.
func keptContext(w *Workshop) map[string]string {
	h, _, err := workshopDataKey(w, w.path(keptHeaderFile))
	if err != nil {
		return EncryptionContext()
	}
	return h.EncryptionContext
}

// deleteAgain schedules the deletion of the workshop's key again, even
// after ctx was cancelled, records the new date in the progress and clears
// the restore the experiment recorded; when it fails, the record stays for
// the next start.
func deleteAgain(ctx context.Context, w *Workshop, p reporter) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	md, err := describeKey(cctx, w, w.State.KeyARN)
	if err == nil && md != nil {
		err = scheduleDeletion(cctx, w, p, md)
	}
	if err != nil {
		return awsclient.WithHint(fmt.Errorf("schedule the deletion of KMS key %s again: %w", w.State.KeyARN, err), restoreHint(w, &PendingRestore{KeyARN: w.State.KeyARN, Action: RestoreScheduleDeletion}, err))
	}
	w.State.Restore = nil
	return nil
}

// keepHeaderForExperiments keeps the header of encrypted_e.txt, with its
// encrypted data key, in the workshop's private folder before step 6
// deletes the file: the experiment on a key pending deletion decrypts that
// data key. Best effort: without it, only that experiment is unavailable.
func keepHeaderForExperiments(w *Workshop) {
	f, err := os.Open(w.path(EncryptedFile))
	if err != nil {
		return
	}
	defer f.Close()
	var header bytes.Buffer
	// ParseHeader reads exactly the header: what it read is the header.
	if _, err := esdk.ParseHeader(io.TeeReader(f, &header)); err != nil {
		return
	}
	writeFileAtomic(w.path(keptHeaderFile), header.Bytes(), 0o600)
}
