-- Trusted flaggers (DSA art. 22) and the misuse of notices (DSA art. 23). The three tables
-- are projections of events outside any case (flagger_registered, flagger_changed,
-- notice_assessed, notifier_warned, notifier_suspended), written in the transaction that
-- appends them; docket audit verify checks every row against the chain. (013 is left to the
-- appeals' migration.)
CREATE TABLE flaggers (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL UNIQUE,
	coordinator     TEXT NOT NULL,
	reference       TEXT NOT NULL,
	areas           TEXT NOT NULL,
	email           TEXT NOT NULL,
	status          TEXT NOT NULL,
	suspended_until BIGINT NOT NULL,
	reason          TEXT NOT NULL,
	token_hash      TEXT NOT NULL UNIQUE,
	created_by      TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	changed_seq     BIGINT NOT NULL
);
-- One row per notifier ("flagger:ID" or "email:ADDRESS"): its assessed notices and its
-- standing. Intake reads the rows of a batch's notifiers by key.
CREATE TABLE notifiers (
	notifier        TEXT PRIMARY KEY,
	flagger_id      TEXT NOT NULL,
	actioned        BIGINT NOT NULL,
	unfounded       BIGINT NOT NULL,
	manifest        BIGINT NOT NULL,
	warnings        BIGINT NOT NULL,
	warned_seq      BIGINT NOT NULL,
	warned_at       BIGINT NOT NULL,
	suspensions     BIGINT NOT NULL,
	suspended_seq   BIGINT NOT NULL,
	suspended_until BIGINT NOT NULL,
	changed_seq     BIGINT NOT NULL
);
CREATE INDEX notifiers_changed ON notifiers (changed_seq);
-- One row per assessed notice; the misuse rule counts a notifier's recent ones.
CREATE TABLE notice_assessments (
	request_id TEXT PRIMARY KEY,
	case_id    TEXT NOT NULL,
	notifier   TEXT NOT NULL,
	flagger_id TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	manifest   BIGINT NOT NULL,
	seq        BIGINT NOT NULL,
	at         BIGINT NOT NULL
);
CREATE INDEX notice_assessments_notifier ON notice_assessments (notifier, at);
