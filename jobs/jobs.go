// Package jobs runs docket's background work from the durable job table: it claims due jobs
// from the store (several nodes may share one PostgreSQL table), runs the handler of each
// job's kind, and finishes, retries with backoff, or reschedules recurring jobs.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/docket-dev/docket"
)

// Handler runs one job. An error makes the job retry later.
type Handler func(ctx context.Context, j *docket.Job) error

// BatchHandler runs several jobs of one kind at once (in one transaction, say). An error
// makes them all retry later.
type BatchHandler func(ctx context.Context, jobs []*docket.Job) error

// Config configures a Runner.
type Config struct {
	Store  docket.Store
	Logger *slog.Logger
	Now    func() time.Time
	// Poll is how often the runner looks for due jobs (default 1 s).
	Poll time.Duration
	// Lease is how long a claimed job belongs to this node before another may take it over.
	// While a job runs, its node renews the lease every third of it: a job that outlasts
	// its lease (a slow platform or relay) is not taken over by another node and run twice;
	// a node that dies stops renewing, and its jobs are taken over a lease later.
	Lease time.Duration
	// Batch is how many jobs one claim takes (default 16).
	Batch int
}

// Runner claims and runs jobs.
type Runner struct {
	cfg       Config
	handlers  map[string]Handler
	batch     map[string]BatchHandler
	recurring map[string]time.Duration
	wake      chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
	once      sync.Once
}

// New returns a Runner; register handlers before Start.
func New(cfg Config) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 5 * time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 16
	}
	return &Runner{cfg: cfg, handlers: map[string]Handler{}, batch: map[string]BatchHandler{}, recurring: map[string]time.Duration{},
		wake: make(chan struct{}, 1), stop: make(chan struct{})}
}

// Handle registers the handler for a kind of job.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// HandleBatch registers a handler that takes every claimed job of a kind at once.
func (r *Runner) HandleBatch(kind string, h BatchHandler) { r.batch[kind] = h }

// Every registers a handler that runs about every interval, on one node at a time.
func (r *Runner) Every(kind string, interval time.Duration, h Handler) {
	r.handlers[kind] = h
	r.recurring[kind] = interval
}

// Start makes sure each recurring job is queued, then polls until Stop.
func (r *Runner) Start(ctx context.Context) error {
	for kind := range r.recurring {
		err := r.cfg.Store.Update(ctx, func(tx docket.Tx) error {
			return tx.Enqueue(ctx, &docket.Job{Kind: kind, UniqueKey: kind, RunAt: r.cfg.Now(), MaxAttempts: math.MaxInt32})
		})
		if err != nil {
			return fmt.Errorf("start jobs: queue %s: %w", kind, err)
		}
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop(context.WithoutCancel(ctx))
	}()
	return nil
}

// Wake makes the runner look for jobs now rather than at the next poll.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stop waits for running jobs to end.
func (r *Runner) Stop() {
	r.once.Do(func() { close(r.stop) })
	r.wg.Wait()
}

func (r *Runner) loop(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	// Up to lanes claims run at once: while one waits on a slow job (a relay, a platform
	// timing out), the next wake-up claims what arrived since — a page is not held back.
	const lanes = 4
	sem := make(chan struct{}, lanes)
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case sem <- struct{}{}:
			running.Add(1)
			go func() {
				defer running.Done()
				full := r.RunDue(ctx) == r.cfg.Batch
				<-sem
				if full {
					r.Wake() // more may be due
				}
			}()
		case <-r.stop:
			return
		}
		select {
		case <-r.stop:
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// RunDue claims one batch of due jobs, runs them and returns how many it claimed.
func (r *Runner) RunDue(ctx context.Context) int {
	jobs, err := r.cfg.Store.ClaimJobs(ctx, r.cfg.Now(), r.cfg.Batch, r.cfg.Lease)
	if err != nil {
		r.cfg.Logger.ErrorContext(ctx, "claim jobs", slog.Any("err", err))
		return 0
	}
	if len(jobs) == 0 {
		return 0
	}
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(ctx, jobs, done)
	}()
	defer func() {
		close(done)
		<-renewed
	}()
	// The jobs of a claim run side by side: a slow one (a mail relay, a platform call
	// timing out) does not hold back a page.
	batches := map[string][]*docket.Job{}
	var wg sync.WaitGroup
	for _, j := range jobs {
		if _, ok := r.batch[j.Kind]; ok {
			batches[j.Kind] = append(batches[j.Kind], j)
			continue
		}
		wg.Go(func() { r.run(ctx, j) })
	}
	for kind, js := range batches {
		wg.Go(func() { r.runBatch(ctx, kind, js) })
	}
	wg.Wait()
	return len(jobs)
}

// renew extends the lease of a claim's jobs every third of the lease until done is
// closed. Jobs that ended meanwhile (finished, put back) are no longer running under this
// claim and are left alone by the store.
func (r *Runner) renew(ctx context.Context, jobs []*docket.Job, done <-chan struct{}) {
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if _, err := r.cfg.Store.RenewJobs(ctx, jobs, r.cfg.Now().Add(r.cfg.Lease)); err != nil {
				r.cfg.Logger.ErrorContext(ctx, "renew job leases", slog.Int("jobs", len(jobs)), slog.Any("err", err))
			}
		}
	}
}

func (r *Runner) runBatch(ctx context.Context, kind string, js []*docket.Job) {
	err := safeRunBatch(ctx, r.batch[kind], js)
	if err == nil {
		ids := make([]int64, len(js))
		for i, j := range js {
			ids[i] = j.ID
		}
		if err := r.cfg.Store.FinishJobs(ctx, ids); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "finish jobs", slog.String("kind", kind), slog.Any("err", err))
		}
		return
	}
	r.cfg.Logger.WarnContext(ctx, "job batch failed; will retry", slog.String("kind", kind), slog.Int("jobs", len(js)), slog.Any("err", err))
	for _, j := range js {
		if err := r.cfg.Store.RetryJob(ctx, j.ID, r.cfg.Now().Add(Backoff(j.Attempts)), err.Error()); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "retry job", slog.Int64("job", j.ID), slog.Any("err", err))
		}
	}
}

func safeRunBatch(ctx context.Context, h BatchHandler, js []*docket.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job batch panicked: %v", p)
		}
	}()
	return h(ctx, js)
}

func (r *Runner) run(ctx context.Context, j *docket.Job) {
	log := r.cfg.Logger.With(slog.Int64("job", j.ID), slog.String("kind", j.Kind), slog.Int("attempt", j.Attempts))
	h, ok := r.handlers[j.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("no handler for job kind %q on this node", j.Kind)
	} else {
		err = safeRun(ctx, h, j)
	}
	if interval, rec := r.recurring[j.Kind]; rec {
		if err != nil {
			log.ErrorContext(ctx, "recurring job failed", slog.Any("err", err))
		}
		if err := r.cfg.Store.RetryJob(ctx, j.ID, r.cfg.Now().Add(interval), errText(err)); err != nil {
			log.ErrorContext(ctx, "reschedule recurring job", slog.Any("err", err))
		}
		return
	}
	if err == nil {
		if err := r.cfg.Store.FinishJob(ctx, j.ID); err != nil {
			log.ErrorContext(ctx, "finish job", slog.Any("err", err))
		}
		return
	}
	delay := Backoff(j.Attempts)
	log.WarnContext(ctx, "job failed; will retry", slog.Any("err", err), slog.Duration("in", delay))
	if err := r.cfg.Store.RetryJob(ctx, j.ID, r.cfg.Now().Add(delay), err.Error()); err != nil {
		log.ErrorContext(ctx, "retry job", slog.Any("err", err))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func safeRun(ctx context.Context, h Handler, j *docket.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	return h(ctx, j)
}

// Backoff is the wait before retry number attempt: 1 s, 2 s, 4 s… up to one hour.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 12 {
		return time.Hour
	}
	return min(time.Duration(1<<(attempt-1))*time.Second, time.Hour)
}
