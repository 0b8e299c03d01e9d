package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/docket-dev/docket"
)

// Statements of reasons kept for the EU Transparency Database (table statements).

const statementCols = `puid, case_id, action, payload, state, remote_id, error, queued_at, decided_at, attempts, next_at, last_error`

func scanStatement(r rowScanner) (*docket.StatementRecord, error) {
	var st docket.StatementRecord
	var payload string
	var queued, decided, next int64
	if err := r.Scan(&st.PUID, &st.CaseID, &st.Action, &payload, &st.State, &st.RemoteID, &st.Error, &queued, &decided,
		&st.Attempts, &next, &st.LastError); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	st.Payload = []byte(payload)
	st.QueuedAt, st.DecidedAt, st.NextAt = docket.FromMicros(queued), docket.FromMicros(decided), docket.FromMicros(next)
	return &st, nil
}

// InsertStatement keeps a statement queued for the Transparency Database.
func (t *tx) InsertStatement(ctx context.Context, r *docket.StatementRecord) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO statements (`+statementCols+`, locked_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
		r.PUID, r.CaseID, r.Action, string(r.Payload), cmp.Or(r.State, docket.SubmissionPending), r.RemoteID, r.Error,
		docket.Micros(r.QueuedAt), docket.Micros(r.DecidedAt), r.Attempts, docket.Micros(r.NextAt), r.LastError)
	if err != nil {
		if t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "A statement of reasons with puid %s is kept already.", r.PUID)
		}
		return fmt.Errorf("insert statement %s: %w", r.PUID, err)
	}
	return nil
}

// DecideStatement records the outcome of a pending statement.
func (t *tx) DecideStatement(ctx context.Context, r *docket.StatementRecord) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE statements SET state = ?, remote_id = ?, error = ?, decided_at = ?, locked_until = 0
		WHERE puid = ? AND state = 'pending'`, r.State, r.RemoteID, r.Error, docket.Micros(r.DecidedAt), r.PUID)
	if err != nil {
		return fmt.Errorf("decide statement %s: %w", r.PUID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return docket.Errorf(docket.ECONFLICT, "No statement of reasons with puid %s is waiting for the Transparency Database.", r.PUID)
	}
	return nil
}

// Statements calls fn for the statements f selects, in the order they were queued.
func (s *Store) Statements(ctx context.Context, f docket.StatementFilter, fn func(*docket.StatementRecord) error) error {
	q := `SELECT ` + statementCols + ` FROM statements WHERE queued_at >= ?`
	args := []any{docket.Micros(f.Since)}
	if f.State != "" {
		q += ` AND state = ?`
		args = append(args, f.State)
	}
	return s.scanAllArgs(ctx, "statements", q+` ORDER BY queued_at, puid`, args, func(rows *sql.Rows) error {
		st, err := scanStatement(rows)
		if err != nil {
			return fmt.Errorf("scan statements: %w", err)
		}
		return fn(st)
	})
}

// Statement finds a statement by its puid.
func (s *Store) Statement(ctx context.Context, puid string) (*docket.StatementRecord, error) {
	st, err := scanStatement(s.queryRow(ctx, `SELECT `+statementCols+` FROM statements WHERE puid = ?`, puid))
	return st, notFoundOr(err, "read statement "+puid)
}

// ClaimStatements takes up to n due pending statements for lease.
func (s *Store) ClaimStatements(ctx context.Context, now time.Time, n int, lease time.Duration) ([]*docket.StatementRecord, error) {
	us := docket.Micros(now)
	rows, err := s.write.QueryContext(ctx, s.rebind(`UPDATE statements SET attempts = attempts + 1, locked_until = ?
		WHERE puid IN (SELECT puid FROM statements WHERE state = 'pending' AND next_at <= ? AND locked_until <= ?
			ORDER BY next_at LIMIT ?`+s.d.SkipLocked+`)
		RETURNING `+statementCols), docket.Micros(now.Add(lease)), us, us, n)
	if err != nil {
		return nil, fmt.Errorf("claim statements: %w", err)
	}
	defer rows.Close()
	var out []*docket.StatementRecord
	for rows.Next() {
		st, err := scanStatement(rows)
		if err != nil {
			return nil, fmt.Errorf("claim statements: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim statements: %w", err)
	}
	slices.SortFunc(out, func(a, b *docket.StatementRecord) int {
		return cmp.Or(a.NextAt.Compare(b.NextAt), a.QueuedAt.Compare(b.QueuedAt), cmp.Compare(a.PUID, b.PUID))
	})
	return out, nil
}

// RetryStatements puts pending statements back for at.
func (s *Store) RetryStatements(ctx context.Context, puids []string, at time.Time, lastErr string) error {
	if len(puids) == 0 {
		return nil
	}
	args := []any{docket.Micros(at), lastErr}
	for _, p := range puids {
		args = append(args, p)
	}
	if _, err := s.write.ExecContext(ctx, s.rebind(`UPDATE statements SET next_at = ?, last_error = COALESCE(NULLIF(?, ''), last_error), locked_until = 0
		WHERE state = 'pending' AND puid IN (`+placeholders(len(puids))+`)`), args...); err != nil {
		return fmt.Errorf("retry %d statements: %w", len(puids), err)
	}
	return nil
}
