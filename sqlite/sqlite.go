// Package sqlite opens docket's embedded default store: one SQLite file in a data folder,
// through the pure-Go modernc.org/sqlite driver, in WAL mode with a busy timeout, foreign
// keys on, one writer connection and a separate pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/docket-dev/docket/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect returns the SQLite flavour of sqlstore.
func Dialect() *sqlstore.Dialect {
	sub, _ := fs.Sub(migrations, "migrations")
	return &sqlstore.Dialect{
		Name:       "sqlite",
		Migrations: sub,
		Search:     `request_search MATCH ?`,
		SearchArg:  ftsQuery,
		IsUniqueViolation: func(err error) bool {
			var se *sqlite.Error
			return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
	}
}

// FileName is the database file inside a data folder.
const FileName = "docket.db"

// Open opens (creating it if needed) the database in dir and applies pending migrations.
func Open(ctx context.Context, dir string, log *slog.Logger) (*sqlstore.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite: create data folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	dsn := func(txlock string, extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)", "cache_size(-16384)", "temp_store(MEMORY)"}, extra...) {
			q.Add("_pragma", p)
		}
		if txlock != "" {
			q.Set("_txlock", txlock)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// The writer leaves checkpoints to a background connection (see checkpoint), so that
	// copying the WAL into the database does not stall receipts; a large automatic
	// threshold remains as a safety net.
	write, err := sql.Open("sqlite", dsn("immediate", "wal_autocheckpoint(20000)"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer: SQLite serialises writes anyway; one connection makes it explicit and
	// lets prepared statements live on it.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	d := Dialect()
	if err := sqlstore.Migrate(ctx, write, d, log); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	store, err := sqlstore.New(ctx, write, read, d)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := store.BuildTree(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := store.RecordBaseline(ctx, time.Now()); err != nil {
		store.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go checkpoint(read, log, stop, done)
	store.OnClose(func() { close(stop); <-done })
	return store, nil
}

// OpenReadOnly opens the database in dir for reading only, as audit verify does: it creates
// nothing, migrates nothing and writes nothing (the connection is opened read-only and with
// query_only set). It fails when dir holds no docket database. A copy in a folder that
// cannot be written is opened as immutable: SQLite then needs no lock files beside it.
func OpenReadOnly(ctx context.Context, dir string) (*sqlstore.Store, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open sqlite read-only: no docket database at %s: %w", path, err)
	}
	open := func(extra ...[2]string) (*sql.DB, error) {
		q := url.Values{}
		q.Set("mode", "ro")
		for _, p := range []string{"busy_timeout(10000)", "query_only(1)"} {
			q.Add("_pragma", p)
		}
		for _, kv := range extra {
			q.Set(kv[0], kv[1])
		}
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		// One connection: every read sees the same database, and nothing is left to a pool.
		db.SetMaxOpenConns(1)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
			db.Close()
			return nil, err
		}
		return db, nil
	}
	db, err := open()
	if err != nil && !writable(dir) {
		// A WAL database in a folder that cannot be written: the shared-memory file cannot
		// be made, but nothing can change the file either.
		db, err = open([2]string{"immutable", "1"})
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	store, err := sqlstore.New(ctx, db, db, Dialect())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	return store, nil
}

// writable reports whether a file can be created in dir.
func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".docket-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// checkpoint copies the WAL into the database file every quarter second, in PASSIVE mode:
// it never waits for the writer nor blocks it.
func checkpoint(db *sql.DB, log *slog.Logger, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if _, err := db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				log.Warn("sqlite checkpoint", slog.Any("err", err))
			}
		}
	}
}

// ftsQuery turns typed words into an FTS5 query that matches them all, each taken as a
// plain string: nothing typed is read as FTS5 syntax.
func ftsQuery(q string) string {
	words := strings.Fields(q)
	for i, w := range words {
		words[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"`
	}
	return strings.Join(words, " ")
}

// Backup writes a consistent copy of the database in data folder dir to dest, a folder
// that must not hold a database yet, while docket may be serving: VACUUM INTO reads one
// snapshot (one read transaction in WAL mode) and writes a compact, self-contained file.
// The files beside the database that docket needs to read what it sealed and to go on
// signing its log (the evidence key, the log key) are copied too. The copy opens as a data folder: docket serve --data dest.
func Backup(ctx context.Context, dir, dest string) error {
	src := filepath.Join(dir, FileName)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: no docket database at %s: %w", src, err)
	}
	if err := os.MkdirAll(dest, 0o700); err != nil {
		return fmt.Errorf("backup: create %s: %w", dest, err)
	}
	out := filepath.Join(dest, FileName)
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s already holds a database; choose an empty folder", dest)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+src+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, out); err != nil {
		os.Remove(out)
		return fmt.Errorf("backup: copy %s to %s: %w", src, out, err)
	}
	for _, name := range []string{"evidence.key", "log.key"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return fmt.Errorf("backup: read %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dest, name), b, 0o600); err != nil {
			return fmt.Errorf("backup: write %s: %w", name, err)
		}
	}
	return nil
}
