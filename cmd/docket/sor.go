package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/sqlstore"
	"github.com/docket-dev/docket/transparency"
	"github.com/docket-dev/docket/workflow"
)

// startTransparency registers the job that submits statements of reasons to the EU
// Transparency Database, when sor_url is set. Without it the job does nothing (a database
// that once had it set keeps the recurring job's row: it must not fail every minute).
func startTransparency(cfg *Config, log *slog.Logger, store docket.Store, svc *workflow.Service, runner *jobs.Runner) {
	if cfg.SORURL == "" {
		log.Info("statements of reasons are kept, not submitted: sor_url is not set")
		runner.Every(workflow.JobSubmitStatements, time.Minute, func(context.Context, *docket.Job) error { return nil })
		return
	}
	interval, _ := time.ParseDuration(cfg.SORInterval) // checked when the config was read
	lease, _ := cfg.jobLease()
	(&transparency.Submitter{Service: svc, Store: store, Logger: log, Interval: interval, Lease: lease,
		Client: &transparency.Client{BaseURL: cfg.SORURL, Token: cfg.SORToken}}).Register(runner)
	log.Info("statements of reasons are submitted to the Transparency Database", slog.String("sor_url", cfg.SORURL), slog.Duration("every", interval))
}

// sorExport writes the statements of reasons kept for the Transparency Database, one JSON
// object per line with the API's field names, in the order they were queued.
func (m *Main) sorExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sor export", flag.ContinueOnError)
	resolve := m.flags(fs)
	since := fs.String("since", "", "only the statements queued on or after this day (YYYY-MM-DD, UTC)")
	state := fs.String("state", "", "only the statements in this state: pending, accepted or refused")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	var f docket.StatementFilter
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return exitError{2, fmt.Sprintf("--since %q: want a day as YYYY-MM-DD", *since)}
		}
		f.Since = t
	}
	if *state != "" && !slices.Contains([]string{docket.SubmissionPending, docket.SubmissionAccepted, docket.SubmissionRefused}, *state) {
		return exitError{2, fmt.Sprintf("--state %q: want pending, accepted or refused", *state)}
	}
	f.State = *state
	return m.withReadOnlyStore(ctx, resolve, func(s *sqlstore.Store) error {
		out := bufio.NewWriter(m.Stdout)
		err := s.Statements(ctx, f, func(r *docket.StatementRecord) error {
			out.Write(r.Payload)
			return out.WriteByte('\n')
		})
		if err != nil {
			return exitError{1, "sor export: " + err.Error()}
		}
		return out.Flush()
	})
}
