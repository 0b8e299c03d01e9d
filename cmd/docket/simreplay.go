package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/sim"
)

// syncBuffer is a buffer written by the server's goroutine and read by the replay.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var adminTokenLine = regexp.MustCompile(`API token:\s+(\S+)`)

// replayDay runs `docket sim --replay`: the fidelity check of docs/CAPACITY.md. It
// simulates cfg (one day) keeping every arrival, starts `docket serve` in this process on a
// fresh SQLite folder with its clock under the replay's control (Main.Now, the hook tests
// use), replays the day against it over HTTP (sim.Replay) and compares the two, regime by
// regime.
func (m *Main) replayDay(ctx context.Context, cfg *sim.Config, tab *regime.Table, regimesFile string, staff int, keep bool) error {
	wall := time.Now()
	res, err := sim.Run(ctx, cfg, sim.Options{Staff: staff, Regimes: tab, Trace: true}, quietLog())
	if err != nil {
		return err
	}
	if err := res.WriteText(m.Stdout); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "docket-sim-replay-")
	if err != nil {
		return fmt.Errorf("sim replay: %w", err)
	}
	if keep {
		fmt.Fprintf(m.Stdout, "\nreplay's data folder (kept): %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// No rate limits: the day is sent as fast as the server takes it.
	conf := map[string]any{"data": dir, "requests_per_second": -1, "notices_per_minute": 1e9, "notice_burst": 1 << 30,
		"log_level": "error", "clock_interval": "1m"}
	if regimesFile != "" {
		conf["regimes"] = regimesFile
	}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "docket.json")
	if err := os.WriteFile(confFile, b, 0o600); err != nil {
		return fmt.Errorf("sim replay: %w", err)
	}
	var mu sync.Mutex
	now := cfg.Start.AddDate(0, 0, -cfg.WarmupDays).UTC()
	clock := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	out := &syncBuffer{}
	sctx, cancel := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	srv := &Main{Stdout: out, Stderr: io.Discard, Getenv: func(string) string { return "" }, Ready: func(a string) { ready <- a },
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	go func() { done <- srv.Run(sctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", confFile}) }()
	defer func() {
		cancel()
		<-done
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		return fmt.Errorf("sim replay: serve: %w", err)
	case <-time.After(time.Minute):
		return fmt.Errorf("sim replay: serve did not start")
	}
	tok := adminTokenLine.FindStringSubmatch(out.String())
	if tok == nil {
		return fmt.Errorf("sim replay: serve printed no admin token")
	}
	api, err := sim.NewAPIServer(ctx, "http://"+addr, tok[1], clock, cfg, staff)
	if err != nil {
		return fmt.Errorf("sim replay: set up: %w", err)
	}
	rwall := time.Now()
	rep, err := sim.Replay(ctx, cfg, tab, staff, res.Trace, api, quietLog())
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nreplay against docket serve (SQLite, HTTP on %s, the server's clock moved to each simulated time): %d requests sent, %d not sendable over the API (misdirected e-mail), %d API calls, %.1f s\n",
		addr, rep.Submitted, rep.Skipped, rep.Calls, time.Since(rwall).Seconds())
	fmt.Fprintf(m.Stdout, "cases opened on the server where the simulation joined an open case: %d; joined on the server where the simulation opened one: %d\n", rep.OpenedHere, rep.JoinedHere)
	fmt.Fprintf(m.Stdout, "cases opened by queue on the server: %v\n\n", rep.Routes)
	if err := rep.Result.WriteText(m.Stdout); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nfidelity: simulation vs replay, requests received %s (seed %d, %d staff); wall %.1f s\n",
		cfg.Start.Format(time.DateOnly), cfg.Seed, staff, time.Since(wall).Seconds())
	ok := sim.WriteDiffs(m.Stdout, sim.Compare(cfg, res, rep.Result, sim.DefaultTolerance), sim.DefaultTolerance)
	if !ok {
		fmt.Fprintln(m.Stdout, "fidelity: some regimes differ beyond the tolerance")
		return exitError{1, "sim: the replay against docket serve differs from the simulation beyond the tolerance"}
	}
	fmt.Fprintln(m.Stdout, "fidelity: every regime agrees within the tolerance")
	return nil
}
