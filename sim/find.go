package sim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
)

// FindStaff searches the smallest team with which no lawful request (with all, no request
// at all) is overdue, but for those whose own work is longer than their clock (which no
// team answers in time: Result.UnavoidableLawful), give or take tolerance requests: it doubles the team from one person until one suffices, then bisects.
// Every run sees the same arrivals and the same work. It returns the size and the runs made,
// the last one at the size found.
func FindStaff(ctx context.Context, cfg *Config, opt Options, all bool, tolerance int64, log *slog.Logger) (int, []*Result, error) {
	var runs []*Result
	tried := map[int]*Result{}
	ok := func(n int) (bool, error) {
		r := tried[n]
		if r == nil {
			o := opt
			o.Staff = n
			var err error
			if r, err = Run(ctx, cfg, o, log); err != nil {
				return false, err
			}
			tried[n] = r
			runs = append(runs, r)
			log.InfoContext(ctx, "sim find-staff", slog.Int("staff", n), slog.Int64("overdue_lawful", r.OverdueLawful), slog.Int64("overdue_all", r.OverdueAll))
		}
		if all {
			return r.OverdueAll-r.UnavoidableAll <= tolerance, nil
		}
		return r.OverdueLawful-r.UnavoidableLawful <= tolerance, nil
	}
	lo, hi := 0, 1 // lo fails (0 people always fail), hi is tried
	for {
		good, err := ok(hi)
		if err != nil {
			return 0, nil, err
		}
		if good {
			break
		}
		if hi >= 1<<20 {
			return 0, runs, fmt.Errorf("sim: no team up to %d people keeps overdue at 0", hi)
		}
		lo, hi = hi, hi*2
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		good, err := ok(mid)
		if err != nil {
			return 0, nil, err
		}
		if good {
			hi = mid
		} else {
			lo = mid
		}
	}
	runs = append(runs, tried[hi])
	return hi, runs, nil
}

// WriteComparison writes the runs of several policies side by side.
func WriteComparison(w io.Writer, runs []*Result) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tstaff\toverdue lawful\toverdue all\temergency first touch p95\temergency answer p95\tqueue peak\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d\t\n", r.Policy, r.Staff, r.OverdueLawful, r.OverdueAll,
			human(r.Emergency.FirstTouchP95), human(r.Emergency.AnswerP95), r.QueuePeak)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\noverdue by regime\t")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t", r.Policy)
	}
	fmt.Fprintln(tw)
	for _, st := range runs[0].Regimes {
		fmt.Fprintf(tw, "%s\t", st.Regime)
		for _, r := range runs {
			fmt.Fprintf(tw, "%d\t", r.Overdue[st.Regime])
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
