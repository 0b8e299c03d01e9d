package sim

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// small returns the default config at a scale a test runs in well under a second.
func small(t *testing.T, requests, notices int) *Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Requests, cfg.Notices, cfg.Days, cfg.WarmupDays, cfg.TailDays = requests, notices, 7, 1, 3
	cfg.Bursts, cfg.Holidays = nil, nil
	return cfg
}

func TestArrivalRates(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	a := newArrivals(cfg, rand.New(rand.NewPCG(1, 2)))
	tco := cfg.class("eu-tco-removal")
	notice := cfg.class("notice")
	wed := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC) // a Wednesday, noon in Paris
	burst := time.Date(2026, 12, 9, 15, 0, 0, 0, time.UTC)
	christmas := time.Date(2026, 12, 25, 11, 0, 0, 0, time.UTC) // a Friday
	base := func(i int) float64 { return a.perHour[i] }
	tests := []struct {
		name  string
		class int
		at    time.Time
		want  float64
	}{
		{"Wednesday noon, Paris", tco, wed, base(tco) * a.daily[12] * a.weekly[time.Wednesday]},
		{"Wednesday 4 a.m., Paris", tco, wed.Add(-8 * time.Hour), base(tco) * a.daily[4] * a.weekly[time.Wednesday]},
		{"the attack: fifty times", tco, burst, 50 * base(tco) * a.daily[16] * a.weekly[time.Wednesday]},
		{"the attack is one class's", notice, burst, base(notice) * a.daily[16] * a.weekly[time.Wednesday]},
		{"after the attack", tco, burst.Add(3 * time.Hour), base(tco) * a.daily[19] * a.weekly[time.Wednesday]},
		{"a holiday", tco, christmas, 0.6 * base(tco) * a.daily[12] * a.weekly[time.Friday]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.rate(tt.class, tt.at); !near(got, tt.want, 1e-9) {
				t.Errorf("rate %v, want %v", got, tt.want)
			}
		})
	}
	// Shares of a pool follow the config, and the shapes average to one.
	if got, want := base(tco)/base(cfg.class("fr-requisition")), 0.02/0.20; !near(got, want, 1e-9) {
		t.Errorf("tco/fr-requisition rate %v, want %v", got, want)
	}
	mean := 0.0
	for _, d := range a.daily {
		mean += d / 24
	}
	if !near(mean, 1, 1e-9) {
		t.Errorf("daily profile mean %v, want 1", mean)
	}
}

func TestArrivalsCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		requests, notices int
	}{
		{"requests only", 20000, 0},
		{"notices only", 0, 50000},
		{"both", 10000, 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := small(t, tt.requests, tt.notices)
			a := newArrivals(cfg, rand.New(rand.NewPCG(7, 7)))
			var req, not int
			start := cfg.Start
			for h := start; h.Before(start.AddDate(0, 0, cfg.Days)); h = h.Add(time.Hour) {
				batch := a.hour(h)
				if !slices.IsSortedFunc(batch, func(x, y arrival) int { return cmpInt(x.at, y.at) }) {
					t.Fatalf("hour %s: arrivals out of order", h)
				}
				for _, x := range batch {
					if x.at < h.UnixMicro() || x.at >= h.Add(time.Hour).UnixMicro() {
						t.Fatalf("arrival at %d outside hour %s", x.at, h)
					}
					if cfg.Classes[x.class].Pool == "notices" {
						not++
					} else {
						req++
					}
				}
			}
			// A week of whole weekdays: the weekly shape averages out; Poisson noise is
			// well under 2% at these counts.
			if !near(float64(req), float64(tt.requests), 0.02*float64(tt.requests)+1) || !near(float64(not), float64(tt.notices), 0.02*float64(tt.notices)+1) {
				t.Errorf("%d requests and %d notices, want about %d and %d", req, not, tt.requests, tt.notices)
			}
		})
	}
}

func TestStaffModel(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	team := Team{Name: "paris", Share: 1, TZ: 1, StartHour: 9, Hours: 8, Days: []int{1, 2, 3, 4, 5}, Languages: []string{"fr", "en"}, Reviewers: 0.5}
	tests := []struct {
		name      string
		staff     Staff
		holidays  []Holiday
		n         int
		shifts    [2]int // per person, over Mon 30 Nov to Sun 13 Dec: at least, at most
		reviewers int
	}{
		{"two weeks of weekdays", Staff{Teams: []Team{team}}, nil, 4, [2]int{10, 10}, 2},
		{"sick every day", Staff{Teams: []Team{team}, SickRate: 1}, nil, 3, [2]int{0, 0}, 2},
		// Three days in a row: one to three of them working days.
		{"three days of vacation", Staff{Teams: []Team{team}, VacationDays: 3}, nil, 2, [2]int{7, 9}, 1},
		{"a holiday nobody works", Staff{Teams: []Team{team}}, []Holiday{{From: Date{day(7)}, To: Date{day(9)}, StaffPresent: 0}}, 2, [2]int{8, 8}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{Seed: 3, Staff: tt.staff, Holidays: tt.holidays}
			staff := buildStaff(cfg, tt.n, map[string]int{"fr": 0, "en": 1, "de": 2}, map[string]int{"removal": 0}, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), day(14))
			if len(staff) != tt.n {
				t.Fatalf("%d people, want %d", len(staff), tt.n)
			}
			reviewers := 0
			for _, p := range staff {
				if p.reviewer {
					reviewers++
				}
				if p.langs != 0b011 {
					t.Errorf("languages %b, want fr and en", p.langs)
				}
				if len(p.shifts) < tt.shifts[0] || len(p.shifts) > tt.shifts[1] {
					t.Errorf("%d shifts, want %d to %d", len(p.shifts), tt.shifts[0], tt.shifts[1])
				}
				for _, s := range p.shifts {
					from := time.UnixMicro(s.from).UTC()
					if from.Hour() != 8 || s.to-s.from != dur(8*time.Hour) || from.Weekday() == time.Saturday || from.Weekday() == time.Sunday {
						t.Errorf("shift from %s for %v: want 08:00 UTC (09:00 in Paris), eight hours, on a weekday", from, time.Duration(s.to-s.from)*time.Microsecond)
					}
				}
			}
			if reviewers != tt.reviewers {
				t.Errorf("%d reviewers, want %d", reviewers, tt.reviewers)
			}
		})
	}
	if got := teamSizes([]Team{{Share: 0.5}, {Share: 0.3}, {Share: 0.2}}, 7); !slices.Equal(got, []int{4, 2, 1}) {
		t.Errorf("team sizes %v, want [4 2 1]", got)
	}
	if a, b := oncall(5, 0, dur(8*24*time.Hour), 0), oncall(5, 0, dur(8*24*time.Hour), 1); a != 1 || b != 2 {
		t.Errorf("on call in the second week: %d then %d, want 1 then 2", a, b)
	}
}

func run(t *testing.T, cfg *Config, staff int, policy string) *Result {
	t.Helper()
	r, err := Run(context.Background(), cfg, Options{Staff: staff, Policy: policy}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func summary(t *testing.T, r *Result) string {
	t.Helper()
	s := r.Summary()
	s.WallSeconds = 0
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSameSeedSameSummary(t *testing.T) {
	t.Parallel()
	cfg := small(t, 5000, 20000)
	a, b := summary(t, run(t, cfg, 20, PolicyDocket)), summary(t, run(t, cfg, 20, PolicyDocket))
	if a != b {
		t.Fatalf("two runs of one seed differ:\n%s\n%s", a, b)
	}
	cfg.Seed = 2
	if c := summary(t, run(t, cfg, 20, PolicyDocket)); c == a {
		t.Fatal("another seed gave the same summary")
	}
}

func TestAmpleStaffNothingOverdue(t *testing.T) {
	t.Parallel()
	cfg := small(t, 3000, 10000)
	r := run(t, cfg, 600, PolicyDocket)
	if r.Requests == 0 || r.Cases == 0 {
		t.Fatalf("nothing simulated: %+v", r.Summary())
	}
	if avoidable := r.OverdueAll - r.UnavoidableAll; avoidable != 0 {
		t.Errorf("%d requests overdue with 600 people (besides %d whose own work is longer than their clock): %+v", avoidable, r.UnavoidableAll, r.Overdue)
	}
	for _, st := range r.Regimes {
		if st.Open != 0 {
			t.Errorf("%s: %d requests still open at the end with 600 people", st.Regime, st.Open)
		}
	}
}

func TestOnePersonEmergenciesFirst(t *testing.T) {
	t.Parallel()
	cfg := small(t, 3000, 3000)
	docketOrder := run(t, cfg, 1, PolicyDocket)
	fifo := run(t, cfg, 1, PolicyFIFO)
	if docketOrder.OverdueLawful == 0 {
		t.Fatal("one person answered everything in time: the test month is too light")
	}
	if docketOrder.Emergency.Cases == 0 {
		t.Fatal("no emergencies")
	}
	// Swamped, one person still takes emergencies first: they wait for a shift or the
	// pager, not behind the backlog.
	if d, f := docketOrder.Emergency.FirstTouchP95, fifo.Emergency.FirstTouchP95; d >= f || d > 3*24*3600 {
		t.Errorf("emergencies' first touch p95: %.0f s in docket's order, %.0f s first-in first-out", d, f)
	}
}

// TestDeadlinesAsTheService: the deadline the simulation gives a request is the one the
// service's receipt gives it, for every class of the default config, flagged an emergency
// or not, at times spread over the month.
func TestDeadlinesAsTheService(t *testing.T) {
	t.Parallel()
	cfg := small(t, 20000, 20000)
	r, err := Run(context.Background(), cfg, Options{Staff: 10, Sample: 37}, nil)
	if err != nil {
		t.Fatal(err)
	}
	classes := map[int]bool{}
	for _, s := range r.Samples {
		classes[s.Class] = true
	}
	if len(r.Samples) < 200 || len(classes) < len(cfg.Classes)-1 {
		t.Fatalf("%d samples over %d classes: too few", len(r.Samples), len(classes))
	}
	rep, err := Check(context.Background(), cfg, regime.DefaultTable(), r.Samples, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != len(r.Samples) || !rep.OK() {
		t.Fatalf("%s", rep)
	}
	// And by hand, for one request of each emergency flag: workflow.Route on the regime's
	// clock.
	svc := workflow.New(workflow.Config{Regimes: regime.DefaultTable()})
	for _, flagged := range []bool{false, true} {
		cl := cfg.Classes[cfg.class("eu-epoc")]
		at := time.Date(2026, 12, 3, 17, 4, 5, 6000, time.UTC)
		rq, _ := cl.Request(flagged, at)
		c, err := svc.Route(rq, "DE", cl.Triage(flagged, false))
		if err != nil {
			t.Fatal(err)
		}
		want := 10 * 24 * time.Hour
		if flagged {
			want = 8 * time.Hour
		}
		if got := c.DeadlineAt.Sub(at); got != want {
			t.Errorf("eu-epoc flagged=%v: clock %v, want %v", flagged, got, want)
		}
	}
}

// TestQueueOrderAsTheStore: docket.QueueKey, which the simulation orders by, orders cases
// as the console's query does on SQLite.
func TestQueueOrderAsTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t, "sqlite")
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	svc := workflow.New(workflow.Config{Store: st, Now: func() time.Time { return now }})
	svc.Start(ctx)
	t.Cleanup(svc.Stop)
	a := &docket.Authority{Name: "Police", Country: "FR"}
	if _, err := svc.RegisterAuthority(ctx, "test", a); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	regimes := []string{"eu-tco-removal", "eu-epoc", "fr-requisition", "national-other", "none", "dsa-art9", "us-2703f"}
	for i := range 60 {
		rg := regimes[rng.IntN(len(regimes))]
		r, _ := regime.DefaultTable().Lookup(rg)
		kind := docket.KindOther
		if len(r.Kinds) > 0 {
			kind = r.Kinds[0]
		}
		body := docket.RequestBody{Regime: rg, Kind: kind, Emergency: rng.IntN(6) == 0, Reference: "R" + string(rune('a'+i%26)) + string(rune('a'+i/26))}
		_, err := svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelAPI, Authority: a, Body: body,
			Raw: []byte(body.Reference), ReceivedAt: now.Add(-time.Duration(rng.IntN(72*60)) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.Cases(ctx, docket.CaseFilter{Sort: "queue", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 60 {
		t.Fatalf("%d cases, want 60", len(got))
	}
	want := slices.Clone(got)
	slices.SortStableFunc(want, func(x, y *docket.Case) int {
		if c := x.QueueKey().Compare(y.QueueKey()); c != 0 {
			return c
		}
		return cmpStr(x.ID, y.ID)
	})
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("at %d the store has case %s (%+v), QueueKey orders %s (%+v)", i, got[i].ID, got[i].QueueKey(), want[i].ID, want[i].QueueKey())
		}
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc string }{
		{"unknown field", `{"dayz": 3}`},
		{"daily profile", `{"daily": [1, 2]}`},
		{"burst of no class", `{"bursts": [{"name": "x", "class": "nope", "hours": 1, "factor": 2}]}`},
	}
	for _, tt := range tests {
		if _, err := parse([]byte(tt.doc)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }
