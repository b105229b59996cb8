package assets

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// The diagrams fit the box the welcome screen draws them in. (That a
// lesson fits one screen is tested where it is drawn, in tui.)
const (
	diagramColumns = 76
	diagramLines   = 16
)

func TestLessonMentionsItsCallsFilesAndSuccessLine(t *testing.T) {
	tests := []struct {
		step int
		want []string
	}{
		// Every tag step 1 sets, and why the success line says "Master Key".
		{1, []string{"CreateKey", "CreateAlias", "alias/kms_key_cse_usecase_3",
			"Master key to encrypt objects written to S3", "crypto-aws-encryption", "builder-aws-session",
			"created-by", "cse-workshop", "cse-workshop-folder", "three tags",
			"customer master keys", "KMS keys", "keeps the original workshop's words",
			"KMS Master Key with alias name kms_key_cse_usecase_3 successfully created"}},
		// The encryption context as the screens show it (text.Context).
		{2, []string{"AWS Encryption SDK", "GenerateDataKey", "NumberOfBytes", `{"whatfor":"usecase-3-cse"}`,
			"0x0578", "header", "plaintext_u.txt", "encrypted_e.txt", "Module run was successful !!"}},
		{3, []string{"Decrypt", "KeyId", "InvalidCiphertextException",
			"encrypted_e.txt", "plaintext_u_cycled.txt", "Module run was successful !!"}},
		{4, []string{"SHA-256", "plaintext_u.txt", "plaintext_u_cycled.txt"}},
		{5, []string{"LookupEvents", "GenerateDataKey", "EventBridge", "aws.kms",
			"AWS API Call via CloudTrail", "trail with logging on", "aws-crypto-public-key",
			"GenerateDataKey API Called"}},
		{6, []string{"ScheduleKeyDeletion", "7 days", "DeleteAlias", "CancelKeyDeletion",
			"encrypted_e.txt", "plaintext_u_cycled.txt", "Cleanup Successful"}},
	}
	for _, tt := range tests {
		lesson := Lesson(tt.step)
		if strings.TrimSpace(lesson) == "" {
			t.Errorf("Lesson(%d) is empty", tt.step)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(lesson, w) {
				t.Errorf("Lesson(%d) does not mention %q", tt.step, w)
			}
		}
	}
}

func TestLessonOutOfRangeIsEmpty(t *testing.T) {
	for _, n := range []int{-1, 0, Steps + 1, 100} {
		if got := Lesson(n); got != "" {
			t.Errorf("Lesson(%d) = %q, want \"\"", n, got)
		}
		if got := LessonSources(n); got != nil {
			t.Errorf("LessonSources(%d) = %v, want nil", n, got)
		}
	}
}

// checkSources fails when a text names no AWS documentation page, or a
// page that is not one.
func checkSources(t *testing.T, name string, sources []Source) {
	t.Helper()
	if len(sources) == 0 {
		t.Errorf("%s names no AWS documentation page", name)
	}
	seen := map[string]bool{}
	for _, s := range sources {
		if strings.TrimSpace(s.Title) == "" {
			t.Errorf("%s: source %s has no title", name, s.URL)
		}
		u, err := url.Parse(s.URL)
		if err != nil || u.Scheme != "https" || (u.Host != "docs.aws.amazon.com" && u.Host != "aws.amazon.com") || len(u.Path) < 2 {
			t.Errorf("%s: source %q is at %q, want an https://docs.aws.amazon.com/ (or aws.amazon.com) page", name, s.Title, s.URL)
		}
		if seen[s.URL] {
			t.Errorf("%s names %s twice", name, s.URL)
		}
		seen[s.URL] = true
	}
}

func TestEveryLessonAndExplanationNamesItsSources(t *testing.T) {
	checkSources(t, "Welcome()", WelcomeSources())
	for n := 1; n <= Steps; n++ {
		checkSources(t, fmt.Sprintf("Lesson(%d)", n), LessonSources(n))
	}
	for i, q := range Quiz() {
		checkSources(t, fmt.Sprintf("Quiz()[%d] (%q)", i, q.Prompt), q.Sources)
	}
}

// The sources are shown apart from the lesson, so the lesson's markdown
// does not repeat them.
func TestLessonTextLeavesOutItsSources(t *testing.T) {
	docs := map[string]string{"Welcome()": Welcome()}
	for n := 1; n <= Steps; n++ {
		docs[fmt.Sprintf("Lesson(%d)", n)] = Lesson(n)
	}
	for name, md := range docs {
		if strings.Contains(md, "## Sources") || strings.Contains(md, "https://") {
			t.Errorf("%s still holds its sources:\n%s", name, md)
		}
	}
}

// Quiz 1 is about event history, the audit trail step 5 reads: not about
// the S3 log files of a trail, which step 5 never looks at.
func TestFirstExplanationIsAboutEventHistory(t *testing.T) {
	q := Quiz()[0]
	for _, want := range []string{"event history", "LookupEvents", "2 minutes", "keeps looking"} {
		if !strings.Contains(q.Explanation, want) {
			t.Errorf("Quiz()[0].Explanation does not mention %q: %s", want, q.Explanation)
		}
	}
	for _, wrong := range []string{"S3", "5 minutes"} {
		if strings.Contains(q.Explanation, wrong) {
			t.Errorf("Quiz()[0].Explanation mentions %q, the delivery of log files to S3, which step 5 does not read: %s", wrong, q.Explanation)
		}
	}
}

func TestWelcomeExplainsTheEnvelope(t *testing.T) {
	w := Welcome()
	for _, want := range []string{"data key", "KMS key", "encrypted data key", "Decrypt", "4 KiB", "GenerateDataKey"} {
		if !strings.Contains(w, want) {
			t.Errorf("Welcome() does not mention %q", want)
		}
	}
}

func TestDiagramsFitTheirBox(t *testing.T) {
	enc, dec := Diagrams()
	tests := []struct {
		name    string
		diagram string
		want    []string
	}{
		{"encrypt", enc, []string{"GenerateDataKey", "plaintext data key", "encrypted data key", "plaintext_u.txt", "encrypted_e.txt", "key ARN", "encryption context"}},
		{"decrypt", dec, []string{"Decrypt", "encrypted data key", "encrypted_e.txt", "plaintext_u_cycled.txt"}},
	}
	for _, tt := range tests {
		if strings.TrimSpace(tt.diagram) == "" {
			t.Errorf("%s diagram is empty", tt.name)
			continue
		}
		if strings.ContainsAny(tt.diagram, "\t\r") {
			t.Errorf("%s diagram contains a tab or carriage return; its width would depend on the terminal", tt.name)
		}
		if strings.HasSuffix(tt.diagram, "\n") {
			t.Errorf("%s diagram ends with a newline, want none", tt.name)
		}
		lines := strings.Split(tt.diagram, "\n")
		if len(lines) > diagramLines {
			t.Errorf("%s diagram has %d lines, want at most %d", tt.name, len(lines), diagramLines)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > diagramColumns {
				t.Errorf("%s diagram line %d is %d columns wide, want at most %d", tt.name, i+1, w, diagramColumns)
			}
		}
		// Words may be split across lines by the drawing, so search the
		// diagram with its lines joined as well as line by line.
		flat := strings.Join(strings.Fields(tt.diagram), " ")
		for _, w := range tt.want {
			if !strings.Contains(flat, w) {
				t.Errorf("%s diagram does not mention %q", tt.name, w)
			}
		}
	}
	if enc == dec {
		t.Error("Diagrams() returned the same picture twice")
	}
}

func TestQuizQuestionsAreWellFormed(t *testing.T) {
	qs := Quiz()
	if len(qs) < 7 {
		t.Fatalf("Quiz() has %d questions, want at least 7", len(qs))
	}
	if want := "Why do we wait for 2 minutes in Step 5?"; qs[0].Prompt != want {
		t.Errorf("Quiz()[0].Prompt = %q, want %q", qs[0].Prompt, want)
	}
	if a := qs[0].Choices[qs[0].Answer]; !strings.Contains(a, "CloudTrail") {
		t.Errorf("Quiz()[0] answer = %q, want the CloudTrail delivery lag", a)
	}
	positions := map[int]bool{}
	prompts := map[string]bool{}
	for i, q := range qs {
		positions[q.Answer] = true
		if strings.TrimSpace(q.Prompt) == "" {
			t.Errorf("Quiz()[%d] has an empty prompt", i)
		}
		if prompts[q.Prompt] {
			t.Errorf("Quiz()[%d] repeats the prompt %q", i, q.Prompt)
		}
		prompts[q.Prompt] = true
		if n := len(q.Choices); n < 3 || n > 4 {
			t.Errorf("Quiz()[%d] has %d choices, want 3 or 4", i, n)
		}
		if q.Answer < 0 || q.Answer >= len(q.Choices) {
			t.Errorf("Quiz()[%d].Answer = %d, want an index into its %d choices", i, q.Answer, len(q.Choices))
			continue
		}
		if strings.TrimSpace(q.Explanation) == "" {
			t.Errorf("Quiz()[%d] has no explanation", i)
		}
		if hint := strings.TrimSpace(q.Hint); hint == "" {
			t.Errorf("Quiz()[%d] has no hint for a wrong first answer", i)
		} else if strings.Contains(strings.ToLower(hint), strings.ToLower(q.Choices[q.Answer])) {
			t.Errorf("Quiz()[%d].Hint %q gives the answer away", i, q.Hint)
		}
		if len(q.WhyNot) != len(q.Choices) {
			t.Errorf("Quiz()[%d] has %d WhyNot for %d choices", i, len(q.WhyNot), len(q.Choices))
			continue
		}
		for j, c := range q.Choices {
			if strings.TrimSpace(c) == "" {
				t.Errorf("Quiz()[%d].Choices[%d] is empty", i, j)
			}
			if slices.Index(q.Choices, c) != j {
				t.Errorf("Quiz()[%d].Choices[%d] repeats %q", i, j, c)
			}
			switch whyNot := strings.TrimSpace(q.WhyNot[j]); {
			case j == q.Answer && whyNot != "":
				t.Errorf("Quiz()[%d].WhyNot[%d] = %q for the right answer, want \"\"", i, j, whyNot)
			case j != q.Answer && whyNot == "":
				t.Errorf("Quiz()[%d].WhyNot[%d] is empty, want why %q is wrong", i, j, c)
			}
		}
	}
	if len(positions) < 3 {
		t.Errorf("right answers sit at only %d different positions, want at least 3 so the position gives nothing away", len(positions))
	}
}

// TestRightAnswerIsNotGivenAwayByItsLength measures the whole bank, quiz
// and predictions: a learner who always picks the longest choice, or the
// shortest, or the one whose length stands out, must not score.
func TestRightAnswerIsNotGivenAwayByItsLength(t *testing.T) {
	type question struct {
		name    string
		choices []string
		answer  int
	}
	var bank []question
	for i, q := range Quiz() {
		bank = append(bank, question{fmt.Sprintf("Quiz()[%d]", i), q.Choices, q.Answer})
	}
	for _, p := range Predictions() {
		bank = append(bank, question{fmt.Sprintf("prediction %s", p.ID), p.Choices, p.Answer})
	}
	longest, shortest := 0, 0
	for _, q := range bank {
		if q.answer < 0 || q.answer >= len(q.choices) {
			continue // reported by the well-formed tests
		}
		right := utf8.RuneCountInString(q.choices[q.answer])
		isLongest, isShortest := true, true
		wrongTotal := 0
		for j, c := range q.choices {
			if j == q.answer {
				continue
			}
			n := utf8.RuneCountInString(c)
			wrongTotal += n
			isLongest = isLongest && right >= n
			isShortest = isShortest && right <= n
		}
		if isLongest {
			longest++
		}
		if isShortest {
			shortest++
		}
		// An outlier: a quarter longer or shorter than the wrong
		// choices on average.
		mean := float64(wrongTotal) / float64(len(q.choices)-1)
		if ratio := float64(right) / mean; ratio > 1.25 || ratio < 0.75 {
			t.Errorf("%s: the right answer is %d characters long, %.2f times the wrong choices' average: its length gives it away", q.name, right, ratio)
		}
	}
	if longest*3 > len(bank) {
		t.Errorf("the right answer is the longest choice in %d of %d questions, want at most a third", longest, len(bank))
	}
	if shortest*3 > len(bank) {
		t.Errorf("the right answer is the shortest choice in %d of %d questions, want at most a third", shortest, len(bank))
	}
}

func TestPredictionsAreWellFormed(t *testing.T) {
	ps := Predictions()
	byStep := map[int]Prediction{}
	ids := map[string]bool{}
	for _, p := range ps {
		name := "prediction " + p.ID
		if p.ID == "" || ids[p.ID] {
			t.Errorf("prediction of step %d has an empty or repeated ID %q", p.Step, p.ID)
		}
		ids[p.ID] = true
		if _, ok := byStep[p.Step]; ok || p.Step < 1 || p.Step > Steps {
			t.Errorf("%s: step %d, want one prediction per step, steps 1 to %d", name, p.Step, Steps)
		}
		byStep[p.Step] = p
		if p.Ask != AskBeforeRun && p.Ask != AskAtWait {
			t.Errorf("%s: ask %q, want %q or %q", name, p.Ask, AskBeforeRun, AskAtWait)
		}
		if p.Reveal != RevealAtEnd && p.Reveal != RevealAtRecord {
			t.Errorf("%s: reveal %q, want %q or %q", name, p.Reveal, RevealAtEnd, RevealAtRecord)
		}
		if strings.TrimSpace(p.Prompt) == "" || strings.TrimSpace(p.Explanation) == "" {
			t.Errorf("%s: empty prompt or explanation", name)
		}
		if n := len(p.Choices); n < 3 || n > 4 {
			t.Errorf("%s has %d choices, want 3 or 4", name, n)
		}
		if p.Answer < 0 || p.Answer >= len(p.Choices) {
			t.Errorf("%s: answer %d, want an index into its %d choices", name, p.Answer, len(p.Choices))
		}
		for j, c := range p.Choices {
			if strings.TrimSpace(c) == "" || slices.Index(p.Choices, c) != j {
				t.Errorf("%s: choice %d is empty or repeated: %q", name, j, c)
			}
		}
		if p.Source.Title == "" || !strings.HasPrefix(p.Source.URL, "https://docs.aws.amazon.com/") {
			t.Errorf("%s: source %+v, want an AWS documentation page with its title", name, p.Source)
		}
	}
	// The issue asks for these three: the original workshop's question
	// at step 5's wait, a different context at step 3, a key pending
	// deletion at step 6.
	wants := []struct {
		step        int
		ask, reveal string
		about       string
	}{
		{3, AskBeforeRun, RevealAtEnd, "InvalidCiphertextException"},
		{5, AskAtWait, RevealAtRecord, "Why do we wait for 2 minutes?"},
		{6, AskBeforeRun, RevealAtEnd, "CancelKeyDeletion"},
	}
	for _, w := range wants {
		p, ok := byStep[w.step]
		if !ok {
			t.Errorf("step %d has no prediction", w.step)
			continue
		}
		if p.Ask != w.ask || p.Reveal != w.reveal {
			t.Errorf("step %d's prediction asks %q and reveals %q, want %q and %q", w.step, p.Ask, p.Reveal, w.ask, w.reveal)
		}
		if !strings.Contains(p.Prompt+" "+p.Explanation, w.about) {
			t.Errorf("step %d's prediction does not mention %q", w.step, w.about)
		}
	}
}

func TestPredictionsReturnsACopy(t *testing.T) {
	first := Predictions()
	want := first[0].Choices[0]
	first[0].Choices[0] = "changed by a caller"
	if got := Predictions()[0].Choices[0]; got != want {
		t.Errorf("after a caller edited its predictions, Predictions()[0].Choices[0] = %q, want %q", got, want)
	}
}

func TestQuizCoversTheFacts(t *testing.T) {
	// Each fact must be the subject of some question, in its prompt,
	// right answer or explanation.
	facts := []string{"4 KiB", "encrypted data key", "InvalidCiphertextException", "responseElements", "CancelKeyDeletion", "one byte", "One GenerateDataKey to encrypt"}
	for _, f := range facts {
		found := false
		for _, q := range Quiz() {
			text := q.Prompt + " " + q.Explanation
			if q.Answer >= 0 && q.Answer < len(q.Choices) {
				text += " " + q.Choices[q.Answer]
			}
			if strings.Contains(text, f) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no quiz question is about %q", f)
		}
	}
}

func TestQuizReturnsACopy(t *testing.T) {
	first := Quiz()
	want := first[0].Choices[0]
	first[0].Choices[0] = "changed by a caller"
	first[0].WhyNot[0] = "changed by a caller"
	wantSource := first[0].Sources[0]
	first[0].Sources[0] = Source{Title: "changed by a caller"}
	first[1] = Question{}
	again := Quiz()
	if got := again[0].Choices[0]; got != want {
		t.Errorf("after a caller edited its quiz, Quiz()[0].Choices[0] = %q, want %q", got, want)
	}
	if got := again[0].Sources[0]; got != wantSource {
		t.Errorf("after a caller edited its quiz, Quiz()[0].Sources[0] = %v, want %v", got, wantSource)
	}
	if again[1].Prompt == "" {
		t.Error("after a caller edited its quiz, Quiz()[1] is empty")
	}
}

func TestSamplePlaintext(t *testing.T) {
	p := SamplePlaintext()
	if len(p) == 0 {
		t.Fatal("SamplePlaintext() is empty")
	}
	if !utf8.Valid(p) {
		t.Error("SamplePlaintext() is not valid UTF-8")
	}
	if p[len(p)-1] != '\n' {
		t.Error("SamplePlaintext() does not end with a newline")
	}
	before := string(p)
	p[0] ^= 0xff
	if got := string(SamplePlaintext()); got != before {
		t.Error("editing the result of SamplePlaintext() changed the next one")
	}
}
