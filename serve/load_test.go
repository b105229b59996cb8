package serve

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"cse-workshop/awsclient/fakeaws"
)

// The load test: N simulated attendees connect over loopback SSH to a room
// served by a separate process, and each walks through the six steps with
// --fast, in the default theme (colours cost more to draw and to send
// than plain). It reports the server's resident memory per session (idle,
// after they connected, and at the end), its CPU time (idle, and over the
// walk), the load client's own CPU time (it shares the machine), and the
// time from a key press to the next frame (p50, p99), beside a baseline of
// one attendee measured in the same run. Run it with bench/serve.
//
// Pacing: with a think time of 0 the attendees walk in lockstep, each key
// pressed as soon as the screen allows it, all starting at once: the
// worst case, a room that presses Enter together. With a think time T
// each attendee waits a random time between T/2 and 3T/2 before each key,
// as a person reading the screen does (a real one reads for minutes).

var (
	loadSizes   = flag.String("serve.load", "", "comma-separated attendee counts for TestLoad (empty: skip)")
	loadThinks  = flag.String("serve.think", "0", "for TestLoad: comma-separated think times before each key, one table each (0: lockstep)")
	loadProfile = flag.String("serve.profile", "", "for TestLoad: write the server's profiles of each round: PREFIX-N.cpu, and the heap when idle and at the end, PREFIX-N-idle.heap and PREFIX-N-end.heap")
)

// loadProfileEnv asks the server process for its profiles.
const loadProfileEnv = "CSE_WORKSHOP_LOAD_PROFILE"

// loadServerEnv makes the test binary the room's server process.
const loadServerEnv = "CSE_WORKSHOP_LOAD_SERVER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(loadServerEnv); dir != "" {
		loadServer(dir)
		return
	}
	os.Exit(m.Run())
}

// loadServer serves a room in dir, prints its address, and answers each
// line on stdin with the room's status as JSON, until stdin closes.
func loadServer(dir string) {
	wait := time.Second
	srv, err := New(Options{
		Dir: dir, Fast: true, Theme: "auto", AuditWait: &wait,
		Delivery: fakeaws.FastDelivery, Log: log.New(io.Discard, "", 0),
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	go srv.Serve(ln)
	prefix := os.Getenv(loadProfileEnv)
	if prefix != "" {
		if f, err := os.Create(prefix + ".cpu"); err == nil {
			pprof.StartCPUProfile(f)
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	fmt.Println(ln.Addr())
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if in.Text() == "idle" {
			writeHeapProfile(prefix, "idle")
			continue
		}
		out.Encode(srv.Room().Attendees())
	}
	writeHeapProfile(prefix, "end")
	srv.Close()
}

// writeHeapProfile writes the server's heap profile to prefix-when.heap,
// when profiles were asked for.
func writeHeapProfile(prefix, when string) {
	if prefix == "" {
		return
	}
	runtime.GC()
	if f, err := os.Create(prefix + "-" + when + ".heap"); err == nil {
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
}

// loadRoom is the server process and what the load test reads of it.
type loadRoom struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	ask  io.Writer
	ans  *json.Decoder
	mu   sync.Mutex
	stop func() // ends the server process and waits for it
}

func startLoadServer(t *testing.T, n int) *loadRoom {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadServerEnv+"="+t.TempDir())
	if *loadProfile != "" {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%s-%d", loadProfileEnv, *loadProfile, n))
	}
	cmd.Stderr = os.Stderr // a panic or a data race of the server shows
	ask, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { ask.Close(); cmd.Wait() })
	t.Cleanup(stop)
	br := bufio.NewReader(out)
	addr, err := br.ReadString('\n')
	if err != nil || strings.HasPrefix(addr, "error") {
		t.Fatalf("load server: %q, %v", addr, err)
	}
	return &loadRoom{t: t, cmd: cmd, addr: strings.TrimSpace(addr), ask: ask, ans: json.NewDecoder(br), stop: stop}
}

// attendees is the room's status now.
func (l *loadRoom) attendees() map[string]AttendeeStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.ask)
	var as []AttendeeStatus
	if err := l.ans.Decode(&as); err != nil {
		l.t.Fatal(err)
	}
	m := map[string]AttendeeStatus{}
	for _, a := range as {
		m[a.Name] = a
	}
	return m
}

// usage is the server's resident memory and CPU time so far.
func (l *loadRoom) usage() (rssInBytes int64, cpu time.Duration) {
	return processUsage(fmt.Sprint(l.cmd.Process.Pid))
}

// processUsage is the resident memory and CPU time so far of the process
// pid ("self": this one).
func processUsage(pid string) (rssInBytes int64, cpu time.Duration) {
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%s/status", pid))
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			rssInBytes = kb * 1024
		}
	}
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%s/stat", pid))
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
		f := strings.Fields(string(stat)[i+1:])
		if len(f) > 13 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			cpu = time.Duration(ut+st) * time.Second / 100 // USER_HZ
		}
	}
	return rssInBytes, cpu
}

// frameClock times each key press to the next bytes the server sends.
type frameClock struct {
	pressed atomic.Int64 // UnixNano of the key press waiting for a frame, 0 when none
	mu      sync.Mutex
	times   []time.Duration
}

func (f *frameClock) Write(p []byte) (int, error) {
	if t := f.pressed.Swap(0); t != 0 {
		d := time.Since(time.Unix(0, t))
		f.mu.Lock()
		f.times = append(f.times, d)
		f.mu.Unlock()
	}
	return len(p), nil
}

// loadAttendee is one simulated attendee.
type loadAttendee struct {
	name   string
	client *gossh.Client
	keys   io.Writer
	frames *frameClock
	think  time.Duration
	rand   *rand.Rand
}

// press types k, after thinking when the attendee is paced.
func (a *loadAttendee) press(k string) {
	if a.think > 0 {
		time.Sleep(a.think/2 + time.Duration(a.rand.Int64N(int64(a.think))))
	}
	a.frames.pressed.Store(time.Now().UnixNano())
	io.WriteString(a.keys, k)
}

func connectLoad(t *testing.T, addr, name string, frames *frameClock) (*loadAttendee, error) {
	client, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: name, Auth: []gossh.AuthMethod{gossh.PublicKeys(newKey(t))},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 30 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	sess, err := client.NewSession()
	if err != nil {
		return nil, err
	}
	if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
		return nil, err
	}
	keys, _ := sess.StdinPipe()
	sess.Stdout = frames
	if err := sess.Shell(); err != nil {
		return nil, err
	}
	return &loadAttendee{name: name, client: client, keys: keys, frames: frames}, nil
}

// loadResult is one round of the load test.
type loadResult struct {
	n                          int
	idleRSSPerSession, peakRSS int64
	baseRSS                    int64
	idleCPU                    float64 // the server's CPU while all are idle, in cores
	cpu, clientCPU, wall       time.Duration
	p50, p99                   time.Duration
	failed                     int
}

// idleWindow is how long the idle attendees are watched.
const idleWindow = 2 * time.Second

// runLoad connects n attendees and walks each through the six steps,
// thinking before each key press when think > 0.
func runLoad(t *testing.T, n int, think time.Duration) loadResult {
	l := startLoadServer(t, n)
	defer l.stop() // after the attendees left: no idle server in the next round
	base, _ := l.usage()
	frames := &frameClock{}
	clocks := make([]*frameClock, n)
	atts := make([]*loadAttendee, n)
	for i := range n {
		clocks[i] = &frameClock{}
		a, err := connectLoad(t, l.addr, fmt.Sprintf("att%03d", i), clocks[i])
		if err != nil {
			t.Fatalf("attendee %d: %v", i, err)
		}
		defer a.client.Close()
		a.think, a.rand = think, rand.New(rand.NewPCG(uint64(n), uint64(i)))
		atts[i] = a
	}
	// Idle: everyone on the welcome screen.
	waitAll(t, l, n, func(a AttendeeStatus) bool { return a.Screen == "welcome" })
	time.Sleep(500 * time.Millisecond)
	idle, idleCPU0 := l.usage()
	time.Sleep(idleWindow)
	_, cpu0 := l.usage()
	l.mu.Lock()
	fmt.Fprintln(l.ask, "idle")
	l.mu.Unlock()
	_, clientCPU0 := processUsage("self")
	start := time.Now()

	// Each attendee walks on its own; a poller reads the room for all.
	var failed atomic.Int32
	var wg sync.WaitGroup
	status := &roomStatus{}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				status.set(l.attendees())
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Minute)
	for _, a := range atts {
		wg.Go(func() {
			if !walkLoad(a, status, deadline) {
				failed.Add(1)
			}
		})
	}
	peak := int64(0)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-time.After(200 * time.Millisecond):
			rss, _ := l.usage()
			peak = max(peak, rss)
		}
	}
	close(stop)
	_, cpu1 := l.usage()
	_, clientCPU1 := processUsage("self")
	var all []time.Duration
	for _, c := range append(clocks, frames) {
		c.mu.Lock()
		all = append(all, c.times...)
		c.mu.Unlock()
	}
	slices.Sort(all)
	r := loadResult{n: n, baseRSS: base, idleRSSPerSession: (idle - base) / int64(n), peakRSS: peak,
		idleCPU: float64(cpu0-idleCPU0) / float64(idleWindow),
		cpu:     cpu1 - cpu0, clientCPU: clientCPU1 - clientCPU0, wall: time.Since(start), failed: int(failed.Load())}
	if len(all) > 0 {
		r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r
}

// roomStatus is the room as last read.
type roomStatus struct {
	mu sync.Mutex
	m  map[string]AttendeeStatus
}

func (s *roomStatus) set(m map[string]AttendeeStatus) { s.mu.Lock(); s.m = m; s.mu.Unlock() }
func (s *roomStatus) get(name string) AttendeeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[name]
}

// walkLoad walks an attendee through the six steps; false when it did
// not finish by the deadline.
func walkLoad(a *loadAttendee, status *roomStatus, deadline time.Time) bool {
	until := func(cond func(AttendeeStatus) bool) bool {
		for !cond(status.get(a.name)) {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(50 * time.Millisecond)
		}
		return true
	}
	a.press(enter)
	for n := 1; n <= 6; n++ {
		if !until(func(s AttendeeStatus) bool { return s.Step == n }) {
			return false
		}
		a.press(enter)
		if !until(func(s AttendeeStatus) bool { return s.Step == n && s.StepState == "done" }) {
			return false
		}
		if n < 6 {
			a.press(enter)
		}
	}
	return true
}

func waitAll(t *testing.T, l *loadRoom, n int, cond func(AttendeeStatus) bool) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok := 0
		for _, a := range l.attendees() {
			if cond(a) {
				ok++
			}
		}
		if ok == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d attendees ready", ok, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLoad reports the room under load; bench/serve runs it.
func TestLoad(t *testing.T) {
	if *loadSizes == "" {
		t.Skip("run with -serve.load=10,50,200 (bench/serve)")
	}
	var sizes []int
	for _, f := range strings.Split(*loadSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("-serve.load: %q is not a count", f)
		}
		sizes = append(sizes, n)
	}
	var thinks []time.Duration
	for _, f := range strings.Split(*loadThinks, ",") {
		f = strings.TrimSpace(f)
		if f == "0" {
			f = "0s"
		}
		d, err := time.ParseDuration(f)
		if err != nil || d < 0 {
			t.Fatalf("-serve.think: %q is not a duration", f)
		}
		thinks = append(thinks, d)
	}
	for _, think := range thinks {
		pacing := "lockstep: each key as soon as the screen allows, all at once"
		if think > 0 {
			pacing = fmt.Sprintf("paced: %v to %v of thinking before each key", think/2, think*3/2)
		}
		fmt.Printf("\n%s\n", pacing)
		base := runLoad(t, 1, think)
		fmt.Printf("baseline, 1 attendee: p50 %v, p99 %v, cpu %v over %v, server RSS %.1f MiB at start\n",
			base.p50.Round(time.Millisecond), base.p99.Round(time.Millisecond), base.cpu.Round(time.Millisecond), base.wall.Round(time.Millisecond), mib(base.baseRSS))
		fmt.Printf("%5s %10s %10s %9s %9s %9s %8s %8s %8s %8s %8s %7s\n",
			"N", "idle/sess", "peak RSS", "idle cpu", "p50", "p99", "p50/base", "p99/base", "cpu", "client", "wall", "failed")
		for _, n := range sizes {
			r := runLoad(t, n, think)
			fmt.Printf("%5d %7.0fKiB %7.1fMiB %8.0f%% %9v %9v %8.1f %8.1f %8v %8v %8v %7d\n",
				n, float64(r.idleRSSPerSession)/1024, mib(r.peakRSS), 100*r.idleCPU,
				r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), ratio(r.p50, base.p50), ratio(r.p99, base.p99),
				r.cpu.Round(10*time.Millisecond), r.clientCPU.Round(10*time.Millisecond), r.wall.Round(100*time.Millisecond), r.failed)
			if r.failed > 0 {
				t.Errorf("%d of %d attendees did not finish", r.failed, n)
			}
		}
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
