package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// smallTables may be read whole: they hold a handful of rows whatever the traffic.
var smallTables = map[string]bool{"authorities": true, "users": true, "audit_head": true, "schema_migrations": true, "case_counts": true}

// wholeReads are the queries allowed to read a large table whole, each with the reason it is
// not on a hot path.
var wholeReads = map[string]string{
	`SELECT c.authority_id, t.kind, t.value FROM targets t CROSS JOIN cases c WHERE`: "the filter of open cases' keys is loaded once, at start (Store.RelatedKeys with no lower bound)",
}

// TestHotPathsUseIndexes runs the hot paths — intake with and without idempotency keys, the
// idempotency look-up of the API, related-case joining, the console's and the portal's queue
// pages and their counts, full-text search, the clock sweep and the job claim — against a
// seeded store,
// collects every query they send, and asks the engine for each one's plan: a full scan of a
// table that grows with traffic fails the test. On SQLite the plan is EXPLAIN QUERY PLAN
// without statistics (the planner assumes large tables, as in a store that was never
// analysed); on PostgreSQL it is the generic plan (the one a prepared statement falls back
// to) with sequential scans disabled, so a Seq Scan left means no index can serve the query.
func TestHotPathsUseIndexes(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := storetest.Open(t, engine)
			ss, ok := store.(*sqlstore.Store)
			if !ok {
				t.Fatalf("%s store is a %T, not a *sqlstore.Store", engine, store)
			}
			var mu sync.Mutex
			seen := map[string]bool{}
			ss.TraceQueries(func(q string) { mu.Lock(); seen[q] = true; mu.Unlock() })
			runHotPaths(ctx, t, store)
			ss.TraceQueries(nil)

			mu.Lock()
			queries := make([]string, 0, len(seen))
			for q := range seen {
				queries = append(queries, q)
			}
			mu.Unlock()
			sort.Strings(queries)
			if len(queries) < 15 {
				t.Fatalf("only %d distinct queries traced; the hot paths did not run", len(queries))
			}
			explained := 0
			for _, q := range queries {
				if !explainable(q) {
					continue
				}
				plan, err := explain(ctx, ss.DB(), engine, q)
				if err != nil {
					t.Errorf("explain %s: %v", oneLine(q), err)
					continue
				}
				explained++
				if allowed(q) {
					continue
				}
				// The queue page in the console's order reads the queue index; the overdue
				// filter sorts only the cases past their deadline, which its index range finds.
				if engine == "sqlite" && strings.Contains(q, "ORDER BY emergency DESC") && !strings.Contains(q, "deadline_at <= ?") && slices.ContainsFunc(plan, func(l string) bool { return strings.Contains(l, "TEMP B-TREE") }) {
					t.Errorf("the queue page sorts every pending case instead of reading an index in its order:\n  query: %s\n  plan:\n    %s", oneLine(q), strings.Join(plan, "\n    "))
				}
				if table := fullScan(engine, plan); table != "" {
					t.Errorf("full scan of %s on %s:\n  query: %s\n  plan:\n    %s", table, engine, oneLine(q), strings.Join(plan, "\n    "))
				}
			}
			t.Logf("%s: %d queries traced, %d plans checked", engine, len(queries), explained)
		})
	}
}

// runHotPaths drives the real workflow on store.
func runHotPaths(ctx context.Context, t *testing.T, store docket.Store) {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc := workflow.New(workflow.Config{Store: store, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	svc.Start(ctx)
	defer svc.Stop()
	a := &docket.Authority{Name: "Police A", Country: "FR", Domains: []string{"police-a.example"}}
	if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	submit := func(i int, key string, emergency bool) *workflow.Result {
		t.Helper()
		raw := fmt.Sprintf(`{"i":%d}`, i)
		res, err := svc.Submit(ctx, &workflow.Submission{
			Channel: docket.ChannelAPI, Authority: a, Raw: []byte(raw), IdempotencyKey: key,
			Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure, Reference: fmt.Sprintf("PV-%d", i%50),
				Emergency: emergency, Description: fmt.Sprintf("Réquisition %d : identité du titulaire du compte @suspect%d", i, i%70),
				Targets: []docket.Target{{Kind: "username", Value: fmt.Sprintf("@suspect%d", i%70)}}},
		})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		return res
	}
	// Intake: with keys (every careful client, every e-mail) and without, concurrently so
	// that receipts share transactions; some join related cases.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 200; i += 4 {
				key := ""
				if i%2 == 0 {
					key = fmt.Sprintf("key-%d", i)
				}
				submit(i, key, i%17 == 0)
			}
		}()
	}
	wg.Wait()
	submit(0, "key-0", false) // a retry: answered from the stored request
	// Notices: a trusted flagger's and the public's, read with their notifiers' standing in
	// the intake transaction; people answer some as manifestly unfounded, which counts
	// each notifier's recent notices (DSA art. 23) and warns or suspends.
	fl, _, err := svc.RegisterFlagger(ctx, "test", workflow.FlaggerSpec{Name: "Hotline", Coordinator: "Arcom (FR)", Areas: []string{"VIOLENCE"}})
	if err != nil {
		t.Fatal(err)
	}
	agent := &docket.User{Email: "agent@platform.example", Role: docket.RoleAgent}
	if _, err := svc.AddUser(ctx, "test", agent); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		sub := &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte(fmt.Sprintf(`{"notice":%d}`, i)),
			Body: docket.RequestBody{Regime: "dsa-art16", RegimeSource: "requester", Kind: docket.KindNotice,
				Description: fmt.Sprintf("Notice %d about post %d", i, i*7919),
				Targets:     []docket.Target{{Kind: "url", Value: fmt.Sprintf("https://platform.example/p/%d", i)}},
				Notifier:    &docket.Notifier{Name: "N", Email: fmt.Sprintf("n%d@example.org", i%3), GoodFaith: true}}}
		if i%4 == 0 {
			sub.Flagger = fl
		}
		res, err := svc.Submit(ctx, sub)
		if err != nil {
			t.Fatalf("notice %d: %v", i, err)
		}
		if res.Unprocessed != nil || i%2 == 1 {
			continue
		}
		for _, a := range []workflow.Action{{Type: workflow.ActDecide, Outcome: docket.OutcomeNotActionable, ReasonCode: docket.ReasonManifestlyUnfounded, Statement: "No."}, {Type: workflow.ActAnswer, Text: "No."}} {
			if _, _, err := svc.Act(ctx, agent, res.Receipt.CaseID, a); err != nil {
				t.Fatalf("notice %d: %s: %v", i, a.Type, err)
			}
		}
	}
	if _, err := store.RequestByIdempotencyKey(ctx, a.ID, "key-2"); err != nil {
		t.Fatalf("idempotency look-up: %v", err)
	}
	if _, _, err := store.RelatedOpenCase(ctx, a.ID, "PV-3", []docket.Target{{Kind: "username", Value: "@suspect3"}}); err != nil {
		t.Fatalf("related case: %v", err)
	}
	// Queue pages: the console's default, emergencies, overdue, search; the portal's list.
	mu.Lock()
	now = now.Add(30 * 24 * time.Hour)
	mu.Unlock()
	for _, f := range []docket.CaseFilter{
		{Sort: "queue", Pending: true, Limit: 200},
		{Sort: "queue", Pending: true, Emergency: true, Limit: 200},
		{Sort: "queue", Pending: true, Overdue: true, Now: clock(), Limit: 200},
		{Sort: "queue", Pending: true, Query: "titulaire suspect3", Limit: 200},
		{AuthorityID: a.ID, Pending: true, Limit: 11},
		{AuthorityID: a.ID, Sort: "-received", Limit: 200},
	} {
		if _, err := store.Cases(ctx, f); err != nil {
			t.Fatalf("cases %+v: %v", f, err)
		}
	}
	// The counts every queue page, the dashboard and the gauges show.
	if _, err := store.Stats(ctx, clock()); err != nil {
		t.Fatalf("stats: %v", err)
	}
	// The corrections the triage learns at start-up.
	if err := store.ScanCorrections(ctx, func(*docket.Event) error { return nil }); err != nil {
		t.Fatalf("corrections: %v", err)
	}
	// The reviews of automated actions counted at start-up.
	if err := store.ScanAutomationReviews(ctx, func(*docket.Event) error { return nil }); err != nil {
		t.Fatalf("automation reviews: %v", err)
	}
	// The clock sweep, then the job claim (the sweep's follow-ups queue jobs).
	if _, err := svc.MarkClocks(ctx); err != nil {
		t.Fatalf("mark clocks: %v", err)
	}
	jobs, err := store.ClaimJobs(ctx, clock(), 10, time.Minute)
	if err != nil {
		t.Fatalf("claim jobs: %v", err)
	}
	for _, j := range jobs {
		if err := store.FinishJob(ctx, j.ID); err != nil {
			t.Fatalf("finish job: %v", err)
		}
	}
	// A case page.
	cs, err := store.Cases(ctx, docket.CaseFilter{Pending: true, Limit: 1})
	if err != nil || len(cs) == 0 {
		t.Fatalf("a case: %v (%d)", err, len(cs))
	}
	if _, err := store.CaseRequests(ctx, cs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CaseEvents(ctx, cs[0].ID); err != nil {
		t.Fatal(err)
	}
	// The log's proofs: a request's inclusion proof, a consistency proof, the heads.
	seq, _, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.InclusionProof(ctx, 17, uint64(seq)); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	if _, err := store.ConsistencyProof(ctx, 101, uint64(seq)); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
	if _, err := store.Event(ctx, 18); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{func() error { _, err := store.LatestTreeHead(ctx); return err }(), func() error { _, err := store.TreeHead(ctx, 101); return err }()} {
		if err != nil && !errors.Is(err, docket.ErrNotFound) {
			t.Fatal(err)
		}
	}
}

// explainable: statements the engines can plan (not DDL, pragmas or transaction control).
func explainable(q string) bool {
	w := strings.ToUpper(strings.Fields(q + " x")[0])
	switch w {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		return true
	}
	return false
}

func explain(ctx context.Context, db *sql.DB, engine, q string) ([]string, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var lines []string
	switch engine {
	case "sqlite":
		args := make([]any, strings.Count(q, "?"))
		rows, err := conn.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return nil, err
			}
			lines = append(lines, detail)
		}
		return lines, rows.Err()
	case "postgres":
		// The generic plan of the statement, prepared as a client prepares it, with
		// sequential scans priced out: any Seq Scan left has no index to use instead.
		err := conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			if _, err := pc.Exec(ctx, `SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off`); err != nil {
				return err
			}
			defer pc.Exec(ctx, `RESET plan_cache_mode; RESET enable_seqscan`)
			const name = "docket_plan_guard"
			sd, err := pc.Prepare(ctx, name, q)
			if err != nil {
				return err
			}
			defer pc.Deallocate(ctx, name)
			nulls := strings.TrimSuffix(strings.Repeat("NULL,", len(sd.ParamOIDs)), ",")
			exec := "EXPLAIN EXECUTE " + name
			if nulls != "" {
				exec += "(" + nulls + ")"
			}
			rows, err := pc.Query(ctx, exec)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				lines = append(lines, line)
			}
			return rows.Err()
		})
		return lines, err
	}
	return nil, fmt.Errorf("unknown engine %q", engine)
}

var (
	sqliteScan = regexp.MustCompile(`^SCAN (\w+)( AS \w+)?$`)
	pgSeqScan  = regexp.MustCompile(`Seq Scan on (\w+)`)
)

func allowed(q string) bool {
	for prefix := range wholeReads {
		if strings.HasPrefix(oneLine(q), prefix) {
			return true
		}
	}
	return false
}

// fullScan returns the large table a plan reads whole, or "". On SQLite, the scan of a
// subquery's result (a co-routine or a materialised view, named in the plan) is no table.
func fullScan(engine string, plan []string) string {
	subqueries := map[string]bool{}
	for _, line := range plan {
		if f := strings.Fields(line); len(f) == 2 && (f[0] == "CO-ROUTINE" || f[0] == "MATERIALIZE") {
			subqueries[f[1]] = true
		}
	}
	for _, line := range plan {
		var m []string
		if engine == "sqlite" {
			m = sqliteScan.FindStringSubmatch(strings.TrimSpace(line))
		} else {
			m = pgSeqScan.FindStringSubmatch(line)
		}
		if m != nil && !smallTables[m[1]] && !subqueries[m[1]] {
			return m[1]
		}
	}
	return ""
}

func oneLine(q string) string { return strings.Join(strings.Fields(q), " ") }

// TestFullScanDetector: the guard recognises the plans it must refuse (it would pass
// vacuously otherwise).
func TestFullScanDetector(t *testing.T) {
	for _, tt := range []struct {
		engine string
		plan   []string
		want   string
	}{
		{"sqlite", []string{"SCAN requests"}, "requests"},
		{"sqlite", []string{"SEARCH requests USING INDEX requests_idempotency (authority_id=? AND idempotency_key=?)"}, ""},
		{"sqlite", []string{"SCAN c", "SEARCH t USING INDEX targets_case (case_id=?)"}, "c"},
		{"sqlite", []string{"SCAN users"}, ""},
		{"sqlite", []string{"CO-ROUTINE r", "SEARCH cases USING INDEX cases_authority (authority_id=?)", "SCAN r"}, ""},
		{"sqlite", []string{"SCAN request_search VIRTUAL TABLE INDEX 0:M2"}, ""},
		{"postgres", []string{"Limit  (cost=0.00..1.00 rows=1 width=8)", "  ->  Seq Scan on requests  (cost=10000000000.00..1.00 rows=1 width=8)"}, "requests"},
		{"postgres", []string{"Index Scan using requests_idempotency on requests"}, ""},
	} {
		if got := fullScan(tt.engine, tt.plan); got != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.engine, tt.plan, got, tt.want)
		}
	}
}

// BenchmarkKeyedLookup times the idempotency look-up every keyed request and every e-mail
// makes, and the console's queue page, on SQLite stores holding more and more requests:
// with their indexes they stay flat.
//
//	go test -run XXX -bench KeyedLookup ./sqlstore/
func BenchmarkKeyedLookup(b *testing.B) {
	for _, n := range []int{1000, 22000} {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			ctx := context.Background()
			store := storetest.Open(b, "sqlite")
			svc := workflow.New(workflow.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			svc.Start(ctx)
			defer svc.Stop()
			a := &docket.Authority{Name: "Police A", Country: "FR"}
			if _, err := svc.RegisterAuthority(ctx, "bench", a); err != nil {
				b.Fatal(err)
			}
			pad := strings.Repeat("réquisition ", 100) // a letter's size (1.2 KB)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 8 {
						if _, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Raw: fmt.Appendf(nil, "%d %s", i, pad),
							IdempotencyKey: fmt.Sprintf("key-%d", i), Body: docket.RequestBody{Regime: "fr-requisition", Kind: docket.KindDisclosure}}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.Run("queue-page", func(b *testing.B) {
				// The console's first page: 200 pending cases, emergencies first, by deadline.
				for b.Loop() {
					if _, err := store.Cases(ctx, docket.CaseFilter{Sort: "queue", Pending: true, Limit: 200}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("stats", func(b *testing.B) {
				// The counts the queue page, the dashboard, /api/v1/stats and the gauges show.
				for b.Loop() {
					if _, err := store.Stats(ctx, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("read", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if _, err := store.RequestByIdempotencyKey(ctx, a.ID, fmt.Sprintf("key-%d", i%n)); err != nil {
						b.Fatal(err)
					}
				}
			})
			// In the committer's transaction, as intake looks it up before storing.
			b.Run("tx", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					if err := store.Update(ctx, func(tx docket.Tx) error {
						_, err := tx.RequestByIdempotencyKey(ctx, a.ID, fmt.Sprintf("key-%d", i%n))
						return err
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
