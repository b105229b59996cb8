// Package assets holds what the workshop shows and ships: the lessons, the
// welcome text, the quiz and the sample plaintext, embedded in the binary.
//
// The content lives beside this file as plain files (lessons/stepN.md,
// welcome.md, diagrams/*.txt, quiz.json, predictions.json, plaintext_u.txt) so it can be edited
// and reviewed as text; assets_test.go checks that it still fits the screens
// that show it.
package assets

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:embed welcome.md lessons/*.md diagrams/*.txt quiz.json predictions.json plaintext_u.txt
var files embed.FS

// Steps is the number of workshop steps that have a lesson.
const Steps = 6

// mustRead returns an embedded file. The files are fixed at build time, so a
// missing one is a defect of this package, not a runtime condition.
func mustRead(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("assets: read embedded %s: %v", name, err))
	}
	return b
}

// Lesson returns the markdown lesson of step n (1 to 6), or "" for any other n.
func Lesson(n int) string {
	if n < 1 || n > Steps {
		return ""
	}
	return string(mustRead(fmt.Sprintf("lessons/step%d.md", n)))
}

// Welcome returns the markdown of the welcome screen (what envelope
// encryption is), without the diagram.
func Welcome() string { return string(mustRead("welcome.md")) }

// Diagrams returns the two envelope-encryption pictures as plain text
// (box drawing, at most 76 columns wide, at most 16 lines, no trailing
// newline): encrypting, then decrypting.
func Diagrams() (encrypt, decrypt string) {
	return strings.TrimRight(string(mustRead("diagrams/encrypt.txt")), "\n"),
		strings.TrimRight(string(mustRead("diagrams/decrypt.txt")), "\n")
}

// Source is the AWS documentation page that backs a claim the workshop
// makes: every lesson, explanation and on-screen claim about AWS names one.
type Source struct {
	Title string `json:"title"` // the page's title, as AWS gives it
	URL   string `json:"url"`   // https://docs.aws.amazon.com/…
}

// Question is one multiple-choice quiz question.
type Question struct {
	Prompt string `json:"prompt"`
	// Hint is shown after a wrong first answer, before the one retry: it
	// points the way without giving the answer.
	Hint        string   `json:"hint"`
	Choices     []string `json:"choices"`
	Answer      int      `json:"answer"`      // index into Choices
	Explanation string   `json:"explanation"` // why the answer is right
	WhyNot      []string `json:"whyNot"`      // per choice, why it is wrong ("" for the answer)
}

var quiz = sync.OnceValue(func() []Question {
	dec := json.NewDecoder(bytes.NewReader(mustRead("quiz.json")))
	dec.DisallowUnknownFields()
	var qs []Question
	if err := dec.Decode(&qs); err != nil {
		panic(fmt.Sprintf("assets: parse embedded quiz.json: %v", err))
	}
	return qs
})

// Quiz returns the quiz questions in order. The result is a fresh copy:
// callers may shuffle or edit it freely.
func Quiz() []Question {
	src := quiz()
	qs := make([]Question, len(src))
	for i, q := range src {
		q.Choices = append([]string(nil), q.Choices...)
		q.WhyNot = append([]string(nil), q.WhyNot...)
		qs[i] = q
	}
	return qs
}

// When a step asks its prediction, and when it shows the answer.
const (
	AskBeforeRun   = "before" // on the step's screen, before it runs
	AskAtWait      = "wait"   // once the step starts waiting (step 5's wait for CloudTrail), while it runs
	RevealAtEnd    = "end"    // once the step has run
	RevealAtRecord = "record" // once the step finds the CloudTrail record
)

// Prediction is a question a step asks before the learner sees the
// answer happen: the learner predicts, the step runs, and the explanation
// is shown beside the prediction, right or not.
type Prediction struct {
	ID          string   `json:"id"`     // the key of the answer in the progress
	Step        int      `json:"step"`   // the step that asks it
	Ask         string   `json:"ask"`    // AskBeforeRun or AskAtWait
	Reveal      string   `json:"reveal"` // RevealAtEnd or RevealAtRecord
	Prompt      string   `json:"prompt"`
	Choices     []string `json:"choices"`
	Answer      int      `json:"answer"`      // index into Choices
	Explanation string   `json:"explanation"` // what happens and why
	Source      Source   `json:"source"`      // the AWS documentation page that says so
}

var predictions = sync.OnceValue(func() []Prediction {
	dec := json.NewDecoder(bytes.NewReader(mustRead("predictions.json")))
	dec.DisallowUnknownFields()
	var ps []Prediction
	if err := dec.Decode(&ps); err != nil {
		panic(fmt.Sprintf("assets: parse embedded predictions.json: %v", err))
	}
	return ps
})

// Predictions returns the steps' predictions, in step order. The result is
// a fresh copy: callers may shuffle or edit it freely.
func Predictions() []Prediction {
	src := predictions()
	ps := make([]Prediction, len(src))
	for i, p := range src {
		p.Choices = append([]string(nil), p.Choices...)
		ps[i] = p
	}
	return ps
}

// SamplePlaintext is the plaintext_u.txt written to a new workshop folder.
// The result is a fresh copy (embed.FS.ReadFile copies).
func SamplePlaintext() []byte { return mustRead("plaintext_u.txt") }
