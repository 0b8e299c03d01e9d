CREATE TABLE authorities (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	country    TEXT NOT NULL,
	kind       TEXT NOT NULL DEFAULT '',
	domains    TEXT NOT NULL DEFAULT '[]',
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE users (
	id         TEXT PRIMARY KEY,
	email      TEXT NOT NULL UNIQUE,
	role       TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE cases (
	id              TEXT PRIMARY KEY,
	state           TEXT NOT NULL,
	pending         BIGINT NOT NULL,
	regime          TEXT NOT NULL,
	queue           TEXT NOT NULL,
	priority        BIGINT NOT NULL,
	emergency       BIGINT NOT NULL,
	authority_id    TEXT NOT NULL,
	assignee_id     TEXT NOT NULL,
	reference       TEXT NOT NULL,
	received_at     BIGINT NOT NULL,
	deadline_at     BIGINT NOT NULL,
	due_soon_at     BIGINT NOT NULL,
	paused_at       BIGINT NOT NULL,
	due_soon_marked BIGINT NOT NULL,
	overdue_marked  BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	doc             TEXT NOT NULL
);
CREATE INDEX cases_pending_deadline ON cases (pending, deadline_at);
CREATE INDEX cases_pending_due_soon ON cases (pending, due_soon_at);
CREATE INDEX cases_authority ON cases (authority_id, reference);
CREATE INDEX cases_received ON cases (received_at);

CREATE TABLE requests (
	id              TEXT PRIMARY KEY,
	case_id         TEXT NOT NULL REFERENCES cases (id),
	channel         TEXT NOT NULL,
	authority_id    TEXT NOT NULL,
	received_at     BIGINT NOT NULL,
	sha256          TEXT NOT NULL,
	content_type    TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	raw             BYTEA NOT NULL,
	body            TEXT NOT NULL
);
CREATE INDEX requests_case ON requests (case_id);
CREATE UNIQUE INDEX requests_idempotency ON requests (authority_id, idempotency_key) WHERE idempotency_key <> '';

CREATE TABLE targets (
	case_id    TEXT NOT NULL REFERENCES cases (id),
	request_id TEXT NOT NULL REFERENCES requests (id),
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL
);
CREATE INDEX targets_value ON targets (kind, value);

CREATE TABLE blobs (
	sha256 TEXT PRIMARY KEY,
	size   BIGINT NOT NULL,
	data   BYTEA NOT NULL
);

CREATE TABLE events (
	seq       BIGINT PRIMARY KEY,
	case_id   TEXT NOT NULL,
	type      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	at        BIGINT NOT NULL,
	data      TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE INDEX events_case ON events (case_id, seq);

CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE jobs (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind         TEXT NOT NULL,
	payload      TEXT NOT NULL,
	unique_key   TEXT,
	state        TEXT NOT NULL,
	run_at       BIGINT NOT NULL,
	attempts     BIGINT NOT NULL,
	max_attempts BIGINT NOT NULL,
	locked_until BIGINT NOT NULL,
	last_error   TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX jobs_unique ON jobs (unique_key);
CREATE INDEX jobs_due ON jobs (state, run_at);
