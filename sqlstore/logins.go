package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/docket-dev/docket"
)

const loginCols = `id, kind, email, name, authority_id, status, password_hash, totp_secret, totp_step, failures, locked_until, confirm_hash, confirm_expires, created_by, approved_by, created_at`

func scanLogin(r rowScanner) (*docket.Login, error) {
	var l docket.Login
	var locked, confirmExp, created int64
	if err := r.Scan(&l.ID, &l.Kind, &l.Email, &l.Name, &l.AuthorityID, &l.Status, &l.PasswordHash, &l.TOTPSecret, &l.TOTPStep,
		&l.Failures, &locked, &l.ConfirmHash, &confirmExp, &l.CreatedBy, &l.ApprovedBy, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	l.LockedUntil, l.ConfirmExpires, l.CreatedAt = docket.FromMicros(locked), docket.FromMicros(confirmExp), docket.FromMicros(created)
	return &l, nil
}

// Login returns a sign-in account by id.
func (s *Store) Login(ctx context.Context, id string) (*docket.Login, error) {
	l, err := scanLogin(s.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE id = ?`, id))
	return l, notFoundOr(err, "read login")
}

// LoginByEmail returns a sign-in account by kind and address.
func (s *Store) LoginByEmail(ctx context.Context, kind, email string) (*docket.Login, error) {
	l, err := scanLogin(s.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE kind = ? AND email = ?`, kind, email))
	return l, notFoundOr(err, "find login by e-mail")
}

// LoginByConfirm returns the account whose confirmation token has this hash.
func (s *Store) LoginByConfirm(ctx context.Context, hash string) (*docket.Login, error) {
	if hash == "" {
		return nil, docket.ErrNotFound
	}
	l, err := scanLogin(s.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE confirm_hash = ?`, hash))
	return l, notFoundOr(err, "find login by confirmation")
}

// Logins lists sign-in accounts, oldest first.
func (s *Store) Logins(ctx context.Context, f docket.LoginFilter) ([]*docket.Login, error) {
	q := `SELECT ` + loginCols + ` FROM logins WHERE 1 = 1`
	var args []any
	for _, eq := range []struct{ col, val string }{{"kind", f.Kind}, {"authority_id", f.AuthorityID}, {"status", f.Status}} {
		if eq.val != "" {
			q += ` AND ` + eq.col + ` = ?`
			args = append(args, eq.val)
		}
	}
	var out []*docket.Login
	err := s.scanAllArgs(ctx, "list logins", q+` ORDER BY created_at, id`, args, func(rows *sql.Rows) error {
		l, err := scanLogin(rows)
		out = append(out, l)
		return err
	})
	return out, err
}

// Session returns a session by the hash of its cookie.
func (s *Store) Session(ctx context.Context, hash string) (*docket.Session, error) {
	var se docket.Session
	var created, expires int64
	err := s.queryRow(ctx, `SELECT hash, login_id, created_at, expires_at FROM sessions WHERE hash = ?`, hash).Scan(&se.Hash, &se.LoginID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, docket.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = docket.FromMicros(created), docket.FromMicros(expires)
	return &se, nil
}

// Users lists the staff, oldest first.
func (s *Store) Users(ctx context.Context) ([]*docket.User, error) {
	var out []*docket.User
	err := s.scanAll(ctx, "list users", `SELECT id, email, role, created_at FROM users ORDER BY created_at, id`, func(rows *sql.Rows) error {
		u, err := scanUser(rows)
		out = append(out, u)
		return err
	})
	return out, err
}

// CaseTimes returns the dashboard's facts of the cases received or answered since.
func (s *Store) CaseTimes(ctx context.Context, since time.Time) ([]docket.CaseTime, error) {
	us := docket.Micros(since)
	var out []docket.CaseTime
	err := s.scanAllArgs(ctx, "case times", `SELECT regime, country, received_at, acknowledged_at, answered_at FROM cases WHERE received_at >= ? OR answered_at >= ?`,
		[]any{us, us}, func(rows *sql.Rows) error {
			var t docket.CaseTime
			var rec, ack, ans int64
			if err := rows.Scan(&t.Regime, &t.Country, &rec, &ack, &ans); err != nil {
				return err
			}
			t.ReceivedAt = docket.FromMicros(rec)
			if ack > 0 {
				t.AcknowledgedAt = docket.FromMicros(ack)
			}
			if ans > 0 {
				t.AnsweredAt = docket.FromMicros(ans)
			}
			out = append(out, t)
			return nil
		})
	return out, err
}

// ActorAccounts is the actor of the login_changed events the store records.
const ActorAccounts docket.Actor = "system:accounts"

// PutLogin inserts or replaces a sign-in account. When it creates the account, or changes
// what decides whether and as whom it signs in (docket.LoginState), it appends a
// login_changed event in the same transaction: the audit chain follows every such change.
func (t *tx) PutLogin(ctx context.Context, l *docket.Login) error {
	now := docket.LoginStateOf(l)
	changed := []string{"created"}
	prev, err := scanLogin(t.queryRow(ctx, `SELECT `+loginCols+` FROM logins WHERE id = ?`+t.s.d.ForUpdate, l.ID))
	switch {
	case err == nil:
		changed = docket.LoginStateOf(prev).Diff(now)
	case !errors.Is(err, docket.ErrNotFound):
		return fmt.Errorf("put login: read it: %w", err)
	}
	if len(changed) > 0 {
		if err := t.Append(ctx, docket.NewEvent("", docket.EventLoginChanged, ActorAccounts, time.Now(), docket.LoginChanged{LoginState: now, Changed: changed})); err != nil {
			return fmt.Errorf("put login: record it: %w", err)
		}
	}
	_, err = t.exec(ctx, `INSERT INTO logins (`+loginCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, email = excluded.email, name = excluded.name, authority_id = excluded.authority_id,
		status = excluded.status, password_hash = excluded.password_hash, totp_secret = excluded.totp_secret, totp_step = excluded.totp_step,
		failures = excluded.failures, locked_until = excluded.locked_until, confirm_hash = excluded.confirm_hash,
		confirm_expires = excluded.confirm_expires, created_by = excluded.created_by, approved_by = excluded.approved_by, created_at = excluded.created_at`,
		l.ID, l.Kind, l.Email, l.Name, l.AuthorityID, l.Status, l.PasswordHash, l.TOTPSecret, l.TOTPStep, l.Failures,
		docket.Micros(l.LockedUntil), l.ConfirmHash, docket.Micros(l.ConfirmExpires), l.CreatedBy, l.ApprovedBy, docket.Micros(l.CreatedAt))
	if err != nil {
		if t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "An account with e-mail %s already exists.", l.Email)
		}
		return fmt.Errorf("put login: %w", err)
	}
	return nil
}

// InsertSession stores a session and drops the expired ones.
func (t *tx) InsertSession(ctx context.Context, se *docket.Session) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, docket.Micros(se.CreatedAt)); err != nil {
		return fmt.Errorf("drop expired sessions: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO sessions (hash, login_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		se.Hash, se.LoginID, docket.Micros(se.CreatedAt), docket.Micros(se.ExpiresAt)); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	// A session grants what its account may do: the chain records it, and audit verify
	// refuses a session row it does not hold.
	if err := t.Append(ctx, docket.NewEvent("", docket.EventSessionOpened, ActorAccounts, se.CreatedAt, docket.SessionOpenedOf(se))); err != nil {
		return fmt.Errorf("insert session: record it: %w", err)
	}
	return nil
}

// DeleteSession ends a session.
func (t *tx) DeleteSession(ctx context.Context, hash string) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// EndSessions ends every session of an account.
func (t *tx) EndSessions(ctx context.Context, loginID string) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE login_id = ?`, loginID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// CountSignIn counts an attempt to sign in, unless the account is locked at now.
func (t *tx) CountSignIn(ctx context.Context, id string, now time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `UPDATE logins SET failures = failures + 1 WHERE id = ? AND locked_until <= ? RETURNING failures`,
		id, docket.Micros(now)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("count sign-in attempt: %w", err)
	}
	return n, nil
}

// LockLogin locks an account until until and clears its count of attempts.
func (t *tx) LockLogin(ctx context.Context, id string, until time.Time) error {
	if _, err := t.exec(ctx, `UPDATE logins SET failures = 0, locked_until = ? WHERE id = ?`, docket.Micros(until), id); err != nil {
		return fmt.Errorf("lock login: %w", err)
	}
	return nil
}

// UseTOTPStep advances the last second-factor step used, only forward.
func (t *tx) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	res, err := t.exec(ctx, `UPDATE logins SET totp_step = ?, failures = 0 WHERE id = ? AND totp_step < ?`, step, id, step)
	if err != nil {
		return false, fmt.Errorf("use second-factor step: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("use second-factor step: %w", err)
	}
	return n == 1, nil
}
