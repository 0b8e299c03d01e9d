package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/docket-dev/docket"
)

// Inserts inside a transaction are buffered and written as multi-row INSERTs when the
// transaction reads, updates or commits. A batch of receipts then costs a handful of
// statements instead of several per receipt: on PostgreSQL each statement is a round trip,
// on SQLite each is a trip through the virtual machine.

// insertTable describes one buffered table. Tables are flushed in this order, parents first.
type insertTable struct {
	name, cols string
	ncol       int
	suffix     string // e.g. ON CONFLICT … DO NOTHING
}

var bufferedTables = []insertTable{
	{name: "cases", cols: "state, pending, regime, queue, priority, emergency, authority_id, assignee_id, reference, received_at, deadline_at, due_soon_at, paused_at, due_soon_marked, overdue_marked, updated_at, doc, country, acknowledged_at, answered_at, id", ncol: 21},
	{name: "requests", cols: "id, case_id, channel, authority_id, received_at, sha256, content_type, idempotency_key, raw, body, seq", ncol: 11},
	{name: "targets", cols: "case_id, request_id, kind, value", ncol: 4},
	{name: "blobs", cols: "sha256, size, data", ncol: 3, suffix: " ON CONFLICT (sha256) DO NOTHING"},
	{name: "events", cols: "seq, case_id, type, actor, at, data, prev_hash, hash", ncol: 8},
	{name: "request_search", cols: "request_id, body", ncol: 2},
	{name: "jobs", cols: "kind, payload, unique_key, state, run_at, attempts, max_attempts, locked_until, last_error, created_at", ncol: 10, suffix: " ON CONFLICT (unique_key) DO NOTHING"},
	// The event log's Merkle tree: the subtrees each appended event completes, and the
	// transaction's signed head (see tx.Append and Store.Update).
	{name: "tree_nodes", cols: "level, idx, hash", ncol: 3},
	{name: "tree_heads", cols: "tree_size, root_hash, signed_at, signature, public_key", ncol: 5},
}

// chunkSizes are the row counts of the multi-row INSERTs: a batch of n rows is written as
// chunks of these sizes, largest first, so that a handful of statements, prepared once,
// serve every batch.
var chunkSizes = []int{64, 16, 4, 1}

func insertSQL(tab insertTable, rows int) string {
	row := "(" + placeholders(tab.ncol) + ")"
	return "INSERT INTO " + tab.name + " (" + tab.cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ") + tab.suffix
}

// prepareInserts prepares every chunk statement on the write pool (SQLite: its single
// connection), where transactions then reuse them.
func prepareInserts(ctx context.Context, db *sql.DB, d *Dialect) (map[string]*sql.Stmt, error) {
	out := map[string]*sql.Stmt{}
	for _, tab := range bufferedTables {
		for _, n := range chunkSizes {
			q := insertSQL(tab, n)
			st, err := db.PrepareContext(ctx, d.Rebind(q))
			if err != nil {
				return nil, fmt.Errorf("prepare insert into %s: %w", tab.name, err)
			}
			out[q] = st
		}
	}
	return out, nil
}

type buffers struct {
	args    [][]any                    // per table, flattened rows
	blobs   map[string]bool            // sha256 of blobs buffered
	pending map[string]*docket.Request // authority id + "\x00" + idempotency key
	// related maps requester + reference, and requester + target, to buffered cases.
	related map[string]string
	cases   map[string]*docket.Case
	n       int
}

func (b *buffers) add(table int, args ...any) {
	if b.args == nil {
		b.args = make([][]any, len(bufferedTables))
	}
	b.args[table] = append(b.args[table], args...)
	b.n++
}

const (
	tabCases = iota
	tabRequests
	tabTargets
	tabBlobs
	tabEvents
	tabSearch
	tabJobs
	tabNodes
	tabHeads
)

// flush writes everything buffered.
func (t *tx) flush(ctx context.Context) error {
	if t.buf.n == 0 {
		return nil
	}
	for i, tab := range bufferedTables {
		args := t.buf.args[i]
		for _, size := range chunkSizes {
			for len(args) >= size*tab.ncol {
				chunk := args[:size*tab.ncol]
				args = args[size*tab.ncol:]
				if err := t.insert(ctx, tab, size, chunk); err != nil {
					return err
				}
			}
		}
	}
	t.buf = buffers{}
	return nil
}

func (t *tx) insert(ctx context.Context, tab insertTable, rows int, args []any) error {
	q := insertSQL(tab, rows)
	var err error
	if st, ok := t.s.inserts[q]; ok {
		_, err = t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	} else {
		_, err = t.tx.ExecContext(ctx, t.s.rebind(q), args...)
	}
	if err != nil {
		if tab.name == "requests" && t.s.d.IsUniqueViolation(err) {
			return docket.Errorf(docket.ECONFLICT, "A request with this idempotency key already exists.")
		}
		return fmt.Errorf("insert into %s: %w", tab.name, err)
	}
	return nil
}
