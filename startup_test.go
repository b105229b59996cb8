package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every command pays, when the program starts, for the package
// initialisation of everything linked into the binary, whether it uses it
// or not: encrypt and mock-aws start about as fast as age only if no
// package does heavy work there. The markdown stack (glamour, chroma's
// lexers, goldmark, bluemonday) once cost most of it, Tink's protocol
// buffers a few per cent more; this module's own
// packages keep their start-up to a few allocations (patterns are compiled
// on first use).
func TestStartUpDoesLittleWork(t *testing.T) {
	// This test binary links what the command links: run the command's
	// --help in it and read the runtime's report of each package's init.
	cmd := command("--help")
	cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	heavy := []string{"charm.land/glamour", "github.com/alecthomas/chroma", "github.com/yuin/goldmark", "github.com/microcosm-cc/bluemonday", "golang.org/x/net/html",
		// Tink's protocol buffers: the tink scheme makes tink-go-awskms's
		// KMS calls itself, and protobuf hashes the executable at start.
		"github.com/tink-crypto/", "google.golang.org/protobuf/"}
	// Packages that still compile their patterns at start-up, and the
	// bytes they allocate doing so.
	pending := map[string]int{"cse-workshop/crypto": 16 << 10}
	const maxOwnInitBytes = 4 << 10
	seen := 0
	for _, line := range strings.Split(string(out), "\n") {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(line)
		if len(f) < 10 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		seen++
		pkg := f[1]
		bytes, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", line, err)
		}
		for _, h := range heavy {
			if strings.HasPrefix(pkg, h) {
				t.Errorf("%s is linked and initialised at every start (%d bytes): the commands that do not use it pay for it", pkg, bytes)
			}
		}
		// The package under test is left out: its test files' own
		// patterns are compiled in it here.
		if !strings.HasPrefix(pkg, "cse-workshop/") {
			continue
		}
		limit := maxOwnInitBytes
		if l, ok := pending[pkg]; ok {
			limit = l
		}
		if bytes > limit {
			t.Errorf("package %s allocates %d bytes when the program starts, want at most %d: compile patterns and build tables on first use", pkg, bytes, limit)
		}
	}
	if seen < 50 {
		t.Fatalf("found %d init lines in the trace, want one per package:\n%s", seen, out)
	}
}

// A small file's encrypt or decrypt ends before its heap is worth a
// collection: one cycle over the start-up's garbage was a tenth of the
// run.
func TestSmallFileCommandsCollectNoGarbage(t *testing.T) {
	dir, _ := workshopWithKey(t)
	files, in := notesFile(t)
	enc, out := filepath.Join(files, "notes.enc"), filepath.Join(files, "notes.out")
	for _, args := range [][]string{{"encrypt", in, enc}, {"decrypt", enc, out}} {
		cmd := command(append(args, "--dir", dir)...)
		cmd.Env = append(slices.DeleteFunc(cmd.Env, func(v string) bool { return strings.HasPrefix(v, "GOGC=") }), "GODEBUG=gctrace=1")
		output, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, output)
		}
		for _, line := range strings.Split(string(output), "\n") {
			if strings.HasPrefix(line, "gc ") {
				t.Errorf("%s of a small file ran the garbage collector: %s", args[0], line)
			}
		}
	}
}
