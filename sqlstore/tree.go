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
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/translog"
)

// The event log as a Merkle tree (package translog): leaf i is event i+1, the leaf's data
// the 32 bytes of the event's hash. Why the hash rather than the event's bytes: the hash
// already covers every field of the event and the previous event's hash, so the tree and
// the chain prove the same thing; every leaf has the same size; the tree can be rebuilt and
// checked from the events' hash column alone; and a proof for one event shows no other
// event's content, only hashes.
//
// Each write transaction reads the tree's compact range with the chain's head (one row,
// audit_head.frontier, already locked there), appends its events to it, buffers the subtrees
// they complete above the leaves (tree_nodes, one row per event on average: a leaf's hash is
// read from the event's own row when a proof needs it), signs one head for the whole
// transaction when the store has a key (tree_heads), and writes the new compact range with
// the new head. Nothing is read back: a commit costs no more round trips than before.

// SetSigner makes the store sign a tree head at the end of every write transaction that
// appends events; nil stops it.
func (s *Store) SetSigner(signer *translog.Signer) {
	if signer == nil {
		s.signer.Store(nil)
		return
	}
	s.signer.Store(&treeSigner{signer: signer, key: translog.KeyLine(signer.Public())})
}

type treeSigner struct {
	signer *translog.Signer
	key    string
}

// logCommit is a transaction's part of the tree: the subtrees it could need for the proofs
// of its own events (the right edge it started from, and every subtree its events
// completed) and, once committed, the head it signed.
type logCommit struct {
	nodes     map[translog.NodeID]translog.Hash
	head      *translog.SignedTreeHead
	committed bool
}

var _ docket.LogCommit = (*logCommit)(nil)

func (l *logCommit) Head() *translog.SignedTreeHead {
	if !l.committed {
		return nil
	}
	return l.head
}

func (l *logCommit) Inclusion(seq int64) ([]translog.Hash, error) {
	if !l.committed || l.head == nil {
		return nil, errors.New("inclusion proof: the transaction signed no tree head")
	}
	p, err := translog.InclusionPlan(uint64(seq-1), l.head.TreeSize)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of event %d: %w", seq, err)
	}
	proof, err := p.ProofFrom(func(id translog.NodeID) (translog.Hash, bool) {
		h, ok := l.nodes[id]
		return h, ok
	})
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of event %d (not appended in this transaction?): %w", seq, err)
	}
	return proof, nil
}

// Log returns the transaction's part of the tree.
func (t *tx) Log() docket.LogCommit { return t.log }

// openTree reads the compact range stored with the head the transaction locked.
func (t *tx) openTree(frontier []byte) error {
	r, err := translog.ParseRange(uint64(t.headSeq), frontier)
	if err != nil {
		return fmt.Errorf("the event log's Merkle tree does not match the chain's head at event %d (%v): run docket audit verify", t.headSeq, err)
	}
	t.tree = r
	t.log = &logCommit{nodes: make(map[translog.NodeID]translog.Hash, 64)}
	ids, hashes := r.Nodes()
	for i, id := range ids {
		t.log.nodes[id] = hashes[i]
	}
	return nil
}

// appendLeaf adds a sealed event to the tree and buffers the subtrees it completes.
func (t *tx) appendLeaf(e *docket.Event) error {
	leaf, err := audit.Leaf(e)
	if err != nil {
		return err
	}
	t.tree.Append(leaf, t.addNode)
	return nil
}

func (t *tx) addNode(id translog.NodeID, h translog.Hash) {
	t.log.nodes[id] = h
	switch {
	case id.Level == 0:
	case t.s.d.Arrays:
		t.nodes.level = append(t.nodes.level, int64(id.Level))
		t.nodes.idx = append(t.nodes.idx, int64(id.Index))
		t.nodes.hash = append(t.nodes.hash, h[:])
	default:
		t.buf.add(tabNodes, int64(id.Level), int64(id.Index), h[:])
	}
}

// pendingNodes are the subtrees a transaction completed, as arrays (Dialect.Arrays).
type pendingNodes struct {
	level, idx []int64
	hash       [][]byte
}

// signTree signs the head of the tree as the transaction leaves it, when the store has a key,
// and buffers it.
func (t *tx) signTree() {
	ts := t.s.signer.Load()
	if ts == nil {
		return
	}
	h := ts.signer.Sign(t.tree.Size(), t.tree.Root(), time.Now())
	t.log.head = &h
	t.headKey = ts.key
	if !t.s.d.Arrays {
		t.buf.add(tabHeads, int64(h.TreeSize), h.RootHash[:], h.Timestamp, h.Signature, ts.key)
	}
}

// moveHead records the chain's new head and the tree's new compact range. With
// Dialect.Arrays the subtrees and the signed head are written by the same statement.
func (t *tx) moveHead(ctx context.Context) error {
	if !t.s.d.Arrays {
		if _, err := t.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ?, frontier = ? WHERE id = 1`, t.headSeq, t.headHash, t.tree.Bytes()); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		return nil
	}
	var size, signedAt int64
	var root, sig []byte
	if h := t.log.head; h != nil {
		size, root, signedAt, sig = int64(h.TreeSize), h.RootHash[:], h.Timestamp, h.Signature
	}
	n := &t.nodes
	_, err := t.exec(ctx, `WITH nodes AS (
		INSERT INTO tree_nodes (level, idx, hash) SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bytea[])
	), head AS (
		INSERT INTO tree_heads (tree_size, root_hash, signed_at, signature, public_key) SELECT ?::bigint, ?::bytea, ?::bigint, ?::bytea, ?::text WHERE ?::bytea IS NOT NULL
	) UPDATE audit_head SET seq = ?, hash = ?, frontier = ? WHERE id = 1`,
		n.level, n.idx, n.hash, size, root, signedAt, sig, t.headKey, sig, t.headSeq, t.headHash, t.tree.Bytes())
	if err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	t.nodes = pendingNodes{}
	return nil
}

// writeNodes writes the subtrees kept as arrays (Dialect.Arrays) on their own.
func (t *tx) writeNodes(ctx context.Context) error {
	if !t.s.d.Arrays || len(t.nodes.level) == 0 {
		return nil
	}
	n := &t.nodes
	if _, err := t.exec(ctx, `INSERT INTO tree_nodes (level, idx, hash) SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::bytea[])`, n.level, n.idx, n.hash); err != nil {
		return fmt.Errorf("insert into tree_nodes: %w", err)
	}
	t.nodes = pendingNodes{}
	return nil
}

// Event returns the event with sequence number seq.
func (s *Store) Event(ctx context.Context, seq int64) (*docket.Event, error) {
	e, err := scanEvent(s.queryRow(ctx, `SELECT `+eventCols+` FROM events WHERE seq = ?`, seq))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, docket.ErrNotFound
	}
	return e, notFoundOr(err, fmt.Sprintf("read event %d", seq))
}

const headCols = `tree_size, root_hash, signed_at, signature`

func scanHead(r rowScanner) (*translog.SignedTreeHead, error) {
	var h translog.SignedTreeHead
	var size int64
	var root []byte
	if err := r.Scan(&size, &root, &h.Timestamp, &h.Signature); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, docket.ErrNotFound
		}
		return nil, err
	}
	if len(root) != translog.HashSize {
		return nil, fmt.Errorf("tree head of size %d: its root is %d bytes", size, len(root))
	}
	h.TreeSize = uint64(size)
	copy(h.RootHash[:], root)
	return &h, nil
}

// LatestTreeHead returns the newest signed tree head.
func (s *Store) LatestTreeHead(ctx context.Context) (*translog.SignedTreeHead, error) {
	h, err := scanHead(s.queryRow(ctx, `SELECT `+headCols+` FROM tree_heads WHERE tree_size = (SELECT MAX(tree_size) FROM tree_heads)`))
	return h, notFoundOr(err, "read the latest tree head")
}

// TreeHead returns the signed head of the tree of size leaves.
func (s *Store) TreeHead(ctx context.Context, size uint64) (*translog.SignedTreeHead, error) {
	h, err := scanHead(s.queryRow(ctx, `SELECT `+headCols+` FROM tree_heads WHERE tree_size = ?`, int64(size)))
	return h, notFoundOr(err, fmt.Sprintf("read the tree head of size %d", size))
}

// InclusionProof returns the inclusion proof of leaf index in the tree of size leaves.
func (s *Store) InclusionProof(ctx context.Context, index, size uint64) ([]translog.Hash, error) {
	if err := s.checkTreeSize(ctx, size); err != nil {
		return nil, err
	}
	p, err := translog.InclusionPlan(index, size)
	if err != nil {
		return nil, docket.Errorf(docket.EINVALID, "No inclusion proof: %v.", err)
	}
	return s.prove(ctx, p)
}

// ConsistencyProof returns the consistency proof between the trees of size1 and size2 leaves.
func (s *Store) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([]translog.Hash, error) {
	if err := s.checkTreeSize(ctx, size2); err != nil {
		return nil, err
	}
	p, err := translog.ConsistencyPlan(size1, size2)
	if err != nil {
		return nil, docket.Errorf(docket.EINVALID, "No consistency proof: %v.", err)
	}
	return s.prove(ctx, p)
}

// checkTreeSize refuses a tree larger than the log: its subtrees are not all stored yet.
func (s *Store) checkTreeSize(ctx context.Context, size uint64) error {
	seq, _, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if size > uint64(seq) {
		return docket.Errorf(docket.EINVALID, "The log holds %d events; there is no tree of %d.", seq, size)
	}
	return nil
}

// prove reads the subtrees a proof needs, in one query, and folds them.
func (s *Store) prove(ctx context.Context, p *translog.Plan) ([]translog.Hash, error) {
	if len(p.IDs) == 0 {
		return []translog.Hash{}, nil
	}
	got, err := s.treeNodes(ctx, p.IDs)
	if err != nil {
		return nil, err
	}
	return p.ProofFrom(func(id translog.NodeID) (translog.Hash, bool) {
		h, ok := got[id]
		return h, ok
	})
}

// treeNodes reads the stored hashes of the subtrees ids: leaves from their events' hashes,
// larger subtrees from tree_nodes, each in one query.
func (s *Store) treeNodes(ctx context.Context, ids []translog.NodeID) (map[translog.NodeID]translog.Hash, error) {
	got := make(map[translog.NodeID]translog.Hash, len(ids))
	var nodes, leaves strings.Builder
	var nodeArgs, leafArgs []any
	for _, id := range ids {
		if id.Level == 0 {
			if len(leafArgs) > 0 {
				leaves.WriteString(`, `)
			}
			leaves.WriteString(`?`)
			leafArgs = append(leafArgs, int64(id.Index)+1)
			continue
		}
		if len(nodeArgs) > 0 {
			nodes.WriteString(` OR `)
		}
		nodes.WriteString(`(level = ? AND idx = ?)`)
		nodeArgs = append(nodeArgs, int64(id.Level), int64(id.Index))
	}
	if len(leafArgs) > 0 {
		err := s.scanAllArgs(ctx, "leaves", `SELECT seq, hash FROM events WHERE seq IN (`+leaves.String()+`)`, leafArgs, func(rows *sql.Rows) error {
			var e docket.Event
			if err := rows.Scan(&e.Seq, &e.Hash); err != nil {
				return err
			}
			leaf, err := audit.Leaf(&e)
			if err != nil {
				return err
			}
			got[translog.NodeID{Level: 0, Index: uint64(e.Seq - 1)}] = leaf
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(nodeArgs) == 0 {
		return got, nil
	}
	err := s.scanAllArgs(ctx, "tree nodes", `SELECT level, idx, hash FROM tree_nodes WHERE `+nodes.String(), nodeArgs, func(rows *sql.Rows) error {
		var level, idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return err
		}
		if len(h) != translog.HashSize {
			return fmt.Errorf("tree node %d at level %d: its hash is %d bytes", idx, level, len(h))
		}
		got[translog.NodeID{Level: uint8(level), Index: uint64(idx)}] = translog.Hash(h)
		return nil
	})
	return got, err
}

// treeVersion is the row of schema_migrations that records the Merkle tree built over a
// store's events (see BuildTree): a step in Go, numbered apart from the SQL files.
const (
	treeVersion = 1001
	treeName    = "1001_merkle_tree (go)"
)

// BuildTree runs once per database, after the SQL migrations and before anything appends an
// event: it builds the Merkle tree over the events a store created before this version holds
// — every complete subtree, the compact range kept with the head — and records in each
// request the seq of its receipt event. A new store records only that it is done. It reads
// the events a few thousand at a time, so that its memory does not grow with the log.
func (s *Store) BuildTree(ctx context.Context) error {
	var done int
	if err := s.write.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), treeVersion).Scan(&done); err != nil {
		return fmt.Errorf("build the Merkle tree: check: %w", err)
	} else if done > 0 {
		return nil
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("build the Merkle tree: begin: %w", err)
	}
	defer sqlTx.Rollback()
	t := &tx{s: s, tx: sqlTx, stmts: map[string]*sql.Stmt{}, log: &logCommit{nodes: map[translog.NodeID]translog.Hash{}}}
	// Holding the head: nodes starting at once take turns here, and no event is appended
	// meanwhile.
	if err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+s.d.ForUpdate).Scan(&t.headSeq, &t.headHash); err != nil {
		return fmt.Errorf("build the Merkle tree: lock audit head: %w", err)
	}
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, treeVersion).Scan(&done); err != nil {
		return fmt.Errorf("build the Merkle tree: check: %w", err)
	} else if done > 0 {
		return nil
	}
	t.tree = &translog.Range{}
	type receipt struct {
		request string
		seq     int64
	}
	for last := int64(0); ; {
		rows, err := t.query(ctx, `SELECT seq, hash, type, data FROM events WHERE seq > ? ORDER BY seq LIMIT 4096`, last)
		if err != nil {
			return fmt.Errorf("build the Merkle tree: read events: %w", err)
		}
		var receipts []receipt
		n := 0
		for rows.Next() {
			var e docket.Event
			var typ, data string
			if err := rows.Scan(&e.Seq, &e.Hash, &typ, &data); err != nil {
				rows.Close()
				return fmt.Errorf("build the Merkle tree: read events: %w", err)
			}
			n++
			if e.Seq != last+1 {
				rows.Close()
				return fmt.Errorf("build the Merkle tree: event %d follows event %d: the chain has a gap (docket audit verify names it)", e.Seq, last)
			}
			last = e.Seq
			if err := t.appendLeaf(&e); err != nil {
				rows.Close()
				return fmt.Errorf("build the Merkle tree: %w", err)
			}
			if id := receiptOf(docket.EventType(typ), data); id != "" {
				receipts = append(receipts, receipt{id, e.Seq})
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("build the Merkle tree: read events: %w", err)
		}
		rows.Close()
		if n == 0 {
			break
		}
		if err := t.flush(ctx); err != nil {
			return fmt.Errorf("build the Merkle tree: %w", err)
		}
		if err := t.writeNodes(ctx); err != nil {
			return fmt.Errorf("build the Merkle tree: %w", err)
		}
		clear(t.log.nodes)
		for _, r := range receipts {
			if _, err := t.exec(ctx, `UPDATE requests SET seq = ? WHERE id = ?`, r.seq, r.request); err != nil {
				return fmt.Errorf("build the Merkle tree: request %s: %w", r.request, err)
			}
		}
	}
	if t.tree.Size() != uint64(t.headSeq) {
		return fmt.Errorf("build the Merkle tree: the chain holds %d events but its head is event %d (docket audit verify names the problem)", t.tree.Size(), t.headSeq)
	}
	if _, err := t.exec(ctx, `UPDATE audit_head SET frontier = ? WHERE id = 1`, t.tree.Bytes()); err != nil {
		return fmt.Errorf("build the Merkle tree: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, treeVersion, treeName, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("build the Merkle tree: record: %w", err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("build the Merkle tree: commit: %w", err)
	}
	return nil
}

// receiptOf returns the request whose receipt an event records: case_opened (not of a case
// split off another), request_received, requester_replied.
func receiptOf(typ docket.EventType, data string) string {
	switch typ {
	case docket.EventCaseOpened, docket.EventRequestReceived, docket.EventRequesterReplied:
	default:
		return ""
	}
	var d struct {
		RequestID string `json:"request_id"`
		SplitFrom string `json:"split_from"`
	}
	if json.Unmarshal([]byte(data), &d) != nil || d.SplitFrom != "" {
		return ""
	}
	return d.RequestID
}

// ScanTreeNodes calls fn for every subtree of the tree stored in tree_nodes (all but the
// leaves, whose hashes are the events'), in no particular order.
func (s *Store) ScanTreeNodes(ctx context.Context, fn func(id translog.NodeID, h []byte) error) error {
	var level, idx int64
	var h []byte
	return s.scanAll(ctx, "tree nodes", `SELECT level, idx, hash FROM tree_nodes`, func(rows *sql.Rows) error {
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return fmt.Errorf("scan tree nodes: %w", err)
		}
		if level < 0 || level > 63 || idx < 0 {
			return fmt.Errorf("scan tree nodes: a node at level %d, index %d cannot exist", level, idx)
		}
		return fn(translog.NodeID{Level: uint8(level), Index: uint64(idx)}, h)
	})
}

// ScanTreeHeads calls fn for every signed tree head with the public key recorded with it,
// in no particular order.
func (s *Store) ScanTreeHeads(ctx context.Context, fn func(h *translog.SignedTreeHead, key string) error) error {
	var key string
	return s.scanAll(ctx, "tree heads", `SELECT `+headCols+`, public_key FROM tree_heads`, func(rows *sql.Rows) error {
		var h translog.SignedTreeHead
		var size int64
		var root []byte
		if err := rows.Scan(&size, &root, &h.Timestamp, &h.Signature, &key); err != nil {
			return fmt.Errorf("scan tree heads: %w", err)
		}
		h.TreeSize = uint64(size)
		if len(root) != translog.HashSize {
			return fmt.Errorf("scan tree heads: the head of size %d has a root of %d bytes", size, len(root))
		}
		copy(h.RootHash[:], root)
		return fn(&h, key)
	})
}

// Frontier returns the compact range stored with the chain's head, as stored.
func (s *Store) Frontier(ctx context.Context) ([]byte, error) {
	var b []byte
	if err := s.queryRow(ctx, `SELECT frontier FROM audit_head WHERE id = 1`).Scan(&b); err != nil {
		return nil, fmt.Errorf("read the tree's compact range: %w", err)
	}
	return b, nil
}

// CompactRange returns the compact range of the log's first size events as the stored tree
// gives it (the right-edge subtrees' hashes): what an incremental verification extends.
func (s *Store) CompactRange(ctx context.Context, size uint64) (*translog.Range, error) {
	if err := s.checkTreeSize(ctx, size); err != nil {
		return nil, err
	}
	ids := translog.Decompose(0, size, nil)
	got, err := s.treeNodes(ctx, ids)
	if err != nil {
		return nil, err
	}
	hashes := make([]translog.Hash, len(ids))
	for i, id := range ids {
		h, ok := got[id]
		if !ok {
			return nil, fmt.Errorf("compact range of %d events: subtree %d/%d is not stored", size, id.Level, id.Index)
		}
		hashes[i] = h
	}
	return translog.NewRange(size, hashes)
}

// ScanEventsAfter calls fn for every event whose seq is greater than after, in Seq order.
func (s *Store) ScanEventsAfter(ctx context.Context, after int64, fn func(*docket.Event) error) error {
	return s.scanAllArgs(ctx, "events", `SELECT `+eventCols+` FROM events WHERE seq > ? ORDER BY seq`, []any{after}, func(rows *sql.Rows) error {
		e, err := scanEvent(rows)
		if err != nil {
			return fmt.Errorf("scan events after %d: %w", after, err)
		}
		return fn(e)
	})
}
