// Package assets holds what the workshop shows and ships: the lessons, the
// welcome text, the quiz and the sample plaintext, embedded in the binary.
//
// CONTRACT STUB: the exported API below is what other packages build on.
package assets

// Lesson returns the markdown lesson of step n (1 to 6).
func Lesson(n int) string { return "" }

// Welcome returns the markdown of the welcome screen (what envelope
// encryption is), without the diagram.
func Welcome() string { return "" }

// Diagrams returns the two envelope-encryption pictures as plain text
// (box drawing, at most 76 columns wide): encrypting, then decrypting.
func Diagrams() (encrypt, decrypt string) { return "", "" }

// Question is one multiple-choice quiz question.
type Question struct {
	Prompt      string
	Choices     []string
	Answer      int      // index into Choices
	Explanation string   // why the answer is right
	WhyNot      []string // per choice, why it is wrong ("" for the answer)
}

// Quiz returns the quiz questions in order.
func Quiz() []Question { return nil }

// SamplePlaintext is the plaintext_u.txt written to a new workshop folder.
func SamplePlaintext() []byte { return nil }
