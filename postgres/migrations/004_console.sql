-- The console and the portal: columns for filters and the dashboard, sign-in accounts,
-- sessions, and full-text search over requests.
ALTER TABLE cases ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN acknowledged_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN answered_at BIGINT NOT NULL DEFAULT 0;
UPDATE cases SET country = COALESCE(doc::jsonb ->> 'country', '');
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
	totp_step       BIGINT NOT NULL,
	failures        BIGINT NOT NULL,
	locked_until    BIGINT NOT NULL,
	confirm_hash    TEXT NOT NULL,
	confirm_expires BIGINT NOT NULL,
	created_by      TEXT NOT NULL,
	approved_by     TEXT NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX logins_email ON logins (kind, email);
CREATE INDEX logins_authority ON logins (authority_id);
CREATE INDEX logins_confirm ON logins (confirm_hash);

CREATE TABLE sessions (
	hash       TEXT PRIMARY KEY,
	login_id   TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE case_search (
	case_id TEXT NOT NULL,
	body    TEXT NOT NULL,
	doc     tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);
CREATE INDEX case_search_doc ON case_search USING GIN (doc);
INSERT INTO case_search (case_id, body)
	SELECT case_id, COALESCE(body::jsonb ->> 'reference', '') || ' ' || COALESCE(body::jsonb ->> 'description', '') || ' ' || COALESCE(body::jsonb -> 'email' ->> 'subject', '')
	FROM requests;
