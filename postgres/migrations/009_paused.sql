-- The paused pending cases, counted with every queue page and by /api/v1/stats: through
-- this index the count costs the paused cases, not the whole queue.
CREATE INDEX cases_pending_paused ON cases (pending, paused_at);
