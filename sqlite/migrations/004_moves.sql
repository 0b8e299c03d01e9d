-- Merge and split move requests between cases. The search index is kept by request, so
-- that a request that moves keeps its entry (the case is read through requests.case_id),
-- and targets are found by case to move with their request.
DROP TABLE case_search;
CREATE VIRTUAL TABLE request_search USING fts5 (request_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO request_search (request_id, body)
	SELECT id, substr(
		COALESCE(json_extract(requests.body, '$.reference'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.description'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.legal_basis'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.reasons'), '') || char(10) ||
		COALESCE((SELECT group_concat(json_extract(t.value, '$.value'), char(10)) FROM json_each(requests.body, '$.targets') AS t), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.notifier.name'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.notifier.email'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.email.subject'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.email.from'), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.email.from_name'), '') || char(10) ||
		COALESCE((SELECT group_concat(json_extract(a.value, '$.filename'), char(10)) FROM json_each(requests.body, '$.attachments') AS a), '') || char(10) ||
		COALESCE(json_extract(requests.body, '$.extracted_text'), ''), 1, 65536)
	FROM requests;
CREATE INDEX targets_case ON targets (case_id);
