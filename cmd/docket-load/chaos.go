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
//	docket-load chaos --docket ./docket [--rounds 10] [--clients 16] [--db postgres://…]
func chaos(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… (an empty schema) to run on PostgreSQL instead of SQLite")
	rounds := fs.Int("rounds", 10, "crashes")
	clients := fs.Int("clients", 16, "concurrent clients")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	fs.Parse(args)

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
	serveOnce := func(crash bool) error {
		t0 := time.Now()
		srv, err := start(*docketBin, []string{"serve", "--addr", "127.0.0.1:0"}, env)
		if err != nil {
			return err
		}
		restarts = append(restarts, time.Since(t0))
		url := "http://" + srv.addr + "/api/v1/requests"
		// First what the last crash left unsure, with the same key and body.
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
		if !crash {
			srv.stop()
			return nil
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range *clients {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					next++
					i := next
					key := fmt.Sprintf("chaos-%d", i)
					body := requestBody(i)
					bodies[key] = body
					mu.Unlock()
					if !send(url, key, body) {
						mu.Lock()
						unsure = append(unsure, key)
						mu.Unlock()
						time.Sleep(10 * time.Millisecond) // the server is down: do not spin
					}
				}
			})
		}
		time.Sleep(time.Second + time.Duration(rand.Int64N(int64(3*time.Second))))
		srv.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
		srv.cmd.Wait()
		close(stop)
		wg.Wait()
		return nil
	}
	start0 := time.Now()
	for r := range *rounds {
		if err := serveOnce(true); err != nil {
			return fmt.Errorf("round %d: %w", r+1, err)
		}
	}
	for range 3 { // settle what is still unsure, then stop cleanly
		if err := serveOnce(false); err != nil {
			return err
		}
		if len(unsure) == 0 {
			break
		}
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
	fmt.Printf("chaos on %s: %d kill -9 rounds, %d clients, %s; %d receipts given, %d lost, %d duplicates, %d with a wrong hash, %d keys answered with two receipts, %d unsure at the end\n",
		engine, *rounds, *clients, time.Since(start0).Round(time.Second), len(receipts), lost, duplicates, wrongHash, changed, len(unsure))
	fmt.Printf("restart to listening: min %s, max %s; audit verify: %s\n", restarts[0].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond), strings.TrimSpace(string(vout)))
	if *asJSON {
		js, _ := json.Marshal(map[string]any{"engine": engine, "rounds": *rounds, "receipts": len(receipts), "lost": lost, "duplicates": duplicates,
			"wrong_hash": wrongHash, "changed": changed, "unsure": len(unsure), "audit_ok": auditOK,
			"restart_ms_max": restarts[len(restarts)-1].Milliseconds()})
		fmt.Println(string(js))
	}
	if lost+duplicates+wrongHash+changed > 0 || !auditOK {
		return fmt.Errorf("the campaign found a broken promise")
	}
	return nil
}
