-- Several nodes refresh their related-case filter from the targets of recent cases.
CREATE INDEX targets_case ON targets (case_id);
