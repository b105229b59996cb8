// Command cse-workshop is a terminal tutorial on client-side (envelope)
// encryption with AWS KMS, and a tool that encrypts files the same way.
//
// Output rules of the command line: results and status lines on standard
// output; failures on standard error as "error: ..." (lower case) followed,
// when there is advice, by "hint: ..."; notes on standard error. Exit codes:
// 0 done, 1 a step or command failed, 2 bad usage, 130 interrupted (Ctrl-C).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"cse-workshop/awsclient"
	"cse-workshop/internal/clock"
	_ "cse-workshop/internal/hugeheap" // the start of the heap in huge pages: fewer page faults at start-up
	"cse-workshop/internal/text"
	_ "cse-workshop/internal/warm" // the P-384 table, built while the program starts
	"cse-workshop/runner"
	"cse-workshop/steps"
	"cse-workshop/tui"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// app holds the flags and the standard streams of one invocation.
type app struct {
	stdin          *os.File
	stdout, stderr io.Writer

	dir           string
	live          bool
	profile       string
	region        string
	yes           bool
	fast          bool
	deliveryDelay time.Duration
	// deliveryDelaySet: --delivery-delay was given, so 0 means at once
	// rather than the default.
	deliveryDelaySet bool
	// wait is --wait: step 5's wait before it first looks in CloudTrail,
	// when given (waitSet).
	wait    time.Duration
	waitSet bool
	theme   string
	// noEndpoint is --no-endpoint: the tutorial does not serve the demo to
	// the learner's own AWS CLI.
	noEndpoint bool

	// clock is the demo's and the steps' clock; nil means real time. Tests
	// set a fake one.
	clock clock.Clock
	// onClients, when set, sees every set of clients the invocation builds
	// (tests read their call recorders).
	onClients func(*awsclient.Clients)
	// signalsReady waits until SIGINT and SIGTERM cancel the command's
	// context (see interruptible).
	signalsReady func()
	// showTutorial, when set, stands for the terminal and the TUI (tests).
	showTutorial func(context.Context, tui.Options) error
}

// run is the whole program: it returns the exit code.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	return (&app{stdin: stdin, stdout: stdout, stderr: stderr}).main(args)
}

// main runs the command line args and returns the exit code.
func (a *app) main(args []string) int {
	ctx, ready, stop := interruptible()
	defer stop()
	a.signalsReady = ready
	stderr := a.stderr

	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)

	var failed *failure
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &failed):
		if ctx.Err() != nil {
			if !failed.reported {
				fmt.Fprintln(stderr, "interrupted")
			}
			return exitInterrupted
		}
		if !failed.reported {
			runner.PrintError(stderr, failed.err)
		}
		return exitFailed
	default:
		// Anything else comes from parsing the command line.
		fmt.Fprintf(stderr, "error: %s\nhint: run `%s --help` for usage\n", text.OneLine(err.Error()), cmd.CommandPath())
		return exitUsage
	}
}

// failure is an error of a command that ran (exit code 1), as opposed to
// an error in the command line (exit code 2).
type failure struct {
	err      error
	reported bool // already printed
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// usageError is a mistake in the command line found after parsing.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// runE adapts a command's work to cobra: its errors are failures, except
// usage errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		var usage *usageError
		var failed *failure
		if err == nil || errors.As(err, &usage) || errors.As(err, &failed) {
			return err
		}
		return &failure{err: err}
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "cse-workshop",
		Short: "Learn client-side (envelope) encryption with AWS KMS, in six steps",
		Long: `cse-workshop walks you through client-side (envelope) encryption with AWS KMS:
create a KMS key, encrypt a file with a data key, decrypt it, compare, find the
GenerateDataKey call in CloudTrail, clean up.

Without a sub-command it starts the tutorial (at a terminal; elsewhere it runs
the steps like "run"). By default it talks to a built-in offline fake of AWS
(no network, no credentials, no cost); --aws uses your real AWS account.`,
		Example: `  cse-workshop                   the tutorial, offline
  cse-workshop run --fast        all six steps, offline, short waits
  cse-workshop step 1 --aws      step 1 against real AWS (asks first)
  cse-workshop encrypt report.pdf report.pdf.enc`,
		Args:              cobra.NoArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: a.checkFlags,
		RunE:              runE(a.tutorial),
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })

	f := root.PersistentFlags()
	f.StringVar(&a.dir, "dir", "./"+steps.DefaultDir, "the workshop folder: your files and progress")
	f.BoolVar(&a.live, "aws", false, "use real AWS (SDK default credentials, --profile, --region) instead of the offline demo")
	f.StringVar(&a.profile, "profile", "", "AWS profile to use with --aws")
	f.StringVar(&a.region, "region", "", "AWS region (with --aws: default from your AWS config; demo: us-east-1)")
	f.BoolVarP(&a.yes, "yes", "y", false, "do not ask for confirmation (creating a KMS key with --aws, reusing a key pending deletion)")
	f.BoolVar(&a.fast, "fast", false, "shorten every wait (step 5 waits seconds, not minutes)")
	f.DurationVar(&a.deliveryDelay, "delivery-delay", 0, "demo only: how long the fake CloudTrail takes to show an API call (default: 20s to 3m, with --fast 1s to 3s)")
	f.DurationVar(&a.wait, "wait", 0, "step 5's wait before it first looks in CloudTrail, for a facilitator's pace (default 2m; with --fast 5s; 0 looks at once)")
	f.StringVar(&a.theme, "theme", "auto", "tutorial colours: auto, high-contrast (for a projector; projector is its old name) or plain")

	// The tutorial's own: run and step make their calls and are done.
	root.Flags().BoolVar(&a.noEndpoint, "no-endpoint", false, "demo only: do not also serve the simulated AWS on a loopback port for your own AWS CLI")

	root.AddCommand(a.runCommand(), a.stepCommand(), a.encryptCommand(), a.decryptCommand(), a.mockAWSCommand(), a.serveCommand())
	return root
}

// checkFlags validates the flags cobra cannot.
func (a *app) checkFlags(cmd *cobra.Command, _ []string) error {
	if cmd.Annotations[signalsLater] == "" {
		a.waitForSignals()
	}
	switch a.theme {
	case "auto", "high-contrast", "projector", "plain":
	default:
		return &usageError{fmt.Sprintf("--theme %q: want auto, high-contrast or plain", a.theme)}
	}
	if a.deliveryDelay < 0 {
		return &usageError{"--delivery-delay must not be negative"}
	}
	a.deliveryDelaySet = cmd.Flags().Changed("delivery-delay")
	if a.wait < 0 {
		return &usageError{"--wait must not be negative"}
	}
	a.waitSet = cmd.Flags().Changed("wait")
	if a.live && a.deliveryDelaySet {
		return &usageError{"--delivery-delay is for the demo backend; real CloudTrail takes the time it takes"}
	}
	if a.dir == "" {
		return &usageError{"--dir must not be empty"}
	}
	if fi, err := os.Stat(a.dir); err == nil && !fi.IsDir() {
		return &usageError{fmt.Sprintf("--dir %s is a file, not a folder: give the workshop folder (it is created when missing)", a.dir)}
	}
	return nil
}
