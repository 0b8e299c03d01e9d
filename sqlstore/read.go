package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// readStmt returns q prepared on the read pool, once, when the driver does not cache
// statements itself (SQLite would parse each query on every call otherwise).
func (s *Store) readStmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.readStmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.read.PrepareContext(ctx, s.rebind(q))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.readStmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	if s.snap != nil {
		return s.snap.QueryRowContext(ctx, s.rebind(q), args...)
	}
	if s.d.CachesStatements {
		return s.read.QueryRowContext(ctx, s.rebind(q), args...)
	}
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if s.snap != nil {
		return s.snap.QueryContext(ctx, s.rebind(q), args...)
	}
	if s.d.CachesStatements {
		return s.read.QueryContext(ctx, s.rebind(q), args...)
	}
	st, err := s.readStmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func notFoundOr(err error, what string) error {
	if err == nil || errors.Is(err, docket.ErrNotFound) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Case returns one case.
func (s *Store) Case(ctx context.Context, id string) (*docket.Case, error) {
	c, err := scanCase(s.queryRow(ctx, `SELECT doc FROM cases WHERE id = ?`, id))
	if err == nil {
		err = sameCase(c, id)
	}
	return c, notFoundOr(err, "read case "+id)
}

// Cases lists cases matching f.
func (s *Store) Cases(ctx context.Context, f docket.CaseFilter) ([]*docket.Case, error) {
	q := `SELECT doc FROM cases WHERE 1 = 1`
	var args []any
	if len(f.States) > 0 {
		q += ` AND state IN (` + placeholders(len(f.States)) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	for _, eq := range []struct{ col, val string }{{"queue", f.Queue}, {"regime", f.Regime}, {"authority_id", f.AuthorityID}, {"assignee_id", f.AssigneeID}} {
		if eq.val != "" {
			q += ` AND ` + eq.col + ` = ?`
			args = append(args, eq.val)
		}
	}
	if f.Country != "" {
		q += ` AND country = ?`
		args = append(args, f.Country)
	}
	if f.Pending {
		q += ` AND pending = 1`
	}
	if f.Emergency {
		q += ` AND emergency = 1`
	}
	if strings.TrimSpace(f.Query) != "" {
		q += ` AND id IN (SELECT case_id FROM requests WHERE id IN (SELECT request_id FROM request_search WHERE ` + s.d.Search + `))`
		args = append(args, s.d.SearchArg(f.Query))
	}
	if f.Overdue {
		q += ` AND pending = 1 AND paused_at = 0 AND deadline_at > 0 AND deadline_at <= ?`
		args = append(args, docket.Micros(f.Now))
	}
	switch f.Sort {
	case "received":
		q += ` ORDER BY received_at, id`
	case "-received":
		q += ` ORDER BY received_at DESC, id DESC`
	case "queue":
		// The console's order: emergencies first, then by deadline (docket.QueueKey, which
		// docket sim orders by too; the sim's tests check that both agree).
		q += ` ORDER BY emergency DESC, CASE WHEN deadline_at = 0 THEN 1 ELSE 0 END, deadline_at, priority DESC, id`
	default:
		q += ` ORDER BY CASE WHEN deadline_at = 0 THEN 1 ELSE 0 END, deadline_at, priority DESC, id`
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q += ` LIMIT ? OFFSET ?`
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	return collectCases(rows)
}

// Request returns one request with its raw body.
func (s *Store) Request(ctx context.Context, id string) (*docket.Request, error) {
	r, err := scanRequest(s.queryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE id = ?`, id))
	return r, notFoundOr(err, "read request "+id)
}

// RequestByIdempotencyKey finds the request an authority sent with this key.
//
// The query repeats, as a literal, the partial unique index's condition (the key is not
// empty): without it, SQLite (and PostgreSQL's generic plan) cannot prove that a bound key satisfies
// the index's condition and reads the whole table (sqlstore/plan_test.go guards this).
func (s *Store) RequestByIdempotencyKey(ctx context.Context, authorityID, key string) (*docket.Request, error) {
	r, err := scanRequest(s.queryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE authority_id = ? AND idempotency_key = ? AND idempotency_key <> ''`, authorityID, key))
	return r, notFoundOr(err, "find request by idempotency key")
}

// RelatedOpenCase finds the oldest pending case of the same requester with the same
// reference or naming one of the targets, in one query.
func (s *Store) RelatedOpenCase(ctx context.Context, authorityID, reference string, targets []docket.Target) (*docket.Case, string, error) {
	if reference == "" && len(targets) == 0 {
		return nil, "", docket.ErrNotFound
	}
	const maxTargets = 16 // more are rare; the first ones decide
	targets = targets[:min(len(targets), maxTargets)]
	// One branch per key, each stopping at its first pending case (in index order, which
	// is the order of insertion on SQLite), so that a key shared by thousands of requests
	// costs no more than a rare one.
	var branches []string
	var args []any
	if reference != "" {
		branches = append(branches, `SELECT id, received_at, why FROM (SELECT id, received_at, 'same reference ' || reference AS why FROM cases
			WHERE authority_id = ? AND reference = ? AND pending = 1 LIMIT 1) AS r`)
		args = append(args, authorityID, reference)
	}
	for i, tg := range targets {
		branches = append(branches, fmt.Sprintf(`SELECT id, received_at, why FROM (SELECT c.id, c.received_at, 'names ' || t.kind || ' ' || t.value || ' too' AS why
			FROM targets t JOIN cases c ON c.id = t.case_id WHERE t.kind = ? AND t.value = ? AND c.authority_id = ? AND c.pending = 1 LIMIT 1) AS t%d`, i))
		args = append(args, tg.Kind, tg.Value, authorityID)
	}
	var q strings.Builder
	q.WriteString(`SELECT id, why FROM (`)
	q.WriteString(strings.Join(branches, " UNION ALL "))
	q.WriteString(`) AS related ORDER BY received_at LIMIT 1`)
	var id, why string
	if err := s.queryRow(ctx, q.String(), args...).Scan(&id, &why); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", docket.ErrNotFound
		}
		return nil, "", fmt.Errorf("related case: %w", err)
	}
	return &docket.Case{ID: id}, why, nil
}

// FirstRequest returns the request that opened a case.
func (s *Store) FirstRequest(ctx context.Context, caseID string) (*docket.Request, error) {
	r, err := scanRequest(s.queryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE case_id = ? ORDER BY received_at, id LIMIT 1`, caseID))
	return r, notFoundOr(err, "first request of case "+caseID)
}

// RelatedKeys lists the references and targets of pending cases received since a time.
func (s *Store) RelatedKeys(ctx context.Context, since time.Time, fn func(authorityID, kind, value string) error) error {
	us := docket.Micros(since)
	err := s.scanAllArgs(ctx, "references", `SELECT authority_id, reference FROM cases WHERE pending = 1 AND received_at >= ? AND reference <> ''`, []any{us}, func(rows *sql.Rows) error {
		var a, ref string
		if err := rows.Scan(&a, &ref); err != nil {
			return err
		}
		return fn(a, "reference", ref)
	})
	if err != nil {
		return err
	}
	// All pending cases: read the targets in order and each one's case by its key. Recent
	// cases: find them by time of receipt, then their targets (PostgreSQL has the index).
	q := `SELECT c.authority_id, t.kind, t.value FROM targets t CROSS JOIN cases c WHERE c.id = t.case_id AND c.pending = 1 AND c.received_at >= ?`
	if !since.IsZero() {
		q = `SELECT c.authority_id, t.kind, t.value FROM cases c JOIN targets t ON t.case_id = c.id WHERE c.pending = 1 AND c.received_at >= ?`
	}
	return s.scanAllArgs(ctx, "targets", q, []any{us}, func(rows *sql.Rows) error {
		var a, kind, value string
		if err := rows.Scan(&a, &kind, &value); err != nil {
			return err
		}
		return fn(a, kind, value)
	})
}

// CaseRequests returns the requests of a case in order of receipt.
func (s *Store) CaseRequests(ctx context.Context, caseID string) ([]*docket.Request, error) {
	rows, err := s.query(ctx, `SELECT `+requestCols+` FROM requests WHERE case_id = ? ORDER BY received_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list requests of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []*docket.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("list requests of case %s: %w", caseID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const eventCols = `seq, case_id, type, actor, at, data, prev_hash, hash`

func scanEvent(r rowScanner) (*docket.Event, error) {
	var e docket.Event
	var at int64
	var typ, actor, data string
	if err := r.Scan(&e.Seq, &e.CaseID, &typ, &actor, &at, &data, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.Type, e.Actor, e.At, e.Data = docket.EventType(typ), docket.Actor(actor), docket.FromMicros(at), json.RawMessage(data)
	return &e, nil
}

// CaseEvents returns the events of a case in order.
func (s *Store) CaseEvents(ctx context.Context, caseID string) ([]*docket.Event, error) {
	rows, err := s.query(ctx, `SELECT `+eventCols+` FROM events WHERE case_id = ? ORDER BY seq`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list events of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []*docket.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events of case %s: %w", caseID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Blob returns an attachment's content.
func (s *Store) Blob(ctx context.Context, sum string) (*docket.Blob, error) {
	b := &docket.Blob{SHA256: sum}
	if err := s.queryRow(ctx, `SELECT data FROM blobs WHERE sha256 = ?`, sum).Scan(&b.Data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, fmt.Errorf("read blob %s: %w", sum, err)
	}
	return b, nil
}

// Stats counts cases by state and clock.
func (s *Store) Stats(ctx context.Context, now time.Time) (*docket.Stats, error) {
	st := &docket.Stats{ByState: map[string]int{}}
	// The counts by state are kept by the database as cases change (case_counts); reading
	// them costs the same whatever the number of cases.
	rows, err := s.query(ctx, `SELECT state, n FROM case_counts WHERE n <> 0`)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stats: %w", err)
		}
		st.ByState[state] = n
		if docket.CaseState(state).Pending() {
			st.Open += n
		}
	}
	rows.Close()
	us := docket.Micros(now)
	// Each count reads only the cases it counts, through an index: overdue and due soon
	// through the pending cases' deadlines, emergencies through the queue's index, paused
	// through its own partial index. A queue of any length costs what is late, due,
	// paused or urgent in it.
	for _, c := range []struct {
		n    *int
		what string
		q    string
		args []any
	}{
		{&st.Overdue, "overdue", `SELECT COUNT(*) FROM cases WHERE pending = 1 AND deadline_at > 0 AND deadline_at <= ? AND paused_at = 0`, []any{us}},
		{&st.DueSoon, "due soon", `SELECT COUNT(*) FROM cases WHERE pending = 1 AND due_soon_at > 0 AND due_soon_at <= ? AND deadline_at > ? AND paused_at = 0`, []any{us, us}},
		{&st.Paused, "paused", `SELECT COUNT(*) FROM cases WHERE pending = 1 AND paused_at > 0`, nil},
		{&st.Emergencies, "emergencies", `SELECT COUNT(*) FROM cases WHERE pending = 1 AND emergency = 1`, nil},
	} {
		if err := s.queryRow(ctx, c.q, c.args...).Scan(c.n); err != nil {
			return nil, fmt.Errorf("stats: %s: %w", c.what, err)
		}
	}
	if st.Overdue > 0 {
		if err := s.queryRow(ctx, `SELECT id FROM cases WHERE pending = 1 AND paused_at = 0 AND deadline_at > 0 AND deadline_at <= ? ORDER BY deadline_at LIMIT 1`, us).Scan(&st.OldestOverdueCase); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("stats: oldest overdue: %w", err)
		}
	}
	if err := s.queryRow(ctx, `SELECT
		COALESCE(SUM(CASE WHEN state <> 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) FROM jobs`).Scan(&st.JobsWaiting, &st.JobsFailed); err != nil {
		return nil, fmt.Errorf("stats: jobs: %w", err)
	}
	// Both counts read the index on (state, next_at): what is accepted is never counted.
	if err := s.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM statements WHERE state = 'pending'),
		(SELECT COUNT(*) FROM statements WHERE state = 'refused')`).Scan(&st.StatementsPending, &st.StatementsRefused); err != nil {
		return nil, fmt.Errorf("stats: statements: %w", err)
	}
	return st, nil
}

func scanAuthority(r rowScanner) (*docket.Authority, error) {
	var a docket.Authority
	var domains string
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &a.Country, &a.Kind, &domains, &a.AgeRecipient, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	a.CreatedAt = docket.FromMicros(created)
	if err := json.Unmarshal([]byte(domains), &a.Domains); err != nil {
		return nil, fmt.Errorf("decode authority domains: %w", err)
	}
	return &a, nil
}

// Authority returns one authority.
func (s *Store) Authority(ctx context.Context, id string) (*docket.Authority, error) {
	a, err := scanAuthority(s.queryRow(ctx, `SELECT id, name, country, kind, domains, age_recipient, created_at FROM authorities WHERE id = ?`, id))
	return a, notFoundOr(err, "read authority")
}

// AuthorityByToken returns the authority whose token hashes to tokenHash.
func (s *Store) AuthorityByToken(ctx context.Context, tokenHash string) (*docket.Authority, error) {
	a, err := scanAuthority(s.queryRow(ctx, `SELECT id, name, country, kind, domains, age_recipient, created_at FROM authorities WHERE token_hash = ?`, tokenHash))
	return a, notFoundOr(err, "find authority by token")
}

func scanUser(r rowScanner) (*docket.User, error) {
	var u docket.User
	var role string
	var created int64
	if err := r.Scan(&u.ID, &u.Email, &role, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	u.Role, u.CreatedAt = docket.Role(role), docket.FromMicros(created)
	return &u, nil
}

// User returns one staff member.
func (s *Store) User(ctx context.Context, id string) (*docket.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT id, email, role, created_at FROM users WHERE id = ?`, id))
	return u, notFoundOr(err, "read user")
}

// UserByToken returns the staff member whose token hashes to tokenHash.
func (s *Store) UserByToken(ctx context.Context, tokenHash string) (*docket.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT id, email, role, created_at FROM users WHERE token_hash = ?`, tokenHash))
	return u, notFoundOr(err, "find user by token")
}

// scanAll runs q and calls each for every row; what is scanned is each's business.
func (s *Store) scanAll(ctx context.Context, what, q string, each func(*sql.Rows) error) error {
	return s.scanAllArgs(ctx, what, q, nil, each)
}

func (s *Store) scanAllArgs(ctx context.Context, what, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", what, err)
	}
	return nil
}

// ScanEvents calls fn for every event in Seq order.
func (s *Store) ScanEvents(ctx context.Context, fn func(*docket.Event) error) error {
	return s.scanAll(ctx, "events", `SELECT `+eventCols+` FROM events ORDER BY seq`, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("scan events: %w", err)
		}
		return fn(e)
	})
}

// ScanCorrections calls fn for every retriaged event (people's corrections of the
// triage), in Seq order, through their partial index.
func (s *Store) ScanCorrections(ctx context.Context, fn func(*docket.Event) error) error {
	return s.scanAll(ctx, "events", `SELECT `+eventCols+` FROM events WHERE type = 'retriaged' ORDER BY seq`, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("scan corrections: %w", err)
		}
		return fn(e)
	})
}

// ScanAutomationReviews calls fn for every automation_reviewed and rule_shadowed event, in
// Seq order (through the partial index events_automation).
func (s *Store) ScanAutomationReviews(ctx context.Context, fn func(*docket.Event) error) error {
	return s.scanAll(ctx, "events", `SELECT `+eventCols+` FROM events WHERE type IN ('automation_reviewed', 'rule_shadowed') ORDER BY seq`, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("scan automation reviews: %w", err)
		}
		return fn(e)
	})
}

// ScanCases calls fn for every case.
func (s *Store) ScanCases(ctx context.Context, fn func(*docket.Case) error) error {
	return s.scanAll(ctx, "cases", `SELECT doc FROM cases`, func(rows *sql.Rows) error {
		c, err := scanCase(rows)
		if err != nil {
			return fmt.Errorf("scan cases: %w", err)
		}
		return fn(c)
	})
}

// ScanCaseDocs calls fn for every case with its stored JSON encoding (for the audit).
func (s *Store) ScanCaseDocs(ctx context.Context, fn func(id string, doc []byte) error) error {
	return s.scanAll(ctx, "cases", `SELECT id, doc FROM cases`, func(rows *sql.Rows) error {
		var id string
		var doc []byte
		if err := rows.Scan(&id, &doc); err != nil {
			return fmt.Errorf("scan cases: %w", err)
		}
		return fn(id, doc)
	})
}

// ScanRequests calls fn for every request, with its raw body but not its decoded Body.
func (s *Store) ScanRequests(ctx context.Context, fn func(*docket.Request) error) error {
	return s.scanAll(ctx, "requests", `SELECT id, case_id, sha256, raw FROM requests`, func(rows *sql.Rows) error {
		var r docket.Request
		if err := rows.Scan(&r.ID, &r.CaseID, &r.SHA256, &r.Raw); err != nil {
			return fmt.Errorf("scan requests: %w", err)
		}
		return fn(&r)
	})
}

// Head returns the recorded end of the audit chain.
func (s *Store) Head(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	if err := s.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash); err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", err)
	}
	return seq, hash, nil
}

// Authorities returns every registered authority.
func (s *Store) Authorities(ctx context.Context) ([]*docket.Authority, error) {
	rows, err := s.query(ctx, `SELECT id, name, country, kind, domains, age_recipient, created_at FROM authorities ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list authorities: %w", err)
	}
	defer rows.Close()
	var out []*docket.Authority
	for rows.Next() {
		a, err := scanAuthority(rows)
		if err != nil {
			return nil, fmt.Errorf("list authorities: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// RequestByKey returns the earliest request stored with the key (kind, value) among its
// targets or keys.
func (s *Store) RequestByKey(ctx context.Context, kind, value string) (*docket.Request, error) {
	var id string
	err := s.queryRow(ctx, `SELECT r.id FROM targets t JOIN requests r ON r.id = t.request_id
		WHERE t.kind = ? AND t.value = ? ORDER BY r.received_at, r.id LIMIT 1`, kind, value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, docket.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("find request by %s: %w", kind, err)
	}
	return s.Request(ctx, id)
}
