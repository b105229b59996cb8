package steps

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"cse-workshop/crypto/esdk"
)

// The code a step runs, as the binary runs it: the parts of this package's
// source and of the AWS Encryption SDK message code that make the step's
// AWS calls and the cryptography around them. A part is the lines between
// "// show:NAME begin" and "// show:NAME end" in its file; "// show:NAME
// cut" ends a part that stops in the middle of a statement. The files are
// embedded at build time and read only when asked for, so the commands
// that never show code pay nothing for it.

//go:embed createkey.go files.go audit.go cleanup.go keys.go
var stepsSource embed.FS

// Snippet is a part of the source that a step runs.
type Snippet struct {
	File string // the file's path in the module: "steps/createkey.go"
	Line int    // the line of the file the snippet starts at, from 1
	// Code is the snippet's lines, without the markers, less the indent
	// they share; tabs are kept.
	Code string
	// Cut says the snippet stops in the middle of a statement: more of it
	// follows in the file.
	Cut bool
}

// sourcePart names one marked part of an embedded file.
type sourcePart struct {
	fsys fs.FS
	dir  string // the file's folder in the module
	file string
	name string
}

// stepParts are the parts of the source each step shows, in the order they
// run.
func stepParts(n int) []sourcePart {
	steps := func(file, name string) sourcePart { return sourcePart{stepsSource, "steps", file, name} }
	message := func(file, name string) sourcePart { return sourcePart{esdk.Source, "crypto/esdk", file, name} }
	switch n {
	case 1:
		return []sourcePart{
			steps("createkey.go", "look-up-alias"),
			steps("createkey.go", "create-key"),
			steps("createkey.go", "create-alias"),
		}
	case 2:
		return []sourcePart{
			steps("files.go", "encrypt-file"),
			message("keys.go", "generate-data-key"),
			message("encrypt.go", "derive-keys"),
			message("encrypt.go", "seal-frame"),
		}
	case 3:
		return []sourcePart{
			steps("files.go", "decrypt-file"),
			message("keys.go", "decrypt-data-key"),
			message("decrypt.go", "open-data-key"),
		}
	case 4:
		return []sourcePart{
			steps("files.go", "hash-file"),
			steps("files.go", "compare"),
		}
	case 5:
		return []sourcePart{
			steps("audit.go", "lookup-events"),
			steps("audit.go", "match-record"),
		}
	case 6:
		return []sourcePart{
			steps("keys.go", "schedule-key-deletion"),
			steps("cleanup.go", "delete-alias"),
			steps("cleanup.go", "delete-files"),
		}
	}
	return nil
}

// StepCode returns the code step n runs: its AWS calls and the
// cryptography around them, in the order they run. An error means the
// source's markers were moved or deleted (a test guards them).
func StepCode(n int) ([]Snippet, error) {
	parts := stepParts(n)
	if parts == nil {
		return nil, fmt.Errorf("no step %d: the steps are 1 to %d", n, len(steps()))
	}
	snippets := make([]Snippet, 0, len(parts))
	for _, p := range parts {
		s, err := p.read()
		if err != nil {
			return nil, err
		}
		snippets = append(snippets, s)
	}
	return snippets, nil
}

// read finds the part in its file.
func (p sourcePart) read() (Snippet, error) {
	path := p.dir + "/" + p.file
	b, err := fs.ReadFile(p.fsys, p.file)
	if err != nil {
		return Snippet{}, fmt.Errorf("read the source of %s: %w", path, err)
	}
	begin := "// show:" + p.name + " begin"
	var (
		lines []string
		first int // the line after the begin marker, from 1; 0 before it
		cut   bool
	)
	for i, line := range strings.Split(string(b), "\n") {
		marker := strings.TrimSpace(line)
		switch {
		case first == 0:
			if marker == begin {
				first = i + 2
			}
			continue
		case marker == "// show:"+p.name+" end":
		case marker == "// show:"+p.name+" cut":
			cut = true
		case strings.HasPrefix(marker, "// show:"):
			// Another part's marker, inside this one.
			continue
		default:
			lines = append(lines, line)
			continue
		}
		return snippet(path, first, lines, cut)
	}
	if first == 0 {
		return Snippet{}, fmt.Errorf("%s: no %q marker", path, begin)
	}
	return Snippet{}, fmt.Errorf("%s: the part %s that begins on line %d has no end marker", path, p.name, first-1)
}

// snippet trims the blank lines around lines and the indent they share.
func snippet(path string, first int, lines []string, cut bool) (Snippet, error) {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines, first = lines[1:], first+1
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return Snippet{}, fmt.Errorf("%s: the part on line %d is empty", path, first)
	}
	indent := ""
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		lead := l[:len(l)-len(strings.TrimLeft(l, "\t"))]
		if i == 0 || len(lead) < len(indent) {
			indent = lead
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, indent)
	}
	return Snippet{File: path, Line: first, Code: strings.Join(lines, "\n"), Cut: cut}, nil
}
