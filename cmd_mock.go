package main

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
)

func (a *app) mockAWSCommand() *cobra.Command {
	var listen string
	var allowRemote bool
	cmd := &cobra.Command{
		Use:   "mock-aws",
		Short: "Serve the offline fake AWS (KMS, CloudTrail, STS) for the AWS CLI or any SDK",
		Long: `Serve the fake AWS that the demo uses, so that the AWS CLI or any SDK can talk
to it with --endpoint-url. It accepts any credentials, so it listens on loopback
only unless you pass --allow-remote. On loopback it answers only requests
addressed to 127.0.0.1, ::1 or localhost, so that a web page cannot reach it
through a domain name rebound to this computer (DNS rebinding); on another
address (--allow-remote) it answers whatever host a request names.
Like a real regional endpoint it serves one region (--region, default
us-east-1) and refuses requests signed for another.
Its keys and audit trail are kept in the workshop folder (--dir), shared with
the demo: steps, encrypt and decrypt may run on the same folder at the same
time (each request locks the state file, then reads what the others saved).
Ctrl-C stops it, with exit code 0.`,
		Example: "  cse-workshop mock-aws &\n" + indentLines(awsclient.CLIExports("http://127.0.0.1:4566", fakeaws.DefaultRegion), "  ") +
			"  aws kms list-keys",
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.live {
				return &usageError{"mock-aws serves the fake AWS; --aws makes no sense with it"}
			}
			if err := checkListen(listen, allowRemote); err != nil {
				return err
			}
			if err := os.MkdirAll(a.dir, 0o755); err != nil {
				return fmt.Errorf("create workshop folder: %w", err)
			}
			stateFile := filepath.Join(a.dir, filepath.FromSlash(awsclient.StateFileName))
			errorLog := log.New(a.stderr, "mock-aws: ", log.LstdFlags)
			fake, err := fakeaws.New(fakeaws.Options{StateFile: stateFile, Region: a.region, Delivery: a.delivery(), ErrorLog: errorLog})
			if err != nil {
				return awsclient.WithHint(fmt.Errorf("start fake aws: %w", err), awsclient.DemoStateHint(err))
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return listenError(listen, err)
			}
			region := fake.Region()
			endpoint := "http://" + ln.Addr().String()
			fmt.Fprintf(a.stdout, "fake AWS (KMS, CloudTrail, STS) listening on %s\n", endpoint)
			fmt.Fprintf(a.stdout, "state: %s\n", stateFile)
			fmt.Fprintln(a.stdout, "To use it with the AWS CLI, paste these lines into another terminal (any keys work):")
			fmt.Fprint(a.stdout, indentLines(awsclient.CLIExports(endpoint, region), "  "))
			fmt.Fprintln(a.stdout, "then try: aws kms list-keys")
			fmt.Fprintln(a.stdout, "Ctrl-C stops it.")
			// Clients of a remote address name the server as they reach it.
			opts := fakeaws.ServeOptions{ErrorLog: errorLog, AnyHost: !loopbackListen(listen)}
			if err := fakeaws.Serve(cmd.Context(), ln, fake, opts); err != nil {
				return err
			}
			// Every request saved its change as it was made: nothing is
			// left to save, and a stop is not a failure.
			fmt.Fprintf(a.stdout, "stopped; the keys and audit trail stay in %s\n", stateFile)
			return nil
		}),
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on, host:port")
	cmd.Flags().BoolVar(&allowRemote, "allow-remote", false, "allow a non-loopback --listen address (anyone who can reach it can use the fake, under any host name)")
	return cmd
}

// checkListen refuses addresses other computers can reach, unless allowed.
func checkListen(listen string, allowRemote bool) error {
	_, port, err := net.SplitHostPort(listen)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return &usageError{fmt.Sprintf("--listen %q: want host:port, like 127.0.0.1:4566 (port 0 to 65535)", listen)}
	}
	if allowRemote || loopbackListen(listen) {
		return nil
	}
	return &usageError{fmt.Sprintf("--listen %s: the fake AWS accepts any credentials, so it listens on loopback (127.0.0.1 or ::1) only; add --allow-remote to listen there anyway", listen)}
}

// loopbackListen reports whether listen, host:port, is on loopback only:
// localhost or a loopback address.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenError says why mock-aws cannot listen, with what to do. Without its
// own hint, the error would read as an AWS endpoint that cannot be reached.
func listenError(listen string, err error) error {
	err = fmt.Errorf("listen on %s: %w", listen, err)
	if errors.Is(err, syscall.EADDRINUSE) {
		return awsclient.WithHint(err, "another program (another mock-aws?) already listens there: stop it, or choose a free port with --listen 127.0.0.1:PORT")
	}
	return awsclient.WithHint(err, "choose an address of this computer with --listen, like 127.0.0.1:4566")
}

// indentLines writes lines one per line, each after indent.
func indentLines(lines []string, indent string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	return b.String()
}
