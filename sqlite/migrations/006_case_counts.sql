-- Cases by state, kept by the database itself as cases are stored and change state, so that
-- the counts the queue page, the dashboard, /api/v1/stats and the gauges show cost the same
-- with ten or ten million cases. docket audit verify compares them with the replayed cases.
CREATE TABLE case_counts (
	state TEXT PRIMARY KEY,
	n INTEGER NOT NULL
);
INSERT INTO case_counts (state, n) SELECT state, COUNT(*) FROM cases GROUP BY state;

CREATE TRIGGER cases_count_insert AFTER INSERT ON cases BEGIN
	INSERT INTO case_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cases_count_update AFTER UPDATE OF state ON cases WHEN OLD.state <> NEW.state BEGIN
	UPDATE case_counts SET n = n - 1 WHERE state = OLD.state;
	INSERT INTO case_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER cases_count_delete AFTER DELETE ON cases BEGIN
	UPDATE case_counts SET n = n - 1 WHERE state = OLD.state;
END;
