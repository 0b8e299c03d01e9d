CREATE TABLE IF NOT EXISTS users (
	id         INTEGER PRIMARY KEY,
	handle     TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	phone      TEXT NOT NULL,
	country    TEXT NOT NULL,
	status     TEXT NOT NULL DEFAULT 'active',
	status_until TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	owner_id   INTEGER NOT NULL REFERENCES users (id),
	public     INTEGER NOT NULL,
	removed_at TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
	id           INTEGER PRIMARY KEY,
	channel_id   INTEGER NOT NULL REFERENCES channels (id),
	author_id    INTEGER NOT NULL REFERENCES users (id),
	text         TEXT NOT NULL,
	media_sha256 TEXT NOT NULL,
	removed_at   TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL
);
-- Content withheld in one country: kind is message or channel.
CREATE TABLE IF NOT EXISTS restrictions (
	kind    TEXT NOT NULL,
	ref_id  INTEGER NOT NULL,
	country TEXT NOT NULL,
	until   TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (kind, ref_id, country)
);
CREATE TABLE IF NOT EXISTS logins (
	user_id INTEGER NOT NULL REFERENCES users (id),
	ip      TEXT NOT NULL,
	at      TEXT NOT NULL
);
-- What users were told of actions on their content (with the statement of reasons).
CREATE TABLE IF NOT EXISTS user_notices (
	user_id   INTEGER NOT NULL,
	text      TEXT NOT NULL,
	statement TEXT NOT NULL,
	at        TEXT NOT NULL
);
-- Statements of reasons of the actions taken, by puid.
CREATE TABLE IF NOT EXISTS statements (
	puid      TEXT PRIMARY KEY,
	op        TEXT NOT NULL,
	target    TEXT NOT NULL,
	statement TEXT NOT NULL,
	at        TEXT NOT NULL
);
-- Answers to connector calls by idempotency key: a call repeated gets the same answer.
CREATE TABLE IF NOT EXISTS calls (
	key    TEXT PRIMARY KEY,
	path   TEXT NOT NULL,
	status INTEGER NOT NULL,
	answer BLOB NOT NULL
);
-- Every action the platform carried out, in order: an action repeated with its idempotency
-- key is answered again from calls and not carried out twice.
CREATE TABLE IF NOT EXISTS history (
	id     INTEGER PRIMARY KEY,
	op     TEXT NOT NULL,
	target TEXT NOT NULL,
	puid   TEXT NOT NULL,
	at     TEXT NOT NULL
);
-- The appeal link (DSA art. 20) given with each action's statement of reasons, shown to
-- the user concerned only.
CREATE TABLE IF NOT EXISTS appeal_links (
	puid TEXT PRIMARY KEY,
	url  TEXT NOT NULL
);
-- Appeals filed in the app against a decision (its statement's puid): filed, then received
-- or refused by docket (detail), then answered (the answer docket sent with a notice).
CREATE TABLE IF NOT EXISTS appeals (
	id       INTEGER PRIMARY KEY,
	puid     TEXT NOT NULL,
	user_id  INTEGER NOT NULL,
	text     TEXT NOT NULL,
	filed_at TEXT NOT NULL,
	status   TEXT NOT NULL DEFAULT 'filed',
	detail   TEXT NOT NULL DEFAULT '',
	answer   TEXT NOT NULL DEFAULT ''
);
