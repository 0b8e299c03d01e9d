-- People's reviews of automated actions and rules put in shadow mode, read at start-up so
-- that each rule's upheld share is known: found without reading the whole log.
CREATE INDEX events_automation ON events (seq) WHERE type IN ('automation_reviewed', 'rule_shadowed');
