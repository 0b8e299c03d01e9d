// Package sqlstore implements docket.Store over database/sql. The SQL is written once; the
// few places where SQLite and PostgreSQL differ are the fields of Dialect, which the sqlite
// and postgres packages fill in.
package sqlstore

import (
	"io/fs"
	"strconv"
	"strings"
)

// Dialect holds what differs between engines.
type Dialect struct {
	Name string
	// Numbered placeholders ($1, $2…) instead of ?.
	Numbered bool
	// ForUpdate is appended to SELECTs that lock rows in a write transaction
	// (" FOR UPDATE" on PostgreSQL; SQLite locks the whole database instead).
	ForUpdate string
	// SkipLocked is appended to the SELECT that claims jobs, so that several nodes can claim
	// at once (" FOR UPDATE SKIP LOCKED" on PostgreSQL).
	SkipLocked string
	// Migrations holds NNN_name.sql files applied in order, each in its own transaction.
	Migrations fs.FS
	// CachesStatements is true when the driver prepares and caches statements itself (pgx),
	// so that the store need not prepare them in each transaction.
	CachesStatements bool
	// Search is the condition on request_search that matches a full-text query, with one
	// placeholder; SearchArg turns what a person typed into that placeholder's value.
	Search    string
	SearchArg func(q string) string
	// IsUniqueViolation reports whether err is a unique-constraint violation.
	IsUniqueViolation func(error) bool
	// Arrays says the engine takes arrays as parameters and data-modifying WITH clauses
	// (PostgreSQL): a transaction's tree subtrees and signed head then ride in the one
	// statement that moves the chain's head, instead of two statements more, each a round
	// trip (see tx.moveHead).
	Arrays bool
}

// Rebind rewrites ? placeholders for the dialect. Our SQL holds no ? inside literals.
func (d *Dialect) Rebind(q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
