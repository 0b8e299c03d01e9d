package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is the one-line JSON summary of a run: overdue per regime, answer-time
// percentiles per regime, staff, automated share and wall time.
type Summary struct {
	Policy         string                        `json:"policy"`
	Staff          int                           `json:"staff"`
	Days           int                           `json:"days"`
	Seed           uint64                        `json:"seed"`
	Requests       int64                         `json:"requests"`
	Notices        int64                         `json:"notices"`
	Overdue        map[string]int64              `json:"overdue"`
	OverdueLawful  int64                         `json:"overdue_lawful"`
	OverdueAll     int64                         `json:"overdue_all"`
	Unavoidable    int64                         `json:"unavoidable_lawful"`
	Percentiles    map[string]map[string]float64 `json:"answer_s"`
	Emergency      EmergencyStats                `json:"emergency"`
	AutomatedShare float64                       `json:"automated_share"`
	Utilisation    float64                       `json:"utilisation"`
	QueuePeak      int64                         `json:"queue_peak"`
	WallSeconds    float64                       `json:"wall_s"`
}

// Summary returns the run's summary.
func (r *Result) Summary() Summary {
	s := Summary{Policy: r.Policy, Staff: r.Staff, Days: r.Days, Seed: r.Seed, Requests: r.Requests, Notices: r.Notices,
		Overdue: r.Overdue, OverdueLawful: r.OverdueLawful, OverdueAll: r.OverdueAll, Unavoidable: r.UnavoidableLawful, Percentiles: map[string]map[string]float64{},
		Emergency: r.Emergency, AutomatedShare: round(r.AutomatedShare, 4), Utilisation: round(r.Utilisation.Mean, 3),
		QueuePeak: r.QueuePeak, WallSeconds: round(r.WallSeconds, 2)}
	for _, st := range r.Regimes {
		s.Percentiles[st.Regime] = map[string]float64{"p50": round(st.P50, 0), "p95": round(st.P95, 0), "p99": round(st.P99, 0), "clock": st.Clock}
	}
	return s
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// WriteJSON writes the summary as one line.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := json.Marshal(r.Summary())
	if err != nil {
		return fmt.Errorf("sim summary: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteText writes the run's figures as tables.
func (r *Result) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "docket sim: %d days, %d staff, policy %s, seed %d: %d requests and %d notices received\n",
		r.Days, r.Staff, r.Policy, r.Seed, r.Requests, r.Notices)
	fmt.Fprintf(w, "cases for people %d; closed by rules at receipt %d; joined an open case %d; automated share %.1f%%\n",
		r.Cases, r.AutoClosed, r.Joined, 100*r.AutomatedShare)
	fmt.Fprintf(w, "overdue: %d lawful requests, %d in all (of which %d and %d whose own work is longer than their clock); queue peak %d cases\n\n",
		r.OverdueLawful, r.OverdueAll, r.UnavoidableLawful, r.UnavoidableAll, r.QueuePeak)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "regime\tclock\treceived\tanswered\toverdue\tunavoidable\topen at end\tawaiting requester\tp50\tp95\tp99\tmax\t")
	for _, st := range r.Regimes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", st.Regime, clock(st.Clock), st.Received, st.Answered,
			st.Overdue, st.Unavoidable, st.Open, st.AwaitingRequester, human(st.P50), human(st.P95), human(st.P99), human(st.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	e := r.Emergency
	fmt.Fprintf(w, "\nemergencies: %d cases (%d steps taken by the person on call); first touch p50 %s p95 %s p99 %s; answer p50 %s p95 %s p99 %s\n",
		e.Cases, e.TakenOnCall, human(e.FirstTouchP50), human(e.FirstTouchP95), human(e.FirstTouchP99), human(e.AnswerP50), human(e.AnswerP95), human(e.AnswerP99))
	u := r.Utilisation
	_, err := fmt.Fprintf(w, "utilisation of shifts: mean %.0f%% (min %.0f%%, max %.0f%%); %.0f hours of on-call work outside shifts; wall %.1f s\n",
		100*u.Mean, 100*u.Min, 100*u.Max, u.OffShiftHrs, r.WallSeconds)
	return err
}

// human writes seconds as 45s, 12m, 3.5h or 4.2d.
func human(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case s == 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", s)
	case d < time.Hour:
		return fmt.Sprintf("%.0fm", d.Minutes())
	case d < 48*time.Hour:
		return strings.Replace(fmt.Sprintf("%.1fh", d.Hours()), ".0h", "h", 1)
	}
	return fmt.Sprintf("%.1fd", d.Hours()/24)
}

func clock(s float64) string {
	if s == 0 {
		return "none"
	}
	return human(s)
}
