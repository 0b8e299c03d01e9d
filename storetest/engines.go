// Package storetest is the conformance suite every docket.Store must pass, and the helper
// that runs a test on each engine: SQLite always, PostgreSQL when DOCKET_TEST_POSTGRES holds
// a connection URL (each test then gets a schema of its own, dropped at the end).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
)

// PostgresEnv names the variable that holds the test database's URL.
const PostgresEnv = "DOCKET_TEST_POSTGRES"

// Open returns a fresh, empty store of the named engine ("sqlite" or "postgres"), closed at
// the end of the test. It skips the test when the engine is not available.
func Open(t testing.TB, engine string) docket.Store {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch engine {
	case "sqlite":
		s, err := sqlite.Open(ctx, t.TempDir(), log)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	case "postgres":
		u := PostgresURL(t)
		s, err := postgres.Open(ctx, u, log)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Fatalf("unknown engine %q", engine)
	return nil
}

// PostgresURL creates a schema of the test's own in the database named by
// DOCKET_TEST_POSTGRES and returns a URL that uses it; the schema is dropped at the end.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL half skipped: set %s=postgres://user@127.0.0.1:5432/test?sslmode=disable to run it", PostgresEnv)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "docket_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Engines lists the engines a test runs on.
var Engines = []string{"sqlite", "postgres"}

// Each runs fn as a subtest on each engine, with a fresh store.
func Each(t *testing.T, fn func(t *testing.T, s docket.Store)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}
