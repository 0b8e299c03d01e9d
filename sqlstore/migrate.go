package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrate applies the dialect's migrations that the database has not seen, each in its own
// transaction, and records them in schema_migrations.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	entries, err := fs.ReadDir(d.Migrations, ".")
	if err != nil {
		return fmt.Errorf("migrate: list migrations: %w", err)
	}
	type migration struct {
		version int
		name    string
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return fmt.Errorf("migrate: %s: want NNN_name.sql", e.Name())
		}
		ms = append(ms, migration{v, e.Name()})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for _, m := range ms {
		if err := applyMigration(ctx, db, d, m.version, m.name, log); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, d *Dialect, version int, name string, log *slog.Logger) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	if d.Numbered {
		// Several nodes may start at once: one migrates, the others wait and then skip.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE schema_migrations IN EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("migrate %s: lock: %w", name, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
		return fmt.Errorf("migrate %s: check: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(d.Migrations, name)
	if err != nil {
		return fmt.Errorf("migrate %s: read: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrate %s: apply: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), version, name, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("migrate %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: commit: %w", name, err)
	}
	log.InfoContext(ctx, "applied migration", slog.String("engine", d.Name), slog.String("migration", name))
	return nil
}
