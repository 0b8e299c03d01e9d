// Package postgres opens docket's store on PostgreSQL through pgx, for deployments with
// several nodes: they share the database, its job table (claimed with FOR UPDATE SKIP
// LOCKED) and its audit chain (its head row is locked by each writing transaction).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver

	"github.com/docket-dev/docket/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect returns the PostgreSQL flavour of sqlstore.
func Dialect() *sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	return &sqlstore.Dialect{
		Name:     "postgres",
		Numbered: true,
		// pgx prepares and caches each statement on its connection.
		CachesStatements: true,
		Arrays:           true,
		ForUpdate:        " FOR UPDATE",
		SkipLocked:       " FOR UPDATE SKIP LOCKED",
		Migrations:       sub,
		Search:           `doc @@ plainto_tsquery('simple', ?)`,
		SearchArg:        func(q string) string { return q },
		IsUniqueViolation: func(err error) bool {
			var pe *pgconn.PgError
			return errors.As(err, &pe) && pe.Code == "23505"
		},
	}
}

// Open connects to the database at url (postgres://…) and applies pending migrations.
func Open(ctx context.Context, url string, log *slog.Logger) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	d := Dialect()
	if err := sqlstore.Migrate(ctx, db, d, log); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s, err := sqlstore.New(ctx, db, db, d)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := s.BuildTree(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := s.RecordBaseline(ctx, time.Now()); err != nil {
		s.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return s, nil
}

// OpenReadOnly connects to the database at url for reading only, as audit verify does: every
// transaction of the session is READ ONLY (default_transaction_read_only), so that nothing
// is created, migrated or written.
func OpenReadOnly(ctx context.Context, url string) (*sqlstore.Store, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres read-only: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres read-only: %w", err)
	}
	s, err := sqlstore.New(ctx, db, db, Dialect())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres read-only: %w", err)
	}
	return s, nil
}
