package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
)

// TestKilledServerKeepsEveryReceipt kills docket with SIGKILL while authorities are
// submitting, then checks that every request that got a 201 receipt is stored with the
// receipt's hash, and that the audit chain still verifies.
func TestKilledServerKeepsEveryReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "docket")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build docket: %v\n%s", err, out)
	}
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DOCKET_DATA": dir}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			_, token := created(t, must(run(t, env, "authority", "add", "--name", "Police", "--country", "BE", "--json")))

			cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "DOCKET_DATA="+dir, "DOCKET_DB="+env["DOCKET_DB"], "DOCKET_LOG_LEVEL=error")
			stdout, _ := cmd.StdoutPipe()
			err := cmd.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			// The first start prints the new admin's credentials before the address.
			out := bufio.NewReader(stdout)
			var line string
			for !strings.Contains(line, "listening on http://") {
				if line, err = out.ReadString('\n'); err != nil {
					t.Fatalf("serve said %q (%v)", line, err)
				}
			}
			addr := strings.Fields(line[strings.Index(line, "http://"):])[0]

			type receipt struct{ ID, SHA256 string }
			var mu sync.Mutex
			var got []receipt
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client := &http.Client{Timeout: 5 * time.Second}
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						body := fmt.Sprintf(`{"regime":"national-other","kind":"disclosure","reference":"W%d-%d","description":"Demande %d"}`, w, i, i)
						req, _ := http.NewRequest("POST", addr+"/api/v1/requests", strings.NewReader(body))
						req.Header.Set("Authorization", "Bearer "+token)
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode == http.StatusCreated {
							var r receipt
							if json.Unmarshal(b, &r) == nil {
								mu.Lock()
								got = append(got, r)
								mu.Unlock()
							}
						}
					}
				}()
			}
			time.Sleep(1500 * time.Millisecond)
			cmd.Process.Kill() // SIGKILL: no shutdown, no flush
			cmd.Wait()
			close(stop)
			wg.Wait()
			if len(got) < 50 {
				t.Fatalf("only %d receipts before the kill; the test proves little", len(got))
			}

			ctx := context.Background()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			var s *sqlstore.Store
			if engine == "postgres" {
				s, err = postgres.Open(ctx, env["DOCKET_DB"], log)
			} else {
				s, err = sqlite.Open(ctx, dir, log)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, r := range got {
				req, err := s.Request(ctx, r.ID)
				if err != nil {
					t.Fatalf("receipt %s was given but the request is lost: %v", r.ID, err)
				}
				if req.SHA256 != r.SHA256 {
					t.Fatalf("request %s: stored hash differs from the receipt", r.ID)
				}
			}
			rep, err := audit.Verify(ctx, s, 0, "")
			if err != nil {
				t.Fatalf("audit after the kill: %v", err)
			}
			if rep.Requests < len(got) {
				t.Fatalf("%d requests stored, %d receipts given", rep.Requests, len(got))
			}
			t.Logf("%s: %d receipts given before SIGKILL, all stored; %d requests in all", engine, len(got), rep.Requests)
		})
	}
}
