package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// ClaimJobs takes up to n due jobs (and jobs whose lease ran out) for the given lease.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, n int, lease time.Duration) ([]*docket.Job, error) {
	us := docket.Micros(now)
	rows, err := s.write.QueryContext(ctx, s.rebind(`UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?
		WHERE id IN (SELECT id FROM jobs WHERE (state = 'pending' AND run_at <= ?) OR (state = 'running' AND locked_until <= ?)
			ORDER BY run_at LIMIT ?`+s.d.SkipLocked+`)
		RETURNING id, kind, payload, COALESCE(unique_key, ''), run_at, attempts, max_attempts, last_error`),
		docket.Micros(now.Add(lease)), us, us, n)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer rows.Close()
	var out []*docket.Job
	for rows.Next() {
		var j docket.Job
		var payload string
		var runAt int64
		if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.UniqueKey, &runAt, &j.Attempts, &j.MaxAttempts, &j.LastError); err != nil {
			return nil, fmt.Errorf("claim jobs: %w", err)
		}
		j.Payload, j.RunAt = []byte(payload), docket.FromMicros(runAt)
		out = append(out, &j)
	}
	return out, rows.Err()
}

// FinishJob deletes a job that has run.
func (s *Store) FinishJob(ctx context.Context, id int64) error {
	if _, err := s.write.ExecContext(ctx, s.rebind(`DELETE FROM jobs WHERE id = ?`), id); err != nil {
		return fmt.Errorf("finish job %d: %w", id, err)
	}
	return nil
}

// FinishJobs deletes jobs that have run, in one statement.
func (s *Store) FinishJobs(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	if _, err := s.write.ExecContext(ctx, s.rebind(`DELETE FROM jobs WHERE id IN (`+placeholders(len(ids))+`)`), args...); err != nil {
		return fmt.Errorf("finish %d jobs: %w", len(ids), err)
	}
	return nil
}

// RenewJobs extends the lease of the jobs still running under their claim.
func (s *Store) RenewJobs(ctx context.Context, jobs []*docket.Job, until time.Time) (int, error) {
	if len(jobs) == 0 {
		return 0, nil
	}
	args := []any{docket.Micros(until)}
	var which strings.Builder
	for i, j := range jobs {
		if i > 0 {
			which.WriteString(" OR ")
		}
		which.WriteString("(id = ? AND attempts = ?)")
		args = append(args, j.ID, j.Attempts)
	}
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE jobs SET locked_until = ? WHERE state = 'running' AND (`+which.String()+`)`), args...)
	if err != nil {
		return 0, fmt.Errorf("renew %d jobs: %w", len(jobs), err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RetryJob schedules a failed job again at at, or marks it failed for good (freeing its
// unique key) once it has used all its attempts.
func (s *Store) RetryJob(ctx context.Context, id int64, at time.Time, lastErr string) error {
	var res sql.Result
	res, err := s.write.ExecContext(ctx, s.rebind(`UPDATE jobs SET
		state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
		unique_key = CASE WHEN attempts >= max_attempts THEN NULL ELSE unique_key END,
		run_at = ?, locked_until = 0, last_error = ? WHERE id = ?`), docket.Micros(at), lastErr, id)
	if err != nil {
		return fmt.Errorf("retry job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("retry job %d: %w", id, docket.ErrNotFound)
	}
	return nil
}
