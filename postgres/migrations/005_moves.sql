-- Merge and split move requests between cases. The search index is kept by request, so
-- that a request that moves keeps its entry (the case is read through requests.case_id).
DROP TABLE case_search;
CREATE TABLE request_search (
	request_id TEXT NOT NULL,
	body       TEXT NOT NULL,
	doc        tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
);
CREATE INDEX request_search_doc ON request_search USING GIN (doc);
INSERT INTO request_search (request_id, body)
	SELECT id, left(concat_ws(E'\n',
		b ->> 'reference', b ->> 'description', b ->> 'legal_basis', b ->> 'reasons',
		(SELECT string_agg(t ->> 'value', E'\n') FROM jsonb_array_elements(COALESCE(b -> 'targets', '[]'::jsonb)) AS t),
		b -> 'notifier' ->> 'name', b -> 'notifier' ->> 'email',
		b -> 'email' ->> 'subject', b -> 'email' ->> 'from', b -> 'email' ->> 'from_name',
		(SELECT string_agg(a ->> 'filename', E'\n') FROM jsonb_array_elements(COALESCE(b -> 'attachments', '[]'::jsonb)) AS a),
		b ->> 'extracted_text'), 65536)
	FROM (SELECT id, body::jsonb AS b FROM requests) AS r;
