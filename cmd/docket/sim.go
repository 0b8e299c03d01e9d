package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/sim"
)

// simCmd runs `docket sim`: a simulated month of arrivals and staff (see docs/CAPACITY.md).
func (m *Main) simCmd(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("sim", flag.ContinueOnError)
	config := flags.String("config", "", "a JSON file over the defaults (sim/default.json): arrivals, bursts, holidays, handling times, teams")
	regimes := flags.String("regimes", "", "a regime table replacing the embedded one")
	requests := flags.Int("requests", -1, "authorities' requests in the period (default: the config's, 3,000,000)")
	notices := flags.Int("notices", -1, "the public's notices in the period (default: the config's, 30,000,000)")
	staff := flags.Int("staff", 0, "people on the team (default: the config's, 50)")
	days := flags.Int("days", 0, "days measured (default: the config's, 31)")
	seed := flags.Uint64("seed", 0, "random seed (default: the config's, 1)")
	policy := flags.String("policy", sim.PolicyDocket, "the order people take cases in: docket, fifo or priority; several, comma-separated, to compare")
	findStaff := flags.Bool("find-staff", false, "search the smallest team that leaves no lawful request overdue")
	findAll := flags.Bool("find-staff-all", false, "with --find-staff: no request overdue at all, notices included")
	tolerance := flags.Int64("tolerance", 0, "with --find-staff: how many overdue requests (besides those whose own work is longer than their clock) still count as none")
	svg := flags.String("svg", "", "write the queue depth over the run as an SVG chart to this file")
	check := flags.Int("check", 0, "also submit this many of the simulated cases to the real service on SQLite (a temporary folder) and compare their deadlines, queues and priorities")
	asJSON := flags.Bool("json", false, "end with one JSON summary line per run")
	replay := flags.Bool("replay", false, "fidelity check: simulate one day (default 1/100 of the config's monthly volume, no warm-up, one day of tail) and replay it against docket serve started here on a fresh SQLite folder, over HTTP, then compare answer times and overdue counts per regime")
	keep := flags.Bool("replay-keep", false, "with --replay: keep the server's data folder")
	if _, err := m.parseArgs(flags, args, ""); err != nil {
		return err
	}
	cfg, err := sim.Load(*config)
	if err != nil {
		return err
	}
	if *replay {
		// One day at 1/100 of the month's volume, starting empty, with a day of tail.
		// Absences keep their monthly rate: two days of vacation a month is 2/31 of a day a day.
		cfg.Requests, cfg.Notices = cfg.Requests/100/cfg.Days, cfg.Notices/100/cfg.Days
		cfg.Staff.VacationDays *= 2 / float64(cfg.Days)
		cfg.Days, cfg.WarmupDays, cfg.TailDays = 1, 0, 1
	}
	if *requests >= 0 {
		cfg.Requests = *requests
	}
	if *notices >= 0 {
		cfg.Notices = *notices
	}
	if *staff > 0 {
		cfg.Staff.Count = *staff
	}
	if *days > 0 {
		cfg.Days = *days
	}
	if *seed > 0 {
		cfg.Seed = *seed
	}
	if err := cfg.Validate(); err != nil {
		return exitError{2, "sim: " + err.Error()}
	}
	tab, err := regime.Load(*regimes)
	if err != nil {
		return err
	}
	log := quietLog()
	if *replay {
		return m.replayDay(ctx, cfg, tab, *regimes, cfg.Staff.Count, *keep)
	}
	if *findStaff {
		n, runs, err := sim.FindStaff(ctx, cfg, sim.Options{Policy: *policy, Regimes: tab}, *findAll, *tolerance, log)
		if err != nil {
			return err
		}
		for _, r := range runs {
			fmt.Fprintf(m.Stdout, "staff %5d: overdue %d lawful (%d of them unavoidable), %d in all (%d) (%.1f s)\n", r.Staff, r.OverdueLawful, r.UnavoidableLawful, r.OverdueAll, r.UnavoidableAll, r.WallSeconds)
		}
		fmt.Fprintf(m.Stdout, "smallest team with at most %d %s requests overdue (besides those whose own work is longer than their clock): %d\n", *tolerance, map[bool]string{false: "lawful", true: "in all"}[*findAll], n)
		if *asJSON {
			return runs[len(runs)-1].WriteJSON(m.Stdout)
		}
		return nil
	}
	var results []*sim.Result
	for _, p := range strings.Split(*policy, ",") {
		res, err := sim.Run(ctx, cfg, sim.Options{Staff: cfg.Staff.Count, Policy: strings.TrimSpace(p), Regimes: tab, Sample: *check}, log)
		if err != nil {
			return err
		}
		if err := res.WriteText(m.Stdout); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout)
		results = append(results, res)
	}
	if len(results) > 1 {
		sim.WriteComparison(m.Stdout, results)
	}
	if *svg != "" {
		f, err := os.Create(*svg)
		if err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		if err := sim.WriteSVG(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	}
	if *check > 0 {
		rep, err := sim.Check(ctx, cfg, tab, results[0].Samples, log)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, rep)
		if !rep.OK() {
			return exitError{1, "sim: the simulation and the service disagree"}
		}
	}
	if *asJSON {
		for _, r := range results {
			if err := r.WriteJSON(m.Stdout); err != nil {
				return err
			}
		}
	}
	return nil
}
