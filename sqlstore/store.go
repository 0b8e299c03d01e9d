package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/translog"
)

// Store implements docket.Store. Writes go through one pool (on SQLite a single connection),
// reads through another.
type Store struct {
	write, read *sql.DB
	d           *Dialect
	onClose     []func()
	// inserts holds the multi-row INSERTs prepared once, when the driver does not cache
	// statements itself; readStmts the reads, prepared on first use.
	inserts   map[string]*sql.Stmt
	readStmts sync.Map
	// trace, when set, sees every query the store prepares or runs (see TraceQueries).
	trace atomic.Pointer[func(query string)]
	// snap, when set, is the read-only transaction every read goes through (see Snapshot).
	snap *sql.Tx
	// signer, when set, signs the tree head of every write transaction (see SetSigner).
	signer atomic.Pointer[treeSigner]
}

var _ docket.Store = (*Store)(nil)

// New returns a Store over already-migrated databases; read may be the same pool as write.
func New(ctx context.Context, write, read *sql.DB, d *Dialect) (*Store, error) {
	s := &Store{write: write, read: read, d: d}
	if !d.CachesStatements {
		var err error
		if s.inserts, err = prepareInserts(ctx, write, d); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Snapshot returns a view of the store whose reads all see one consistent state of the
// database — a read-only REPEATABLE READ transaction on PostgreSQL, one read transaction on
// SQLite — and the function that ends it. audit verify reads through it, so that a server
// writing meanwhile cannot make one table disagree with another. The view only reads: end
// it with the function returned, not with Close.
func (s *Store) Snapshot(ctx context.Context) (*Store, func() error, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.d.Numbered {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("begin a read-only snapshot: %w", err)
	}
	return &Store{write: s.write, read: s.read, d: s.d, snap: tx}, tx.Rollback, nil
}

// OnClose registers fn to run first when the store closes (engines stop their helpers).
func (s *Store) OnClose(fn func()) { s.onClose = append(s.onClose, fn) }

// Close closes both pools.
func (s *Store) Close() error {
	for _, fn := range s.onClose {
		fn()
	}
	for _, st := range s.inserts {
		st.Close()
	}
	s.readStmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.write.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name, err)
	}
	return nil
}

// Rebind rewrites ? placeholders for the store's engine.
func (s *Store) Rebind(q string) string { return s.d.Rebind(q) }

// TraceQueries calls fn with every query the store runs from now on, as sent to the engine
// (a statement prepared once is seen once). The query-plan guard test uses it to find the
// queries of the hot paths; nil stops tracing.
func (s *Store) TraceQueries(fn func(query string)) {
	if fn == nil {
		s.trace.Store(nil)
		return
	}
	s.trace.Store(&fn)
}

// rebind is Rebind for the store's own queries: it also shows them to the tracer.
func (s *Store) rebind(q string) string {
	q = s.d.Rebind(q)
	if fn := s.trace.Load(); fn != nil {
		(*fn)(q)
	}
	return q
}

// DB returns the write pool, for tests and tools that need raw access.
func (s *Store) DB() *sql.DB { return s.write }

// Update runs fn in a write transaction that holds the audit head for its whole length.
// When fn appended events, the transaction also moves the Merkle tree's compact range with
// the head and, when the store has a signer, signs one tree head for all of them.
func (s *Store) Update(ctx context.Context, fn func(docket.Tx) error) error {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer sqlTx.Rollback()
	t := &tx{s: s, tx: sqlTx, stmts: map[string]*sql.Stmt{}}
	var frontier []byte
	if err := t.queryRow(ctx, `SELECT seq, hash, frontier FROM audit_head WHERE id = 1`+s.d.ForUpdate).Scan(&t.headSeq, &t.headHash, &frontier); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	if err := t.openTree(frontier); err != nil {
		return err
	}
	startSeq := t.headSeq
	if err := fn(t); err != nil {
		return err
	}
	if t.headSeq != startSeq {
		t.signTree()
	}
	if err := t.flush(ctx); err != nil {
		return err
	}
	if t.headSeq != startSeq {
		if err := t.moveHead(ctx); err != nil {
			return err
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	t.log.committed = true
	return nil
}

type tx struct {
	s        *Store
	tx       *sql.Tx
	headSeq  int64
	headHash string
	// stmts holds the statements prepared in this transaction, so that a batch of many
	// receipts prepares each statement once.
	stmts map[string]*sql.Stmt
	buf   buffers
	// tree is the event log's Merkle tree as the transaction leaves it (its compact range);
	// log what the transaction's events did to it (see tree.go).
	tree *translog.Range
	log  *logCommit
	// nodes and headKey wait for moveHead when the engine takes arrays (Dialect.Arrays).
	nodes   pendingNodes
	headKey string
}

func (t *tx) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(ctx, t.s.rebind(q))
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", q, err)
	}
	t.stmts[q] = st
	return st, nil
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.s.d.CachesStatements {
		return t.tx.ExecContext(ctx, t.s.rebind(q), args...)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

type rowScanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *tx) queryRow(ctx context.Context, q string, args ...any) rowScanner {
	if t.s.d.CachesStatements {
		return t.tx.QueryRowContext(ctx, t.s.rebind(q), args...)
	}
	st, err := t.stmt(ctx, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.rebind(q), args...)
}

func (t *tx) Append(ctx context.Context, e *docket.Event) error {
	audit.Seal(t.headSeq, t.headHash, e)
	if err := t.appendLeaf(e); err != nil {
		return err
	}
	t.buf.add(tabEvents, e.Seq, e.CaseID, string(e.Type), string(e.Actor), docket.Micros(e.At), string(e.Data), e.PrevHash, e.Hash)
	t.headSeq, t.headHash = e.Seq, e.Hash
	return nil
}

func (t *tx) InsertRequest(ctx context.Context, r *docket.Request) error {
	body, err := json.Marshal(r.Body)
	if err != nil {
		return fmt.Errorf("insert request: marshal body: %w", err)
	}
	if r.IdempotencyKey != "" {
		k := r.AuthorityID + "\x00" + r.IdempotencyKey
		if t.buf.pending[k] != nil {
			return docket.Errorf(docket.ECONFLICT, "A request with this idempotency key already exists.")
		}
		if t.buf.pending == nil {
			t.buf.pending = map[string]*docket.Request{}
		}
		t.buf.pending[k] = r
	}
	if t.buf.related == nil {
		t.buf.related = map[string]string{}
	}
	if r.Body.Reference != "" {
		t.buf.related[relatedRef(r.AuthorityID, r.Body.Reference)] = r.CaseID
	}
	for _, tg := range r.Body.Targets {
		t.buf.related[relatedTarget(r.AuthorityID, tg)] = r.CaseID
	}
	for _, k := range r.Keys {
		t.buf.related[relatedTarget(r.AuthorityID, k)] = r.CaseID
	}
	t.buf.add(tabRequests, r.ID, r.CaseID, r.Channel, r.AuthorityID, docket.Micros(r.ReceivedAt), r.SHA256, r.ContentType, r.IdempotencyKey, r.Raw, string(body), r.Seq)
	for _, tg := range r.Body.Targets {
		t.buf.add(tabTargets, r.CaseID, r.ID, tg.Kind, tg.Value)
	}
	for _, k := range r.Keys {
		t.buf.add(tabTargets, r.CaseID, r.ID, k.Kind, k.Value)
	}
	t.buf.add(tabSearch, r.ID, docket.SearchText(r))
	return nil
}

// DeleteBlob deletes stored bytes (a released hold's snapshot).
func (t *tx) DeleteBlob(ctx context.Context, sha256 string) error {
	if _, err := t.exec(ctx, `DELETE FROM blobs WHERE sha256 = ?`, sha256); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

func (t *tx) InsertBlob(ctx context.Context, b *docket.Blob) error {
	if t.buf.blobs[b.SHA256] {
		return nil // content-addressed: the same bytes are stored once
	}
	if t.buf.blobs == nil {
		t.buf.blobs = map[string]bool{}
	}
	t.buf.blobs[b.SHA256] = true
	t.buf.add(tabBlobs, b.SHA256, len(b.Data), b.Data)
	return nil
}

const requestCols = `id, case_id, channel, authority_id, received_at, sha256, content_type, raw, body, seq`

func scanRequest(r rowScanner) (*docket.Request, error) {
	var req docket.Request
	var received int64
	var body string
	if err := r.Scan(&req.ID, &req.CaseID, &req.Channel, &req.AuthorityID, &received, &req.SHA256, &req.ContentType, &req.Raw, &body, &req.Seq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	req.ReceivedAt = docket.FromMicros(received)
	if err := json.Unmarshal([]byte(body), &req.Body); err != nil {
		return nil, fmt.Errorf("decode request %s: %w", req.ID, err)
	}
	return &req, nil
}

func (t *tx) RequestByIdempotencyKey(ctx context.Context, authorityID, key string) (*docket.Request, error) {
	if r := t.buf.pending[authorityID+"\x00"+key]; r != nil {
		return r, nil
	}
	// Buffered requests are not in the database yet, and were checked just above. The
	// literal condition lets the engine use the partial index (see Store.RequestByIdempotencyKey).
	r, err := scanRequest(t.queryRow(ctx, `SELECT `+requestCols+` FROM requests WHERE authority_id = ? AND idempotency_key = ? AND idempotency_key <> ''`, authorityID, key))
	if err != nil && !errors.Is(err, docket.ErrNotFound) {
		return nil, fmt.Errorf("find request by idempotency key: %w", err)
	}
	return r, err
}

// caseArgs are the values of a case's row, in the order of the columns of bufferedTables'
// cases and of UpdateCase: the index columns (caseIndexArgs) with the document after the
// 16th, and the id last.
func caseArgs(c *docket.Case) ([]any, error) {
	doc, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("marshal case: %w", err)
	}
	idx := caseIndexArgs(c)
	args := make([]any, 0, len(idx)+2)
	args = append(args, idx[:16]...)
	args = append(args, string(doc))
	args = append(args, idx[16:]...)
	return append(args, c.ID), nil
}

// caseIndexArgs are the values of a case's index columns (caseIndexCols): what lists,
// stats and the overdue gauge read instead of the document.
func caseIndexArgs(c *docket.Case) []any {
	return []any{
		string(c.State), b2i(c.State.Pending()), c.Regime, c.Queue, c.Priority, b2i(c.Emergency),
		c.AuthorityID, c.AssigneeID, c.Reference, docket.Micros(c.ReceivedAt), docket.Micros(c.DeadlineAt),
		docket.Micros(c.DueSoonAt), docket.Micros(c.PausedAt), b2i(c.DueSoon), b2i(c.Overdue),
		docket.Micros(c.UpdatedAt), c.Country, docket.Micros(c.AcknowledgedAt), docket.Micros(answeredAt(c)),
	}
}

// answeredAt is when the case was answered for good (a question to the requester is not
// an answer).
func answeredAt(c *docket.Case) time.Time {
	if c.Answer == nil || c.State != docket.StateAnswered {
		return time.Time{}
	}
	return c.Answer.AnsweredAt
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (t *tx) InsertCase(ctx context.Context, c *docket.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	t.buf.add(tabCases, args...)
	if t.buf.cases == nil {
		t.buf.cases = map[string]*docket.Case{}
	}
	t.buf.cases[c.ID] = c
	return nil
}

func (t *tx) MoveRequests(ctx context.Context, from, to string, ids []string) ([]string, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	if ids == nil {
		rows, err := t.query(ctx, `SELECT id FROM requests WHERE case_id = ? ORDER BY received_at, id`, from)
		if err != nil {
			return nil, fmt.Errorf("list the requests of case %s: %w", from, err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, fmt.Errorf("list the requests of case %s: %w", from, err)
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("list the requests of case %s: %w", from, err)
		}
		rows.Close()
	}
	for _, id := range ids {
		res, err := t.exec(ctx, `UPDATE requests SET case_id = ? WHERE id = ? AND case_id = ?`, to, id, from)
		if err != nil {
			return nil, fmt.Errorf("move request %s to case %s: %w", id, to, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, fmt.Errorf("move request %s: not a request of case %s: %w", id, from, docket.ErrNotFound)
		}
		if _, err := t.exec(ctx, `UPDATE targets SET case_id = ? WHERE case_id = ? AND request_id = ?`, to, from, id); err != nil {
			return nil, fmt.Errorf("move the targets of request %s to case %s: %w", id, to, err)
		}
	}
	return ids, nil
}

func (t *tx) UpdateCase(ctx context.Context, c *docket.Case) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE cases SET state = ?, pending = ?, regime = ?, queue = ?, priority = ?, emergency = ?, authority_id = ?, assignee_id = ?, reference = ?, received_at = ?, deadline_at = ?, due_soon_at = ?, paused_at = ?, due_soon_marked = ?, overdue_marked = ?, updated_at = ?, doc = ?, country = ?, acknowledged_at = ?, answered_at = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("update case %s: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return docket.ErrNotFound
	}
	return nil
}

func scanCase(r rowScanner) (*docket.Case, error) {
	var doc string
	if err := r.Scan(&doc); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	var c docket.Case
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return nil, fmt.Errorf("decode case: %w", err)
	}
	return &c, nil
}

func (t *tx) Case(ctx context.Context, id string) (*docket.Case, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	c, err := scanCase(t.queryRow(ctx, `SELECT doc FROM cases WHERE id = ?`+t.s.d.ForUpdate, id))
	if err == nil {
		err = sameCase(c, id)
	}
	if err != nil && !errors.Is(err, docket.ErrNotFound) {
		return nil, fmt.Errorf("read case %s: %w", id, err)
	}
	return c, err
}

// sameCase refuses a case row whose stored document is another case's: an edit of the
// database, which no action may build on (it would record its events on the other case).
func sameCase(c *docket.Case, id string) error {
	if c.ID != id {
		return fmt.Errorf("the row of case %s holds the state of case %q: the database was edited (run docket audit verify)", id, c.ID)
	}
	return nil
}

func (t *tx) CaseRequests(ctx context.Context, caseID string) ([]*docket.Request, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, `SELECT id, case_id, channel, authority_id, received_at, sha256, content_type, body FROM requests WHERE case_id = ? ORDER BY received_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list requests of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []*docket.Request
	for rows.Next() {
		var r docket.Request
		var received int64
		var body string
		if err := rows.Scan(&r.ID, &r.CaseID, &r.Channel, &r.AuthorityID, &received, &r.SHA256, &r.ContentType, &body); err != nil {
			return nil, fmt.Errorf("list requests of case %s: %w", caseID, err)
		}
		r.ReceivedAt = docket.FromMicros(received)
		if err := json.Unmarshal([]byte(body), &r.Body); err != nil {
			return nil, fmt.Errorf("decode request %s: %w", r.ID, err)
		}
		out = append(out, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list requests of case %s: %w", caseID, err)
	}
	return out, nil
}

func relatedRef(authorityID, reference string) string {
	return "r\x00" + authorityID + "\x00" + reference
}

func relatedTarget(authorityID string, tg docket.Target) string {
	return "t\x00" + authorityID + "\x00" + tg.Kind + "\x00" + tg.Value
}

func (t *tx) RelatedOpenCase(ctx context.Context, authorityID, reference string, targets []docket.Target) (*docket.Case, string, error) {
	buffered := func(key string) *docket.Case {
		if id, ok := t.buf.related[key]; ok {
			if c := t.buf.cases[id]; c != nil && c.State.Pending() {
				return c
			}
		}
		return nil
	}
	if reference != "" {
		if c := buffered(relatedRef(authorityID, reference)); c != nil {
			return c, "same reference " + reference, nil
		}
	}
	for _, tg := range targets {
		if c := buffered(relatedTarget(authorityID, tg)); c != nil {
			return c, "names " + tg.Kind + " " + tg.Value + " too", nil
		}
	}
	return nil, "", docket.ErrNotFound
}

func (t *tx) CasesToMark(ctx context.Context, now time.Time, n int) ([]*docket.Case, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	st, err := t.stmt(ctx, `SELECT doc FROM cases WHERE pending = 1 AND paused_at = 0 AND (
		(due_soon_marked = 0 AND due_soon_at > 0 AND due_soon_at <= ?) OR
		(overdue_marked = 0 AND deadline_at > 0 AND deadline_at <= ?)) ORDER BY deadline_at LIMIT ?`)
	if err != nil {
		return nil, err
	}
	us := docket.Micros(now)
	rows, err := st.QueryContext(ctx, us, us, n)
	if err != nil {
		return nil, fmt.Errorf("cases to mark: %w", err)
	}
	return collectCases(rows)
}

func collectCases(rows *sql.Rows) ([]*docket.Case, error) {
	defer rows.Close()
	var out []*docket.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	return out, nil
}

func (t *tx) InsertAuthority(ctx context.Context, a *docket.Authority, tokenHash string) error {
	domains, _ := json.Marshal(a.Domains)
	if _, err := t.exec(ctx, `INSERT INTO authorities (id, name, country, kind, domains, age_recipient, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Country, a.Kind, string(domains), a.AgeRecipient, tokenHash, docket.Micros(a.CreatedAt)); err != nil {
		return fmt.Errorf("insert authority: %w", err)
	}
	return nil
}

func (t *tx) InsertUser(ctx context.Context, u *docket.User, tokenHash string) error {
	if _, err := t.exec(ctx, `INSERT INTO users (id, email, role, token_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Email, string(u.Role), tokenHash, docket.Micros(u.CreatedAt)); err != nil {
		if t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "A user with e-mail %s already exists.", u.Email)
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// UpdateUser applies a change of a staff member.
func (t *tx) UpdateUser(ctx context.Context, ch *docket.UserChanged) error {
	res, err := t.exec(ctx, `UPDATE users SET role = COALESCE(NULLIF(?, ''), role), token_hash = COALESCE(NULLIF(?, ''), token_hash) WHERE id = ?`,
		string(ch.Role), ch.TokenHash, ch.ID)
	if err != nil {
		return fmt.Errorf("update user %s: %w", ch.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update user %s: %w", ch.ID, docket.ErrNotFound)
	}
	return nil
}

// UpdateAuthority applies a change of an authority.
func (t *tx) UpdateAuthority(ctx context.Context, ch *docket.AuthorityChanged) error {
	var domains, key any // NULL: unchanged
	if ch.Domains != nil {
		js, err := json.Marshal(*ch.Domains)
		if err != nil {
			return fmt.Errorf("update authority %s: %w", ch.ID, err)
		}
		domains = string(js)
	}
	if ch.AgeRecipient != nil {
		key = *ch.AgeRecipient
	}
	res, err := t.exec(ctx, `UPDATE authorities SET domains = COALESCE(?, domains), age_recipient = COALESCE(?, age_recipient),
		token_hash = COALESCE(NULLIF(?, ''), token_hash) WHERE id = ?`, domains, key, ch.TokenHash, ch.ID)
	if err != nil {
		return fmt.Errorf("update authority %s: %w", ch.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update authority %s: %w", ch.ID, docket.ErrNotFound)
	}
	return nil
}

func (t *tx) Enqueue(ctx context.Context, j *docket.Job) error {
	var key any
	if j.UniqueKey != "" {
		key = j.UniqueKey
	}
	payload := string(j.Payload)
	if payload == "" {
		payload = "{}"
	}
	maxAttempts := j.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 25
	}
	t.buf.add(tabJobs, j.Kind, payload, key, "pending", docket.Micros(j.RunAt), 0, maxAttempts, 0, "", time.Now().UnixMicro())
	return nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
