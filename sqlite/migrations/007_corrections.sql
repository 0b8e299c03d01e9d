-- People's corrections of the triage (retriaged events), read at start-up so that the
-- triage remembers them (triage.Memory): found without reading the whole log.
CREATE INDEX events_retriaged ON events (seq) WHERE type = 'retriaged';
