-- Hash banks: named lists of hashes of known media (PDQ for pictures, SHA-256 and MD5 for
-- any file). Both tables are projections of events outside any case (bank_created,
-- bank_changed, bank_hashes_added, bank_hashes_withdrawn), written in the transaction that
-- appends them; docket audit verify checks every row against the chain. changed_seq is the
-- seq of the bank's last event and hashes its count of live hashes. A hash is never
-- deleted: withdrawing it sets withdrawn_seq (and its actor and time); the same hash added
-- again is a new row.
CREATE TABLE banks (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	source       TEXT NOT NULL,
	category     TEXT NOT NULL,
	dsa_category TEXT NOT NULL,
	action       TEXT NOT NULL,
	enabled      BIGINT NOT NULL,
	created_by   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	changed_seq  BIGINT NOT NULL,
	hashes       BIGINT NOT NULL
);
CREATE TABLE bank_hashes (
	bank_id       TEXT NOT NULL REFERENCES banks (id),
	kind          TEXT NOT NULL,
	hash          TEXT NOT NULL,
	quality       BIGINT NOT NULL,
	added_seq     BIGINT NOT NULL,
	added_by      TEXT NOT NULL,
	added_at      BIGINT NOT NULL,
	withdrawn_seq BIGINT NOT NULL,
	withdrawn_by  TEXT NOT NULL,
	withdrawn_at  BIGINT NOT NULL
);
-- One live row per hash of a bank; the matcher of a running server reads what changed
-- since the last event it saw through the two others.
CREATE UNIQUE INDEX bank_hashes_live ON bank_hashes (bank_id, kind, hash) WHERE withdrawn_seq = 0;
CREATE INDEX bank_hashes_added ON bank_hashes (added_seq);
CREATE INDEX bank_hashes_withdrawn ON bank_hashes (withdrawn_seq) WHERE withdrawn_seq > 0;
