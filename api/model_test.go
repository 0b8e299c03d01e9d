package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/workflow"
)

// TestModelApprovalGuarantees drives docket with random sequences of actions by random
// principals — two agents, a reviewer, an admin, an auditor and two authorities — through
// the service layer the API calls (and the API itself for what authorities do), and after
// every step checks docket's two approval guarantees against the recorded facts (the event
// log), recomputed here independently of the code that enforces them:
//
//   - every package built or downloaded, and every answer that carries data, had in effect
//     an approval by someone other than the decider whose coverage is what left: the case's
//     requests at that moment, its regime and kind, the decision, the target and the
//     categories;
//   - on a case from an unverified e-mail sender, a sender_verified came first.
//
// A failing sequence is shrunk (steps removed while it still fails) and printed. The seed
// is printed; DOCKET_MODEL_SEED replays it; DOCKET_MODEL_SECONDS sets the time per engine
// (default 5; at least 300 sequences are run whatever the time, up to 150 s), DOCKET_MODEL_WORKERS the workers per engine (default 2 on SQLite, 4 on
// PostgreSQL; 1 makes a run the same every time).
func TestModelApprovalGuarantees(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DOCKET_MODEL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("DOCKET_MODEL_SEED: %v", err)
		}
		seed = v
	}
	budget := 5 * time.Second
	if s := os.Getenv("DOCKET_MODEL_SECONDS"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("DOCKET_MODEL_SECONDS: %v", err)
		}
		budget = time.Duration(v * float64(time.Second))
	}
	const minSequences = 300
	hardCap := max(budget, 150*time.Second)
	t.Logf("seed %d (replay: DOCKET_MODEL_SEED=%d)", seed, seed)
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := setupFullOn(t, fastStore(t, engine))
			// Workers run sequences side by side, each on cases of its own; sequence i is
			// generated from (seed, i) whichever worker runs it.
			workers := map[string]int{"sqlite": 2, "postgres": 4}[engine]
			if s := os.Getenv("DOCKET_MODEL_WORKERS"); s != "" {
				if workers, _ = strconv.Atoi(s); workers < 1 {
					t.Fatalf("DOCKET_MODEL_WORKERS=%q: want a number of workers", s)
				}
			}
			var (
				next, sequences, steps atomic.Int64
				running                atomic.Int64
				failed                 atomic.Bool
				mu                     sync.Mutex
				failure                string
				wg                     sync.WaitGroup
			)
			start := time.Now()
			var models []*model
			for range workers {
				m := newModel(t, f)
				models = append(models, m)
				running.Add(1)
				wg.Go(func() {
					defer running.Add(-1)
					for {
						// At least minSequences, so that a slow machine (the race detector,
						// other work) still releases data often enough to check; never past
						// the hard cap.
						if el := time.Since(start); failed.Load() || (el > budget && sequences.Load() >= minSequences) || el > hardCap {
							return
						}
						i := uint64(next.Add(1) - 1)
						seq := generate(rand.New(rand.NewPCG(seed, i)))
						if v := m.run(seq); v != "" {
							// The other workers stop first: they share the job queue, and the
							// shrinking must run alone to be the same every time.
							if !failed.CompareAndSwap(false, true) {
								return
							}
							for !idle(&running, 1) {
								time.Sleep(time.Millisecond)
							}
							small, why := m.shrink(seq, v)
							mu.Lock()
							failure = fmt.Sprintf("seed %d, sequence %d breaks a guarantee: %s\nminimal sequence (%d of %d steps):\n%s", seed, i, why, len(small), len(seq), format(small))
							mu.Unlock()
							return
						}
						sequences.Add(1)
						steps.Add(int64(len(seq)))
					}
				})
			}
			wg.Wait()
			if failure != "" {
				t.Fatal(failure)
			}
			f.verify()
			var seen effects
			for _, m := range models {
				seen.packages += m.seen.packages
				seen.downloads += m.seen.downloads
				seen.answers += m.seen.answers
				seen.voided += m.seen.voided
			}
			t.Logf("%s: %d sequences, %d steps, in %v; checked %d packages, %d downloads, %d answers with data; %d approvals voided",
				engine, sequences.Load(), steps.Load(), time.Since(start).Round(time.Millisecond), seen.packages, seen.downloads, seen.answers, seen.voided)
			if seen.packages == 0 || seen.answers == 0 {
				t.Errorf("the sequences released nothing: the check checked nothing")
			}
		})
	}
}

// idle reports whether at most n workers are still running.
func idle(running *atomic.Int64, n int64) bool { return running.Load() <= n }

// fastStore is storetest.Open for a test that commits thousands of times a second: the
// SQLite file lives in memory-backed /dev/shm when there is one, and PostgreSQL does not
// wait for its log to reach the disk at commit (synchronous_commit=off). Neither changes
// what a transaction sees or does.
func fastStore(t *testing.T, engine string) docket.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch engine {
	case "sqlite":
		dir := t.TempDir()
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			if dir, err = os.MkdirTemp("/dev/shm", "docket-model-"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
		}
		s, err := sqlite.Open(context.Background(), dir, log)
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	case "postgres":
		u, err := url.Parse(storetest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("synchronous_commit", "off")
		u.RawQuery = q.Encode()
		s, err := postgres.Open(context.Background(), u.String(), log)
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Fatalf("unknown engine %q", engine)
	return nil
}

// step is one action of a sequence. Case, Req and Variant pick among what the sequence has
// made so far, modulo its length, so that a step keeps a meaning when others are removed.
type step struct {
	Op      string
	Who     string
	Case    int
	Case2   int
	Variant int
	Bits    int
}

func (s step) String() string {
	return fmt.Sprintf("%-14s by %-9s case=%d case2=%d variant=%d bits=%d", s.Op, s.Who, s.Case, s.Case2, s.Variant, s.Bits)
}

func format(seq []step) string {
	var b strings.Builder
	for i, s := range seq {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, s)
	}
	return b.String()
}

var (
	staffNames     = []string{"agent", "agent2", "reviewer", "admin", "auditor"}
	authorityNames = []string{"authority", "other"}
	// ops with their weights.
	modelOps = []struct {
		op     string
		weight int
		by     []string
	}{
		{"submit", 6, authorityNames},
		{"email", 2, nil},
		{"decide", 8, staffNames},
		{"approve", 7, staffNames},
		{"reject", 2, staffNames},
		{"retriage", 6, staffNames},
		{"merge", 2, staffNames},
		{"split", 2, staffNames},
		{"verify_sender", 3, staffNames},
		{"disclose", 8, staffNames},
		{"answer", 6, staffNames},
		{"comment", 1, staffNames},
		{"ask", 2, staffNames},
		{"reply", 2, authorityNames},
		{"download", 4, authorityNames},
		{"jobs", 6, nil},
	}
)

// generate returns a random sequence. Most sequences are built around the path by which
// data leaves (decide, approve, disclose, run the jobs, answer, download) with random steps
// inserted anywhere in it: purely random steps seldom get that far.
func generate(r *rand.Rand) []step {
	total := 0
	for _, o := range modelOps {
		total += o.weight
	}
	random := func() step {
		w := r.IntN(total)
		for _, o := range modelOps {
			if w -= o.weight; w < 0 {
				s := step{Op: o.op, Case: r.IntN(4), Case2: r.IntN(4), Variant: r.IntN(16), Bits: r.IntN(8)}
				if o.by != nil {
					s.Who = o.by[r.IntN(len(o.by))]
				}
				return s
			}
		}
		panic("unreachable")
	}
	first := step{Op: "submit", Who: "authority", Variant: r.IntN(len(submissions)), Bits: r.IntN(8)}
	if r.IntN(4) == 0 {
		first = step{Op: "email", Bits: r.IntN(8)}
	}
	seq := []step{first}
	if r.IntN(10) < 7 {
		decider := []string{"agent", "agent2", "reviewer"}[r.IntN(3)]
		approver := []string{"reviewer", "admin", "reviewer", decider, "agent"}[r.IntN(5)]
		seq = append(seq,
			step{Op: "decide", Who: decider, Variant: 0},
			step{Op: "approve", Who: approver, Variant: r.IntN(16), Bits: r.IntN(8)},
			step{Op: "disclose", Who: decider, Variant: r.IntN(16), Bits: []int{0, 0, 1, 2}[r.IntN(4)]},
			step{Op: "jobs"},
			step{Op: "download", Who: "authority"},
			step{Op: "answer", Who: decider},
			step{Op: "download", Who: "authority"},
		)
	}
	for n := r.IntN(10); n > 0; n-- {
		i := 1 + r.IntN(len(seq))
		seq = slices.Insert(seq, i, random())
	}
	return seq
}

// model runs sequences against one docket and checks the guarantees.
type model struct {
	t     *testing.T
	f     *full
	users map[string]*docket.User
	runs  int
	seen  effects
}

// effects counts what the runs released, to show that they reach the effects at all.
type effects struct {
	packages, downloads, answers, voided int
}

func newModel(t *testing.T, f *full) *model {
	m := &model{t: t, f: f, users: map[string]*docket.User{}}
	for _, name := range staffNames {
		u, err := f.store.User(context.Background(), f.ids[name])
		if err != nil {
			t.Fatal(err)
		}
		m.users[name] = u
	}
	return m
}

// runState is what one run of a sequence made: its cases and its requests. Every run has
// references, targets and addresses of its own, so that runs never touch each other's cases.
type runState struct {
	ns    string
	cases []string
	reqs  []sentRequest
	// asks says which requests ask for user data, as the model sent them.
	asks map[string]bool
}

type sentRequest struct {
	id, caseID, by string
}

func (r *runState) addCase(id string) {
	if id != "" && !slices.Contains(r.cases, id) {
		r.cases = append(r.cases, id)
	}
}

func (r *runState) pick(i int) string {
	if len(r.cases) == 0 {
		return ""
	}
	return r.cases[i%len(r.cases)]
}

func (r *runState) target(i int) docket.Target {
	return docket.Target{Kind: "username", Value: fmt.Sprintf("@%c-%s", 'a'+rune(i%3), r.ns)}
}

// targets returns the targets of the bits set in b (at least one).
func (r *runState) targets(b int) []docket.Target {
	var out []docket.Target
	for i := 0; i < 3; i++ {
		if b&(1<<i) != 0 {
			out = append(out, r.target(i))
		}
	}
	if out == nil {
		out = append(out, r.target(0))
	}
	return out
}

var categorySets = [][]string{{"subscriber"}, {"subscriber", "traffic", "content"}, {"content"}, {"traffic", "subscriber"}}

var submissions = []struct {
	regime, kind string
	emergency    bool
}{
	{"fr-requisition", "disclosure", false},
	{"eu-epoc-pr", "preservation", false},
	{"eu-epoc", "disclosure", true},
	{"eu-epoc", "emergency_disclosure", false},
	{"dsa-art9", "removal", false},
	{"fr-requisition", "other", false},
	{"us-2703f", "preservation", false},
	{"eu-tco-removal", "removal", false},
}

var retriages = []map[string]any{
	{"kind": "disclosure"}, {"kind": "preservation"}, {"regime": "dsa-art16"}, {"regime": "emergency"},
	{"emergency": true}, {"emergency": false}, {"regime": "fr-requisition"}, {"kind": "other"},
	{"priority": 10}, {"regime": "eu-epoc-pr", "kind": "preservation"}, {"regime": "eu-epoc", "kind": "emergency_disclosure"},
	{"label": "spam"},
}

var outcomes = []string{"comply", "partial", "comply", "refuse", "need_info", "not_actionable", "comply"}

// recordsEffects are the steps after which an effect (answered, package_ready,
// package_downloaded) may have been recorded: no other step writes one (the model runs no
// triage, and jobs run only in the "jobs" step and at the end of a sequence).
var recordsEffects = map[string]bool{"answer": true, "ask": true, "jobs": true, "download": true}

// run executes seq on fresh cases and returns the first broken guarantee, or "".
func (m *model) run(seq []step) string {
	m.runs++
	r := &runState{ns: fmt.Sprintf("m%d-%d", m.runs, time.Now().UnixNano()%1e6), asks: map[string]bool{}}
	for i, s := range seq {
		if err := m.exec(r, s); err != nil {
			return fmt.Sprintf("step %d (%s): %v", i+1, s, err)
		}
		if !recordsEffects[s.Op] {
			continue // no event of an effect can have been recorded: nothing new to check
		}
		if v := m.check(r); v != "" {
			return fmt.Sprintf("after step %d (%s): %s", i+1, s, v)
		}
	}
	// What is still queued runs at the end.
	m.f.drain()
	if v := m.check(r); v != "" {
		return fmt.Sprintf("after the queued jobs ran: %s", v)
	}
	return ""
}

// shrink removes steps from a failing sequence while it still fails, and returns the
// smallest one found with its failure.
func (m *model) shrink(seq []step, why string) ([]step, string) {
	for chunk := len(seq) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(seq); {
			try := append(slices.Clone(seq[:i]), seq[i+chunk:]...)
			if v := m.run(try); v != "" {
				seq, why = try, v
				continue
			}
			i++
		}
	}
	return seq, why
}

// exec carries out one step. Refusals are expected (most random steps are refused); only
// a server error is an error.
func (m *model) exec(r *runState, s step) error {
	ctx := context.Background()
	act := func(caseID string, a workflow.Action) (*docket.Case, *docket.Event, error) {
		if caseID == "" {
			return nil, nil, nil
		}
		c, ev, err := m.f.svc.Act(ctx, m.users[s.Who], caseID, a)
		if err != nil && docket.ErrorCode(err) == docket.EINTERNAL {
			return nil, nil, err
		}
		return c, ev, nil
	}
	switch s.Op {
	case "submit":
		sub := submissions[s.Variant%len(submissions)]
		body := map[string]any{"regime": sub.regime, "kind": sub.kind, "reference": fmt.Sprintf("REF-%s-%d", r.ns, s.Case%2),
			"legal_basis": "Article 1", "description": "Data of the accounts.", "reasons": "Illegal.", "redress": "Court.",
			"emergency": sub.emergency, "targets": r.targets(s.Bits | 1)}
		res := m.f.do("POST", "/api/v1/requests", s.Who, body)
		if res.status >= 500 {
			return fmt.Errorf("submit: %d %s", res.status, res.body)
		}
		if res.status == 201 {
			rc := res.json(m.t)
			r.reqs = append(r.reqs, sentRequest{id: str(rc, "id"), caseID: str(rc, "case_id"), by: s.Who})
			r.asks[str(rc, "id")] = docket.Kind(sub.kind).Discloses()
			r.addCase(str(rc, "case_id"))
		}
	case "email":
		id, caseID := m.f.emailEmergency("officer@police-"+r.ns+".example", r.ns, r.targets(s.Bits)...)
		r.reqs = append(r.reqs, sentRequest{id: id, caseID: caseID})
		r.asks[id] = true // the emergency regime discloses
		r.addCase(caseID)
	case "decide":
		o := docket.Outcome(outcomes[s.Variant%len(outcomes)])
		reason := ""
		if o == docket.OutcomeRefuse || o == docket.OutcomePartial || o == docket.OutcomeNotActionable {
			reason = "data_not_held" // a ground of the decision table for each of them
		}
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActDecide, Outcome: o,
			ReasonCode: reason, Statement: fmt.Sprintf("Decision %d.", s.Variant)})
		return err
	case "approve":
		a := workflow.Action{Type: workflow.ActApprove}
		if s.Variant%3 != 0 {
			a.Targets, a.Categories = r.targets(s.Bits), categorySets[s.Variant%len(categorySets)]
		}
		_, _, err := act(r.pick(s.Case), a)
		return err
	case "reject":
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActReject, Text: "No."})
		return err
	case "retriage":
		a := workflow.Action{Type: workflow.ActRetriage, Text: "Corrected."}
		rt := retriages[s.Variant%len(retriages)]
		b, _ := json.Marshal(rt)
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		a.Text = "Corrected."
		_, _, err := act(r.pick(s.Case), a)
		return err
	case "merge":
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActMerge, Case: r.pick(s.Case2)})
		return err
	case "split":
		caseID := r.pick(s.Case)
		var ids []string
		for _, q := range r.reqs {
			if m.caseOf(q.id) == caseID {
				ids = append(ids, q.id)
			}
		}
		if len(ids) < 2 {
			return nil
		}
		_, ev, err := act(caseID, workflow.Action{Type: workflow.ActSplit, Requests: ids[len(ids)-1:]})
		if err == nil && ev != nil {
			var d docket.Split
			if json.Unmarshal(ev.Data, &d) == nil {
				r.addCase(d.To)
			}
		}
		return err
	case "verify_sender":
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActVerifySender, Method: "callback", Text: "Called back."})
		return err
	case "disclose":
		tg := r.target(s.Bits)
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: docket.OpDisclose, Target: &tg, Categories: categorySets[s.Variant%len(categorySets)]})
		return err
	case "answer":
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActAnswer, Text: "Here is the subscriber data."})
		return err
	case "jobs":
		// The background jobs (platform actions, mail) run now: a disclosure asked for
		// earlier is built only here, after whatever the steps between did.
		m.f.drain()
	case "comment":
		_, _, err := act(r.pick(s.Case), workflow.Action{Type: workflow.ActComment, Text: "Note."})
		return err
	case "ask":
		caseID := r.pick(s.Case)
		if _, _, err := act(caseID, workflow.Action{Type: workflow.ActDecide, Outcome: docket.OutcomeNeedInfo, Statement: "Which account?"}); err != nil {
			return err
		}
		_, _, err := act(caseID, workflow.Action{Type: workflow.ActAnswer, Text: "Which account exactly?"})
		return err
	case "reply", "download":
		var mine []sentRequest
		for _, q := range r.reqs {
			if q.by == s.Who {
				mine = append(mine, q)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		q := mine[s.Case%len(mine)]
		if s.Op == "reply" {
			res := m.f.do("POST", "/api/v1/requests/"+q.id+"/replies", s.Who, map[string]any{"text": "The account is " + r.target(s.Bits).Value})
			if res.status >= 500 {
				return fmt.Errorf("reply: %d %s", res.status, res.body)
			}
			if res.status == 201 {
				rc := res.json(m.t)
				r.reqs = append(r.reqs, sentRequest{id: str(rc, "id"), caseID: str(rc, "case_id"), by: s.Who})
			}
			return nil
		}
		res := m.f.do("GET", "/api/v1/requests/"+q.id+"/packages", s.Who, nil)
		if res.status >= 500 {
			return fmt.Errorf("packages: %d %s", res.status, res.body)
		}
		if res.status != 200 {
			return nil
		}
		for _, p := range res.json(m.t)["packages"].([]any) {
			if got := m.f.do("GET", p.(map[string]any)["url"].(string), s.Who, nil); got.status >= 500 {
				return fmt.Errorf("download: %d %s", got.status, got.body)
			}
		}
	default:
		return fmt.Errorf("unknown op %q", s.Op)
	}
	return nil
}

func (m *model) caseOf(requestID string) string {
	q, err := m.f.store.Request(context.Background(), requestID)
	if err != nil {
		return ""
	}
	return q.CaseID
}

// check recomputes, from each case's events, what every effect on it released and with
// which approval, and returns the first effect the guarantees forbid.
func (m *model) check(r *runState) string {
	for _, caseID := range r.cases {
		evs, err := m.f.store.CaseEvents(context.Background(), caseID)
		if err != nil {
			return fmt.Sprintf("case %s: %v", caseID, err)
		}
		v, n := checkCase(evs, r.asks)
		if v != "" {
			return fmt.Sprintf("case %s: %s", caseID, v)
		}
		m.seen.packages += n.packages
		m.seen.downloads += n.downloads
		m.seen.answers += n.answers
		m.seen.voided += n.voided
	}
	return ""
}

// approvalFacts are an approval as the log recorded it.
type approvalFacts struct {
	by  string
	cov *docket.Coverage
}

// checkCase walks the events of one case in order and checks every effect against the
// approval and verification the log shows in effect at that moment.
func checkCase(evs []*docket.Event, asks map[string]bool) (string, effects) {
	var (
		c         docket.Case
		reqs      []string
		decision  *docket.Decision
		approval  *approvalFacts
		verified  bool
		requested = map[int64]docket.ActionRequested{}
		packages  = map[string]int64{} // blob -> its action
		n         effects
	)
	actor := func(e *docket.Event) string {
		_, id, _ := strings.Cut(string(e.Actor), ":")
		return id
	}
	covered := func(e *docket.Event, what string, target *docket.Target, cats []string) string {
		if c.Sender == docket.SenderUnverified && !verified {
			return fmt.Sprintf("%s (event %d) on a case from an unverified sender, with no sender_verified before it", what, e.Seq)
		}
		switch {
		case decision == nil:
			return fmt.Sprintf("%s (event %d) without a decision", what, e.Seq)
		case approval == nil:
			return fmt.Sprintf("%s (event %d) without an approval in effect", what, e.Seq)
		case approval.by == decision.DecidedBy:
			return fmt.Sprintf("%s (event %d) approved by the decider %s", what, e.Seq, approval.by)
		case approval.cov == nil:
			return fmt.Sprintf("%s (event %d) under an approval that names no coverage", what, e.Seq)
		}
		cov := approval.cov
		have := slices.Sorted(slices.Values(reqs))
		switch {
		case !slices.Equal(cov.Requests, have):
			return fmt.Sprintf("%s (event %d): approval covers requests %v, the case has %v", what, e.Seq, cov.Requests, have)
		case cov.Regime != c.Regime || cov.Kind != c.Kind:
			return fmt.Sprintf("%s (event %d): approval covers %s/%s, the case is %s/%s", what, e.Seq, cov.Regime, cov.Kind, c.Regime, c.Kind)
		case cov.Decision != docket.DecisionSHA256(decision):
			return fmt.Sprintf("%s (event %d): approval covers another decision", what, e.Seq)
		case target != nil && !slices.Contains(cov.Targets, *target):
			return fmt.Sprintf("%s (event %d): %s is not among the approved targets %v", what, e.Seq, target.Value, cov.Targets)
		}
		for _, cat := range cats {
			if !slices.Contains(cov.Categories, cat) {
				return fmt.Sprintf("%s (event %d): %s data not approved (%v)", what, e.Seq, cat, cov.Categories)
			}
		}
		return ""
	}
	for _, e := range evs {
		data, err := docket.DecodeEvent(e)
		if err != nil {
			return err.Error(), n
		}
		// Effects are judged on the case as it stood just before them.
		switch e.Type {
		case docket.EventPackageReady:
			a := requested[data.(*docket.PackageReady).Action]
			if v := covered(e, "package for "+a.Target.Value, &a.Target, a.Categories); v != "" {
				return v, n
			}
			n.packages++
			packages[data.(*docket.PackageReady).Blob] = data.(*docket.PackageReady).Action
		case docket.EventPackageDownloaded:
			a := requested[packages[data.(*docket.PackageDownloaded).Blob]]
			if v := covered(e, "download of the package for "+a.Target.Value, &a.Target, a.Categories); v != "" {
				return v, n
			}
			n.downloads++
		case docket.EventAnswered:
			asked := c.Discloses
			for _, id := range reqs {
				asked = asked || asks[id]
			}
			if decision != nil && decision.Outcome.Releases() && asked {
				if v := covered(e, "answer with data", nil, nil); v != "" {
					return v, n
				}
				n.answers++
			}
		}
		if err := c.ApplyDecoded(e, data); err != nil {
			return err.Error(), n
		}
		switch d := data.(type) {
		case *docket.CaseOpened:
			reqs = append([]string{d.RequestID}, d.Requests...)
			if d.SplitFrom != "" {
				reqs = slices.Clone(d.Requests)
			}
		case *docket.RequestReceived:
			reqs = append(reqs, d.RequestID)
		case *docket.RequesterReplied:
			reqs = append(reqs, d.RequestID)
			decision, approval = nil, nil
		case *docket.Merged:
			reqs = append(reqs, d.Requests...)
		case *docket.Split:
			reqs = slices.DeleteFunc(reqs, func(id string) bool { return slices.Contains(d.Requests, id) })
		case *docket.Decided:
			dec := d.Decision
			decision, approval = &dec, nil
		case *docket.Approved:
			approval = &approvalFacts{by: actor(e), cov: d.Coverage}
		case *docket.ApprovalVoided:
			approval = nil
			n.voided++
		case *docket.SenderVerified:
			verified = true
		case *docket.ActionRequested:
			requested[e.Seq] = *d
		}
		if e.Type == docket.EventApprovalRejected {
			decision, approval = nil, nil
		}
	}
	return "", n
}
