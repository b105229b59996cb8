package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"cse-workshop/assets"
	"cse-workshop/steps"
)

// content is what the screens show: the embedded assets in the program,
// fixed texts in tests.
type content struct {
	welcome                        string
	welcomeSources                 []assets.Source
	encryptDiagram, decryptDiagram string
	lessons                        map[int]string          // by step number
	lessonSources                  map[int][]assets.Source // by step number
	steps                          []steps.Step            // in order
	quiz                           []assets.Question
	predictions                    []assets.Prediction
}

func assetContent() content {
	c := content{
		welcome: assets.Welcome(), welcomeSources: assets.WelcomeSources(),
		lessons: map[int]string{}, lessonSources: map[int][]assets.Source{},
		steps: steps.All(), quiz: assets.Quiz(), predictions: assets.Predictions(),
	}
	c.encryptDiagram, c.decryptDiagram = assets.Diagrams()
	for _, s := range c.steps {
		c.lessons[s.Number] = assets.Lesson(s.Number)
		c.lessonSources[s.Number] = assets.LessonSources(s.Number)
	}
	return c
}

// diagramWidth is the width of the widest line of the diagrams.
func (c content) diagramWidth() int {
	w := 0
	for _, l := range strings.Split(c.encryptDiagram+"\n"+c.decryptDiagram, "\n") {
		w = max(w, ansi.StringWidth(l))
	}
	return w
}

// maxChoices is the most choices a quiz question or a prediction has.
func (c content) maxChoices() int {
	n := 0
	for _, q := range c.quiz {
		n = max(n, len(q.Choices))
	}
	for _, p := range c.predictions {
		n = max(n, len(p.Choices))
	}
	return n
}
