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

// Trusted flaggers and the misuse of notices (tables flaggers, notifiers and
// notice_assessments).

const flaggerCols = `id, name, coordinator, reference, areas, email, status, suspended_until, reason, created_by, created_at, changed_seq`

func scanFlagger(r rowScanner) (*docket.Flagger, error) {
	var f docket.Flagger
	var areas, by string
	var until, created int64
	if err := r.Scan(&f.ID, &f.Name, &f.Coordinator, &f.Reference, &areas, &f.Email, &f.Status, &until, &f.Reason, &by, &created, &f.ChangedSeq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	if err := json.Unmarshal([]byte(areas), &f.Areas); err != nil {
		return nil, fmt.Errorf("flagger %s: areas: %w", f.ID, err)
	}
	f.SuspendedUntil, f.CreatedBy, f.CreatedAt = docket.FromMicros(until), docket.Actor(by), docket.FromMicros(created)
	return &f, nil
}

// Flaggers lists the trusted flaggers by name.
func (s *Store) Flaggers(ctx context.Context) ([]*docket.Flagger, error) {
	var out []*docket.Flagger
	err := s.scanAll(ctx, "flaggers", `SELECT `+flaggerCols+` FROM flaggers ORDER BY name, id`, func(rows *sql.Rows) error {
		f, err := scanFlagger(rows)
		if err != nil {
			return fmt.Errorf("scan flaggers: %w", err)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Flagger finds a trusted flagger by its id.
func (s *Store) Flagger(ctx context.Context, id string) (*docket.Flagger, error) {
	f, err := scanFlagger(s.queryRow(ctx, `SELECT `+flaggerCols+` FROM flaggers WHERE id = ?`, id))
	return f, notFoundOr(err, "read flagger")
}

// FlaggerByToken finds a trusted flagger by the hash of its API token.
func (s *Store) FlaggerByToken(ctx context.Context, tokenHash string) (*docket.Flagger, error) {
	f, err := scanFlagger(s.queryRow(ctx, `SELECT `+flaggerCols+` FROM flaggers WHERE token_hash = ?`, tokenHash))
	return f, notFoundOr(err, "find flagger by token")
}

// ScanFlaggers gives every flagger's row with its token's hash (audit verify).
func (s *Store) ScanFlaggers(ctx context.Context, fn func(f *docket.FlaggerRegistered) error) error {
	return s.scanAll(ctx, "flaggers", `SELECT `+flaggerCols+`, token_hash FROM flaggers`, func(rows *sql.Rows) error {
		var d docket.FlaggerRegistered
		var areas, by string
		var until, created int64
		f := &d.Flagger
		if err := rows.Scan(&f.ID, &f.Name, &f.Coordinator, &f.Reference, &areas, &f.Email, &f.Status, &until, &f.Reason, &by, &created, &f.ChangedSeq, &d.TokenHash); err != nil {
			return fmt.Errorf("scan flaggers: %w", err)
		}
		if err := json.Unmarshal([]byte(areas), &f.Areas); err != nil {
			return fmt.Errorf("flagger %s: areas: %w", f.ID, err)
		}
		f.SuspendedUntil, f.CreatedBy, f.CreatedAt = docket.FromMicros(until), docket.Actor(by), docket.FromMicros(created)
		return fn(&d)
	})
}

// InsertFlagger stores a new trusted flagger.
func (t *tx) InsertFlagger(ctx context.Context, f *docket.Flagger, tokenHash string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	areas, err := json.Marshal(f.Areas)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO flaggers (`+flaggerCols+`, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.Name, f.Coordinator, f.Reference, string(areas), f.Email, f.Status, docket.Micros(f.SuspendedUntil), f.Reason,
		string(f.CreatedBy), docket.Micros(f.CreatedAt), f.ChangedSeq, tokenHash)
	if err != nil {
		if t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "A trusted flagger named %s exists already.", f.Name)
		}
		return fmt.Errorf("insert flagger %s: %w", f.Name, err)
	}
	return nil
}

// Flagger reads a trusted flagger inside the transaction (PostgreSQL locks its row).
func (t *tx) Flagger(ctx context.Context, id string) (*docket.Flagger, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	f, err := scanFlagger(t.queryRow(ctx, `SELECT `+flaggerCols+` FROM flaggers WHERE id = ?`+t.s.d.ForUpdate, id))
	return f, notFoundOr(err, "read flagger")
}

// UpdateFlagger stores a trusted flagger's status, its end, its reason and its last event,
// and a new token's hash when one is given.
func (t *tx) UpdateFlagger(ctx context.Context, f *docket.Flagger, tokenHash string) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE flaggers SET status = ?, suspended_until = ?, reason = ?, changed_seq = ?,
		token_hash = COALESCE(NULLIF(?, ''), token_hash) WHERE id = ?`,
		f.Status, docket.Micros(f.SuspendedUntil), f.Reason, f.ChangedSeq, tokenHash, f.ID)
	if err != nil {
		return fmt.Errorf("update flagger %s: %w", f.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("update flagger %s: %w", f.ID, docket.ErrNotFound)
	}
	return nil
}

const notifierCols = `notifier, flagger_id, actioned, unfounded, manifest, warnings, warned_seq, warned_at, suspensions, suspended_seq, suspended_until, changed_seq`

func scanNotifier(r rowScanner) (*docket.NotifierStanding, error) {
	var n docket.NotifierStanding
	var warned, until int64
	if err := r.Scan(&n.Key, &n.FlaggerID, &n.Actioned, &n.Unfounded, &n.Manifest, &n.Warnings, &n.WarnedSeq, &warned,
		&n.Suspensions, &n.SuspendedSeq, &until, &n.ChangedSeq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	n.WarnedAt, n.SuspendedUntil = docket.FromMicros(warned), docket.FromMicros(until)
	return &n, nil
}

// Notifier finds what is kept of a notifier.
func (s *Store) Notifier(ctx context.Context, key string) (*docket.NotifierStanding, error) {
	n, err := scanNotifier(s.queryRow(ctx, `SELECT `+notifierCols+` FROM notifiers WHERE notifier = ?`, key))
	return n, notFoundOr(err, "read notifier")
}

// Notifiers lists the notifiers f selects, latest change first.
func (s *Store) Notifiers(ctx context.Context, f docket.NotifierFilter) ([]*docket.NotifierStanding, error) {
	q := `SELECT ` + notifierCols + ` FROM notifiers WHERE 1 = 1`
	if f.Flaggers {
		q += ` AND flagger_id <> ''`
	}
	if f.Warned {
		q += ` AND warnings > 0`
	}
	q += ` ORDER BY changed_seq DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	var out []*docket.NotifierStanding
	err := s.scanAll(ctx, "notifiers", q, func(rows *sql.Rows) error {
		n, err := scanNotifier(rows)
		if err != nil {
			return fmt.Errorf("scan notifiers: %w", err)
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

// Notifiers returns the rows of the notifiers named, in one query.
func (t *tx) Notifiers(ctx context.Context, keys []string) (map[string]*docket.NotifierStanding, error) {
	out := map[string]*docket.NotifierStanding{}
	if len(keys) == 0 {
		return out, nil
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), bankChunk)]
		keys = keys[len(chunk):]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		rows, err := t.query(ctx, `SELECT `+notifierCols+` FROM notifiers WHERE notifier IN (`+strings.Repeat("?, ", len(chunk)-1)+`?)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read notifiers: %w", err)
		}
		for rows.Next() {
			n, err := scanNotifier(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("read notifiers: %w", err)
			}
			out[n.Key] = n
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read notifiers: %w", err)
		}
	}
	return out, nil
}

// PutNotifier stores a notifier's row, new or changed.
func (t *tx) PutNotifier(ctx context.Context, n *docket.NotifierStanding) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO notifiers (`+notifierCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (notifier) DO UPDATE SET flagger_id = excluded.flagger_id, actioned = excluded.actioned,
		unfounded = excluded.unfounded, manifest = excluded.manifest, warnings = excluded.warnings,
		warned_seq = excluded.warned_seq, warned_at = excluded.warned_at, suspensions = excluded.suspensions,
		suspended_seq = excluded.suspended_seq, suspended_until = excluded.suspended_until, changed_seq = excluded.changed_seq`,
		n.Key, n.FlaggerID, n.Actioned, n.Unfounded, n.Manifest, n.Warnings, n.WarnedSeq, docket.Micros(n.WarnedAt),
		n.Suspensions, n.SuspendedSeq, docket.Micros(n.SuspendedUntil), n.ChangedSeq)
	if err != nil {
		return fmt.Errorf("store notifier %s: %w", n.Key, err)
	}
	return nil
}

// InsertAssessments stores assessed notices.
func (t *tx) InsertAssessments(ctx context.Context, as []docket.NoticeAssessment) error {
	if err := t.flush(ctx); err != nil {
		return err
	}
	for _, a := range as {
		_, err := t.exec(ctx, `INSERT INTO notice_assessments (request_id, case_id, notifier, flagger_id, outcome, manifest, seq, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.RequestID, a.CaseID, a.Notifier, a.FlaggerID, a.Outcome, b2i(a.Manifest), a.Seq, docket.Micros(a.At))
		if err != nil {
			if t.s.d.IsUniqueViolation(err) {
				return docket.Errorf(docket.ECONFLICT, "Notice %s was assessed already.", a.RequestID)
			}
			return fmt.Errorf("insert assessment of %s: %w", a.RequestID, err)
		}
	}
	return nil
}

// RecentAssessments counts a notifier's notices assessed at or after since.
func (t *tx) RecentAssessments(ctx context.Context, key string, since time.Time) (assessed, manifest int, err error) {
	if err := t.flush(ctx); err != nil {
		return 0, 0, err
	}
	err = t.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(manifest), 0) FROM notice_assessments WHERE notifier = ? AND at >= ?`,
		key, docket.Micros(since)).Scan(&assessed, &manifest)
	if err != nil {
		return 0, 0, fmt.Errorf("count assessments of %s: %w", key, err)
	}
	return assessed, manifest, nil
}

// ScanNotifiers gives every notifier's row (audit verify).
func (s *Store) ScanNotifiers(ctx context.Context, fn func(n *docket.NotifierStanding) error) error {
	return s.scanAll(ctx, "notifiers", `SELECT `+notifierCols+` FROM notifiers`, func(rows *sql.Rows) error {
		n, err := scanNotifier(rows)
		if err != nil {
			return fmt.Errorf("scan notifiers: %w", err)
		}
		return fn(n)
	})
}

// ScanAssessments gives every assessed notice's row (audit verify).
func (s *Store) ScanAssessments(ctx context.Context, fn func(a *docket.NoticeAssessment) error) error {
	return s.scanAll(ctx, "notice assessments", `SELECT request_id, case_id, notifier, flagger_id, outcome, manifest, seq, at FROM notice_assessments`, func(rows *sql.Rows) error {
		var a docket.NoticeAssessment
		var manifest int
		var at int64
		if err := rows.Scan(&a.RequestID, &a.CaseID, &a.Notifier, &a.FlaggerID, &a.Outcome, &manifest, &a.Seq, &at); err != nil {
			return fmt.Errorf("scan notice assessments: %w", err)
		}
		a.Manifest, a.At = manifest != 0, docket.FromMicros(at)
		return fn(&a)
	})
}
