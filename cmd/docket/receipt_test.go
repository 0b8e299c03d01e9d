package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docket-dev/docket/storetest"
)

// fetch makes one call and returns the body as the server wrote it.
func (s *served) fetch(method, path, token, body string, want int) []byte {
	s.t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	return b
}

// TestReceiptVerifiedOffline: the receipt of docket serve, saved as the API returned it, is
// checked by docket receipt verify with the key the server publishes (the line docket log
// key prints), then against a later head with the proofs the API gives; a receipt with a
// field changed, or checked with another key, fails naming what failed.
func TestReceiptVerifiedOffline(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DOCKET_DATA": dir}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			_, atok := created(t, must(run(t, env, "authority", "add", "--name", "OFAC", "--country", "fr", "--json")))
			srv := startServe(t, env)
			submit := func(ref string) []byte {
				return srv.fetch("POST", "/api/v1/requests", atok, `{"regime":"fr-requisition","kind":"disclosure","reference":"`+ref+`","legal_basis":"Article 60-1 du code de procédure pénale","description":"Identification du titulaire du compte @suspect","targets":[{"kind":"username","value":"@suspect-`+ref+`"}]}`, 201)
			}
			raw := submit("PV-1")
			file := filepath.Join(t.TempDir(), "receipt.json")
			if err := os.WriteFile(file, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			served := strings.TrimSpace(string(srv.fetch("GET", "/api/v1/log/key", "", "", 200)))
			printed := strings.TrimSpace(must(run(t, env, "log", "key")))
			if served != printed || !strings.HasPrefix(served, "ed25519:") {
				t.Fatalf("GET /api/v1/log/key %q, docket log key %q", served, printed)
			}
			keyFile := filepath.Join(t.TempDir(), "platform.pub")
			os.WriteFile(keyFile, []byte(served+"\n"), 0o600)

			out := must(run(t, env, "receipt", "verify", file, "--key", served))
			if !strings.Contains(out, "receipt OK") || !strings.Contains(out, "case_opened") {
				t.Fatalf("receipt verify: %s", out)
			}
			must(run(t, env, "receipt", "verify", "--key", keyFile, file)) // flags first, key from a file

			// Later: more requests; the request is still in the newer tree, which extends the
			// receipt's.
			for i := range 5 {
				submit(fmt.Sprint("PV-later-", i))
			}
			var rec struct {
				ID  string
				Log struct {
					TreeHead struct {
						TreeSize int `json:"tree_size"`
					} `json:"tree_head"`
				}
			}
			json.Unmarshal(raw, &rec)
			save := func(name string, b []byte) string {
				p := filepath.Join(t.TempDir(), name)
				os.WriteFile(p, b, 0o600)
				return p
			}
			head := save("head.json", srv.fetch("GET", "/api/v1/log/head", "", "", 200))
			cons := save("cons.json", srv.fetch("GET", fmt.Sprintf("/api/v1/log/consistency?from=%d", rec.Log.TreeHead.TreeSize), "", "", 200))
			proof := save("proof.json", srv.fetch("GET", "/api/v1/requests/"+rec.ID+"/proof", atok, "", 200))
			out = must(run(t, env, "receipt", "verify", file, "--key", served, "--proof", proof, "--head", head, "--consistency", cons))
			if !strings.Contains(out, "still there") || !strings.Contains(out, "log only grew") {
				t.Fatalf("receipt verify with a later head: %s", out)
			}

			// Altered, or another key: exit 1 naming what failed.
			for _, tc := range []struct{ old, new, want string }{
				{`"sha256":"`, `"sha256":"0`, "sha256"},
				{`"reference\":\"PV-1\"`, `"reference\":\"PV-2\"`, "log.event"},
				{`"tree_size":`, `"tree_size":1`, "log.tree_head"},
			} {
				if !strings.Contains(string(raw), tc.old) {
					t.Fatalf("the receipt has no %s: %s", tc.old, raw)
				}
				bad := save("bad.json", []byte(strings.Replace(string(raw), tc.old, tc.new, 1)))
				_, err := run(t, env, "receipt", "verify", bad, "--key", served)
				if code, msg := exitStatus(err); code != 1 || !strings.Contains(msg, "FAILED: "+tc.want) {
					t.Errorf("%s changed: %d %q, want exit 1 naming %s", tc.old, code, msg, tc.want)
				}
			}
			other := "ed25519:" + strings.Repeat("A", 43) + "="
			if code, msg := exitStatus(func() error { _, err := run(t, env, "receipt", "verify", file, "--key", other); return err }()); code != 1 || !strings.Contains(msg, "log.tree_head") {
				t.Errorf("another key: %d %q", code, msg)
			}
			if code, _ := exitStatus(func() error { _, err := run(t, env, "receipt", "verify", file); return err }()); code != 2 {
				t.Errorf("without --key: exit %d, want 2", code)
			}
			srv.stop()
			if out := must(run(t, env, "audit", "verify")); !strings.Contains(out, "audit OK") {
				t.Fatalf("audit verify: %s", out)
			}
		})
	}
}
