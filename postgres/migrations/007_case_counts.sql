-- Cases by state, kept by the database itself as cases are stored and change state, so that
-- the counts the queue page, the dashboard, /api/v1/stats and the gauges show cost the same
-- with ten or ten million cases. docket audit verify compares them with the replayed cases.
CREATE TABLE case_counts (
	state TEXT PRIMARY KEY,
	n BIGINT NOT NULL
);
INSERT INTO case_counts (state, n) SELECT state, COUNT(*) FROM cases GROUP BY state;

CREATE FUNCTION docket_count_cases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE case_counts SET n = n - 1 WHERE state = OLD.state;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO case_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = case_counts.n + 1;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER cases_count AFTER INSERT OR DELETE ON cases FOR EACH ROW EXECUTE FUNCTION docket_count_cases();
CREATE TRIGGER cases_count_state AFTER UPDATE OF state ON cases FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION docket_count_cases();
