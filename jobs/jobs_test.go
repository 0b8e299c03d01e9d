package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/storetest"
)

func TestRunnerRetriesAndRecurs(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, engine)
			var mu sync.Mutex
			now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			r := jobs.New(jobs.Config{Store: s, Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			calls, ticks := 0, 0
			r.Handle("flaky", func(ctx context.Context, j *docket.Job) error {
				calls++
				if calls < 3 {
					return errors.New("platform down")
				}
				return nil
			})
			r.Handle("boom", func(ctx context.Context, j *docket.Job) error { panic("bug") })
			r.Every("tick", time.Minute, func(ctx context.Context, j *docket.Job) error { ticks++; return nil })
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			r.Stop()                             // drive it by hand below
			if err := r.Start(ctx); err != nil { // starting again must not queue a second tick
				t.Fatal(err)
			}
			r.Stop()
			err := s.Update(ctx, func(tx docket.Tx) error {
				if err := tx.Enqueue(ctx, &docket.Job{Kind: "flaky", RunAt: clock()}); err != nil {
					return err
				}
				return tx.Enqueue(ctx, &docket.Job{Kind: "boom", RunAt: clock(), MaxAttempts: 1})
			})
			if err != nil {
				t.Fatal(err)
			}
			r.RunDue(ctx) // tick, flaky fails (retry in 1s), boom panics (fails for good)
			if calls != 1 || ticks != 1 {
				t.Fatalf("calls %d ticks %d", calls, ticks)
			}
			r.RunDue(ctx)
			if calls != 1 {
				t.Fatal("retried before its backoff")
			}
			advance(time.Second)
			r.RunDue(ctx) // flaky fails again: retry in 2s
			advance(2 * time.Second)
			r.RunDue(ctx) // succeeds
			if calls != 3 {
				t.Fatalf("flaky ran %d times, want 3", calls)
			}
			advance(time.Minute)
			r.RunDue(ctx)
			if ticks != 2 {
				t.Fatalf("recurring job ran %d times, want 2", ticks)
			}
			st, _ := s.Stats(ctx, clock())
			if st.JobsFailed != 1 || st.JobsWaiting != 1 {
				t.Fatalf("jobs failed %d (boom) waiting %d (tick): %+v", st.JobsFailed, st.JobsWaiting, st)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 12: 2048 * time.Second, 13: time.Hour, 40: time.Hour} {
		if got := jobs.Backoff(attempt); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, want)
		}
	}
}

// TestLongJobKeepsItsLease: a job that runs longer than its lease (a slow platform or relay)
// keeps it while its node lives: another node polling meanwhile does not take it over and
// run it a second time.
func TestLongJobKeepsItsLease(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, engine)
			var mu sync.Mutex
			runs := 0
			started, release := make(chan struct{}, 2), make(chan struct{})
			slow := func(ctx context.Context, j *docket.Job) error {
				mu.Lock()
				runs++
				mu.Unlock()
				started <- struct{}{}
				<-release
				return nil
			}
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			const lease = 300 * time.Millisecond
			a := jobs.New(jobs.Config{Store: s, Lease: lease, Logger: quiet})
			b := jobs.New(jobs.Config{Store: s, Lease: lease, Logger: quiet})
			a.Handle("slow", slow)
			b.Handle("slow", slow)
			if err := s.Update(ctx, func(tx docket.Tx) error {
				return tx.Enqueue(ctx, &docket.Job{Kind: "slow", RunAt: time.Now()})
			}); err != nil {
				t.Fatal(err)
			}
			ran := make(chan int)
			go func() { ran <- a.RunDue(ctx) }()
			<-started // the first node runs it
			for end := time.Now().Add(4 * lease); time.Now().Before(end); {
				select {
				case <-started:
					close(release)
					<-ran
					t.Fatal("the other node took over a job whose node still runs it")
				default:
				}
				go b.RunDue(ctx)
				time.Sleep(lease / 10)
			}
			close(release)
			if n := <-ran; n != 1 {
				t.Fatalf("the first node claimed %d jobs, want 1", n)
			}
			time.Sleep(lease / 5) // the other node's last poll
			mu.Lock()
			defer mu.Unlock()
			if runs != 1 {
				t.Fatalf("the job ran %d times, want once", runs)
			}
		})
	}
}
