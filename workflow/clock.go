package workflow

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/docket-dev/docket"
)

// JobClock is the kind of the recurring job that runs MarkClocks.
const JobClock = "clock.sweep"

// MarkClocks records a due-soon or overdue event on every case whose time has come and that
// has not been marked yet, and returns how many events it recorded.
func (s *Service) MarkClocks(ctx context.Context) (int, error) {
	const batch = 200
	total := 0
	for {
		n, done := 0, false
		err := s.store.Update(ctx, func(tx docket.Tx) error {
			now := s.Now().Truncate(time.Microsecond)
			cases, err := tx.CasesToMark(ctx, now, batch)
			if err != nil {
				return err
			}
			for _, c := range cases {
				if !c.DueSoon && !c.DueSoonAt.IsZero() && !now.Before(c.DueSoonAt) {
					if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventDueSoon, docket.ActorClock, now, struct {
						DeadlineAt time.Time `json:"deadline_at"`
					}{c.DeadlineAt})); err != nil {
						return err
					}
					n++
				}
				if !c.Overdue && !c.DeadlineAt.IsZero() && !now.Before(c.DeadlineAt) {
					if err := record(ctx, tx, c, docket.NewEvent(c.ID, docket.EventOverdue, docket.ActorClock, now, struct {
						DeadlineAt time.Time `json:"deadline_at"`
					}{c.DeadlineAt})); err != nil {
						return err
					}
					n++
					s.log.WarnContext(ctx, "case overdue", slog.String("case", c.ID), slog.String("regime", c.Regime), slog.Time("deadline", c.DeadlineAt))
				}
				if err := tx.UpdateCase(ctx, c); err != nil {
					return err
				}
			}
			done = len(cases) < batch
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("mark clocks: %w", err)
		}
		total += n
		if done {
			return total, nil
		}
	}
}
