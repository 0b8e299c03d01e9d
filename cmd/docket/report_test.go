package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/storetest"
)

// TestReportCommand works requests through `docket serve` on each engine, then makes the
// reports with the command: figures, the same bytes twice, --explain naming the cases, a
// period that leaves the cases out, CSV files in a folder, the DSA page.
func TestReportCommand(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"DOCKET_DATA": dir, "DOCKET_NO_TRIAGE": "true"}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			_, police := created(t, must(run(t, env, "authority", "add", "--name", "Police", "--country", "FR", "--kind", "police", "--json")))
			_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
			srv := startServe(t, env)
			var ids []string
			for i, body := range []string{
				`{"regime":"dsa-art9","kind":"removal","reference":"A9-1","legal_basis":"DSA art. 9","reasons":"Hate speech.","redress":"Tribunal","targets":[{"kind":"message","value":"https://t.me/c/1"}]}`,
				`{"regime":"fr-requisition","kind":"disclosure","reference":"PV-1","legal_basis":"Art. 60-1 CPP","targets":[{"kind":"username","value":"@suspect"}]}`,
			} {
				rc := srv.call("POST", "/api/v1/requests", police, body, 201)
				ids = append(ids, rc["case_id"].(string))
				if i == 1 {
					srv.call("POST", "/api/v1/cases/"+ids[1]+"/events", agent, `{"type":"decide","outcome":"refuse","reason_code":"no_legal_basis","statement":"No basis."}`, 201)
					srv.call("POST", "/api/v1/cases/"+ids[1]+"/events", agent, `{"type":"answer","text":"Refused."}`, 201)
				}
			}
			today := time.Now().UTC().Format(time.DateOnly)
			// Read-only while docket serves. Without triage (DOCKET_NO_TRIAGE) the orders have
			// no category: both are in one row of the DSA report, "not specified".
			period := []string{"--from", today, "--to", today}
			csv1 := must(run(t, env, append([]string{"report", "requests"}, period...)...))
			csv2 := must(run(t, env, append([]string{"report", "requests"}, period...)...))
			if csv1 != csv2 {
				t.Fatalf("the same log made two reports:\n%s\n%s", csv1, csv2)
			}
			if !strings.Contains(csv1, "# requests_by_requester.csv\r\ncountry,requester_type,requests,") || !strings.Contains(csv1, "\r\nFR,police,2,2,0,0.0,1,0,,1\r\n") ||
				!strings.Contains(csv1, "\r\nother,no_legal_basis,1,100.0\r\n") {
				t.Errorf("requests report:\n%s", csv1)
			}
			explained := must(run(t, env, append([]string{"report", "requests", "--explain", "requests/FR/police/requests"}, period...)...))
			if !strings.HasPrefix(explained, "requests/FR/police/requests = 2\n") || !strings.Contains(explained, "case "+ids[0]+": ") ||
				!strings.Contains(explained, "case "+ids[1]+": ") || !strings.Contains(explained, " case_opened ") {
				t.Errorf("--explain:\n%s", explained)
			}
			figs := must(run(t, env, append([]string{"report", "requests", "--figures"}, period...)...))
			if !strings.Contains(figs, "requests/FR/police/refused\t1\n") {
				t.Errorf("--figures:\n%s", figs)
			}
			// The next day: nothing was received then.
			tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
			if out := must(run(t, env, "report", "requests", "--from", tomorrow, "--to", tomorrow)); strings.Contains(out, "FR,police") {
				t.Errorf("a period after the cases counts them:\n%s", out)
			}
			// As the log was after the first request's events: one request.
			up := must(run(t, env, append([]string{"report", "requests", "--upto", "4", "--figures"}, period...)...))
			if !strings.Contains(up, "requests/ALL/all/requests\t1\n") {
				t.Errorf("--upto 4:\n%s", up)
			}
			srv.stop()

			out := filepath.Join(t.TempDir(), "dsa")
			files := must(run(t, env, append([]string{"report", "dsa", "--out", out}, period...)...))
			if !strings.Contains(files, filepath.Join(out, "3_member_states_orders.csv")) {
				t.Fatalf("--out printed %q", files)
			}
			b, err := os.ReadFile(filepath.Join(out, "3_member_states_orders.csv"))
			if err != nil || !strings.Contains(string(b), ",STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE,,FR,1,1,0.00,,1,0.00,,") {
				t.Errorf("3_member_states_orders.csv (%v):\n%s", err, b)
			}
			page := must(run(t, env, append([]string{"report", "dsa", "--format", "html"}, period...)...))
			if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, "<svg") || !strings.Contains(page, "Number of initial decisions reversed") {
				t.Errorf("dsa page:\n%s", page)
			}

			// Rows edited behind docket's back: no report is made from them.
			var db *sql.DB
			var err2 error
			if engine == "postgres" {
				db, err2 = sql.Open("pgx", env["DOCKET_DB"])
			} else {
				db, err2 = sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
			}
			if err2 != nil {
				t.Fatal(err2)
			}
			defer db.Close()
			// A target of a request changed: its receipt's digest no longer matches.
			if _, err := db.Exec(`UPDATE targets SET value = '@someone_else' WHERE value = '@suspect'`); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, env, append([]string{"report", "requests"}, period...)...)
			if code, msg := exitStatus(err); code != 1 || !strings.Contains(msg, "differ from what its receipt (event ") {
				t.Errorf("a report from tampered targets: exit %d %q", code, msg)
			}
			if _, err := db.Exec(`UPDATE events SET data = REPLACE(data, 'no_legal_basis', 'principle_none') WHERE type = 'decided'`); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, env, append([]string{"report", "requests"}, period...)...)
			if code, msg := exitStatus(err); code != 1 || !strings.Contains(msg, "the audit chain does not hold at event ") {
				t.Errorf("a report from a tampered log: exit %d %q", code, msg)
			}
		})
	}
}

// TestReportErrors: what the command refuses, with the message and exit status it gives.
func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DOCKET_DATA": dir}
	must(run(t, env, "migrate"))
	ok := []string{"--from", "2025-01-01", "--to", "2025-12-31"}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"report"}, 2, `"report" needs a subcommand: requests, dsa`},
		{[]string{"report", "gdpr"}, 2, `unknown command "report gdpr"`},
		{[]string{"report", "requests", "--to", "2025-12-31"}, 2, "--from is required: a day as YYYY-MM-DD"},
		{[]string{"report", "requests", "--from", "2025-01-01", "--to", "2025-12-32"}, 2, `--to "2025-12-32": want a day as YYYY-MM-DD`},
		{[]string{"report", "requests", "--from", "01/01/2025", "--to", "2025-12-31"}, 2, `--from "01/01/2025": want a day as YYYY-MM-DD`},
		{[]string{"report", "requests", "--from", "2025-12-31", "--to", "2025-01-01"}, 2, "--from 2025-12-31 is after --to 2025-01-01"},
		{append([]string{"report", "requests", "--format", "xml"}, ok...), 2, `--format "xml": want csv, html or json`},
		{append([]string{"report", "dsa", "--format", "json"}, ok...), 2, `--format "json": want csv or html`},
		{append([]string{"report", "dsa", "--format", "html", "--out", dir}, ok...), 2, "--out writes CSV files: it goes with --format csv"},
		{append([]string{"report", "requests", "--upto", "-1"}, ok...), 2, "--upto wants an event's sequence number"},
		{append([]string{"report", "requests", "--unknown"}, ok...), 2, "flag provided but not defined: -unknown"},
		{append([]string{"report", "requests", "--explain", "requests/FR/army/requests"}, ok...), 1, `no figure "requests/FR/army/requests" in this report: --figures lists them`},
		{append([]string{"report", "requests", "--upto", "999"}, ok...), 1, "before event 999"},
		{append([]string{"report", "requests", "--data", filepath.Join(dir, "none")}, ok...), 1, "no docket database"},
	} {
		_, err := run(t, env, tc.args...)
		code, msg := exitStatus(err)
		if code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("docket %s: exit %d %q, want exit %d and %q", strings.Join(tc.args, " "), code, msg, tc.code, tc.msg)
		}
	}
}
