package steps_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/crypto/esdk"
	"cse-workshop/steps"
)

func TestFullRunInOneWorkshop(t *testing.T) {
	s := newSetup(t)
	w := s.open()
	var l lines
	for n := 1; n <= 6; n++ {
		if err := steps.Run(context.Background(), w, n, &l); err != nil {
			t.Fatalf("Run(step %d) = %v, want success (advice: %+v)", n, err, steps.Explain(err))
		}
		if n == 3 {
			checkRoundTrip(t, s.dir)
		}
	}
	var got []string
	for _, line := range l.successes() {
		if slices.Contains(originalLines, line) {
			got = append(got, line)
		}
	}
	if diff := cmp.Diff(originalLines, got); diff != "" {
		t.Errorf("original lines of a full run (-want +got):\n%s", diff)
	}
	if got, want := visibleFiles(t, s.dir), []string{steps.PlaintextFile}; !slices.Equal(got, want) {
		t.Errorf("files after step 6 = %v, want %v", got, want)
	}
}

// checkRoundTrip checks the files after step 3.
func checkRoundTrip(t *testing.T, dir string) {
	t.Helper()
	plain := readFile(t, dir, steps.PlaintextFile)
	if got := readFile(t, dir, steps.CycledFile); !bytes.Equal(got, plain) {
		t.Errorf("%s differs from %s after step 3", steps.CycledFile, steps.PlaintextFile)
	}
	enc := readFile(t, dir, steps.EncryptedFile)
	if bytes.Contains(enc, plain) || bytes.Contains(enc, plain[:min(len(plain), 32)]) {
		t.Errorf("%s contains the plaintext", steps.EncryptedFile)
	}
}

func TestStepsAsSeparateProcesses(t *testing.T) {
	s := newSetup(t)
	var got []string
	for _, n := range []int{1, 2, 3, 5, 6} {
		l, err := s.run(n)
		if err != nil {
			t.Fatalf("step %d = %v, want success (advice: %+v)", n, err, steps.Explain(err))
		}
		if n == 3 {
			checkRoundTrip(t, s.dir)
		}
		got = append(got, l.successes()...)
	}
	if diff := cmp.Diff(originalLines, got); diff != "" {
		t.Errorf("success lines of steps 1, 2, 3, 5, 6 (-want +got):\n%s", diff)
	}
	if got, want := visibleFiles(t, s.dir), []string{steps.PlaintextFile}; !slices.Equal(got, want) {
		t.Errorf("files after step 6 = %v, want %v", got, want)
	}
}

func TestOpenWritesSampleOnlyWhenMissing(t *testing.T) {
	s := newSetup(t)
	s.state()
	if got := readFile(t, s.dir, steps.PlaintextFile); !bytes.Equal(got, assets.SamplePlaintext()) {
		t.Errorf("new workshop's %s is not the sample", steps.PlaintextFile)
	}
	mine := []byte("my own file\n")
	if err := os.WriteFile(filepath.Join(s.dir, steps.PlaintextFile), mine, 0o644); err != nil {
		t.Fatal(err)
	}
	s.state()
	if got := readFile(t, s.dir, steps.PlaintextFile); !bytes.Equal(got, mine) {
		t.Errorf("Open replaced the learner's %s", steps.PlaintextFile)
	}
}

func TestPrivateFilesArePrivate(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	private := filepath.Join(s.dir, ".cse-workshop")
	fi, err := os.Stat(private)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("mode of .cse-workshop = %v, want 0700", got)
	}
	fi, err = os.Stat(filepath.Join(private, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of state.json = %v, want 0600", got)
	}
}

func TestPrerequisites(t *testing.T) {
	tests := []struct {
		done    []int
		step    int
		missing int
	}{
		{nil, 2, 1},
		{nil, 3, 1},
		{nil, 5, 1},
		{nil, 6, 1},
		{[]int{1}, 3, 2},
		{[]int{1}, 4, 2},
		{[]int{1}, 5, 2},
		{[]int{1, 2}, 4, 3},
		{[]int{1, 2, 3, 4, 5, 6}, 2, 1}, // step 6 ends the workshop
	}
	for _, tt := range tests {
		s := newSetup(t)
		s.mustRun(tt.done...)
		_, err := s.run(tt.step)
		var pe *steps.PrerequisiteError
		if !errors.As(err, &pe) || pe.Missing != tt.missing {
			t.Errorf("after steps %v, step %d = %v, want PrerequisiteError naming step %d", tt.done, tt.step, err, tt.missing)
			continue
		}
		want := "run step " + string(rune('0'+tt.missing)) + " first"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("after steps %v, step %d = %q, want it to say %q", tt.done, tt.step, err, want)
		}
	}
}

func TestRerunningAStepMakesLaterOnesStale(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 3, 4, 2)
	_, err := s.run(4)
	var pe *steps.PrerequisiteError
	if !errors.As(err, &pe) || pe.Missing != 3 {
		t.Errorf("step 4 after steps 1-4 and step 2 again = %v, want run step 3 first", err)
	}
}

func TestTamperedFileFailsStep3(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	encPath := filepath.Join(s.dir, steps.EncryptedFile)
	original, err := os.ReadFile(encPath)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(original)
	h, err := esdk.ParseHeader(r)
	if err != nil {
		t.Fatalf("ParseHeader(%s) = %v", steps.EncryptedFile, err)
	}
	if h.Version != 2 || h.Suite != esdk.SuiteCommitKeyECDSAP384 || h.FrameLengthInBytes != 4096 ||
		h.EncryptionContext["whatfor"] != "usecase-3-cse" || h.EncryptedDataKeys[0].KeyARN() != s.state().KeyARN {
		t.Fatalf("header of %s = %+v, want version 2, suite 0x0578, 4 KiB frames, the workshop's context and key", steps.EncryptedFile, h)
	}
	headerSize := len(original) - r.Len()
	// An AWS Encryption SDK message, version 2: version (0), suite (1-2),
	// message ID (3-34), the encryption context, the encrypted data key
	// (provider ID, key ARN, ciphertext), content type, frame length, the
	// 32-byte commitment and the 16-byte header tag; then the frames and
	// the signature.
	const tail = 1 + 4 + 32 + 16
	positions := map[string]int{
		"version":            0,
		"suite":              2,
		"message ID":         10,
		"encryption context": bytes.Index(original, []byte("usecase-3-cse")),
		"public key":         bytes.Index(original, []byte("aws-crypto-public-key")) + 30,
		"provider ID":        bytes.Index(original, []byte("aws-kms")),
		"key ARN":            bytes.Index(original, []byte("arn:aws:kms:")) + 20,
		"encrypted data key": headerSize - tail - 10,
		"frame length":       headerSize - 16 - 32 - 2,
		"commitment":         headerSize - 16 - 10,
		"header tag":         headerSize - 5,
		"first frame":        headerSize + 20,
		"middle":             (headerSize + len(original)) / 2,
		"last byte":          len(original) - 1,
	}
	for name, pos := range positions {
		if pos < 0 {
			t.Errorf("no %s in %s", name, steps.EncryptedFile)
			continue
		}
		tampered := bytes.Clone(original)
		tampered[pos] ^= 0x01
		if err := os.WriteFile(encPath, tampered, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := s.run(3)
		if err == nil {
			t.Errorf("step 3 with a byte flipped at %d (%s) = success, want error", pos, name)
			continue
		}
		if !strings.Contains(err.Error(), steps.EncryptedFile) {
			t.Errorf("step 3 with a byte flipped at %d (%s) = %q, want it to name %s", pos, name, err, steps.EncryptedFile)
		}
		if a := steps.Explain(err); !strings.Contains(a.What, "modified or damaged") || !strings.Contains(a.Hint, "step 2") {
			t.Errorf("advice for a byte flipped at %d (%s) = %+v, want modified or damaged, and run step 2 again", pos, name, a)
		}
		if got := visibleFiles(t, s.dir); slices.Contains(got, steps.CycledFile) || len(got) != 2 {
			t.Errorf("files after step 3 failed on a byte flipped at %d (%s) = %v, want only %s and %s", pos, name, got, steps.PlaintextFile, steps.EncryptedFile)
		}
	}
}

func TestStep4Mismatch(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 3)
	if err := os.WriteFile(filepath.Join(s.dir, steps.CycledFile), []byte("something else"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := s.run(4)
	if err == nil {
		t.Fatal("step 4 with a changed decrypted file = success, want error")
	}
	var verdict *steps.CompareDetail
	for _, line := range l.list() {
		if d, ok := line.Detail.(*steps.CompareDetail); ok && line.Level == steps.LevelError {
			verdict = d
		}
	}
	if verdict == nil || verdict.Match {
		t.Errorf("step 4 lines = %v, want an error line with a CompareDetail that does not match", l.texts())
	}
}

func TestStep4Match(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 3)
	l, err := s.run(4)
	if err != nil {
		t.Fatalf("step 4 = %v, want success", err)
	}
	found := false
	for _, line := range l.list() {
		if d, ok := line.Detail.(*steps.CompareDetail); ok {
			found = line.Level == steps.LevelSuccess && d.Match && d.Original.SHA256 == d.Cycled.SHA256 && d.Original.SHA256 != ""
		}
	}
	if !found {
		t.Errorf("step 4 lines = %v, want a success line with matching SHA-256", l.texts())
	}
}

func TestStep1ReusesItsOwnKey(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	first := s.state().KeyARN
	l, err := s.run(1)
	if err != nil {
		t.Fatalf("step 1 again = %v, want success", err)
	}
	if got := s.state().KeyARN; got != first {
		t.Errorf("key after step 1 again = %s, want the first one %s", got, first)
	}
	if !l.contains("reusing") {
		t.Errorf("step 1 again said %q, want it to say it reuses the key", l.texts())
	}
	if got := keyCount(t, s.kmsClient()); got != 1 {
		t.Errorf("keys after step 1 twice = %d, want 1", got)
	}
}

func TestStep1RefusesForeignAlias(t *testing.T) {
	s := newSetup(t)
	k := s.kmsClient()
	ctx := context.Background()
	foreign, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("someone else's")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(steps.AliasName), TargetKeyId: foreign.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = s.run(1)
	if err == nil || !strings.Contains(err.Error(), "did not create") {
		t.Fatalf("step 1 with a foreign alias = %v, want error saying cse-workshop did not create the key", err)
	}
	if a := steps.Explain(err); a.Hint == "" {
		t.Errorf("advice for a foreign alias = %+v, want a hint", a)
	}
	if got := keyCount(t, s.kmsClient()); got != 1 {
		t.Errorf("keys after step 1 refused = %d, want 1 (no new key)", got)
	}
	if got := keyState(t, s.kmsClient(), aws.ToString(foreign.KeyMetadata.KeyId)); got != types.KeyStateEnabled {
		t.Errorf("foreign key after step 1 refused = %s, want Enabled", got)
	}
}

func TestStep1KeyPendingDeletion(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	keyARN := s.state().KeyARN
	k := s.kmsClient()
	if _, err := k.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: aws.String(keyARN), PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}

	_, err := s.run(1)
	if err == nil {
		t.Fatal("step 1 with its key pending deletion and no confirmation = success, want error")
	}
	if a := steps.Explain(err); !strings.Contains(a.Hint, "--yes") || !strings.Contains(a.Hint, "aws kms cancel-key-deletion") {
		t.Errorf("advice = %+v, want a hint naming --yes and aws kms cancel-key-deletion", a)
	}
	if got := keyState(t, s.kmsClient(), keyARN); got != types.KeyStatePendingDeletion {
		t.Errorf("key after a refused step 1 = %s, want PendingDeletion", got)
	}

	var asked string
	s.confirm = func(_ context.Context, q string) bool { asked = q; return true }
	if _, err := s.run(1); err != nil {
		t.Fatalf("step 1 with confirmation = %v, want success", err)
	}
	if !strings.Contains(asked, keyARN) {
		t.Errorf("question = %q, want it to name the key", asked)
	}
	if got := keyState(t, s.kmsClient(), keyARN); got != types.KeyStateEnabled {
		t.Errorf("key after step 1 cancelled its deletion = %s, want Enabled", got)
	}
	if got := s.state().KeyARN; got != keyARN {
		t.Errorf("key after step 1 = %s, want the restored %s", got, keyARN)
	}
}

func TestStep1SchedulesDeletionWhenAliasFails(t *testing.T) {
	s := newSetup(t)
	w, fake := s.openWithFake()
	fake.InjectFault(fakeaws.Fault{Service: "kms", Operation: "CreateAlias", Status: 400, Code: "LimitExceededException", Message: "too many aliases"})
	err := steps.Run(context.Background(), w, 1, &lines{})
	if err == nil {
		t.Fatal("step 1 with CreateAlias failing = success, want error")
	}
	fake.ClearFaults()
	out, err := w.Clients.KMS.ListKeys(context.Background(), &kms.ListKeysInput{})
	if err != nil || len(out.Keys) != 1 {
		t.Fatalf("ListKeys = %v, %v; want the one key step 1 made", out, err)
	}
	if got := keyState(t, w.Clients.KMS, aws.ToString(out.Keys[0].KeyId)); got != types.KeyStatePendingDeletion {
		t.Errorf("key whose alias failed = %s, want PendingDeletion", got)
	}
}

func TestStep6DeletesOnlyItsOwnKey(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	k := s.kmsClient()
	foreign, err := k.CreateKey(context.Background(), &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	// A workshop whose progress names a key it did not make.
	w := s.open()
	w.State.KeyARN = aws.ToString(foreign.KeyMetadata.Arn)
	w.State.KeyID = aws.ToString(foreign.KeyMetadata.KeyId)
	if err := w.Save(); err != nil {
		t.Fatal(err)
	}
	s.exit(w)
	_, err = s.run(6)
	if err == nil || !strings.Contains(err.Error(), "did not create") {
		t.Fatalf("step 6 on a foreign key = %v, want refusal", err)
	}
	if got := keyState(t, s.kmsClient(), w.State.KeyARN); got != types.KeyStateEnabled {
		t.Errorf("foreign key after step 6 = %s, want Enabled", got)
	}
}

func TestStep6(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2, 3)
	keyARN := s.state().KeyARN
	l, err := s.run(6)
	if err != nil {
		t.Fatalf("step 6 = %v, want success", err)
	}
	k := s.kmsClient()
	if got := keyState(t, k, keyARN); got != types.KeyStatePendingDeletion {
		t.Errorf("key after step 6 = %s, want PendingDeletion", got)
	}
	if _, err := k.DescribeKey(context.Background(), &kms.DescribeKeyInput{KeyId: aws.String(steps.AliasName)}); err == nil {
		t.Errorf("alias after step 6 still exists")
	}
	var deletion *steps.DeletionDetail
	for _, line := range l.list() {
		if d, ok := line.Detail.(*steps.DeletionDetail); ok {
			deletion = d
		}
	}
	if deletion == nil || deletion.KeyARN != keyARN || deletion.DeletionDate.Sub(start).Hours() < 7*24 {
		t.Errorf("step 6 deletion detail = %+v, want key %s deleted 7 days from now", deletion, keyARN)
	}

	// Again: the key is already pending; that is no failure.
	l, err = s.run(6)
	if err != nil || !l.contains("already scheduled for deletion") {
		t.Errorf("step 6 again = %v, lines %q; want success saying the key was already scheduled", err, l.texts())
	}

	// A new step 1 starts afresh.
	s.mustRun(1)
	if got := s.state().KeyARN; got == keyARN || got == "" {
		t.Errorf("key after step 6 and step 1 = %q, want a new key", got)
	}
}

func TestPreflight(t *testing.T) {
	s := newSetup(t)
	w := s.open()
	plan, err := steps.Preflight(context.Background(), w)
	if err != nil {
		t.Fatalf("Preflight = %v", err)
	}
	if plan.Account != fakeaws.DefaultAccountID || plan.Region != fakeaws.DefaultRegion || plan.CallerARN == "" {
		t.Errorf("plan = %+v, want account %s in %s and a caller", plan, fakeaws.DefaultAccountID, fakeaws.DefaultRegion)
	}
	text := plan.String()
	for _, want := range []string{steps.AliasName, "billed monthly", "7 days"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan text does not mention %q:\n%s", want, text)
		}
	}
	if n := keyCount(t, w.Clients.KMS); n != 0 {
		t.Errorf("keys after Preflight = %d, want 0", n)
	}
}

func TestLiveKeyReminder(t *testing.T) {
	s := newSetup(t)
	// The demo backend dressed as live, to see what a live run prints.
	clients, err := awsclient.New(context.Background(), awsclient.Options{Dir: s.dir, Clock: s.clock, Delivery: s.delivery})
	if err != nil {
		t.Fatal(err)
	}
	clients.Live = true
	w, err := steps.Open(steps.Options{Dir: s.dir, Clients: clients, Clock: s.clock, Fast: true, Profile: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.LiveKeyReminder(); got != "" {
		t.Errorf("reminder before step 1 = %q, want none", got)
	}
	if err := steps.Run(context.Background(), w, 1, &lines{}); err != nil {
		t.Fatal(err)
	}
	got := w.LiveKeyReminder()
	for _, want := range []string{"cse-workshop step 6 --dir " + s.dir + " --aws --region us-east-1 --profile dev", "aws kms schedule-key-deletion --key-id " + w.State.KeyARN} {
		if !strings.Contains(got, want) {
			t.Errorf("reminder after step 1 = %q, want it to contain %q", got, want)
		}
	}
	if err := steps.Run(context.Background(), w, 6, &lines{}); err != nil {
		t.Fatal(err)
	}
	if got := w.LiveKeyReminder(); got != "" {
		t.Errorf("reminder after step 6 = %q, want none", got)
	}
	// An experiment that cancelled the deletion and was killed before it
	// scheduled it again leaves a billed key behind until the next start.
	w.State.Restore = &steps.PendingRestore{Experiment: "pending-deletion", KeyARN: w.State.KeyARN, Action: steps.RestoreScheduleDeletion}
	if got := w.LiveKeyReminder(); !strings.Contains(got, "cse-workshop step 6 --dir") {
		t.Errorf("reminder with the deletion still to schedule again = %q, want the commands that clean up", got)
	}
	w.State.Restore = nil
	s.exit(w)

	// The demo's progress in the same folder is separate.
	if done := s.state().Done; len(done) > 0 {
		t.Errorf("demo progress after a live run = %v, want none", done)
	}
}

func TestReset(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1, 2)
	w := s.open()
	keyARN := w.State.KeyARN
	w.Reset()
	if w.HasProgress() || w.State.KeyARN != keyARN {
		t.Errorf("after Reset: progress %v, key %q; want no progress and the live key %s kept", w.State.Done, w.State.KeyARN, keyARN)
	}
}

// Step 2 shows the header of the message it wrote, as read back from the
// file: an AWS Encryption SDK message of the SDKs' default suite, whose
// data key is under the workshop's key.
func TestStep2ShowsTheMessageHeader(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	l, err := s.run(2)
	if err != nil {
		t.Fatalf("step 2 = %v", err)
	}
	keyARN := s.state().KeyARN
	var header *steps.HeaderDetail
	var dataKey *steps.DataKeyDetail
	for _, line := range l.list() {
		switch d := line.Detail.(type) {
		case *steps.HeaderDetail:
			header = d
		case *steps.DataKeyDetail:
			dataKey = d
		}
	}
	if dataKey == nil || dataKey.KeyARN != keyARN || dataKey.EncryptedDataKeySize == 0 {
		t.Errorf("step 2 data key detail = %+v, want the encrypted data key under %s", dataKey, keyARN)
	}
	// Not a byte of the plaintext data key, even masked: its size only.
	if dataKey != nil && (dataKey.DataKeySizeInBytes != 32 || dataKey.Plaintext() != "32 bytes, in memory only") {
		t.Errorf("step 2 data key detail says %q (%d bytes), want \"32 bytes, in memory only\"", dataKey.Plaintext(), dataKey.DataKeySizeInBytes)
	}
	if want := "KMS GenerateDataKey returned a data key: 32 bytes, in memory only"; !slices.Contains(l.texts(), want) {
		t.Errorf("step 2 lines = %q, want %q and no preview of the data key", l.texts(), want)
	}
	if header == nil {
		t.Fatalf("step 2 lines = %q, want a HeaderDetail", l.texts())
	}
	want := steps.HeaderDetail{
		Version: 2, SuiteID: "0x0578", SuiteName: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", Signed: true,
		MessageID:          header.MessageID,
		EncryptionContext:  map[string]string{"whatfor": "usecase-3-cse", steps.PublicKeyContextKey: header.EncryptionContext[steps.PublicKeyContextKey]},
		EncryptedDataKeys:  []steps.EncryptedDataKeySummary{{ProviderID: "aws-kms", KeyARN: keyARN, SizeInBytes: dataKey.EncryptedDataKeySize}},
		FrameLengthInBytes: 4096,
	}
	if diff := cmp.Diff(want, *header); diff != "" {
		t.Errorf("step 2 header (-want +got):\n%s", diff)
	}
	if len(header.MessageID) != 64 || header.EncryptionContext[steps.PublicKeyContextKey] == "" {
		t.Errorf("header message ID %q, public key %q; want 32 bytes in hex and a public key",
			header.MessageID, header.EncryptionContext[steps.PublicKeyContextKey])
	}
}

func TestStep2ReportsProgressOfABigFile(t *testing.T) {
	s := newSetup(t)
	big := bytes.Repeat([]byte("a large file of any kind\n"), 200_000) // about 5 MB
	if err := os.WriteFile(filepath.Join(s.dir, steps.PlaintextFile), big, 0o644); err != nil {
		t.Fatal(err)
	}
	s.mustRun(1)
	l, err := s.run(2)
	if err != nil {
		t.Fatalf("step 2 on a big file = %v", err)
	}
	var last *steps.ProgressDetail
	var files *steps.FilesDetail
	for _, line := range l.list() {
		switch d := line.Detail.(type) {
		case *steps.ProgressDetail:
			if line.Text != "" {
				t.Errorf("progress line has text %q, want a display-only line", line.Text)
			}
			last = d
		case *steps.FilesDetail:
			files = d
		}
	}
	if last == nil || last.DoneBytes != int64(len(big)) || last.TotalBytes != int64(len(big)) {
		t.Errorf("last progress = %+v, want %d of %d bytes", last, len(big), len(big))
	}
	if files == nil || files.Input.SizeInBytes != int64(len(big)) || files.Output.SizeInBytes <= int64(len(big)) {
		t.Errorf("files = %+v, want the input's size and a larger output", files)
	}
	s.mustRun(3, 4)
}

// TestDamagedProgressFile: a damaged state.json stops the workshop with
// advice naming the file, instead of a bare JSON error.
func TestDamagedProgressFile(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	p := filepath.Join(s.dir, ".cse-workshop", "state.json")
	if err := os.WriteFile(p, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	clients, err := awsclient.New(context.Background(), awsclient.Options{Dir: s.dir, Clock: s.clock, Delivery: s.delivery})
	if err != nil {
		t.Fatal(err)
	}
	defer clients.Close()
	_, err = steps.Open(steps.Options{Dir: s.dir, Clients: clients, Clock: s.clock})
	a := steps.Explain(err)
	if err == nil || !strings.Contains(a.What, "damaged") || !strings.Contains(a.Hint, p) {
		t.Errorf("Open with a damaged state.json = %+v, want it called damaged and a hint naming %s", a, p)
	}
}

// A learner who replaced plaintext_u.txt with a folder is told so, with
// what to do, before anything else is reported about it.
func TestStep2PlaintextIsAFolder(t *testing.T) {
	s := newSetup(t)
	s.mustRun(1)
	p := filepath.Join(s.dir, steps.PlaintextFile)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := s.run(2)
	if err == nil {
		t.Fatal("step 2 with plaintext_u.txt a folder = success, want error")
	}
	a := steps.Explain(err)
	if !strings.Contains(a.What, "folder") || !strings.Contains(a.Hint, steps.PlaintextFile) {
		t.Errorf("step 2 with plaintext_u.txt a folder: advice %+v, want it to say it is a folder and what to do", a)
	}
	if len(l.texts()) != 0 {
		t.Errorf("step 2 with plaintext_u.txt a folder reported %q, want nothing before the error", l.texts())
	}
}

// A workshop folder that cannot be made says what to do about it.
func TestOpenUnwritableFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Even root cannot make a folder inside a file.
	_, err := steps.Open(steps.Options{Dir: filepath.Join(file, "workshop")})
	if err == nil {
		t.Fatal("Open(a folder inside a file) = nil error, want one")
	}
	if a := steps.Explain(err); !strings.Contains(a.Hint, "--dir") {
		t.Errorf("Open(a folder inside a file): advice %+v, want a hint to choose another --dir", a)
	}
}

// Step 1 first asks KMS for its alias: on a first run the answer is
// NotFoundException, which the API pane must not show as a fault.
func TestStep1AliasLookupIsAnExpectedFailure(t *testing.T) {
	s := newSetup(t)
	w := s.open()
	defer s.exit(w)
	if err := steps.Run(context.Background(), w, 1, &lines{}); err != nil {
		t.Fatal(err)
	}
	first := w.Clients.Calls.Calls()[0]
	if first.Operation != "DescribeKey" || first.Outcome() != "NotFoundException" || first.Expected == "" {
		t.Errorf("step 1's first call = %s %s, expected %q; want DescribeKey, NotFoundException, with why it is expected",
			first.Operation, first.Outcome(), first.Expected)
	}
}

// A progress file edited by hand may name steps that do not exist; they
// are not taken as done, the others are.
func TestOpenIgnoresStepsThatDoNotExist(t *testing.T) {
	dir := t.TempDir()
	private := filepath.Join(dir, ".cse-workshop")
	if err := os.MkdirAll(private, 0o700); err != nil {
		t.Fatal(err)
	}
	state := `{"version": 1, "backends": {"demo": {"done": {"-1": "2026-11-27T10:00:00Z", "2": "2026-11-27T10:00:00Z", "99": "2026-11-27T10:00:00Z"}}}}`
	if err := os.WriteFile(filepath.Join(private, "state.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := steps.Open(steps.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	got := slices.Sorted(maps.Keys(w.State.Done))
	if !slices.Equal(got, []int{2}) {
		t.Errorf("steps done = %v, want [2]", got)
	}
}
