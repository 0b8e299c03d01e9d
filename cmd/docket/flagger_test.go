package main

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/storetest"
)

// TestFlaggerCommands: docket flagger add, list, suspend, reinstate, rotate-token and revoke,
// each an audit event; docket notifier list; audit verify covers the flaggers and catches
// a token or a status changed behind docket's back.
func TestFlaggerCommands(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{"DOCKET_DATA": dir, "DOCKET_NO_TRIAGE": "true"}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			if _, err := run(t, env, "flagger", "add", "--name", "Hotline", "--coordinator", "Arcom (FR)", "--area", "GOSSIP"); err == nil || !strings.Contains(err.Error(), "Unknown DSA category") {
				t.Fatalf("unknown area: %v", err)
			}
			id, token := created(t, must(run(t, env, "flagger", "add", "--name", "Hotline", "--coordinator", "Arcom (FR)",
				"--area", "protection_of_minors", "--area", "CYBER_VIOLENCE", "--reference", "ARCOM-TF-7", "--json")))
			if !strings.HasPrefix(token, "dkf_") {
				t.Fatalf("token %q", token)
			}
			out := must(run(t, env, "flagger", "list"))
			if !strings.Contains(out, "Hotline") || !strings.Contains(out, "active") || !strings.Contains(out, "protection_of_minors,cyber_violence") {
				t.Fatalf("list:\n%s", out)
			}
			if _, err := run(t, env, "flagger", "suspend", id, "--until", "30d"); err == nil || !strings.Contains(err.Error(), "reason") {
				t.Fatalf("suspend without reason: %v", err)
			}
			must(run(t, env, "flagger", "suspend", id, "--until", "30d", "--reason", "The coordinator opened an investigation (art. 22(7))."))
			if out := must(run(t, env, "flagger", "list")); !strings.Contains(out, "suspended until") {
				t.Fatalf("list after suspension:\n%s", out)
			}
			must(run(t, env, "flagger", "reinstate", id, "--reason", "The investigation closed."))
			_, newToken := created(t, must(run(t, env, "flagger", "rotate-token", id, "--json")))
			if newToken == token {
				t.Fatal("rotate-token gave the same token")
			}
			if _, err := run(t, env, "flagger", "suspend", "no-such-id", "--until", "30d", "--reason", "x"); err == nil || !strings.Contains(err.Error(), "no trusted flagger") {
				t.Fatalf("unknown flagger: %v", err)
			}
			if out := must(run(t, env, "notifier", "list")); !strings.Contains(out, "NOTIFIER") {
				t.Fatalf("notifier list:\n%s", out)
			}
			if out := must(run(t, env, "audit", "verify")); !strings.Contains(out, "1 trusted flaggers") {
				t.Fatalf("verify: %s", out)
			}
			must(run(t, env, "flagger", "revoke", id, "--reason", "The coordinator revoked the status."))
			if out := must(run(t, env, "flagger", "list", "--json")); !strings.Contains(out, `"status_now":"revoked"`) {
				t.Fatalf("list after revocation: %s", out)
			}

			var db *sql.DB
			var err error
			if engine == "postgres" {
				db, err = sql.Open("pgx", env["DOCKET_DB"])
			} else {
				db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, tamper := range []string{`UPDATE flaggers SET status = 'active'`, `UPDATE flaggers SET status = 'revoked', token_hash = 'x'`} {
				if _, err := db.Exec(tamper); err != nil {
					t.Fatal(err)
				}
				_, err = run(t, env, "audit", "verify")
				var exit exitError
				if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "table flaggers") {
					t.Fatalf("verify after %s: %v, want exit 1 naming the table", tamper, err)
				}
			}
		})
	}
}
