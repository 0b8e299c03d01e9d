// Package refplatform is the reference platform shipped with docket: a small messenger
// (users, channels, messages, media) on SQLite that implements the connector contract
// (docs/connector.openapi.json) and serves its content publicly — 451 to readers in a
// country where it is restricted, 410 once removed. The demo and the end-to-end tests act on it.
package refplatform

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite"
)

//go:embed schema.sql
var schema string

// DB is the platform's database.
type DB struct {
	db *sql.DB
}

// Open opens (creating it if needed) the platform's database in dir.
func Open(ctx context.Context, dir string) (*DB, error) {
	dsn := "file:" + filepath.Join(dir, "refplatform.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open reference platform database: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; the platform is small
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("create reference platform schema: %w", err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// User is an account.
type User struct {
	ID        int64
	Handle    string
	Name      string
	Email     string
	Phone     string
	Country   string
	Status    string // active, suspended, terminated
	CreatedAt time.Time
}

// Seed fills an empty platform with a few accounts, channels and messages, and returns how
// many messages it holds.
func (d *DB) Seed(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	if n > 0 {
		return n, nil
	}
	at := func(d time.Duration) string { return now.Add(-d).UTC().Format(time.RFC3339) }
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO users (id, handle, name, email, phone, country, created_at) VALUES
			(1, 'alice', 'Alice Martin', 'alice@mail.example', '+33612345678', 'FR', ?),
			(2, 'nightwolf', 'N. W.', 'nw@mail.example', '+4915123456789', 'DE', ?),
			(3, 'bob', 'Bob Smith', 'bob@mail.example', '+12025550143', 'US', ?)`, []any{at(900 * time.Hour), at(400 * time.Hour), at(2000 * time.Hour)}},
		{`INSERT INTO channels (id, name, owner_id, public, created_at) VALUES
			(1, 'news', 1, 1, ?), (2, 'wolfpack', 2, 1, ?), (3, 'family', 3, 0, ?)`, []any{at(800 * time.Hour), at(300 * time.Hour), at(1500 * time.Hour)}},
		{`INSERT INTO messages (id, channel_id, author_id, text, media_sha256, created_at) VALUES
			(1, 1, 1, 'Good morning, here is the local news.', '', ?),
			(2, 2, 2, 'Join the armed struggle: instructions for an attack on the festival on Saturday.', '', ?),
			(3, 2, 2, 'Holocaust denial pamphlet (illegal in Germany, lawful in some other countries).', '', ?),
			(4, 3, 3, 'Dinner on Sunday at six?', '', ?),
			(5, 2, 2, 'I will kill my neighbour tonight, I have the gun ready.', '', ?)`,
			[]any{at(20 * time.Hour), at(3 * time.Hour), at(5 * time.Hour), at(30 * time.Hour), at(30 * time.Minute)}},
		{`INSERT INTO logins (user_id, ip, at) VALUES (1, '203.0.113.10', ?), (2, '198.51.100.23', ?), (2, '198.51.100.77', ?), (3, '192.0.2.5', ?)`,
			[]any{at(2 * time.Hour), at(4 * time.Hour), at(40 * time.Minute), at(10 * time.Hour)}},
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return 0, fmt.Errorf("seed: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("seed: %w", err)
	}
	return 5, nil
}
