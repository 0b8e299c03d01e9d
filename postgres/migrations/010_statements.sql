-- Statements of reasons for the EU Transparency Database (DSA art. 24(5)): one row per action
-- on content or an account that the platform applied, inserted in the transaction that
-- records its statement_queued event. payload is the statement as sent (its SHA-256 is in
-- that event); state, remote_id, error and decided_at follow the case's statement_accepted
-- and statement_refused events, and docket audit verify checks them. attempts, next_at,
-- locked_until and last_error schedule the submission: outside the proof, like the jobs'.
CREATE TABLE statements (
	puid         TEXT PRIMARY KEY,
	case_id      TEXT NOT NULL REFERENCES cases (id),
	action       BIGINT NOT NULL,
	payload      TEXT NOT NULL,
	state        TEXT NOT NULL,
	remote_id    TEXT NOT NULL,
	error        TEXT NOT NULL,
	queued_at    BIGINT NOT NULL,
	decided_at   BIGINT NOT NULL,
	attempts     BIGINT NOT NULL,
	next_at      BIGINT NOT NULL,
	locked_until BIGINT NOT NULL,
	last_error   TEXT NOT NULL
);
CREATE INDEX statements_due ON statements (state, next_at);
CREATE INDEX statements_queued ON statements (queued_at, puid);
