package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"cse-workshop/serve"
)

// defaultRoomDir is serve's folder when --dir is not given.
const defaultRoomDir = "cse-workshop-room"

func (a *app) serveCommand() *cobra.Command {
	var (
		listen         string
		passcode       string
		maxSessions    int
		idleTimeout    time.Duration
		facilitatorKey string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the tutorial to a room over SSH, with a private demo AWS account each",
		Long: `Serve the tutorial over SSH to a room of attendees: each one, known by their SSH
key (else by their user name), gets their own workshop folder and their own demo
AWS account in the room folder (--dir), and resumes where they were when they
connect again. Demo backend only: the server's AWS credentials are never lent.

At a terminal, serve shows the room view: who is where, and the room's answers
to the quiz and the predictions. A facilitator can also see it over SSH with
the key given by --facilitator-key.`,
		Example: `  cse-workshop serve --fast
  cse-workshop serve --listen 0.0.0.0:2222 --passcode kms42 --max-sessions 40
  cse-workshop serve --facilitator-key ~/.ssh/id_ed25519.pub`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.live {
				return &usageError{"serve runs the demo backend only: it never lends this machine's AWS credentials to a room (drop --aws)"}
			}
			if maxSessions < 0 || idleTimeout < 0 {
				return &usageError{"--max-sessions and --idle-timeout must not be negative"}
			}
			if _, _, err := net.SplitHostPort(listen); err != nil {
				return &usageError{fmt.Sprintf("--listen %q: want HOST:PORT, like 127.0.0.1:2222", listen)}
			}
			opts := serve.Options{
				Passcode:    passcode,
				MaxSessions: maxSessions,
				IdleTimeout: idleTimeout,
				Fast:        a.fast,
				Theme:       a.theme,
				Delivery:    a.delivery(),
				Clock:       a.clock,
			}
			if a.waitSet {
				opts.AuditWait = &a.wait
			}
			opts.Dir = a.dir
			if !cmd.Flags().Changed("dir") {
				opts.Dir = defaultRoomDir
			}
			if facilitatorKey != "" {
				b, err := os.ReadFile(facilitatorKey)
				if err != nil {
					return &usageError{fmt.Sprintf("--facilitator-key: %v", err)}
				}
				if opts.FacilitatorKeys, err = serve.ParseAuthorizedKeys(b); err != nil {
					return &usageError{fmt.Sprintf("--facilitator-key %s: %v (want a public key, like ~/.ssh/id_ed25519.pub)", facilitatorKey, err)}
				}
			}
			return a.serve(cmd.Context(), listen, opts)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", serve.DefaultListen, "address to listen on; give a LAN address (or 0.0.0.0:2222) for a room")
	f.StringVar(&passcode, "passcode", "", "a room code each attendee types once, on their first connection")
	f.IntVar(&maxSessions, "max-sessions", 0, "at most this many attendees connected at once (0: no limit)")
	f.DurationVar(&idleTimeout, "idle-timeout", 0, "close a session after this long without a key press (0: never); progress is kept")
	f.StringVar(&facilitatorKey, "facilitator-key", "", "public key file (authorized_keys format) whose holder sees the room view over SSH")
	return cmd
}

// serve runs the room until the facilitator ends it or the process is
// interrupted.
func (a *app) serve(ctx context.Context, listen string, opts serve.Options) error {
	local := a.interactive()
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return fmt.Errorf("create room folder: %w", err)
	}
	// The room view owns the terminal: the log goes to a file then.
	logOut := a.stderr
	if local {
		f, err := os.OpenFile(filepath.Join(opts.Dir, "room.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("open room log: %w", err)
		}
		defer f.Close()
		logOut = f
	}
	opts.Log = log.New(logOut, "", log.LstdFlags)
	srv, err := serve.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	abs, _ := filepath.Abs(opts.Dir)
	fmt.Fprintf(a.stdout, "cse-workshop: serving the tutorial on %s (demo backend only; room folder %s)\n", ln.Addr(), abs)
	fmt.Fprintf(a.stdout, "host key %s\nattendees connect with:\n", srv.HostKeyFingerprint())
	for _, line := range serve.SSHCommands(ln.Addr()) {
		fmt.Fprintf(a.stdout, "  %s\n", line)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if local {
		fmt.Fprintln(a.stdout, "(starting the room view…)")
		time.Sleep(time.Second) // time to read the lines above
		if err := srv.RunRoomView(ctx, a.stdin, a.stdout); err != nil && ctx.Err() == nil {
			fmt.Fprintf(a.stderr, "error: room view: %v\n", err)
		}
	} else {
		select {
		case <-ctx.Done():
		case <-srv.Room().Ended():
		case err := <-served:
			return err
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown, "The facilitator has stopped the workshop. Thank you for taking part!")
	<-served
	fmt.Fprintln(a.stdout, "the room is closed; progress is kept in", abs)
	return err
}
