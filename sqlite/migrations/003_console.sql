-- The console and the portal: columns for filters and the dashboard, sign-in accounts,
-- sessions, and full-text search over requests.
ALTER TABLE cases ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN acknowledged_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN answered_at INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET country = COALESCE(json_extract(doc, '$.country'), '');
CREATE INDEX cases_answered ON cases (answered_at);

CREATE TABLE logins (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	email           TEXT NOT NULL,
	name            TEXT NOT NULL,
	authority_id    TEXT NOT NULL,
	status          TEXT NOT NULL,
	password_hash   TEXT NOT NULL,
	totp_secret     TEXT NOT NULL,
	totp_step       INTEGER NOT NULL,
	failures        INTEGER NOT NULL,
	locked_until    INTEGER NOT NULL,
	confirm_hash    TEXT NOT NULL,
	confirm_expires INTEGER NOT NULL,
	created_by      TEXT NOT NULL,
	approved_by     TEXT NOT NULL,
	created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX logins_email ON logins (kind, email);
CREATE INDEX logins_authority ON logins (authority_id);
CREATE INDEX logins_confirm ON logins (confirm_hash);

CREATE TABLE sessions (
	hash       TEXT PRIMARY KEY,
	login_id   TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE VIRTUAL TABLE case_search USING fts5 (case_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO case_search (case_id, body)
	SELECT case_id, COALESCE(json_extract(body, '$.reference'), '') || ' ' || COALESCE(json_extract(body, '$.description'), '') || ' ' || COALESCE(json_extract(body, '$.email.subject'), '')
	FROM requests;
