package main

// The command line's printed words, held in golden files under
// testdata/cli, so that a rewording of help, a usage error or advice shows
// in review. After a deliberate change, rewrite them with
//
//	go test -run TestCLIGolden -update

import (
	"encoding/base64"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/awsclienttest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/cli")

// cliEnv is the world one golden case runs in: a workshop folder, a folder
// of the person's files holding notes.txt, and the clock their in-process
// runs share.
type cliEnv struct {
	t     *testing.T
	dir   string // $DIR
	files string // $FILES
	run   func(args ...string) result
}

// expand replaces $DIR and $FILES in args.
func (e *cliEnv) expand(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.NewReplacer("$DIR", e.dir, "$FILES", e.files).Replace(a)
	}
	return out
}

// must runs a command of a case's setup and fails the test unless it
// succeeds.
func (e *cliEnv) must(args ...string) {
	e.t.Helper()
	if r := e.run(e.expand(args)...); r.code != exitOK {
		e.t.Fatalf("setup %q: exit %d, %s", args, r.code, r.stderr)
	}
}

// keyARN returns the KMS key ARN in the header of an encrypted file.
func (e *cliEnv) keyARN(name string) string {
	e.t.Helper()
	data, err := os.ReadFile(e.expand([]string{name})[0])
	if err != nil {
		e.t.Fatal(err)
	}
	return headerKeyARNOf(e.t, data)
}

// copy copies a file of this repository to name.
func (e *cliEnv) copy(from, name string) {
	e.t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(from))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.expand([]string{name})[0], data, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// rewrite replaces the first old with new in a file.
func (e *cliEnv) rewrite(name, old, new string) {
	e.t.Helper()
	path := e.expand([]string{name})[0]
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	replaceOnce(e.t, path, data, old, new)
}

// isolateAWS leaves the test no AWS setting of the machine: no AWS_*
// variables, an empty HOME with empty AWS config files, no instance
// metadata.
func isolateAWS(t *testing.T) {
	t.Helper()
	awsclienttest.IsolateAWS(t)
	// Instance metadata answers as it does outside EC2.
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	t.Cleanup(imds.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
}

// cliCases are the command lines whose output is held in golden files.
var cliCases = []struct {
	name  string
	setup func(e *cliEnv)
	args  []string
}{
	// Help.
	{name: "help", args: []string{"--help"}},
	{name: "help-run", args: []string{"run", "--help"}},
	{name: "help-step", args: []string{"step", "--help"}},
	{name: "help-encrypt", args: []string{"encrypt", "--help"}},
	{name: "help-decrypt", args: []string{"decrypt", "--help"}},
	{name: "help-mock-aws", args: []string{"mock-aws", "--help"}},

	// Usage errors (exit 2).
	{name: "usage-unknown-flag", args: []string{"run", "--nope", "--dir", "$DIR"}},
	{name: "usage-unknown-command", args: []string{"bogus", "--dir", "$DIR"}},
	{name: "usage-step-no-number", args: []string{"step", "--dir", "$DIR"}},
	{name: "usage-step-9", args: []string{"step", "9", "--dir", "$DIR"}},
	{name: "usage-step-two-numbers", args: []string{"step", "1", "2", "--dir", "$DIR"}},
	{name: "usage-encrypt-one-file", args: []string{"encrypt", "$FILES/notes.txt", "--dir", "$DIR"}},
	{name: "usage-dir-is-a-file", args: []string{"run", "--dir", "$FILES/notes.txt"}},
	{name: "usage-bad-context", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--context", "novalue", "--dir", "$DIR"}},
	{name: "usage-context-twice", args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--context", "a=1", "--context", "a=2", "--dir", "$DIR"}},
	{name: "usage-bad-scheme", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--format", "csew", "--scheme", "rot13", "--dir", "$DIR"}},
	{name: "usage-bad-format", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--format", "pgp", "--dir", "$DIR"}},
	{name: "usage-legacy-suite", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--suite", "0x0378", "--dir", "$DIR"}},
	{name: "usage-bad-frame-size", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--frame-size", "0", "--dir", "$DIR"}},
	{name: "usage-scheme-without-csew", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--scheme", "tink", "--dir", "$DIR"}},
	{name: "usage-suite-with-csew", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--format", "csew", "--suite", "0x0478", "--dir", "$DIR"}},
	{name: "usage-reserved-context", args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--context", "aws-crypto-public-key=x", "--dir", "$DIR"}},
	{name: "usage-bad-theme", args: []string{"run", "--theme", "neon", "--dir", "$DIR"}},
	{name: "usage-listen-remote", args: []string{"mock-aws", "--listen", "0.0.0.0:4566", "--dir", "$DIR"}},
	{name: "usage-listen-bad-port", args: []string{"mock-aws", "--listen", "127.0.0.1:99999", "--dir", "$DIR"}},
	{name: "usage-delivery-delay-live", args: []string{"run", "--aws", "--delivery-delay", "1s", "--dir", "$DIR"}},
	{name: "usage-negative-wait", args: []string{"run", "--wait", "-1s", "--dir", "$DIR"}},

	// Advice (exit 1).
	{
		name: "encrypt-before-step-1",
		args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR"},
	},
	{
		name:  "encrypt-unknown-key",
		setup: func(e *cliEnv) { e.must("step", "1", "--dir", "$DIR") },
		args:  []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--key", "alias/nope", "--dir", "$DIR"},
	},
	{
		name:  "encrypt-esdk",
		setup: func(e *cliEnv) { e.must("step", "1", "--dir", "$DIR") },
		args:  []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--suite", "0x0478", "--frame-size", "1024", "--context", "project=demo", "--dir", "$DIR"},
	},
	{
		name: "decrypt-csew",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--format", "csew", "--dir", "$DIR")
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name:  "decrypt-legacy-refused",
		setup: func(e *cliEnv) { e.copy("crypto/esdk/testdata/v1-0378-frame64.esdk", "$FILES/old.esdk") },
		args:  []string{"decrypt", "$FILES/old.esdk", "$FILES/old.txt", "--dir", "$DIR"},
	},
	{
		// The refusal is gone; this vector's key is not the demo's.
		name:  "decrypt-legacy-allowed",
		setup: func(e *cliEnv) { e.copy("crypto/esdk/testdata/v1-0378-frame64.esdk", "$FILES/old.esdk") },
		args:  []string{"decrypt", "$FILES/old.esdk", "$FILES/old.txt", "--allow-legacy", "--dir", "$DIR"},
	},
	{
		name: "decrypt-base64",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			path := e.expand([]string{"$FILES/notes.enc"})[0]
			data, err := os.ReadFile(path)
			if err != nil {
				e.t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(data)), 0o600); err != nil {
				e.t.Fatal(err)
			}
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-key-not-allowed",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--key", "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000", "--dir", "$DIR"},
	},
	{
		name: "decrypt-wrong-context",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--context", "project=demo", "--dir", "$DIR")
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--context", "project=other", "--dir", "$DIR"},
	},
	{
		name: "decrypt-not-encrypted",
		args: []string{"decrypt", "$FILES/notes.txt", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-tampered-body",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			path := e.expand([]string{"$FILES/notes.enc"})[0]
			data, err := os.ReadFile(path)
			if err != nil {
				e.t.Fatal(err)
			}
			data[len(data)-1] ^= 1
			if err := os.WriteFile(path, data, 0o600); err != nil {
				e.t.Fatal(err)
			}
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-header-key-arn-not-an-arn",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			e.rewrite("$FILES/notes.enc", "arn:aws:kms:", "arn:aws:kxs:")
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-header-key-arn-of-no-key",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			arn := e.keyARN("$FILES/notes.enc")
			i := strings.LastIndex(arn, "/") + 1
			e.rewrite("$FILES/notes.enc", arn, arn[:i]+"00000000"+arn[i+8:])
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-header-key-of-another-key",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			e.must("step", "6", "--dir", "$DIR")
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/other.enc", "--dir", "$DIR")
			e.rewrite("$FILES/notes.enc", e.keyARN("$FILES/notes.enc"), e.keyARN("$FILES/other.enc"))
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name: "decrypt-key-pending-deletion",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--dir", "$DIR")
			e.must("step", "6", "--dir", "$DIR")
		},
		args: []string{"decrypt", "$FILES/notes.enc", "$FILES/notes.out", "--dir", "$DIR"},
	},
	{
		name:  "step-3-before-step-2",
		setup: func(e *cliEnv) { e.must("step", "1", "--dir", "$DIR") },
		args:  []string{"step", "3", "--dir", "$DIR"},
	},
	{
		name: "step-3-tampered",
		setup: func(e *cliEnv) {
			e.must("step", "1", "--dir", "$DIR")
			e.must("step", "2", "--dir", "$DIR")
			e.rewrite("$DIR/encrypted_e.txt", "arn:aws:kms:", "arn:aws:kxs:")
		},
		args: []string{"step", "3", "--dir", "$DIR"},
	},
	{
		name: "mock-aws-damaged-state",
		setup: func(e *cliEnv) {
			state := filepath.Join(e.dir, filepath.FromSlash(awsclient.StateFileName))
			if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
				e.t.Fatal(err)
			}
			if err := os.WriteFile(state, []byte("{not json"), 0o600); err != nil {
				e.t.Fatal(err)
			}
		},
		args: []string{"mock-aws", "--listen", "127.0.0.1:0", "--dir", "$DIR"},
	},
	{
		name:  "live-no-credentials",
		setup: func(e *cliEnv) { isolateAWS(e.t); e.t.Setenv("AWS_REGION", "us-east-1") },
		args:  []string{"step", "1", "--aws", "--yes", "--dir", "$DIR"},
	},
	{
		name: "live-unknown-profile",
		setup: func(e *cliEnv) {
			isolateAWS(e.t)
			e.t.Setenv("AWS_REGION", "us-east-1")
		},
		args: []string{"encrypt", "$FILES/notes.txt", "$FILES/notes.enc", "--aws", "--profile", "nosuch", "--dir", "$DIR"},
	},
	{
		name: "live-no-region",
		setup: func(e *cliEnv) {
			isolateAWS(e.t)
			e.t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			e.t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		},
		args: []string{"run", "--aws", "--dir", "$DIR"},
	},
	{
		name:  "live-without-yes",
		setup: func(e *cliEnv) { liveFake(e.t, autoClock()) },
		args:  []string{"run", "--aws", "--dir", "$DIR"},
	},
}

func TestCLIGolden(t *testing.T) {
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			clk := autoClock()
			e := &cliEnv{t: t, dir: filepath.Join(t.TempDir(), "workshop")}
			e.files, _ = notesFile(t)
			e.run = func(args ...string) result { return inProcess(t, clk, args...) }
			if tc.setup != nil {
				tc.setup(e)
			}
			r := e.run(e.expand(tc.args)...)
			got := fmt.Sprintf("$ cse-workshop %s\nexit %d\n-- stdout --\n%s-- stderr --\n%s",
				strings.Join(tc.args, " "), r.code, r.stdout, r.stderr)
			got = e.normalize(got)

			golden := filepath.Join("testdata", "cli", tc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output of %q differs from %s (run with -update after a deliberate change)\ngot:\n%s\nwant:\n%s",
					tc.args, golden, got, want)
			}
		})
	}
}

var (
	keyIDInText = regexp.MustCompile(`key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	statusTime  = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  `)
	// publicKey is the signature's public key in an encryption context,
	// new with every message.
	publicKey = regexp.MustCompile(`"aws-crypto-public-key":"[A-Za-z0-9+/=]+"`)
)

// normalize makes output stable across runs: the temporary folders become
// $DIR and $FILES, KMS key IDs KEY1, KEY2... in order of appearance (the
// zeros of a made-up key stay), signatures' public keys PUBLIC_KEY, and
// status-line times HH:MM:SS (they are local).
func (e *cliEnv) normalize(s string) string {
	s = strings.NewReplacer(e.dir, "$DIR", e.files, "$FILES").Replace(s)
	ids := map[string]string{}
	s = keyIDInText.ReplaceAllStringFunc(s, func(k string) string {
		if strings.HasPrefix(k, "key/00000000-") {
			return "key/00000000-" + strings.Repeat("x", 27)
		}
		if _, ok := ids[k]; !ok {
			ids[k] = fmt.Sprintf("key/KEY%d", len(ids)+1)
		}
		return ids[k]
	})
	s = publicKey.ReplaceAllString(s, `"aws-crypto-public-key":"PUBLIC_KEY"`)
	return statusTime.ReplaceAllString(s, "HH:MM:SS  ")
}

// TestCLIGoldenFilesAreUsed fails on a golden file no case writes, so that
// a removed or renamed case leaves nothing stale behind.
func TestCLIGoldenFilesAreUsed(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range cliCases {
		names[tc.name+".txt"] = true
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "cli"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !names[e.Name()] {
			t.Errorf("testdata/cli/%s belongs to no case of TestCLIGolden", e.Name())
		}
	}
}
