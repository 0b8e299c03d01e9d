package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
)

// The scans below serve audit.Verify: each reads one table as stored, in no particular
// order, one row at a time.

// caseIndexCols are the columns of cases besides id and doc, in the order of
// caseIndexArgs.
var caseIndexCols = []string{"state", "pending", "regime", "queue", "priority", "emergency", "authority_id", "assignee_id", "reference",
	"received_at", "deadline_at", "due_soon_at", "paused_at", "due_soon_marked", "overdue_marked", "updated_at", "country",
	"acknowledged_at", "answered_at"}

// CaseIndexColumns names the index columns of cases, in the order of CaseIndex's values.
func (s *Store) CaseIndexColumns() []string { return caseIndexCols }

// CaseIndex renders the index columns the store writes for c, as ScanCaseRows reads them.
func (s *Store) CaseIndex(c *docket.Case) []string {
	args := caseIndexArgs(c)
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = v
		case int:
			out[i] = strconv.Itoa(v)
		case int64:
			out[i] = strconv.FormatInt(v, 10)
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return out
}

// ScanCaseRows calls fn for every case with its stored document and its index columns (in
// the order of CaseIndexColumns). The values passed are reused for the next row.
func (s *Store) ScanCaseRows(ctx context.Context, fn func(id string, doc []byte, index []string) error) error {
	q := `SELECT id, doc, ` + strings.Join(caseIndexCols, ", ") + ` FROM cases`
	index := make([]string, len(caseIndexCols))
	dest := make([]any, len(caseIndexCols)+2)
	var id string
	var doc []byte
	dest[0], dest[1] = &id, &doc
	for i := range index {
		dest[i+2] = &index[i]
	}
	return s.scanAll(ctx, "cases", q, func(rows *sql.Rows) error {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("scan cases: %w", err)
		}
		return fn(id, doc, index)
	})
}

// ScanRequestRows calls fn for every request as stored. The value passed is reused for the
// next row.
func (s *Store) ScanRequestRows(ctx context.Context, fn func(r *audit.RequestRow) error) error {
	var r audit.RequestRow
	return s.scanAll(ctx, "requests", `SELECT id, case_id, channel, authority_id, received_at, sha256, raw, body, seq FROM requests`, func(rows *sql.Rows) error {
		if err := rows.Scan(&r.ID, &r.CaseID, &r.Channel, &r.AuthorityID, &r.ReceivedAt, &r.SHA256, &r.Raw, &r.Body, &r.Seq); err != nil {
			return fmt.Errorf("scan requests: %w", err)
		}
		return fn(&r)
	})
}

// ScanTargets calls fn for every stored target row.
func (s *Store) ScanTargets(ctx context.Context, fn func(requestID, caseID, kind, value string) error) error {
	var req, cs, kind, value string
	return s.scanAll(ctx, "targets", `SELECT request_id, case_id, kind, value FROM targets`, func(rows *sql.Rows) error {
		if err := rows.Scan(&req, &cs, &kind, &value); err != nil {
			return fmt.Errorf("scan targets: %w", err)
		}
		return fn(req, cs, kind, value)
	})
}

// ScanBlobs calls fn for every stored blob with its recorded SHA-256 and size and its bytes.
func (s *Store) ScanBlobs(ctx context.Context, fn func(sha256 string, size int64, data []byte) error) error {
	var sum string
	var size int64
	var data []byte
	return s.scanAll(ctx, "blobs", `SELECT sha256, size, data FROM blobs`, func(rows *sql.Rows) error {
		if err := rows.Scan(&sum, &size, &data); err != nil {
			return fmt.Errorf("scan blobs: %w", err)
		}
		return fn(sum, size, data)
	})
}

// ScanUsers calls fn for every staff member with the hash of its API token.
func (s *Store) ScanUsers(ctx context.Context, fn func(u *docket.UserAdded) error) error {
	return s.scanAll(ctx, "users", `SELECT id, email, role, created_at, token_hash FROM users`, func(rows *sql.Rows) error {
		var u docket.UserAdded
		var role string
		var created int64
		if err := rows.Scan(&u.ID, &u.Email, &role, &created, &u.TokenHash); err != nil {
			return fmt.Errorf("scan users: %w", err)
		}
		u.Role, u.CreatedAt = docket.Role(role), docket.FromMicros(created)
		return fn(&u)
	})
}

// ScanAuthorities calls fn for every authority with the hash of its API token.
func (s *Store) ScanAuthorities(ctx context.Context, fn func(a *docket.AuthorityRegistered) error) error {
	return s.scanAll(ctx, "authorities", `SELECT id, name, country, kind, domains, age_recipient, created_at, token_hash FROM authorities`, func(rows *sql.Rows) error {
		var a docket.AuthorityRegistered
		var domains string
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Country, &a.Kind, &domains, &a.AgeRecipient, &created, &a.TokenHash); err != nil {
			return fmt.Errorf("scan authorities: %w", err)
		}
		a.CreatedAt = docket.FromMicros(created)
		if err := json.Unmarshal([]byte(domains), &a.Domains); err != nil {
			return fmt.Errorf("scan authorities: authority %s: decode domains: %w", a.ID, err)
		}
		return fn(&a)
	})
}

// ScanLogins calls fn for every sign-in account.
func (s *Store) ScanLogins(ctx context.Context, fn func(l *docket.Login) error) error {
	return s.scanAll(ctx, "logins", `SELECT `+loginCols+` FROM logins`, func(rows *sql.Rows) error {
		l, err := scanLogin(rows)
		if err != nil {
			return fmt.Errorf("scan logins: %w", err)
		}
		return fn(l)
	})
}

// ScanJobs calls fn for every job, waiting, running or failed.
func (s *Store) ScanJobs(ctx context.Context, fn func(j *docket.Job) error) error {
	return s.scanAll(ctx, "jobs", `SELECT id, kind, payload, COALESCE(unique_key, ''), run_at, attempts, max_attempts, last_error FROM jobs`, func(rows *sql.Rows) error {
		var j docket.Job
		var payload string
		var runAt int64
		if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.UniqueKey, &runAt, &j.Attempts, &j.MaxAttempts, &j.LastError); err != nil {
			return fmt.Errorf("scan jobs: %w", err)
		}
		j.Payload, j.RunAt = json.RawMessage(payload), docket.FromMicros(runAt)
		return fn(&j)
	})
}

// baselineVersion is the row of schema_migrations that records the credentials baseline
// (see RecordBaseline): a step in Go, numbered apart from the SQL files.
const (
	baselineVersion = 1000
	baselineName    = "1000_credentials_baseline (go)"
)

// RecordBaseline runs once per database, after the SQL migrations: it appends one
// credentials_baseline event holding every staff member, authority, sign-in account and
// session the store holds (a store created before their changes were events), so that audit verify can
// check those tables against the chain from then on. A new, empty store records no event.
func (s *Store) RecordBaseline(ctx context.Context, at time.Time) error {
	// Once recorded, a plain read says so: no write transaction at every start.
	var done int
	if err := s.write.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), baselineVersion).Scan(&done); err != nil {
		return fmt.Errorf("record credentials baseline: check: %w", err)
	} else if done > 0 {
		return nil
	}
	err := s.Update(ctx, func(dtx docket.Tx) error {
		t := dtx.(*tx)
		// Update holds the audit head: nodes starting at once take turns here.
		var n int
		if err := t.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, baselineVersion).Scan(&n); err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if n > 0 {
			return nil
		}
		var b docket.CredentialsBaseline
		if err := scanCredentials(ctx, t, &b); err != nil {
			return err
		}
		if len(b.Users)+len(b.Authorities)+len(b.Logins)+len(b.Sessions) > 0 {
			if err := t.Append(ctx, docket.NewEvent("", docket.EventCredentialsBaseline, "system:migrate", at, b)); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, baselineVersion, baselineName, time.Now().UnixMicro()); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record credentials baseline: %w", err)
	}
	return nil
}

// scanCredentials reads every user, authority and login inside a write transaction.
func scanCredentials(ctx context.Context, t *tx, b *docket.CredentialsBaseline) error {
	scan := func(what, q string, each func(*sql.Rows) error) error {
		rows, err := t.query(ctx, q)
		if err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return fmt.Errorf("read %s: %w", what, err)
			}
		}
		return rows.Err()
	}
	err := scan("users", `SELECT id, email, role, created_at, token_hash FROM users ORDER BY id`, func(rows *sql.Rows) error {
		var u docket.UserAdded
		var role string
		var created int64
		if err := rows.Scan(&u.ID, &u.Email, &role, &created, &u.TokenHash); err != nil {
			return err
		}
		u.Role, u.CreatedAt = docket.Role(role), docket.FromMicros(created)
		b.Users = append(b.Users, u)
		return nil
	})
	if err != nil {
		return err
	}
	err = scan("authorities", `SELECT id, name, country, kind, domains, age_recipient, created_at, token_hash FROM authorities ORDER BY id`, func(rows *sql.Rows) error {
		var a docket.AuthorityRegistered
		var domains string
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &a.Country, &a.Kind, &domains, &a.AgeRecipient, &created, &a.TokenHash); err != nil {
			return err
		}
		a.CreatedAt = docket.FromMicros(created)
		if err := json.Unmarshal([]byte(domains), &a.Domains); err != nil {
			return fmt.Errorf("authority %s: decode domains: %w", a.ID, err)
		}
		b.Authorities = append(b.Authorities, a)
		return nil
	})
	if err != nil {
		return err
	}
	err = scan("logins", `SELECT `+loginCols+` FROM logins ORDER BY id`, func(rows *sql.Rows) error {
		l, err := scanLogin(rows)
		if err != nil {
			return err
		}
		b.Logins = append(b.Logins, docket.LoginStateOf(l))
		return nil
	})
	if err != nil {
		return err
	}
	return scan("sessions", `SELECT hash, login_id, created_at, expires_at FROM sessions ORDER BY hash`, func(rows *sql.Rows) error {
		var se docket.Session
		var created, expires int64
		if err := rows.Scan(&se.Hash, &se.LoginID, &created, &expires); err != nil {
			return err
		}
		se.CreatedAt, se.ExpiresAt = docket.FromMicros(created), docket.FromMicros(expires)
		b.Sessions = append(b.Sessions, docket.SessionOpenedOf(&se))
		return nil
	})
}

// ScanSessions calls fn for every session.
func (s *Store) ScanSessions(ctx context.Context, fn func(se *docket.Session) error) error {
	return s.scanAll(ctx, "sessions", `SELECT hash, login_id, created_at, expires_at FROM sessions`, func(rows *sql.Rows) error {
		var se docket.Session
		var created, expires int64
		if err := rows.Scan(&se.Hash, &se.LoginID, &created, &expires); err != nil {
			return fmt.Errorf("scan sessions: %w", err)
		}
		se.CreatedAt, se.ExpiresAt = docket.FromMicros(created), docket.FromMicros(expires)
		return fn(&se)
	})
}

// CheckSchema returns an error unless the database has every migration this version of
// docket has, the credentials baseline included: a store that was not migrated cannot be
// verified (verify reads, it never migrates).
func (s *Store) CheckSchema(ctx context.Context) error {
	entries, err := fs.ReadDir(s.d.Migrations, ".")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	want := map[int]string{baselineVersion: baselineName, treeVersion: treeName}
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.Atoi(num); err == nil {
			want[v] = e.Name()
		}
	}
	have := map[int]bool{}
	err = s.scanAll(ctx, "schema_migrations", `SELECT version FROM schema_migrations`, func(rows *sql.Rows) error {
		var v int
		if err := rows.Scan(&v); err != nil {
			return err
		}
		have[v] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("the database holds no docket schema (%w)", err)
	}
	var missing []string
	for v, name := range want {
		if !have[v] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("the database lacks migrations %s: run docket migrate (or docket serve) with this version first", strings.Join(missing, ", "))
	}
	return nil
}

// CaseCounts returns the counts of cases by state that the database keeps (case_counts).
func (s *Store) CaseCounts(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := s.scanAll(ctx, "case counts", `SELECT state, n FROM case_counts`, func(rows *sql.Rows) error {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return fmt.Errorf("scan case counts: %w", err)
		}
		if n != 0 {
			out[state] = n
		}
		return nil
	})
	return out, err
}
