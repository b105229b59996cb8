package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"cse-workshop/awsclient"
	"cse-workshop/awsclient/fakeaws"
	"cse-workshop/runner"
	"cse-workshop/steps"
	"cse-workshop/tui"
)

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run all six steps in order, printing status lines (no tutorial)",
		Long: `Run all six steps in order, as the original workshop's scripts did, printing
status lines. It stops at the first step that fails and exits with 1.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return a.runSteps(cmd.Context(), []int{1, 2, 3, 4, 5, 6})
		}),
	}
}

func (a *app) stepCommand() *cobra.Command {
	var titles strings.Builder
	for _, s := range steps.All() {
		fmt.Fprintf(&titles, "\n  %d  %s", s.Number, s.Title)
	}
	return &cobra.Command{
		Use:   "step N",
		Short: "Run one step (1 to 6), like one script of the original workshop",
		Long: "Run one step of the workshop. Progress is kept in the workshop folder, so the\n" +
			"steps can run in separate invocations, in order:" + titles.String(),
		Example: "  cse-workshop step 1\n  cse-workshop step 2 --dir ./my-workshop",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("step needs one step number (1 to %d), got %d arguments", len(steps.All()), len(args))
			}
			if _, err := stepNumber(args[0]); err != nil {
				return err
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			n, _ := stepNumber(args[0])
			return a.runSteps(cmd.Context(), []int{n})
		}),
	}
}

// stepNumber parses a step number.
func stepNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if _, ok := steps.Get(n); err != nil || !ok {
		return 0, fmt.Errorf("%q is not a step: the steps are 1 to %d", s, len(steps.All()))
	}
	return n, nil
}

// tutorial starts the TUI at a terminal, and runs the steps plainly
// elsewhere.
func (a *app) tutorial(cmd *cobra.Command, _ []string) error {
	ctx := cmd.Context()
	show := a.showTutorial
	if show == nil {
		if !a.interactive() {
			fmt.Fprintln(a.stderr, "note: not a terminal, so running all six steps without the tutorial (as `cse-workshop run`)")
			return a.runSteps(ctx, []int{1, 2, 3, 4, 5, 6})
		}
		show = tui.Run
	}
	// The demo also answers the learner's own AWS CLI while the tutorial
	// runs; closing the clients stops it.
	w, closeClients, err := a.openWorkshop(ctx, !a.live && !a.noEndpoint)
	if err != nil {
		return err
	}
	defer closeClients()
	// The tutorial asks its own questions (the live plan, a key pending
	// deletion) on screen, and prints the live-key reminder itself.
	return show(ctx, tui.Options{Workshop: w, Theme: a.theme, Fast: a.fast})
}

// runSteps runs steps in order with the plain runner.
func (a *app) runSteps(ctx context.Context, ns []int) error {
	w, closeClients, err := a.openWorkshop(ctx, false)
	if err != nil {
		return err
	}
	defer closeClients()
	if a.live && ns[0] == 1 {
		if err := a.confirmLive(ctx, w); err != nil {
			return err
		}
	}
	err = runner.Run(ctx, w, ns, a.stdout, a.stderr)
	a.remind(w)
	if err != nil {
		return &failure{err: err, reported: true}
	}
	return nil
}

// openWorkshop builds the backend's clients and opens the workshop folder,
// which it holds until the returned function, which stops the demo's
// endpoint, saves the demo backend's state and then lets the folder go.
// With serveEndpoint, the demo backend also answers on a loopback port.
func (a *app) openWorkshop(ctx context.Context, serveEndpoint bool) (*steps.Workshop, func(), error) {
	clients, err := a.newClients(ctx, serveEndpoint)
	if err != nil {
		return nil, nil, err
	}
	opts := steps.Options{
		Dir:     a.dir,
		Clients: clients,
		Clock:   a.clock,
		Fast:    a.fast,
		Confirm: a.confirm,
		Profile: a.profile,
	}
	if a.waitSet {
		opts.AuditWait = &a.wait
	}
	w, err := steps.Open(opts)
	if err != nil {
		// Nothing was done with the clients: saving the demo's state would
		// only write back what it read, over what the process holding the
		// folder has done since, and in a folder that cannot be written it
		// would fail too, printing a second error before the one that
		// matters.
		return nil, nil, err
	}
	closeAll := func() {
		if err := clients.Close(); err != nil {
			runner.PrintError(a.stderr, err)
		}
		if err := w.Close(); err != nil {
			runner.PrintError(a.stderr, err)
		}
	}
	return w, closeAll, nil
}

// clients builds the clients of the chosen backend.
func (a *app) clients(ctx context.Context) (*awsclient.Clients, error) {
	return a.newClients(ctx, false)
}

// newClients builds the clients of the chosen backend; with serveEndpoint,
// the demo backend also answers on a loopback port.
func (a *app) newClients(ctx context.Context, serveEndpoint bool) (*awsclient.Clients, error) {
	opts := awsclient.Options{
		Live:          a.live,
		Profile:       a.profile,
		Region:        a.region,
		Dir:           a.dir,
		Clock:         a.clock,
		Delivery:      a.delivery(),
		ServeEndpoint: serveEndpoint,
	}
	c, err := awsclient.New(ctx, opts)
	if err == nil && a.onClients != nil {
		a.onClients(c)
	}
	a.waitForSignals()
	return c, err
}

// delivery is the demo audit trail's lag: --delivery-delay, else short with
// --fast, else zero (realistic).
func (a *app) delivery() fakeaws.DeliveryDelay {
	switch {
	case a.deliveryDelaySet && a.deliveryDelay == 0:
		// The fake reads a zero delay as its realistic default; a
		// nanosecond is at once.
		return fakeaws.DeliveryDelay{Min: time.Nanosecond, Max: time.Nanosecond}
	case a.deliveryDelay > 0:
		return fakeaws.DeliveryDelay{Min: a.deliveryDelay, Max: a.deliveryDelay}
	case a.fast:
		return fakeaws.FastDelivery
	}
	return fakeaws.DeliveryDelay{}
}

// errNotConfirmed is a live run the person did not agree to.
var errNotConfirmed = errors.New("nothing was created: --aws needs your go-ahead to create a KMS key")

// confirmLive shows who and where the live workshop will act, and what it
// creates, then asks; --yes answers for the person.
func (a *app) confirmLive(ctx context.Context, w *steps.Workshop) error {
	plan, err := steps.Preflight(ctx, w)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, plan)
	fmt.Fprintln(a.stdout)
	if a.yes {
		return nil
	}
	if !a.confirm(ctx, fmt.Sprintf("Create them in account %s, region %s?", plan.Account, plan.Region)) {
		return &failure{err: awsclient.WithHint(errNotConfirmed, "add --yes to go ahead")}
	}
	return nil
}

// confirm asks a yes/no question at a terminal; without one, only --yes
// says yes.
func (a *app) confirm(_ context.Context, question string) bool {
	if a.yes {
		return true
	}
	if !term.IsTerminal(int(a.stdin.Fd())) {
		return false
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return true
	}
	return false
}

// interactive reports whether both standard input and output are terminals.
func (a *app) interactive() bool {
	out, ok := a.stdout.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(a.stdin.Fd())) && term.IsTerminal(int(out.Fd()))
}

// remind prints, after a live run, how to delete a key still live.
func (a *app) remind(w *steps.Workshop) {
	if r := w.LiveKeyReminder(); r != "" {
		fmt.Fprintf(a.stderr, "\n%s\n", r)
	}
}
