-- The event log as a Merkle tree in the manner of RFC 9162 (package translog): one leaf per
-- event in seq order, the leaf being the event's hash (its 32 bytes), leaf index seq - 1.
-- audit_head.frontier is the compact range of the tree of audit_head.seq leaves: the hashes
-- of the complete subtrees along its right edge, largest first, 32 bytes each; it moves with
-- the head in every write transaction. tree_nodes holds the hash of every complete subtree
-- above the leaves (2^level leaves from leaf idx * 2^level, level >= 1; a leaf's hash comes
-- from its event's hash), inserted as it completes, never changed: proofs read O(log n) of
-- them. tree_heads holds the signed tree heads, one per write transaction
-- that appended events (when docket has its log key), with the public key that signed each.
-- requests.seq is the seq of the event that recorded the request's receipt. The Go step
-- 1001_merkle_tree fills all of them for a store created before; docket audit verify
-- checks them against the events.
ALTER TABLE audit_head ADD COLUMN frontier BYTEA NOT NULL DEFAULT ''::bytea;
CREATE TABLE tree_nodes (
	level BIGINT NOT NULL,
	idx   BIGINT NOT NULL,
	hash  BYTEA NOT NULL,
	PRIMARY KEY (level, idx)
);
CREATE TABLE tree_heads (
	tree_size  BIGINT PRIMARY KEY,
	root_hash  BYTEA NOT NULL,
	signed_at  BIGINT NOT NULL,
	signature  BYTEA NOT NULL,
	public_key TEXT NOT NULL
);
ALTER TABLE requests ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
