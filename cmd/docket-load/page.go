package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"
)

// pageBench measures the time from sending an emergency request to its page reaching the
// webhook, while the intake carries a steady load of ordinary requests.
func pageBench(args []string) error {
	fs := flag.NewFlagSet("page", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… to measure PostgreSQL instead of SQLite")
	duration := fs.Duration("duration", 20*time.Second, "length of the run")
	rate := fs.Float64("rate", 1000, "ordinary requests per second carried meanwhile")
	every := fs.Duration("every", 100*time.Millisecond, "one emergency request this often")
	fs.Parse(args)

	dir, env, engine, err := benchData("docket-pagebench-", *db)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The incident tool: a webhook in this process that notes when each page arrives.
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	hook := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var v struct {
			Payload struct {
				Details struct {
					Reference string `json:"reference"`
				} `json:"custom_details"`
			} `json:"payload"`
		}
		json.NewDecoder(r.Body).Decode(&v)
		mu.Lock()
		if _, ok := arrived[v.Payload.Details.Reference]; !ok {
			arrived[v.Payload.Details.Reference] = at
		}
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})}
	hookLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go hook.Serve(hookLn)
	defer hook.Close()
	pagerFile := dir + "/pager.json"
	pc := fmt.Sprintf(`{"people":[{"name":"on-call"}],"rotation":{"people":["on-call"]},"ladder":[{"after":"0s","notify":"primary"}],"webhooks":["http://%s/"]}`, hookLn.Addr())
	if err := os.WriteFile(pagerFile, []byte(pc), 0o600); err != nil {
		return err
	}
	env = append(env, "DOCKET_PAGER_FILE="+pagerFile)
	token, err := addAuthority(*docketBin, env)
	if err != nil {
		return err
	}
	srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0"}, env)
	if err != nil {
		return err
	}
	defer srv.stop()
	url := "http://" + srv.addr + "/api/v1/requests"
	fmt.Printf("machine: %d CPUs, %s; engine %s; load and webhook in this process\n", runtime.NumCPU(), runtime.Version(), engine)
	load(url, token, 64, 0, 2*time.Second) // warm up

	var bg *result
	done := make(chan struct{})
	go func() { bg = load(url, token, 256, *rate, *duration); close(done) }()

	sent := map[string]time.Time{}
	client := &http.Client{Timeout: 30 * time.Second}
	failed := 0
	for i, end := 0, time.Now().Add(*duration); time.Now().Before(end); i++ {
		ref := fmt.Sprintf("EMERGENCY-%d", i)
		body := fmt.Sprintf(`{"regime":"us-emergency","kind":"emergency_disclosure","emergency":true,"reference":%q,"description":"Imminent threat to life: a user announced a shooting at a school tomorrow morning.","targets":[{"kind":"username","value":"@threat%d"}]}`, ref, i)
		req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			failed++
		} else {
			sent[ref] = t0
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(time.Until(t0.Add(*every)))
	}
	<-done
	time.Sleep(5 * time.Second) // pages still on their way
	lat := &result{}
	missing := 0
	mu.Lock()
	for ref, t0 := range sent {
		if at, ok := arrived[ref]; ok {
			lat.lat = append(lat.lat, at.Sub(t0))
		} else {
			missing++
		}
	}
	mu.Unlock()
	fmt.Printf("intake meanwhile: %.0f/s (asked %.0f/s), ok %d, failed %d, p99 %.2fms\n", bg.rate(), *rate, bg.ok, bg.failed, ms(bg.pct(0.99)))
	fmt.Printf("emergencies: %d sent (%d refused), %d paged, %d not paged within 5 s of the end\n", len(sent), failed, len(lat.lat), missing)
	fmt.Printf("send → page at the webhook: p50 %.1fms  p99 %.1fms  max %.1fms\n", ms(lat.pct(0.5)), ms(lat.pct(0.99)), ms(lat.pct(1)))
	fmt.Printf("docket peak RSS %.0f MiB\n", peakRSS(srv.cmd.Process.Pid))
	return nil
}
