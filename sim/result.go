package sim

import (
	"cmp"
	"slices"
	"time"

	"github.com/docket-dev/docket"
)

// Result is what a run measured over its period (requests received in it).
type Result struct {
	Policy   string `json:"policy"`
	Staff    int    `json:"staff"`
	Days     int    `json:"days"`
	Seed     uint64 `json:"seed"`
	Requests int64  `json:"requests"` // authorities' requests received (and the misdirected mail)
	Notices  int64  `json:"notices"`
	// Cases are the cases opened for people; AutoClosed the requests a routing rule closed
	// at receipt; Joined those that joined an open case about the same matter.
	Cases      int64 `json:"cases"`
	AutoClosed int64 `json:"auto_closed"`
	Joined     int64 `json:"joined"`
	// AutomatedShare is the share of requests that took no person's work of their own
	// (closed by a rule, or answered with the case they joined).
	AutomatedShare float64 `json:"automated_share"`
	// Overdue per regime: answered after their deadline, or unanswered past it at the end.
	Overdue       map[string]int64 `json:"overdue"`
	OverdueLawful int64            `json:"overdue_lawful"`
	OverdueAll    int64            `json:"overdue_all"`
	// Unavoidable* are the overdue requests no team answers in time (RegimeStats.Unavoidable).
	UnavoidableLawful int64          `json:"unavoidable_lawful"`
	UnavoidableAll    int64          `json:"unavoidable_all"`
	Regimes           []RegimeStats  `json:"regimes"`
	Emergency         EmergencyStats `json:"emergency"`
	Utilisation       Utilisation    `json:"utilisation"`
	QueuePeak         int64          `json:"queue_peak"`
	// Series is the number of cases waiting for a person, every hour of the run.
	Series      []Sample         `json:"-"`
	ByLanguage  map[string]int64 `json:"by_language"`
	ByCountry   map[string]int64 `json:"by_country"`
	ByChannel   map[string]int64 `json:"by_channel"`
	WallSeconds float64          `json:"wall_s"`
	start, end  time.Time
	// Samples are the cases kept for Check (Options.Sample).
	Samples []SampleCase `json:"-"`
	// Trace is every arrival with what was drawn for it (Options.Trace).
	Trace []Arrival `json:"-"`

	regimes                                    []regStats
	emFirstTouch, emAnswer                     hist
	emergencies, paged                         int64
	waiting, waitingEmergency, waitingApproval int64
}

// RegimeStats are one regime's figures; times are seconds of running clock from receipt
// to answer.
type RegimeStats struct {
	Regime string `json:"regime"`
	// Clock is the regime's clock in seconds (0: none), EmergencyClock its emergencies'.
	Clock          float64 `json:"clock_s"`
	EmergencyClock float64 `json:"emergency_clock_s,omitempty"`
	Received       int64   `json:"received"`
	Answered       int64   `json:"answered"`
	LateAnswered   int64   `json:"late_answered"`
	Overdue        int64   `json:"overdue"`
	// Unavoidable are the overdue requests whose case's own work, done without any wait,
	// is longer than their clock: no team size answers them in time.
	Unavoidable       int64   `json:"unavoidable"`
	Open              int64   `json:"open_at_end"`
	AwaitingRequester int64   `json:"awaiting_requester"`
	P50               float64 `json:"p50_s"`
	P95               float64 `json:"p95_s"`
	P99               float64 `json:"p99_s"`
	Max               float64 `json:"max_s"`
	Lawful            bool    `json:"lawful"`
}

type regStats struct {
	RegimeStats
	hist hist
}

// EmergencyStats: emergencies' time to a person's first touch and to the answer.
type EmergencyStats struct {
	Cases         int64   `json:"cases"`
	TakenOnCall   int64   `json:"taken_on_call"`
	FirstTouchP50 float64 `json:"first_touch_p50_s"`
	FirstTouchP95 float64 `json:"first_touch_p95_s"`
	FirstTouchP99 float64 `json:"first_touch_p99_s"`
	AnswerP50     float64 `json:"answer_p50_s"`
	AnswerP95     float64 `json:"answer_p95_s"`
	AnswerP99     float64 `json:"answer_p99_s"`
}

// Utilisation is the share of their shifts people spent on cases (on-call work outside
// shifts counted apart).
type Utilisation struct {
	Mean        float64 `json:"mean"`
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	OffShiftHrs float64 `json:"off_shift_hours"`
}

// Sample is the queue at one hour.
type Sample struct {
	At        time.Time
	Waiting   int64 // cases waiting for a person (approvals included)
	Emergency int64
	Approval  int64
}

func newResult(cfg *Config, opt Options, regimes []*docket.Regime) *Result {
	r := &Result{Policy: opt.Policy, Staff: opt.Staff, Days: cfg.Days, Seed: cfg.Seed,
		ByLanguage: map[string]int64{}, ByCountry: map[string]int64{}, ByChannel: map[string]int64{},
		start: cfg.Start.UTC(), end: cfg.Start.UTC().AddDate(0, 0, cfg.Days)}
	for _, rg := range regimes {
		st := regStats{}
		st.Regime = rg.ID
		st.Clock = time.Duration(rg.Clock).Seconds()
		st.EmergencyClock = time.Duration(rg.EmergencyClock).Seconds()
		r.regimes = append(r.regimes, st)
	}
	return r
}

func (r *Result) periodStart() time.Time { return r.start }
func (r *Result) periodEnd() time.Time   { return r.end }

func (r *Result) count(cl *Class, regime uint8, lang, country string) {
	if cl.Pool == "notices" {
		r.Notices++
	} else {
		r.Requests++
	}
	r.regimes[regime].Received++
	r.ByLanguage[lang]++
	r.ByCountry[country]++
	r.ByChannel[cl.Channel]++
}

func (r *Result) sample(at int64, s *sim) {
	r.Series = append(r.Series, Sample{At: time.UnixMicro(at).UTC(), Waiting: r.waiting, Emergency: r.waitingEmergency, Approval: r.waitingApproval})
	if at >= s.start && at < s.end {
		r.QueuePeak = max(r.QueuePeak, r.waiting)
	}
}

// done turns the counters into the figures.
func (r *Result) done(s *sim) {
	r.doneRegimes()
	r.Emergency = EmergencyStats{Cases: r.emergencies, TakenOnCall: r.paged,
		FirstTouchP50: r.emFirstTouch.quantile(0.5), FirstTouchP95: r.emFirstTouch.quantile(0.95), FirstTouchP99: r.emFirstTouch.quantile(0.99),
		AnswerP50: r.emAnswer.quantile(0.5), AnswerP95: r.emAnswer.quantile(0.95), AnswerP99: r.emAnswer.quantile(0.99)}
	u := Utilisation{Min: 1}
	n := 0
	for i := range s.staff {
		p := &s.staff[i]
		r.Utilisation.OffShiftHrs += float64(p.extraUs) / 3.6e9
		if p.shiftUs == 0 {
			continue
		}
		f := float64(p.busyUs-p.extraUs) / float64(p.shiftUs)
		u.Mean += f
		u.Min, u.Max = min(u.Min, f), max(u.Max, f)
		n++
	}
	if n > 0 {
		u.Mean /= float64(n)
	} else {
		u.Min = 0
	}
	u.OffShiftHrs = r.Utilisation.OffShiftHrs
	r.Utilisation = u
}

// doneRegimes turns the regimes' counters into their figures.
func (r *Result) doneRegimes() {
	r.Overdue = map[string]int64{}
	for i := range r.regimes {
		st := &r.regimes[i]
		st.P50, st.P95, st.P99, st.Max = st.hist.quantile(0.5), st.hist.quantile(0.95), st.hist.quantile(0.99), st.hist.max
		// Lawful: a legal clock on an authority's request; notices and "none" apart.
		st.Lawful = st.Clock > 0 && st.Regime != "dsa-art16"
		if st.Received == 0 {
			continue
		}
		r.Overdue[st.Regime] = st.Overdue
		r.OverdueAll += st.Overdue
		r.UnavoidableAll += st.Unavoidable
		if st.Lawful {
			r.OverdueLawful += st.Overdue
			r.UnavoidableLawful += st.Unavoidable
		}
		r.Regimes = append(r.Regimes, st.RegimeStats)
	}
	slices.SortFunc(r.Regimes, func(a, b RegimeStats) int { return cmp.Compare(a.Regime, b.Regime) })
	if total := r.Requests + r.Notices; total > 0 {
		r.AutomatedShare = float64(r.AutoClosed+r.Joined) / float64(total)
	}
}
