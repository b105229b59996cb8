// Package assets holds what the workshop shows and ships: the lessons, the
// welcome text, the quiz and the sample plaintext, embedded in the binary.
//
// The content lives beside this file as plain files (lessons/stepN.md,
// welcome.md, diagrams/*.txt, quiz.json, predictions.json, plaintext_u.txt) so it can be edited
// and reviewed as text; assets_test.go checks that it still fits the screens
// that show it, and that every lesson and explanation names the AWS
// documentation pages it rests on (a lesson in its last section, "## Sources").
package assets

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
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

// Lesson returns the markdown lesson of step n (1 to 6), without its
// sources, or "" for any other n.
func Lesson(n int) string {
	if n < 1 || n > Steps {
		return ""
	}
	body, _ := splitSources(fmt.Sprintf("lessons/step%d.md", n))
	return body
}

// LessonSources returns the AWS documentation pages that back the lesson
// of step n, or nil for an n that has no lesson.
func LessonSources(n int) []Source {
	if n < 1 || n > Steps {
		return nil
	}
	_, sources := splitSources(fmt.Sprintf("lessons/step%d.md", n))
	return sources
}

// Welcome returns the markdown of the welcome screen (what envelope
// encryption is), without the diagram and without its sources.
func Welcome() string {
	body, _ := splitSources("welcome.md")
	return body
}

// WelcomeSources returns the AWS documentation pages that back the
// welcome text.
func WelcomeSources() []Source {
	_, sources := splitSources("welcome.md")
	return sources
}

// sourcesHeading starts the last section of a lesson: one markdown link
// a line, "- [Title](URL)".
const sourcesHeading = "\n## Sources\n"

// It is compiled on first use: every command links this package, most
// never read a lesson.
var sourceLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^- \[([^\]]+)\]\((\S+)\)$`) })

// splitSources returns the markdown of an embedded text without its
// Sources section, and the pages that section lists.
func splitSources(name string) (string, []Source) {
	md := string(mustRead(name))
	i := strings.LastIndex(md, sourcesHeading)
	if i < 0 {
		return md, nil
	}
	var sources []Source
	for _, l := range strings.Split(strings.TrimSpace(md[i+len(sourcesHeading):]), "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		m := sourceLine().FindStringSubmatch(l)
		if m == nil {
			panic(fmt.Sprintf("assets: %s: a line of its sources is not \"- [Title](URL)\": %q", name, l))
		}
		sources = append(sources, Source{Title: m[1], URL: m[2]})
	}
	return strings.TrimRight(md[:i], "\n") + "\n", sources
}

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
	Sources     []Source `json:"sources"`     // the pages that back the explanation
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
		q.Sources = append([]Source(nil), q.Sources...)
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
