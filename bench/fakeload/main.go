// Command fakeload measures the offline fake AWS under load, and what its
// stored history costs a demo encrypt. Run it as bench/fake-load from the
// repository's root; it prints what it measured and exits 1 when a target
// is missed (2 for a usage or setup error).
//
// In one run:
//   - load: `cse-workshop mock-aws` on 127.0.0.1 (port 0) and a temporary
//     folder; --clients concurrent clients (the AWS SDK for Go v2) each
//     making GenerateDataKey then Decrypt of its result, for --duration.
//     Prints requests/s, p50 and p99 latency, and the rate of each window
//     (10 s, or a sixth of a shorter run) to show it stays flat. Targets:
//     1,000 requests/s or more, p99 under 50 ms, the second half's median
//     window rate at least 0.8 of the first half's, no failed request.
//   - encrypt: two workshop folders whose demo history holds 10 and
//     --events (10,000) events; `cse-workshop encrypt` of 1 KiB in each,
//     --rounds times, interleaved; the ratio of the median times. Target:
//     1.2 or less.
//
// Output rules: plain lines on stdout, one figure per line, each target
// beside its figure with "ok" or "MISSED"; errors on stderr prefixed
// "fake-load: ".
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"cse-workshop/awsclient/fakeaws"
)

// Targets, from the issue on the fake's cost.
const (
	minRequestsPerSecond = 1000
	maxP99               = 50 * time.Millisecond
	minFlatness          = 0.8 // second half's median window rate over the first half's
	maxEncryptRatio      = 1.2
	workshopAlias        = "alias/kms_key_cse_usecase_3"
	fewEvents            = 10
)

var workshopContext = map[string]string{"whatfor": "usecase-3-cse"}

type options struct {
	duration time.Duration
	clients  int
	events   int
	rounds   int
	only     string
	bin      string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long the load runs")
	flag.IntVar(&o.clients, "clients", 8, "concurrent clients of the load")
	flag.IntVar(&o.events, "events", 10000, "events in the large history of the encrypt comparison")
	flag.IntVar(&o.rounds, "rounds", 15, "encrypts timed in each folder")
	flag.StringVar(&o.only, "only", "", "run only one part: load or encrypt")
	flag.StringVar(&o.bin, "bin", "", "cse-workshop binary to run (default: built from this checkout)")
	flag.Parse()
	if flag.NArg() > 0 || o.duration <= 0 || o.clients < 1 || o.events < fewEvents || o.rounds < 1 ||
		(o.only != "" && o.only != "load" && o.only != "encrypt") {
		flag.Usage()
		os.Exit(2)
	}
	code, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-load: "+err.Error())
		os.Exit(2)
	}
	os.Exit(code)
}

func run(o options) (int, error) {
	tmp, err := os.MkdirTemp("", "fake-load-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "cse-workshop")
		build := exec.Command("go", "build", "-o", o.bin, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return 0, fmt.Errorf("build cse-workshop (run from the repository's root): %w", err)
		}
	}
	missed := false
	if o.only != "encrypt" {
		ok, err := loadTest(o, filepath.Join(tmp, "load"))
		if err != nil {
			return 0, fmt.Errorf("load: %w", err)
		}
		missed = missed || !ok
	}
	if o.only != "load" {
		ok, err := encryptTest(o, filepath.Join(tmp, "encrypt"))
		if err != nil {
			return 0, fmt.Errorf("encrypt: %w", err)
		}
		missed = missed || !ok
	}
	if missed {
		return 1, nil
	}
	return 0, nil
}

// verdict is "ok" or "MISSED".
func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

// listening is mock-aws's line that names its endpoint.
var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startMock starts mock-aws on dir and returns its endpoint and the
// function that stops it.
func startMock(bin, dir string) (string, func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "mock-aws", "--dir", dir, "--listen", "127.0.0.1:0", "--fast")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return "", nil, err
	}
	stop := func() { cancel(); cmd.Wait() }
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	select {
	case endpoint := <-found:
		return endpoint, stop, nil
	case <-time.After(30 * time.Second):
		stop()
		return "", nil, errors.New("mock-aws did not say where it listens within 30s")
	}
}

// kmsClient is a client of the fake at endpoint that never retries, so
// that every failure counts.
func kmsClient(endpoint string, httpClient *http.Client) *kms.Client {
	return kms.NewFromConfig(aws.Config{
		Region:       fakeaws.DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	})
}

// sample is one request: when it ended, since the start, and how long it took.
type sample struct {
	end, took time.Duration
}

func loadTest(o options, dir string) (bool, error) {
	endpoint, stop, err := startMock(o.bin, dir)
	if err != nil {
		return false, err
	}
	defer stop()
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * o.clients}}
	ctx := context.Background()
	setup := kmsClient(endpoint, httpClient)
	key, err := setup.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		return false, fmt.Errorf("CreateKey: %w", err)
	}
	if _, err := setup.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		return false, fmt.Errorf("CreateAlias: %w", err)
	}

	const warmUp = 2 * time.Second
	fmt.Printf("load: %d clients, GenerateDataKey then Decrypt, for %v (after %v of warm-up), on %s\n", o.clients, o.duration, warmUp, endpoint)
	var failures atomic.Int64
	var firstFailure atomic.Value
	samples := make([][]sample, o.clients)
	begin := time.Now()
	measureFrom, deadline := begin.Add(warmUp), begin.Add(warmUp+o.duration)
	var wg sync.WaitGroup
	for i := range o.clients {
		wg.Go(func() {
			client := kmsClient(endpoint, httpClient)
			timed := func(call func() error) {
				t0 := time.Now()
				err := call()
				t1 := time.Now()
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
				if !t0.Before(measureFrom) && !t1.After(deadline) {
					samples[i] = append(samples[i], sample{end: t1.Sub(measureFrom), took: t1.Sub(t0)})
				}
			}
			for time.Now().Before(deadline) {
				var blob []byte
				timed(func() error {
					out, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext})
					if err == nil {
						blob = out.CiphertextBlob
					}
					return err
				})
				if blob == nil {
					continue
				}
				timed(func() error {
					_, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: workshopContext})
					return err
				})
			}
		})
	}
	wg.Wait()
	httpClient.CloseIdleConnections()

	all := slices.Concat(samples...)
	if len(all) == 0 {
		return false, errors.New("no request completed")
	}
	took := make([]time.Duration, len(all))
	for i, s := range all {
		took[i] = s.took
	}
	slices.Sort(took)
	quantile := func(q float64) time.Duration { return took[min(len(took)-1, int(q*float64(len(took))))] }
	rate := float64(len(all)) / o.duration.Seconds()

	// Shown: the rate of each 10 s window (a sixth of a shorter run).
	// Judged: the median rate of the second half's short windows against
	// the first half's, which a few seconds of noise from other programs
	// on the machine cannot move much, while a cost that grows with the
	// history would.
	window := 10 * time.Second
	if o.duration < 60*time.Second {
		window = max(time.Second, (o.duration / 6).Round(time.Second))
	}
	shown := windowRates(all, o.duration, window)
	fmt.Printf("  requests:            %d (%d failed)\n", len(all), failures.Load())
	fmt.Printf("  requests/s:          %.0f  (target %d or more: %s)\n", rate, minRequestsPerSecond, verdict(rate >= minRequestsPerSecond))
	fmt.Printf("  latency p50:         %.2f ms\n", ms(quantile(0.50)))
	fmt.Printf("  latency p99:         %.2f ms  (target under %v: %s)\n", ms(quantile(0.99)), maxP99, verdict(quantile(0.99) < maxP99))
	fmt.Printf("  requests/s per %v window:", window)
	for _, r := range shown {
		fmt.Printf(" %.0f", r)
	}
	fmt.Println()
	flatness := 1.0
	if short := windowRates(all, o.duration, max(time.Second, o.duration/30)); len(short) >= 2 {
		half := len(short) / 2
		flatness = median(short[len(short)-half:]) / median(short[:half])
	}
	fmt.Printf("  flat: second half / first half median rate = %.2f  (target %.1f or more: %s)\n", flatness, minFlatness, verdict(flatness >= minFlatness))
	if n := failures.Load(); n > 0 {
		fmt.Printf("  failed requests:     %d, the first: %v  (target none: MISSED)\n", n, firstFailure.Load())
	}
	return rate >= minRequestsPerSecond && quantile(0.99) < maxP99 && flatness >= minFlatness && failures.Load() == 0, nil
}

// windowRates is the rate of requests in each window of the run.
func windowRates(all []sample, duration, window time.Duration) []float64 {
	rates := make([]float64, int(duration/window))
	for _, s := range all {
		if w := int(s.end / window); w < len(rates) {
			rates[w]++
		}
	}
	for w := range rates {
		rates[w] /= window.Seconds()
	}
	return rates
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// seedFolder makes a workshop folder whose demo history holds the
// workshop's key and alias and then GenerateDataKey calls, events in all,
// made in process through the fake itself.
func seedFolder(dir string, events int) error {
	fake, err := fakeaws.New(fakeaws.Options{StateFile: filepath.Join(dir, ".cse-workshop", "fake-aws.json")})
	if err != nil {
		return err
	}
	client := kms.NewFromConfig(aws.Config{
		Region:      fakeaws.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider(fakeaws.DemoAccessKeyID, fakeaws.DemoSecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: fake.RoundTripper()},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	})
	ctx := context.Background()
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		return err
	}
	if _, err := client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(workshopAlias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		return err
	}
	calls := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range calls {
				if _, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(workshopAlias), KeySpec: types.DataKeySpecAes256, EncryptionContext: workshopContext}); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for range events - 2 {
		calls <- struct{}{}
	}
	close(calls)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return fake.Save()
}

func encryptTest(o options, dir string) (bool, error) {
	small, large := filepath.Join(dir, "few"), filepath.Join(dir, "many")
	fmt.Printf("encrypt: 1 KiB with `cse-workshop encrypt` (demo backend), history of %d vs %d events, %d rounds interleaved\n", fewEvents, o.events, o.rounds)
	seedStart := time.Now()
	for _, f := range []struct {
		dir    string
		events int
	}{{small, fewEvents}, {large, o.events}} {
		if err := seedFolder(f.dir, f.events); err != nil {
			return false, fmt.Errorf("seed %d events: %w", f.events, err)
		}
	}
	fmt.Printf("  seeded in %.1f s\n", time.Since(seedStart).Seconds())
	plain := filepath.Join(dir, "plain.bin")
	data := make([]byte, 1024)
	rand.Read(data)
	if err := os.WriteFile(plain, data, 0o600); err != nil {
		return false, err
	}
	times := map[string][]float64{}
	for round := range o.rounds {
		order := []string{small, large}
		if round%2 == 1 {
			order = []string{large, small}
		}
		for _, d := range order {
			out := filepath.Join(d, fmt.Sprintf("plain-%d.enc", round))
			cmd := exec.Command(o.bin, "encrypt", plain, out, "--dir", d, "--context", "whatfor=usecase-3-cse")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				return false, fmt.Errorf("cse-workshop encrypt in %s: %w: %s", d, err, stderr.String())
			}
			times[d] = append(times[d], time.Since(t0).Seconds())
		}
	}
	few, many := median(times[small]), median(times[large])
	ratio := many / few
	fmt.Printf("  median at %5d events: %.1f ms\n", fewEvents, few*1000)
	fmt.Printf("  median at %5d events: %.1f ms\n", o.events, many*1000)
	fmt.Printf("  ratio:               %.2f  (target %.1f or less: %s)\n", ratio, maxEncryptRatio, verdict(ratio <= maxEncryptRatio))
	return ratio <= maxEncryptRatio, nil
}
