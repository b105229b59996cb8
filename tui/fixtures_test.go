package tui

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/aws/smithy-go"

	"cse-workshop/assets"
	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	"cse-workshop/steps"
)

// t0 is the fixed start of every test session.
var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const fixtureKeyARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// fixtureContent is fixed text for the screens, so that the snapshots
// change only when the screens do, not when the lessons are edited.
func fixtureContent() content {
	c := content{
		welcome: "# Envelope encryption with AWS KMS\n\nYour file is encrypted **on this machine** with a fresh **data key**. " +
			"That data key is then encrypted by a **KMS key**, which never leaves AWS KMS.\n\n" +
			"- KMS `Encrypt` takes at most 4 KiB.\n- Local AES is fast.\n",
		encryptDiagram: " ┌─────────┐\n │ KMS key │\n └────┬────┘\n      ▼ GenerateDataKey\n data key ──▶ encrypt locally",
		decryptDiagram: " encrypted data key ──▶ KMS Decrypt\n      ▼\n data key ──▶ decrypt locally",
		lessons:        map[int]string{},
		steps: []steps.Step{
			{Number: 1, Title: "Create the KMS key and its alias", Success: "KMS Master Key with alias name kms_key_cse_usecase_3 successfully created", StartsWorkshop: true},
			{Number: 2, Title: "Encrypt plaintext_u.txt with a data key", Success: "Module run was successful !!"},
			{Number: 3, Title: "Decrypt encrypted_e.txt", Success: "Module run was successful !!"},
			{Number: 4, Title: "Compare the original and the decrypted file", Success: "plaintext_u.txt and plaintext_u_cycled.txt are identical"},
			{Number: 5, Title: "Find the GenerateDataKey call in CloudTrail", Success: "GenerateDataKey API Called", WaitsForAudit: true},
			{Number: 6, Title: "Clean up", Success: "Cleanup Successful", CleansUp: true},
		},
		quiz: []assets.Question{
			{
				Prompt:      "Why do we wait for 2 minutes in Step 5?",
				Hint:        "Which service writes the record, and when?",
				Choices:     []string{"KMS needs time", "CloudTrail delivers events asynchronously", "The data key must expire", "LookupEvents is slow"},
				Answer:      1,
				Explanation: "CloudTrail records calls with a lag.",
				WhyNot:      []string{"The data key came back in step 2.", "", "Data keys do not expire.", "LookupEvents allows 2 requests a second."},
			},
			{
				Prompt:      "Where is the encrypted data key kept?",
				Hint:        "Who must be able to read it to decrypt?",
				Choices:     []string{"In KMS", "In the file's header", "On a server", "Nowhere"},
				Answer:      1,
				Explanation: "The header carries it, beside the ciphertext.",
				WhyNot:      []string{"KMS keeps no data keys.", "", "There is no server.", "Then nobody could decrypt."},
			},
		},
	}
	c.welcomeSources = []assets.Source{{Title: "Concepts in the AWS Encryption SDK", URL: "https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/concepts.html"}}
	c.lessonSources = map[int][]assets.Source{}
	for _, st := range c.steps {
		c.lessons[st.Number] = "# Step lesson\n\nThis step does one thing, and the lesson says **why** in a few lines of text that wrap.\n\n- first point\n- second point with `code`\n"
		c.lessonSources[st.Number] = []assets.Source{{Title: "Encryption context", URL: "https://docs.aws.amazon.com/kms/latest/developerguide/encrypt_context.html"}}
	}
	for i := range c.quiz {
		c.quiz[i].Sources = []assets.Source{{Title: "Working with CloudTrail event history", URL: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html"}}
	}
	return c
}

// fixturePredictions are the predictions of steps 3 and 5, as the
// scenarios that show predictions have them.
func fixturePredictions() []assets.Prediction {
	return []assets.Prediction{
		{
			ID: "step3-context", Step: 3, Ask: assets.AskBeforeRun, Reveal: assets.RevealAtEnd,
			Prompt:      "What would happen with a different encryption context?",
			Choices:     []string{"KMS ignores it", "KMS refuses with InvalidCiphertextException", "Another data key comes back"},
			Answer:      1,
			Explanation: "The context is authenticated: Decrypt needs the same pairs.",
			Source:      assets.Source{Title: "Decrypt", URL: "https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html"},
		},
		{
			ID: "step5-wait", Step: 5, Ask: assets.AskAtWait, Reveal: assets.RevealAtRecord,
			Prompt:      "Why do we wait for 2 minutes?",
			Choices:     []string{"KMS needs time", "CloudTrail shows the record a while after the call", "The data key must expire", "LookupEvents is slow"},
			Answer:      1,
			Explanation: "CloudTrail records calls with a lag.",
			Source:      assets.Source{Title: "Working with CloudTrail Event history", URL: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html"},
		},
	}
}

// testShuffle is the seeded order of the choices in tests: shuffled, as
// in a real run, and the same every time.
func testShuffle() func(n int, swap func(i, j int)) {
	return rand.New(rand.NewPCG(1, 2)).Shuffle
}

// newTestModel builds a model over a fresh demo workshop with a fixed clock.
func newTestModel(t testing.TB, theme string, done ...int) *Model {
	t.Helper()
	return newTestModelWith(t, theme, fixtureContent(), done...)
}

// newTestModelWith is newTestModel showing the content c.
func newTestModelWith(t testing.TB, theme string, c content, done ...int) *Model {
	t.Helper()
	w := &steps.Workshop{
		Dir:      t.TempDir(),
		Clock:    clock.NewFake(t0),
		CheckNow: make(chan struct{}, 1),
	}
	if len(done) > 0 {
		w.State.Done = map[int]time.Time{}
		w.State.KeyARN = fixtureKeyARN
		for _, n := range done {
			w.State.Done[n] = t0
		}
	}
	m := newModel(context.Background(), Options{Workshop: w, Theme: theme, shuffle: testShuffle()}, c)
	t.Cleanup(func() {
		m.stop()
		// A write of the answers may still run: it ends before the
		// folder is removed.
		m.saver.write()
	})
	m.c.cwd = ""
	return m
}

// Where the tutorial is: which screen, which dialog.
func onStep(m *Model, n int) bool { return m.screen() == screen(m.steps[n-1]) }
func onQuiz(m *Model) bool        { return m.screen() == screen(m.summary.quiz) }
func onSummary(m *Model) bool     { return m.screen() == screen(m.summary) }

// quizKey is the key that picks choice (in the question's own order) of
// quiz question i, wherever the shuffle put it.
func quizKey(m *Model, i, choice int) string {
	return nth(m.c.keys.Answer, slices.Index(m.summary.quiz.order[i], choice)+1)
}

// predictKey is the key that picks choice of step n's prediction.
func predictKey(m *Model, n, choice int) string {
	return nth(m.c.keys.Predict, slices.Index(m.steps[n-1].prediction.order, choice)+1)
}

func confirming(m *Model) bool {
	_, ok := m.dialog().(*confirmDialog)
	return ok
}

// send feeds messages to the model, ignoring the commands they return.
func send(m *Model, msgs ...tea.Msg) {
	for _, msg := range msgs {
		m.Update(msg)
	}
}

func press(keys ...string) []tea.Msg {
	var msgs []tea.Msg
	for _, k := range keys {
		msgs = append(msgs, keyMsg(k))
	}
	return msgs
}

// keyMsg is the key press a terminal sends for a key name.
func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(k, "f")); err == nil && k[0] == 'f' {
		return tea.KeyPressMsg{Code: tea.KeyF1 + rune(n-1)}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// line is a status line at t0 plus sec seconds.
func line(sec int, level steps.Level, text string, detail steps.Detail) steps.Line {
	return steps.Line{Time: t0.Add(time.Duration(sec) * time.Second), Level: level, Text: text, Detail: detail}
}

// feed delivers status lines of the run in progress, then its end when
// done is true.
func feed(m *Model, n int, lines []steps.Line, end bool, err error) {
	for _, l := range lines {
		m.Update(stepLineMsg{step: n, run: m.runID, line: l})
	}
	if end {
		m.Update(stepDoneMsg{step: n, run: m.runID, err: err})
	}
}

// Fixed status lines of each step, as the steps report them.
func stepLines(n int) []steps.Line {
	switch n {
	case 1:
		return []steps.Line{
			line(1, steps.LevelInfo, "creating a symmetric KMS key (Master key to encrypt objects written to S3)", nil),
			line(2, steps.LevelInfo, "created KMS key "+fixtureKeyARN, nil),
			line(2, steps.LevelInfo, "created alias alias/kms_key_cse_usecase_3", nil),
			line(2, steps.LevelSuccess, "KMS Master Key with alias name kms_key_cse_usecase_3 successfully created", nil),
		}
	case 2:
		return []steps.Line{
			line(10, steps.LevelInfo, "encrypting plaintext_u.txt (1.2 KiB) under alias/kms_key_cse_usecase_3 with encryption context whatfor=usecase-3-cse", nil),
			line(11, steps.LevelInfo, "KMS GenerateDataKey returned a data key: 32 bytes, in memory only", &steps.DataKeyDetail{
				DataKeySizeInBytes: 32, EncryptedDataKeySize: 184, EncryptedDataKeyPreview: "0102030078a1b2c3d4e5f6",
				KeyARN: fixtureKeyARN,
			}),
			line(11, steps.LevelInfo, "", fixtureHeader()),
			line(11, steps.LevelInfo, "", &steps.ProgressDetail{DoneBytes: 1234, TotalBytes: 1234}),
			line(12, steps.LevelInfo, "wrote encrypted_e.txt (1.8 KiB): the header, the data in 4 KiB frames, each encrypted with the data key, then the signature", &steps.FilesDetail{
				Input:  steps.FileSummary{Path: "/w/plaintext_u.txt", SizeInBytes: 1234},
				Output: steps.FileSummary{Path: "/w/encrypted_e.txt", SizeInBytes: 1851},
			}),
			line(12, steps.LevelInfo, "read its header back, as anyone with the file can, without a key: AWS Encryption SDK message version 2, suite 0x0578, 4.0 KiB frames", fixtureHeader()),
			line(12, steps.LevelSuccess, "Module run was successful !!", nil),
		}
	case 3:
		return []steps.Line{
			line(20, steps.LevelInfo, "decrypting encrypted_e.txt: KMS Decrypt unwraps the encrypted data key", nil),
			line(21, steps.LevelInfo, "wrote plaintext_u_cycled.txt (1.2 KiB), after the header and every frame, then the signature verified", &steps.FilesDetail{
				Input:  steps.FileSummary{Path: "/w/encrypted_e.txt", SizeInBytes: 1851},
				Output: steps.FileSummary{Path: "/w/plaintext_u_cycled.txt", SizeInBytes: 1234},
			}),
			line(21, steps.LevelSuccess, "Module run was successful !!", nil),
		}
	case 4:
		sum := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		return []steps.Line{
			line(30, steps.LevelInfo, "comparing plaintext_u.txt and plaintext_u_cycled.txt", &steps.CompareDetail{
				Original: steps.FileSummary{Path: "/w/plaintext_u.txt", SizeInBytes: 1234, SHA256: sum},
				Cycled:   steps.FileSummary{Path: "/w/plaintext_u_cycled.txt", SizeInBytes: 1234, SHA256: sum},
				Match:    true,
			}),
			line(30, steps.LevelSuccess, "plaintext_u.txt and plaintext_u_cycled.txt are identical", nil),
		}
	case 6:
		return []steps.Line{
			line(200, steps.LevelInfo, "KMS key will be deleted on Fri 4 Dec 2026 10:03 UTC", &steps.DeletionDetail{KeyARN: fixtureKeyARN, DeletionDate: t0.Add(7*24*time.Hour + 200*time.Second)}),
			line(201, steps.LevelInfo, "deleted alias alias/kms_key_cse_usecase_3", nil),
			line(201, steps.LevelInfo, "deleted encrypted_e.txt", nil),
			line(201, steps.LevelSuccess, "Cleanup Successful", nil),
		}
	}
	return nil
}

// fixturePublicKey is the aws-crypto-public-key of the fixtures: a
// compressed P-384 point in base64.
const fixturePublicKey = "A2LbJ7TXVLqvA0ITtx0grbX3ZVjsn6a2TWp7HsmY0IUxiwjYO7VHsJSk8ah5TWQrYQ=="

// fixtureHeader is the header of encrypted_e.txt as step 2 reads it back.
func fixtureHeader() *steps.HeaderDetail {
	return &steps.HeaderDetail{
		Version: 2, SuiteID: "0x0578", SuiteName: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", Signed: true,
		MessageID:          "5e1d0c3b9a8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070605",
		EncryptionContext:  map[string]string{"whatfor": "usecase-3-cse", steps.PublicKeyContextKey: fixturePublicKey},
		EncryptedDataKeys:  []steps.EncryptedDataKeySummary{{ProviderID: "aws-kms", KeyARN: fixtureKeyARN, SizeInBytes: 184}},
		FrameLengthInBytes: 4096,
	}
}

// step5Waiting is step 5 in its countdown, after one early look.
func step5Waiting() []steps.Line {
	return []steps.Line{
		line(40, steps.LevelInfo, "waiting 2m0s for CloudTrail: an API call shows up in its event history only a while after it is made", nil),
		line(40, steps.LevelInfo, "", &steps.WaitDetail{Remaining: 83 * time.Second, Total: 2 * time.Minute}),
		line(41, steps.LevelInfo, "attempt 1: not delivered yet", &steps.PollDetail{Attempt: 1}),
		line(42, steps.LevelInfo, "", &steps.WaitDetail{Remaining: 81 * time.Second, Total: 2 * time.Minute}),
	}
}

// step5Found is the record step 5 finds.
func step5Found() []steps.Line {
	rec := &steps.RecordDetail{
		EventID: "8d2f6c1e-0b7a-4b39-9d6e-3c1f2a9b7e10", EventName: "GenerateDataKey",
		EventTime: t0.Add(11 * time.Second), VisibleAt: t0.Add(118 * time.Second), NotSeenAt: t0.Add(138 * time.Second), FoundAt: t0.Add(143 * time.Second),
		KeyARN: fixtureKeyARN, EncryptionContext: map[string]string{"whatfor": "usecase-3-cse", steps.PublicKeyContextKey: fixturePublicKey},
		JSON: "{\n  \"eventName\": \"GenerateDataKey\",\n  \"readOnly\": true,\n  \"requestParameters\": {\n    \"keyId\": \"alias/kms_key_cse_usecase_3\",\n    \"numberOfBytes\": 32,\n    \"encryptionContext\": {\n      \"aws-crypto-public-key\": \"" + fixturePublicKey + "\",\n      \"whatfor\": \"usecase-3-cse\"\n    }\n  },\n  \"responseElements\": null\n}",
	}
	return []steps.Line{
		line(143, steps.LevelInfo, "attempt 3: found the GenerateDataKey record (event 8d2f6c1e-0b7a-4b39-9d6e-3c1f2a9b7e10): it became visible in event history 1m47s after the call; this look came 2m12s after the call", rec),
		line(143, steps.LevelInfo, "its encryption context: the workshop's whatfor=usecase-3-cse, and aws-crypto-public-key, the public key of the message's signature, which the AWS Encryption SDK added so that KMS binds it to the data key", nil),
		line(143, steps.LevelSuccess, "GenerateDataKey API Called", nil),
	}
}

// fixtureCalls are AWS calls as the recorder reports them.
func fixtureCalls() []awsclient.Call {
	return []awsclient.Call{
		{Service: "KMS", Operation: "CreateKey", Start: t0.Add(time.Second), Duration: 42 * time.Millisecond, Attempts: 1},
		{Service: "KMS", Operation: "CreateAlias", Start: t0.Add(2 * time.Second), Duration: 18 * time.Millisecond, Attempts: 1},
		{Service: "KMS", Operation: "GenerateDataKey", Start: t0.Add(11 * time.Second), Duration: 23 * time.Millisecond, Attempts: 1},
		{Service: "CloudTrail", Operation: "LookupEvents", Start: t0.Add(41 * time.Second), Duration: 1200 * time.Millisecond, Attempts: 2,
			Err: errors.New("throttled")},
	}
}

// fixtureEndpoint is where the demo answers the learner's own AWS CLI in
// the snapshots.
const fixtureEndpoint = "http://127.0.0.1:43117"

// endpointCalls are step 1's calls, its foreseen alias lookup first, then
// a DescribeKey from the learner's own AWS CLI, bodies as awsclient keeps
// them.
func endpointCalls() []awsclient.Call {
	return []awsclient.Call{
		{Service: "KMS", Operation: "DescribeKey", Start: t0.Add(time.Second), Duration: 3 * time.Millisecond, Attempts: 1,
			Err: &smithy.GenericAPIError{Code: "NotFoundException"}, Expected: "the alias is free",
			Request:  "{\n  \"KeyId\": \"alias/kms_key_cse_usecase_3\"\n}",
			Response: "{\n  \"__type\": \"NotFoundException\",\n  \"message\": \"Alias arn:aws:kms:us-east-1:111122223333:alias/kms_key_cse_usecase_3 is not found.\"\n}"},
		{Service: "KMS", Operation: "CreateKey", Start: t0.Add(time.Second), Duration: 42 * time.Millisecond, Attempts: 1},
		{Service: "KMS", Operation: "CreateAlias", Start: t0.Add(2 * time.Second), Duration: 18 * time.Millisecond, Attempts: 1},
		{Service: "KMS", Operation: "DescribeKey", Start: t0.Add(30 * time.Second), Duration: 4 * time.Millisecond, Attempts: 1,
			External: true, UserAgent: "aws-cli/2.17.0", RequestID: "5b7b1e9e-8c3f-4d6a-9b1e-2f0c3a4d5e6f",
			Request:  "{\n  \"KeyId\": \"alias/kms_key_cse_usecase_3\"\n}",
			Response: "{\n  \"KeyMetadata\": {\n    \"Arn\": \"" + fixtureKeyARN + "\",\n    \"KeyState\": \"Enabled\",\n    \"KeyUsage\": \"ENCRYPT_DECRYPT\"\n  }\n}"},
		{Service: "KMS", Operation: "GenerateDataKey", Start: t0.Add(40 * time.Second), Duration: 23 * time.Millisecond, Attempts: 1,
			Request:  "{\n  \"EncryptionContext\": {\n    \"whatfor\": \"usecase-3-cse\"\n  },\n  \"KeyId\": \"alias/kms_key_cse_usecase_3\",\n  \"NumberOfBytes\": 32\n}",
			Response: "{\n  \"CiphertextBlob\": \"AQIDAHhBJ3mHkA8c… (184 bytes)\",\n  \"KeyId\": \"" + fixtureKeyARN + "\",\n  \"Plaintext\": \"<32 bytes, not shown>\"\n}"},
	}
}
