package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
)

// chaos is the crash campaign: HTTP load from many clients, the server killed with SIGKILL
// at a random moment, restarted, and again, N times; requests whose outcome the crash hid are
// sent again with their Idempotency-Key. Then it proves that every receipt given exists,
// exactly once, with its hash, and that `docket audit verify` passes.
//
//	docket-load chaos --docket ./docket [--rounds 10] [--clients 16] [--db postgres://… [--nodes 2]]
func chaos(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… (an empty schema) to run on PostgreSQL instead of SQLite")
	rounds := fs.Int("rounds", 10, "crashes")
	clients := fs.Int("clients", 16, "concurrent clients")
	nodeCount := fs.Int("nodes", 1, "docket serve processes on the one database (PostgreSQL for more than one); each round kills one")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	fs.Parse(args)
	if *nodeCount > 1 && *db == "" {
		return fmt.Errorf("several nodes share a PostgreSQL database: give --db")
	}

	dir, env, engine, err := benchData("docket-chaos-", *db)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(*docketBin, "authority", "add", "--name", "Chaos", "--country", "FR", "--json")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("authority add: %w", err)
	}
	var auth struct{ ID, Token string }
	if err := json.Unmarshal(out, &auth); err != nil {
		return fmt.Errorf("authority add: %w", err)
	}

	type receipt struct{ ID, SHA256 string }
	var (
		mu       sync.Mutex
		bodies   = map[string][]byte{}  // every key sent, with its body
		receipts = map[string]receipt{} // the receipts given, by key
		unsure   []string               // keys whose outcome a crash hid
		changed  int                    // a key answered with two different receipts
		next     int64
	)
	client := &http.Client{Timeout: 30 * time.Second}
	send := func(url, key string, body []byte) (ok bool) {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+auth.Token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return false
		}
		var r receipt
		if json.Unmarshal(b, &r) != nil || r.ID == "" {
			return false
		}
		mu.Lock()
		if prev, seen := receipts[key]; seen && prev != r {
			changed++
		}
		receipts[key] = r
		mu.Unlock()
		return true
	}
	var restarts []time.Duration
	startNode := func() (*server, error) {
		t0 := time.Now()
		srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0"}, env)
		if err == nil {
			restarts = append(restarts, time.Since(t0))
		}
		return srv, err
	}
	urlOf := func(srv *server) string { return "http://" + srv.addr + "/api/v1/requests" }
	// settle sends again, with the same key and body, what a crash left unsure.
	settle := func(url string) {
		mu.Lock()
		retry := unsure
		unsure = nil
		mu.Unlock()
		for _, key := range retry {
			mu.Lock()
			body := bodies[key]
			mu.Unlock()
			if !send(url, key, body) {
				mu.Lock()
				unsure = append(unsure, key)
				mu.Unlock()
			}
		}
	}
	nodes := make([]*server, *nodeCount)
	for i := range nodes {
		if nodes[i], err = startNode(); err != nil {
			return err
		}
	}
	start0 := time.Now()
	for r := range *rounds {
		settle(urlOf(nodes[0]))
		var live sync.Map // node index → url, while it serves
		for i, n := range nodes {
			live.Store(i, urlOf(n))
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range *clients {
			wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					u, ok := live.Load((c + k) % len(nodes))
					if !ok {
						u, _ = live.Load((c + k + 1) % len(nodes))
					}
					url, _ := u.(string)
					mu.Lock()
					next++
					i := next
					key := fmt.Sprintf("chaos-%d", i)
					body := requestBody(i)
					bodies[key] = body
					mu.Unlock()
					if url == "" || !send(url, key, body) {
						mu.Lock()
						unsure = append(unsure, key)
						mu.Unlock()
						time.Sleep(10 * time.Millisecond) // the node is down: do not spin
					}
				}
			})
		}
		time.Sleep(time.Second + time.Duration(rand.Int64N(int64(3*time.Second))))
		victim := rand.IntN(len(nodes))
		nodes[victim].cmd.Process.Kill() // SIGKILL: no shutdown, no flush
		nodes[victim].cmd.Wait()
		if len(nodes) > 1 {
			// The others keep serving while the victim is down.
			time.Sleep(time.Second)
			live.Delete(victim)
			time.Sleep(time.Second)
		}
		close(stop)
		wg.Wait()
		if nodes[victim], err = startNode(); err != nil {
			return fmt.Errorf("round %d: restart: %w", r+1, err)
		}
	}
	for range 3 { // settle what is still unsure
		settle(urlOf(nodes[0]))
		if len(unsure) == 0 {
			break
		}
	}
	for _, n := range nodes {
		n.stop()
	}

	// The proof, from the store itself, read-only.
	ctx := context.Background()
	var store *sqlstore.Store
	if *db != "" {
		store, err = postgres.OpenReadOnly(ctx, *db)
	} else {
		store, err = sqlite.OpenReadOnly(ctx, dir)
	}
	if err != nil {
		return err
	}
	lost, wrongHash := 0, 0
	for key, r := range receipts {
		got, err := store.RequestByIdempotencyKey(ctx, auth.ID, key)
		switch {
		case errors.Is(err, docket.ErrNotFound) || (err == nil && got.ID != r.ID):
			lost++
		case err != nil:
			store.Close()
			return err
		default:
			sum := sha256.Sum256(got.Raw)
			if hex.EncodeToString(sum[:]) != r.SHA256 || got.SHA256 != r.SHA256 || !bytes.Equal(got.Raw, bodies[key]) {
				wrongHash++
			}
		}
	}
	stored := 0
	if err := store.ScanRequests(ctx, func(*docket.Request) error { stored++; return nil }); err != nil {
		store.Close()
		return err
	}
	store.Close()
	duplicates := stored - len(receipts)
	verify := exec.Command(*docketBin, "audit", "verify")
	verify.Env = append(os.Environ(), env...)
	vout, verr := verify.CombinedOutput()
	auditOK := verr == nil
	slices.Sort(restarts)
	fmt.Printf("chaos on %s, %d node(s): %d kill -9 rounds, %d clients, %s; %d receipts given, %d lost, %d duplicates, %d with a wrong hash, %d keys answered with two receipts, %d unsure at the end\n",
		engine, *nodeCount, *rounds, *clients, time.Since(start0).Round(time.Second), len(receipts), lost, duplicates, wrongHash, changed, len(unsure))
	fmt.Printf("restart to listening: min %s, max %s; audit verify: %s\n", restarts[0].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond), strings.TrimSpace(string(vout)))
	if *asJSON {
		js, _ := json.Marshal(map[string]any{"engine": engine, "nodes": *nodeCount, "rounds": *rounds, "receipts": len(receipts), "lost": lost, "duplicates": duplicates,
			"wrong_hash": wrongHash, "changed": changed, "unsure": len(unsure), "audit_ok": auditOK,
			"restart_ms_max": restarts[len(restarts)-1].Milliseconds()})
		fmt.Println(string(js))
	}
	if lost+duplicates+wrongHash+changed > 0 || !auditOK {
		return fmt.Errorf("the campaign found a broken promise")
	}
	return nil
}
