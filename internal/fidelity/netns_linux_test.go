//go:build linux

package fidelity

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// netnsEnv marks the re-executed test binary: its value is the name of the
// test that runs inside the private network namespace.
const netnsEnv = "CSE_FIDELITY_NETNS"

// innerTimeout bounds a test that runs inside the namespace; the outer test
// kills the namespace a little after it.
const innerTimeout = 3 * time.Minute

// isolated runs the calling top-level test inside a private network
// namespace whose only interface is loopback, so that servers which listen
// on every interface (local-kms) are reachable from nowhere else.
//
// In the test process it re-executes the test binary for this one test under
// `unshare -n` (or `unshare -rn` when creating a namespace needs a user
// namespace), waits for it, reports its outcome and returns false. In the
// re-executed process it brings loopback up and returns true: the caller then
// runs the body of the test. prepare runs in the test process only, once a
// namespace is known to be possible; what it returns is added to the inner
// process's environment.
func isolated(t *testing.T, prepare func() []string) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == t.Name() {
		if err := loopbackUp(); err != nil {
			t.Fatalf("bring loopback up inside the network namespace: %v", err)
		}
		return true
	}
	if strings.Contains(t.Name(), "/") {
		panic("isolated: only a top-level test can be re-executed")
	}

	unshareFlags, err := unshareWorks()
	if err != nil {
		t.Skipf("needs unshare -n (network namespaces) to run local-kms isolated: %v", err)
	}

	env := append(os.Environ(), netnsEnv+"="+t.Name())
	if prepare != nil {
		env = append(env, prepare()...)
	}
	args := []string{unshareFlags, "--", os.Args[0],
		"-test.run=^" + regexp.QuoteMeta(t.Name()) + "$",
		"-test.count=1",
		"-test.v",
		"-test.timeout=" + innerTimeout.String(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), innerTimeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()

	report := out.String()
	switch {
	case err != nil:
		t.Fatalf("%s inside a network namespace: %v\n%s", t.Name(), err, report)
	case strings.Contains(report, "--- SKIP: "+t.Name()):
		t.Skipf("inside a network namespace:\n%s", report)
	case !strings.Contains(report, "--- PASS: "+t.Name()):
		t.Fatalf("%s inside a network namespace ran no test:\n%s", t.Name(), report)
	}
	if testing.Verbose() {
		t.Logf("inside a network namespace:\n%s", report)
	}
	return false
}

// unshareWorks finds the flags with which unshare can create a network
// namespace here: -n as root, -rn (a user namespace too) otherwise.
func unshareWorks() (string, error) {
	if _, err := exec.LookPath("unshare"); err != nil {
		return "", err
	}
	var errs []error
	for _, flags := range []string{"-n", "-rn"} {
		out, err := exec.Command("unshare", flags, "--", "true").CombinedOutput()
		if err == nil {
			return flags, nil
		}
		errs = append(errs, fmt.Errorf("unshare %s: %v: %s", flags, err, bytes.TrimSpace(out)))
	}
	return "", errors.Join(errs...)
}

// loopbackUp sets the IFF_UP flag of lo, as `ip link set lo up` does; a new
// network namespace starts with it down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// dieWithTest has the kernel kill cmd's process if the test process dies
// first, so that no server outlives the test.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
