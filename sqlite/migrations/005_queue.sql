-- The console's queue: pending cases, emergencies first, then by deadline (none last), then by
-- priority. An index in that order lets a page stop after its rows instead of sorting every
-- pending case, so the page costs the same with ten or ten million cases.
CREATE INDEX cases_queue ON cases (pending, emergency DESC, (CASE WHEN deadline_at = 0 THEN 1 ELSE 0 END), deadline_at, priority DESC, id);
