package sim

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/workflow"
)

// Server is a running docket as a replay drives it: its clock and its HTTP API
// (APIServer). Persons are the simulation's staff by number, classes its classes.
type Server interface {
	// SetNow moves the server's clock.
	SetNow(time.Time)
	// Submit sends one request (RequestFor) and returns its receipt.
	Submit(ctx context.Context, sub Submission) (docket.Receipt, error)
	// Case returns a case as the API shows it to staff.
	Case(ctx context.Context, id string) (*CaseView, error)
	// Queue returns cases in the given states in the console's queue order (sort=queue).
	Queue(ctx context.Context, states []docket.CaseState, limit, offset int) ([]*CaseView, error)
	// Act takes a person's action on a case and returns the case as it then stands.
	Act(ctx context.Context, person int, caseID string, a workflow.Action) (*CaseView, error)
	// Reply sends an authority's reply (class) to a question on its request.
	Reply(ctx context.Context, class int, requestID string) error
	// History returns a case with its events.
	History(ctx context.Context, id string) (*CaseView, []docket.Event, error)
}

// CaseView is what the replay reads of a case (GET /api/v1/cases).
type CaseView struct {
	ID         string           `json:"id"`
	State      docket.CaseState `json:"state"`
	Regime     string           `json:"regime"`
	Emergency  bool             `json:"emergency"`
	Queue      string           `json:"queue"`
	Priority   int              `json:"priority"`
	ReceivedAt time.Time        `json:"received_at"`
	Deadline   *docket.Time     `json:"deadline"`
}

func (c *CaseView) key() docket.QueueKey {
	var d time.Time
	if c.Deadline != nil {
		d = c.Deadline.Time
	}
	return docket.KeyAt(c.Emergency, d, c.Priority)
}

// ReplayReport is what a replay measured, beside its Result.
type ReplayReport struct {
	Result *Result
	// Submitted are the requests sent; Skipped those of classes the API cannot receive
	// (e-mail from unknown senders); Calls the API calls made.
	Submitted, Skipped, Calls int
	// OpenedHere counts cases the server opened where the simulation had joined the request
	// to an open case (their work drawn anew), JoinedHere the reverse.
	OpenedHere, JoinedHere int
	// Routes counts the cases opened by queue on the server.
	Routes map[string]int
}

// rcase is a case of the replay.
type rcase struct {
	id, firstReq string
	class        int
	lang         uint8
	work         Work
	step         uint8
	decider      int32
	emergency    bool
	busy         bool
	pending      bool
	ver          uint32
}

// rreq is a request the replay sent.
type rreq struct {
	id, caseID         string
	class              int
	received, deadline time.Time
}

type revent struct {
	at   time.Time
	kind uint8
	who  int32
	item int32
	ver  uint32
	seq  int
}

type revents []revent

func (h revents) Len() int { return len(h) }
func (h revents) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	if h[i].kind != h[j].kind {
		return h[i].kind < h[j].kind
	}
	return h[i].seq < h[j].seq
}
func (h revents) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *revents) Push(x any)   { *h = append(*h, x.(revent)) }
func (h *revents) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type replayer struct {
	cfg     *Config
	tab     *regime.Table
	srv     Server
	log     *slog.Logger
	rng     *rand.Rand
	staff   []person
	langIdx map[string]int
	idle    []int32
	events  revents
	seq     int
	cases   []rcase
	byID    map[string]int32
	newest  []int32
	refs    map[int32]string
	reqs    []rreq
	from    time.Time
	start   time.Time
	end     time.Time
	stop    time.Time
	now     time.Time
	rep     *ReplayReport
	ctx     context.Context
}

// Replay sends the arrivals of a traced run (Options.Trace) to a real server at their
// simulated times, and has the same staff (shifts, languages, reviewers, the work drawn for
// each case) take cases in the order the server's own queue gives (GET /api/v1/cases
// ?sort=queue), deciding, approving (four eyes: a reviewer other than the decider) and
// answering through the API at the simulated times. Requests of the measured period are
// then read back from the server (their answers and pauses) into a Result comparable with
// the simulation's.
func Replay(ctx context.Context, cfg *Config, tab *regime.Table, staff int, trace []Arrival, srv Server, log *slog.Logger) (*ReplayReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if tab == nil {
		tab = regime.DefaultTable()
	}
	for _, t := range cfg.Staff.Teams {
		if len(t.Queues) > 0 {
			return nil, fmt.Errorf("sim replay: team %s works only some queues: not supported", t.Name)
		}
	}
	start := cfg.Start.UTC()
	r := &replayer{cfg: cfg, tab: tab, srv: srv, log: log, ctx: ctx, rng: rand.New(rand.NewPCG(cfg.Seed, 0x7e91a)),
		langIdx: map[string]int{}, byID: map[string]int32{}, refs: map[int32]string{}, newest: make([]int32, len(cfg.Classes)),
		start: start, end: start.AddDate(0, 0, cfg.Days), from: start.AddDate(0, 0, -cfg.WarmupDays), stop: start.AddDate(0, 0, cfg.Days+cfg.TailDays),
		rep: &ReplayReport{Routes: map[string]int{}}}
	for i := range r.newest {
		r.newest[i] = -1
	}
	queues := map[string]int{}
	for _, cl := range cfg.Classes {
		for l := range cl.Languages {
			r.lang(l)
		}
	}
	for _, t := range cfg.Staff.Teams {
		for _, l := range t.Languages {
			r.lang(l)
		}
	}
	r.staff = buildStaff(cfg, staff, r.langIdx, queues, r.from, r.stop)
	for i := range r.staff {
		for _, sh := range r.staff[i].shifts {
			r.push(revent{at: time.UnixMicro(max(sh.from, r.from.UnixMicro())).UTC(), kind: evShiftStart, who: int32(i)})
			r.push(revent{at: time.UnixMicro(min(sh.to, r.stop.UnixMicro())).UTC(), kind: evShiftEnd, who: int32(i)})
		}
	}
	next := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if next < len(trace) && (len(r.events) == 0 || !trace[next].At.After(r.events[0].at)) {
			if trace[next].At.Before(r.stop) {
				if err := r.arrive(trace[next], next); err != nil {
					return nil, err
				}
			}
			next++
			continue
		}
		if len(r.events) == 0 {
			break
		}
		e := heap.Pop(&r.events).(revent)
		if !e.at.Before(r.stop) {
			break
		}
		if err := r.handle(e); err != nil {
			return nil, err
		}
	}
	if err := r.measure(); err != nil {
		return nil, err
	}
	return r.rep, nil
}

func (r *replayer) lang(name string) int {
	if i, ok := r.langIdx[name]; ok {
		return i
	}
	r.langIdx[name] = len(r.langIdx)
	return len(r.langIdx) - 1
}

func (r *replayer) push(e revent) {
	r.seq++
	e.seq = r.seq
	heap.Push(&r.events, e)
}

func (r *replayer) setNow(t time.Time) {
	r.now = t
	r.srv.SetNow(t)
}

// arrive sends one request and learns from the server what became of it.
func (r *replayer) arrive(a Arrival, n int) error {
	cl := &r.cfg.Classes[a.Class]
	if !Submittable(cl) {
		r.rep.Skipped++
		return nil
	}
	r.setNow(a.At)
	ref := fmt.Sprintf("SIM-%d", n)
	if a.Join {
		if idx := r.newest[a.Class]; idx >= 0 && r.cases[idx].pending {
			ref = r.refs[idx]
		}
	}
	sub := RequestFor(cl, a, ref, n)
	rc, err := r.srv.Submit(r.ctx, sub)
	r.rep.Calls++
	if err != nil {
		return fmt.Errorf("sim replay: submit %s: %w", cl.Name, err)
	}
	r.rep.Submitted++
	own := rc.Deadline.OrZero()
	cv, err := r.srv.Case(r.ctx, rc.CaseID)
	r.rep.Calls++
	if err != nil {
		return fmt.Errorf("sim replay: %w", err)
	}
	if idx, ok := r.byID[rc.CaseID]; ok {
		// Joined an open case: the request's own clock is its regime's.
		if rg, ok := r.tab.Lookup(cl.Regime); ok {
			own, _ = rg.Deadlines(rc.ReceivedAt, a.Flagged || rg.Emergency || cl.Kind == docket.KindEmergencyDisclosure)
		}
		r.reqs = append(r.reqs, rreq{id: rc.ID, caseID: rc.CaseID, class: a.Class, received: rc.ReceivedAt, deadline: own})
		if a.Work != nil {
			r.rep.JoinedHere++
		}
		c := &r.cases[idx]
		if cv.Emergency && !c.emergency {
			c.emergency = true
			r.push(revent{at: a.At.Add(r.ack(a)), kind: evPage, item: idx})
		}
		return nil
	}
	r.reqs = append(r.reqs, rreq{id: rc.ID, caseID: rc.CaseID, class: a.Class, received: rc.ReceivedAt, deadline: own})
	r.rep.Routes[cv.Queue]++
	if !cv.State.Pending() {
		return nil // closed by a rule at receipt
	}
	w := a.Work
	if w == nil {
		r.rep.OpenedHere++
		w = r.drawWork(cl)
	}
	idx := int32(len(r.cases))
	r.cases = append(r.cases, rcase{id: rc.CaseID, firstReq: rc.ID, class: a.Class, lang: uint8(r.langIdx[a.Lang]), work: *w,
		decider: -1, emergency: cv.Emergency, pending: true})
	r.byID[rc.CaseID] = idx
	if cl.Channel != docket.ChannelNotice {
		r.newest[a.Class], r.refs[idx] = idx, ref
	}
	if err := r.wake(idx); err != nil {
		return err
	}
	if cv.Emergency {
		r.push(revent{at: a.At.Add(r.ack(a)), kind: evPage, item: idx})
	}
	return nil
}

func (r *replayer) ack(a Arrival) time.Duration {
	if a.Ack > 0 {
		return a.Ack
	}
	return secs(draw(r.rng, r.cfg.Staff.OncallAck))
}

// drawWork draws the work of a case the simulation did not open (it joined the request to
// an open case there), from the replay's own generator.
func (r *replayer) drawWork(cl *Class) *Work {
	w := &Work{Handle: secs(draw(r.rng, r.cfg.Handling[cl.Kind])), Approve: secs(draw(r.rng, r.cfg.Approval)), Answer: secs(draw(r.rng, r.cfg.Answer))}
	u, acc := r.rng.Float64(), 0.0
	w.Outcome = "not_actionable"
	for _, o := range []string{"comply", "partial", "refuse", "not_actionable"} {
		if acc += r.cfg.Outcomes[o]; u < acc {
			w.Outcome = o
			break
		}
	}
	return w
}

func (r *replayer) queued(c *rcase) bool { return c.pending && !c.busy && c.step != stepAwaiting }

// wake gives a case that newly waits to the first idle person who may take it: that person
// takes the first case of the server's queue (the invariant: nobody is idle while a case
// they may take waits).
func (r *replayer) wake(idx int32) error {
	c := &r.cases[idx]
	for i, p := range r.idle {
		if c.step == stepApprove && (!r.staff[p].reviewer || c.decider == p) {
			continue
		}
		r.unidle(i)
		return r.free(p)
	}
	return nil
}

func (r *replayer) setIdle(p int32) {
	per := &r.staff[p]
	if per.idleAt >= 0 || !per.onShift || per.busy {
		return
	}
	per.idleAt = len(r.idle)
	r.idle = append(r.idle, p)
}

func (r *replayer) unidle(i int) {
	p := r.idle[i]
	last := len(r.idle) - 1
	r.idle[i] = r.idle[last]
	r.staff[r.idle[i]].idleAt = i
	r.idle = r.idle[:last]
	r.staff[p].idleAt = -1
}

// free: person p looks for work and takes the first case the server's queue gives them.
func (r *replayer) free(p int32) error {
	ok, err := r.takeNext(p)
	if err != nil || ok {
		return err
	}
	r.setIdle(p)
	return nil
}

// first returns the first case in states, in the server's queue order, that skip does not
// skip.
func (r *replayer) first(states []docket.CaseState, skip func(*rcase) bool) (*CaseView, int32, error) {
	const page = 50
	for off := 0; ; off += page {
		cvs, err := r.srv.Queue(r.ctx, states, page, off)
		r.rep.Calls++
		if err != nil {
			return nil, -1, fmt.Errorf("sim replay: queue: %w", err)
		}
		for _, cv := range cvs {
			idx, ok := r.byID[cv.ID]
			if !ok || skip(&r.cases[idx]) {
				continue
			}
			return cv, idx, nil
		}
		if len(cvs) < page {
			return nil, -1, nil
		}
	}
}

var (
	handleStates   = []docket.CaseState{docket.StateOpen, docket.StateDecided}
	approvalStates = []docket.CaseState{docket.StateAwaitingApproval}
)

func (r *replayer) takeNext(p int32) (bool, error) {
	best, bi, err := r.first(handleStates, func(c *rcase) bool { return !r.queued(c) })
	if err != nil {
		return false, err
	}
	if r.staff[p].reviewer {
		cv, idx, err := r.first(approvalStates, func(c *rcase) bool { return !r.queued(c) || c.decider == p })
		if err != nil {
			return false, err
		}
		if cv != nil && (best == nil || cmp.Or(cv.key().Compare(best.key()), cv.ReceivedAt.Compare(best.ReceivedAt)) < 0) {
			best, bi = cv, idx
		}
	}
	if best == nil {
		return false, nil
	}
	switch best.State {
	case docket.StateDecided:
		r.cases[bi].step = stepAnswer
	case docket.StateAwaitingApproval:
		r.cases[bi].step = stepApprove
	default:
		r.cases[bi].step = stepHandle
	}
	r.take(p, bi)
	return true, nil
}

// take: person p takes case idx now, for as long as its step takes them (the simulation's
// rule: a matched notice half, a language they do not read half again).
func (r *replayer) take(p, idx int32) {
	c := &r.cases[idx]
	c.busy = true
	c.ver++
	cl := &r.cfg.Classes[c.class]
	var d float64
	switch c.step {
	case stepApprove:
		d = c.work.Approve.Seconds()
	case stepAnswer:
		d = c.work.Answer.Seconds()
	default:
		d = c.work.Handle.Seconds()
		if cl.Matched {
			d *= r.cfg.MatchedFactor
		}
		if r.staff[p].langs&(1<<c.lang) == 0 {
			d *= r.cfg.ForeignLanguageFactor
		}
	}
	per := &r.staff[p]
	per.busy, per.item = true, idx
	r.push(revent{at: r.now.Add(time.Duration(max(d, 1) * float64(time.Second))), kind: evDone, who: p, item: idx, ver: c.ver})
}

func (r *replayer) handle(e revent) error {
	r.now = e.at
	switch e.kind {
	case evShiftStart:
		per := &r.staff[e.who]
		per.onShift = true
		if !per.busy {
			r.setNow(e.at)
			return r.free(e.who)
		}
	case evShiftEnd:
		per := &r.staff[e.who]
		per.onShift = false
		if per.idleAt >= 0 {
			r.unidle(per.idleAt)
		}
	case evDone:
		return r.done(e)
	case evPage:
		return r.page(e)
	case evReply:
		c := &r.cases[e.item]
		if c.ver != e.ver || c.step != stepAwaiting {
			return nil
		}
		r.setNow(e.at)
		if err := r.srv.Reply(r.ctx, c.class, c.firstReq); err != nil {
			return fmt.Errorf("sim replay: reply: %w", err)
		}
		r.rep.Calls++
		c.step, c.work.Outcome = stepHandle, "comply"
		c.ver++
		return r.wake(e.item)
	}
	return nil
}

// reasons are the grounds the replay gives for outcomes that need one.
var reasons = map[string]string{"refuse": "no_legal_basis", "partial": "overbroad", "not_actionable": "not_actionable"}

func (r *replayer) act(p int32, c *rcase, a workflow.Action) (*CaseView, error) {
	r.rep.Calls++
	cv, err := r.srv.Act(r.ctx, int(p), c.id, a)
	if err != nil {
		return nil, fmt.Errorf("sim replay: %s on case %s: %w", a.Type, c.id, err)
	}
	return cv, nil
}

// done: a person finished a step; they record it through the API.
func (r *replayer) done(e revent) error {
	per := &r.staff[e.who]
	c := &r.cases[e.item]
	per.busy, per.item = false, -1
	c.busy = false
	c.ver++
	r.setNow(e.at)
	answer := workflow.Action{Type: workflow.ActAnswer, Text: "Answered (docket sim replay)."}
	switch c.step {
	case stepHandle:
		out := docket.Outcome(c.work.Outcome)
		cv, err := r.act(e.who, c, workflow.Action{Type: workflow.ActDecide, Outcome: out, ReasonCode: reasons[c.work.Outcome]})
		if err != nil {
			return err
		}
		switch {
		case out == docket.OutcomeNeedInfo:
			if _, err := r.act(e.who, c, answer); err != nil {
				return err
			}
			c.step = stepAwaiting
			if c.work.Reply > 0 {
				r.push(revent{at: e.at.Add(c.work.Reply), kind: evReply, item: e.item, ver: c.ver})
			}
		case cv.State == docket.StateAwaitingApproval:
			c.step, c.decider = stepApprove, e.who
			if err := r.wake(e.item); err != nil {
				return err
			}
			r.pageStep(e.item)
		default:
			if _, err := r.act(e.who, c, answer); err != nil {
				return err
			}
			c.pending = false
		}
	case stepApprove:
		if _, err := r.act(e.who, c, workflow.Action{Type: workflow.ActApprove}); err != nil {
			return err
		}
		c.step = stepAnswer
		if err := r.wake(e.item); err != nil {
			return err
		}
		r.pageStep(e.item)
	case stepAnswer:
		if _, err := r.act(e.who, c, answer); err != nil {
			return err
		}
		c.pending = false
	}
	if per.onShift {
		return r.free(e.who)
	}
	return nil
}

func (r *replayer) pageStep(idx int32) {
	if c := &r.cases[idx]; c.emergency && r.queued(c) {
		r.push(revent{at: r.now.Add(secs(draw(r.rng, r.cfg.Staff.OncallAck))), kind: evPage, item: idx})
	}
}

// page: as the simulation's, the person on call takes the emergency if free and allowed,
// else the next rung is paged.
func (r *replayer) page(e revent) error {
	c := &r.cases[e.item]
	if !c.emergency || !r.queued(c) {
		return nil
	}
	p := int32(oncall(len(r.staff), r.from.UnixMicro(), e.at.UnixMicro(), int(e.who)))
	if r.staff[p].busy || (c.step == stepApprove && (!r.staff[p].reviewer || c.decider == p)) {
		r.push(revent{at: e.at.Add(time.Duration(r.cfg.Staff.OncallEscalate)), kind: evPage, who: e.who + 1, item: e.item})
		return nil
	}
	if r.staff[p].idleAt >= 0 {
		r.unidle(r.staff[p].idleAt)
	}
	r.setNow(e.at)
	r.take(p, e.item)
	return nil
}
