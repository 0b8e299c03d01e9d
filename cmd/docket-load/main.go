// Command docket-load measures docket's intake: it starts "docket serve" and a bare net/http
// handler as separate processes, drives each with the same HTTP load from this process, and
// reports receipts per second, latency percentiles and the server's peak resident memory.
// It also seeds a data folder with many events, to time "docket audit verify".
//
//	docket-load bench --docket ./docket [--db postgres://…] [--duration 10s] [--concurrency 64] [--rate 2000]
//	docket-load seed  --data DIR --events 1000000
//	docket-load run   --url URL --token T [--rate R]
//	docket-load mail  --docket ./docket [--duration 10s] [--concurrency 16] [--rate 200] [--size 20000]
//	docket-load page  --docket ./docket [--duration 20s] [--rate 1000] [--every 100ms]
//	docket-load flood --docket ./docket [--duration 10s] [--rate 50] [--flood-conns 32]
//	docket-load chaos --docket ./docket [--rounds 10] [--clients 16] [--db postgres://… [--nodes 2] [--effects [--lease 5s] [--slow N]]] [--json]
//	docket-load match --hashes N [--queries Q] [--radius 31] [--clustered] [--json]
//	docket-load notices --docket ./docket [--notices 100000] [--banked 0.2] [--json]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/translog"
	"github.com/docket-dev/docket/workflow"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: docket-load bench|bare|seed|run|mail|page|flood|chaos|match|notices [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "bench":
		err = bench(os.Args[2:])
	case "bare":
		err = bare(os.Args[2:])
	case "seed":
		err = seed(os.Args[2:])
	case "run":
		err = runOnce(os.Args[2:])
	case "mail":
		err = mailBench(os.Args[2:])
	case "page":
		err = pageBench(os.Args[2:])
	case "flood":
		err = floodBench(os.Args[2:])
	case "chaos":
		err = chaos(os.Args[2:])
	case "match":
		err = matchBench(os.Args[2:], os.Stdout)
	case "notices":
		err = noticesBench(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "docket-load:", err)
		os.Exit(1)
	}
}

// bare serves the smallest handler that reads a JSON body and answers 201 with a receipt-sized
// JSON: the ceiling of net/http on this machine.
func bare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	receipt := []byte(`{"id":"01a20464-092c-7566-978e-853b63d0fe82","case_id":"01a20464-092c-7569-bcfe-8ca1b5a68895","received_at":"2026-11-22T17:53:14.540051Z","deadline":"2026-12-02T17:53:14.540051Z","sha256":"ceea96d241659fa93d8a00cb5cdd76ec5346fb736aec248aba88443d57baa5c4"}`)
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(receipt)
	}))
}

// server is a child process that prints "listening on http://ADDR".
type server struct {
	cmd  *exec.Cmd
	addr string
	// lines are what it printed before saying where it listens for HTTP.
	lines []string
}

func start(name string, args []string, env []string) (*server, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		lines = append(lines, line)
		if i := strings.Index(line, "http://"); i >= 0 {
			addr := strings.Fields(line[i+len("http://"):])[0]
			go io.Copy(io.Discard, out)
			return &server{cmd: cmd, addr: addr, lines: lines}, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("%s did not say where it listens", name)
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
	}
}

// peakRSS reads the high-water mark of a process's resident memory, in MiB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// matters vary the description: each request is about its own matter, as most are, so that
// docket does not thread them together as near-duplicates.
var matters = strings.Fields("escroquerie vol recel menaces harcèlement trafic stupéfiants armes blanchiment fraude usurpation identité extorsion chantage piratage rançongiciel contrefaçon faux documents diffamation injure cyberharcèlement corruption abus confiance proxénétisme traite travail dissimulé évasion fiscale")

func requestBody(i int64) []byte {
	var desc strings.Builder
	for k := int64(0); k < 6; k++ {
		desc.WriteString(matters[(i*7919+k*104729+k*k*i)%int64(len(matters))])
		desc.WriteByte(' ')
	}
	for k := uint64(0); k < 12; k++ { // and words of its own: names, places, dates
		fmt.Fprintf(&desc, "%x ", (uint64(i)*0x9E3779B97F4A7C15+k*0xBF58476D1CE4E5B9)>>40)
	}
	return fmt.Appendf(nil, `{"regime":"fr-requisition","kind":"disclosure","reference":"PV 2026/%d","description":"Réquisition judiciaire : identification du titulaire du compte et adresses IP de connexion entre le 1er et le 15 novembre 2026, dans une enquête pour %s(n° %d).","legal_basis":"Articles 60-1 et 77-1-1 du code de procédure pénale","targets":[{"kind":"username","value":"@suspect%d"},{"kind":"phone","value":"+336%08d"}]}`, i, desc.String(), i, i, i%100000000)
}

type result struct {
	sent, ok, failed int64
	elapsed          time.Duration
	lat              []time.Duration
	statuses         map[int]int64
}

func (r *result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// load posts requests to url. rate 0: closed loop, as fast as concurrency allows. rate > 0:
// open loop, one request every 1/rate s, latency counted from when it was due (so that a
// slow server cannot hide its queue).
func load(url, token string, concurrency int, rate float64, d time.Duration) *result {
	tr := &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency * 2, MaxConnsPerHost: concurrency * 2, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	res := &result{statuses: map[int]int64{}}
	var mu sync.Mutex
	var seq atomic.Int64
	do := func(due time.Time) {
		i := seq.Add(1)
		req, _ := http.NewRequest("POST", url, bytes.NewReader(requestBody(i+time.Now().UnixNano()%1000000*1000000)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		status := 0
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
		}
		lat := time.Since(due)
		mu.Lock()
		res.sent++
		res.statuses[status]++
		if status == http.StatusCreated {
			res.ok++
			res.lat = append(res.lat, lat)
		} else {
			res.failed++
		}
		mu.Unlock()
	}
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	if rate <= 0 {
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					do(time.Now())
				}
			}()
		}
	} else {
		due := make(chan time.Time, int(rate)*int(d.Seconds()+1))
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for t := range due {
					do(t)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / rate)
		for i := 0; ; i++ {
			t := start.Add(time.Duration(i) * interval)
			if !t.Before(end) {
				break
			}
			if w := time.Until(t); w > 0 {
				time.Sleep(w)
			}
			due <- t
		}
		close(due)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// benchData makes a temporary data folder and the environment that points docket at it (or
// at PostgreSQL when db is set), and names the engine.
func benchData(prefix, db string) (dir string, env []string, engine string, err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, "", err
	}
	// One authority sends everything here: its per-requester limit is lifted.
	env = []string{"DOCKET_DATA=" + dir, "DOCKET_LOG_LEVEL=warn", "DOCKET_REQUESTS_PER_SECOND=-1"}
	engine = "sqlite"
	if db != "" {
		env, engine = append(env, "DOCKET_DB="+db), "postgres"
	}
	return dir, env, engine, nil
}

// addAuthority registers the authority that sends the load and returns its token.
func addAuthority(docketBin string, env []string) (string, error) {
	a, err := registerAuthority(docketBin, env)
	return a.Token, err
}

// authority is what `docket authority add --json` prints.
type authority struct{ ID, Token string }

// registerAuthority runs `docket authority add` with extra flags (a name and country are
// given by default) and returns the new authority.
func registerAuthority(docketBin string, env []string, flags ...string) (authority, error) {
	args := append([]string{"authority", "add", "--name", "Bench", "--country", "FR", "--json"}, flags...)
	cmd := exec.Command(docketBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return authority{}, fmt.Errorf("authority add: %w", err)
	}
	var a authority
	if err := json.Unmarshal(out, &a); err != nil {
		return authority{}, fmt.Errorf("authority add: %w", err)
	}
	return a, nil
}

// smtpAddr is where a started docket said it listens for SMTP, or "".
func (s *server) smtpAddr() string {
	for _, l := range s.lines {
		if rest, ok := strings.CutPrefix(l, "docket smtp listening on "); ok {
			return strings.Fields(rest)[0]
		}
	}
	return ""
}

func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… to measure PostgreSQL instead of SQLite")
	duration := fs.Duration("duration", 10*time.Second, "length of each run")
	concurrency := fs.Int("concurrency", 64, "connections for the closed-loop runs")
	rate := fs.Float64("rate", 2000, "requests per second for the open-loop (latency) run")
	fs.Parse(args)

	dir, env, engine, err := benchData("docket-bench-", *db)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	token, err := addAuthority(*docketBin, env)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs (GOMAXPROCS), %s; engine %s; load generator in this process\n", runtime.NumCPU(), runtime.Version(), engine)

	srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err != nil {
		return err
	}
	url := "http://" + srv.addr + "/api/v1/requests"
	load(url, token, *concurrency, 0, 2*time.Second) // warm up
	// Latency at a steady rate first, then the ceiling: a saturating run leaves the database
	// with work (checkpoints, vacuum) that would otherwise land in the latency figures.
	open := load(url, token, *concurrency*4, *rate, *duration)
	closed := load(url, token, *concurrency, 0, *duration)
	rss := peakRSS(srv.cmd.Process.Pid)
	srv.stop()

	self, _ := os.Executable()
	bareSrv, err := start(self, []string{"bare"}, nil)
	if err != nil {
		return err
	}
	burl := "http://" + bareSrv.addr + "/"
	load(burl, token, *concurrency, 0, 2*time.Second)
	ceiling := load(burl, token, *concurrency, 0, *duration)
	bareSrv.stop()

	report := func(name string, r *result) {
		fmt.Printf("%-34s %9.0f/s  ok %8d  failed %5d  p50 %7.2fms  p99 %7.2fms  max %7.2fms  statuses %v\n", name, r.rate(), r.ok, r.failed,
			ms(r.pct(0.50)), ms(r.pct(0.99)), ms(r.pct(1)), r.statuses)
	}
	report(fmt.Sprintf("docket intake, %d conns", *concurrency), closed)
	report(fmt.Sprintf("docket intake at %.0f/s", *rate), open)
	report(fmt.Sprintf("bare net/http, %d conns", *concurrency), ceiling)
	fmt.Printf("docket peak RSS %.0f MiB; intake reaches %.0f%% of the bare handler's rate\n", rss, 100*closed.rate()/ceiling.rate())
	return nil
}

// runOnce drives an already running server.
func runOnce(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080/api/v1/requests", "intake URL")
	token := fs.String("token", "", "authority token")
	duration := fs.Duration("duration", 10*time.Second, "length of the run")
	concurrency := fs.Int("concurrency", 64, "connections")
	rate := fs.Float64("rate", 0, "requests per second (0: as fast as possible)")
	fs.Parse(args)
	r := load(*url, *token, *concurrency, *rate, *duration)
	fmt.Printf("%.0f/s ok %d failed %d p50 %.2fms p99 %.2fms statuses %v\n", r.rate(), r.ok, r.failed, ms(r.pct(0.5)), ms(r.pct(0.99)), r.statuses)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// seed fills a SQLite data folder with requests (one event each) through the real intake,
// signing a tree head per commit as docket serve does.
func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	data := fs.String("data", "", "data folder")
	events := fs.Int("events", 1_000_000, "events to create (one per request)")
	fs.Parse(args)
	if *data == "" {
		return fmt.Errorf("--data is required")
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(ctx, *data, log)
	if err != nil {
		return err
	}
	defer store.Close()
	// As docket serve does: every commit signs the head of the log's Merkle tree.
	key, err := translog.LoadOrCreateKey(filepath.Join(*data, "log.key"))
	if err != nil {
		return err
	}
	store.SetSigner(key)
	svc := workflow.New(workflow.Config{Store: store, Logger: log, MaxBatch: 1000})
	svc.Start(ctx)
	defer svc.Stop()
	a := &docket.Authority{Name: "Seed", Country: "FR"}
	if _, err := svc.RegisterAuthority(ctx, "seed", a); err != nil {
		return err
	}
	n := *events - 1
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	var firstErr atomic.Value
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				_, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: requestBody(i),
					Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: strconv.FormatInt(i, 10)}})
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	fmt.Printf("seeded %d requests (%d events) in %s\n", n, n+1, time.Since(start).Round(time.Millisecond))
	return nil
}

// floodBench measures flood fairness: one authority sends at a steady rate (open loop)
// alone, then while another floods the API as fast as its connections go; the steady one's
// p99 should barely move. It runs once with docket's per-requester limit (the default) and
// once without it, for comparison.
func floodBench(args []string) error {
	fs := flag.NewFlagSet("flood", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… to measure PostgreSQL instead of SQLite")
	duration := fs.Duration("duration", 10*time.Second, "length of each run")
	rate := fs.Float64("rate", 50, "requests per second of the steady authority")
	floodConns := fs.Int("flood-conns", 32, "connections of the flooding authority")
	fs.Parse(args)
	fmt.Printf("machine: %d CPUs (GOMAXPROCS), %s; load generator in this process\n", runtime.NumCPU(), runtime.Version())
	for _, limit := range []string{"", "-1"} {
		dir, env, engine, err := benchData("docket-flood-", *db)
		if err != nil {
			return err
		}
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, "DOCKET_REQUESTS_PER_SECOND=") })
		if limit != "" {
			env = append(env, "DOCKET_REQUESTS_PER_SECOND="+limit)
		}
		steady, err := addAuthority(*docketBin, env)
		if err != nil {
			return err
		}
		flooder, err := addAuthority(*docketBin, env)
		if err != nil {
			return err
		}
		srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0"}, env)
		if err != nil {
			return err
		}
		url := "http://" + srv.addr + "/api/v1/requests"
		load(url, steady, 8, *rate, 2*time.Second) // warm up
		alone := load(url, steady, 16, *rate, *duration)
		var flood *result
		done := make(chan struct{})
		go func() { flood = load(url, flooder, *floodConns, 0, *duration); close(done) }()
		during := load(url, steady, 16, *rate, *duration)
		<-done
		srv.stop()
		os.RemoveAll(dir)
		name := "per-requester limit on (default)"
		if limit != "" {
			name = "per-requester limit off"
		}
		fmt.Printf("%s, %s:\n", name, engine)
		fmt.Printf("  steady authority alone     %6.0f/s  p50 %7.2fms  p99 %7.2fms  statuses %v\n", alone.rate(), ms(alone.pct(0.5)), ms(alone.pct(0.99)), alone.statuses)
		fmt.Printf("  steady, during the flood   %6.0f/s  p50 %7.2fms  p99 %7.2fms  statuses %v\n", during.rate(), ms(during.pct(0.5)), ms(during.pct(0.99)), during.statuses)
		fmt.Printf("  flooding authority         %6.0f/s accepted, statuses %v\n", flood.rate(), flood.statuses)
		if a := alone.pct(0.99); a > 0 {
			fmt.Printf("  steady p99 during / alone: %.2f×\n", float64(during.pct(0.99))/float64(a))
		}
	}
	return nil
}
