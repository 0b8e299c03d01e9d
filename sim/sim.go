// Package sim simulates a month of docket at a platform's scale under a virtual clock: who
// sends what and when (arrivals by channel, regime, kind, language and country, with daily
// and weekly seasons, holidays and bursts), and who answers it (staff with shifts, time
// zones, languages, on-call turns, absences, four eyes). Cases open as the server opens
// them — workflow.Route gives each kind of request its regime, clock, queue, priority and
// automatic steps, and every deadline is the regime's Deadlines — and people take them in
// docket's queue order (docket.QueueKey) or, to compare, first-in first-out or by priority.
// It is an event-driven simulation: one heap of events, compact cases, no goroutines.
package sim

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
	"github.com/docket-dev/docket/triage"
	"github.com/docket-dev/docket/workflow"
)

// Policies: the order in which people take cases.
const (
	PolicyDocket   = "docket"   // emergencies, then the earliest deadline, then priority (docket.QueueKey)
	PolicyFIFO     = "fifo"     // the oldest first
	PolicyPriority = "priority" // the highest priority first, then the oldest
)

// Options are what a run varies over one config.
type Options struct {
	Staff  int
	Policy string
	// Regimes is the regime table (the embedded one when nil).
	Regimes *regime.Table
	// Sample, when positive, keeps every Sample-th new case's facts (Result.Samples) for
	// the check against the real service.
	Sample int
	// Trace keeps every arrival with what was drawn for it (Result.Trace), for a replay
	// against a real server (ReplayDay); for short runs only.
	Trace bool
}

const us = int64(time.Microsecond)

func dur(d time.Duration) int64 { return int64(d / time.Microsecond) }

// route is how docket opens a case of one class and one set of triage flags.
type route struct {
	regime    *docket.Regime
	regimeIdx uint8
	queue     uint8
	priority  uint8
	emergency bool
	discloses bool
	pause     bool
	closed    bool // closed by a routing rule at receipt
}

// item is one case.
type item struct {
	received, deadline int64  // Unix µs; deadline 0: none
	pausedAt, paused   int64  // when its clock stopped (0: running), and for how long in all
	touched            int64  // when a person first took it (0: not yet)
	reqs               int32  // head of its requests' list
	ver                uint32 // changes whenever its queue entries go stale
	gen                uint32 // changes whenever the slot holds a new case
	decider            int32
	target             uint32 // the notice target it holds in open (0: none)
	handleS, approveS  uint32 // seconds of work
	answerS, replyS    uint32 // replyS: the requester's delay (0: never replies)
	workS              uint32 // seconds people spent on it so far
	class              uint16
	queue, priority    uint8
	lang               uint8
	step               uint8
	outcome            uint8
	emergency          bool
	discloses, pause   bool
	matched            bool
	measured           bool
	pending            bool
	busy               bool // a person works it
}

// Steps of a case.
const (
	stepHandle uint8 = iota
	stepApprove
	stepAnswer
	stepAwaiting // waiting for the requester
)

// Outcomes.
const (
	outComply uint8 = iota
	outPartial
	outRefuse
	outNotActionable
	outNeedInfo
)

// req is one request in a case's list.
type req struct {
	received, deadline int64
	next               int32
	regime             uint8
	lawful, measured   bool
}

// event is one thing that happens at a time.
type event struct {
	at   int64
	kind uint8
	who  int32 // a person, or the rung of a page
	item int32
	ver  uint32
}

const (
	evShiftStart uint8 = iota
	evShiftEnd
	evDone
	evPage
	evReply
	evSample
)

type entry struct {
	key      docket.QueueKey
	received int64
	idx      int32
	ver      uint32
}

type sim struct {
	cfg    *Config
	opt    Options
	log    *slog.Logger
	svc    *workflow.Service
	rng    *rand.Rand // arrivals and the work each case will need
	wrng   *rand.Rand // what is drawn during the work (pages' acknowledgements), apart so that arrivals never depend on it
	arr    *arrivals
	zipf   *rand.Zipf
	start  int64 // measured period [start, end)
	end    int64
	from   int64 // first arrival
	stop   int64 // horizon: arrivals and work stop
	events []event
	items  []item
	free   []int32
	reqs   []req
	freeRq []int32
	// queues: one heap per queue name, then one for approvals
	queueIdx  map[string]int
	queueName []string
	buckets   [][]entry
	staff     []person
	idle      []int32
	regimes   []*docket.Regime
	regIdx    map[string]uint8
	langIdx   map[string]int
	langs     []string
	classLang []picker
	classCtry []picker
	routes    map[int]route
	lastOpen  []int32 // each class's newest case, for joining
	lastGen   []uint32
	now       int64
	seen      int64            // new cases, for Options.Sample
	open      map[uint32]int32 // notice target → its open case
	res       *Result
}

// Run simulates cfg with opt.Staff people taking cases in opt.Policy's order.
func Run(ctx context.Context, cfg *Config, opt Options, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Staff <= 0 {
		return nil, fmt.Errorf("sim: staff must be positive")
	}
	switch opt.Policy {
	case "":
		opt.Policy = PolicyDocket
	case PolicyDocket, PolicyFIFO, PolicyPriority:
	default:
		return nil, fmt.Errorf("sim: unknown policy %q (docket, fifo, priority)", opt.Policy)
	}
	if opt.Regimes == nil {
		opt.Regimes = regime.DefaultTable()
	}
	wall := time.Now()
	s, err := newSim(cfg, opt, log)
	if err != nil {
		return nil, err
	}
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	s.finish()
	s.res.WallSeconds = time.Since(wall).Seconds()
	return s.res, nil
}

func newSim(cfg *Config, opt Options, log *slog.Logger) (*sim, error) {
	s := &sim{cfg: cfg, opt: opt, log: log, queueIdx: map[string]int{}, regIdx: map[string]uint8{},
		langIdx: map[string]int{}, routes: map[int]route{}, open: map[uint32]int32{}}
	// The service is used without a store: Route needs only its regimes and rules.
	s.svc = workflow.New(workflow.Config{Regimes: opt.Regimes, Logger: log})
	s.rng = rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	s.wrng = rand.New(rand.NewPCG(cfg.Seed, 0x3011))
	s.arr = newArrivals(cfg, s.rng)
	if cfg.NoticeTargets > 0 {
		s.zipf = rand.NewZipf(s.rng, max(cfg.NoticeZipfS, 1.0001), 1, uint64(cfg.NoticeTargets-1))
	}
	start := cfg.Start.UTC()
	s.start = start.UnixMicro()
	s.end = start.AddDate(0, 0, cfg.Days).UnixMicro()
	s.from = start.AddDate(0, 0, -cfg.WarmupDays).UnixMicro()
	s.stop = start.AddDate(0, 0, cfg.Days+cfg.TailDays).UnixMicro()
	for _, r := range opt.Regimes.All() {
		s.regIdx[r.ID] = uint8(len(s.regimes))
		s.regimes = append(s.regimes, r)
		s.queue(r.Queue)
	}
	for _, q := range []string{"emergency", "child-safety", "terrorism", "removal", "preservation", "disclosure", "notices", "default", "spam"} {
		s.queue(q)
	}
	for _, cl := range cfg.Classes {
		for l := range cl.Languages {
			s.lang(l)
		}
		s.classLang = append(s.classLang, newPicker(cl.Languages))
		s.classCtry = append(s.classCtry, newPicker(cl.Countries))
		if _, ok := opt.Regimes.Lookup(cl.Regime); !ok {
			return nil, fmt.Errorf("sim: class %s: unknown regime %q", cl.Name, cl.Regime)
		}
	}
	for _, t := range cfg.Staff.Teams {
		for _, l := range t.Languages {
			s.lang(l)
		}
	}
	if len(s.langs) > 64 || len(s.queueName) > 63 {
		return nil, fmt.Errorf("sim: at most 64 languages and 63 queues")
	}
	// Routes are computed for every class up front, so that a rule's queue is known.
	for ci := range cfg.Classes {
		for flags := range 4 {
			if _, err := s.routeOf(ci, flags&1 != 0, flags&2 != 0); err != nil {
				return nil, err
			}
		}
	}
	s.buckets = make([][]entry, len(s.queueName)+1)
	s.lastOpen = make([]int32, len(cfg.Classes))
	s.lastGen = make([]uint32, len(cfg.Classes))
	for i := range s.lastOpen {
		s.lastOpen[i] = -1
	}
	s.staff = buildStaff(cfg, opt.Staff, s.langIdx, s.queueIdx, time.UnixMicro(s.from).UTC(), time.UnixMicro(s.stop).UTC())
	s.res = newResult(cfg, opt, s.regimes)
	for i := range s.staff {
		for _, sh := range s.staff[i].shifts {
			s.push(event{at: max(sh.from, s.from), kind: evShiftStart, who: int32(i)})
			s.push(event{at: min(sh.to, s.stop), kind: evShiftEnd, who: int32(i)})
		}
	}
	for t := s.from; t < s.stop; t += dur(time.Hour) {
		s.push(event{at: t, kind: evSample})
	}
	return s, nil
}

func (s *sim) queue(name string) int {
	if i, ok := s.queueIdx[name]; ok {
		return i
	}
	s.queueIdx[name] = len(s.queueName)
	s.queueName = append(s.queueName, name)
	return len(s.queueName) - 1
}

func (s *sim) lang(name string) int {
	if i, ok := s.langIdx[name]; ok {
		return i
	}
	s.langIdx[name] = len(s.langs)
	s.langs = append(s.langs, name)
	return len(s.langs) - 1
}

// Request returns the request a class sends (flagged an emergency by its sender or not):
// what Route and the check against the service are given.
func (c *Class) Request(emergency bool, received time.Time) (*docket.Request, triage.Result) {
	body := docket.RequestBody{Regime: c.Regime, Kind: c.Kind, Emergency: emergency, Country: firstKey(c.Countries)}
	if c.Targets {
		body.Targets = []docket.Target{{Kind: "message", Value: "t.me/c/1/1"}}
	}
	authority := ""
	if c.Channel != docket.ChannelNotice && c.Spam < 1 {
		authority = "authority:" + c.Name
	}
	r := &docket.Request{ID: "sim", CaseID: "sim", Channel: c.Channel, AuthorityID: authority, ReceivedAt: received, Body: body}
	return r, triage.Result{}
}

func firstKey(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// Triage returns what the simulation says the triage found in a request of class c.
func (c *Class) Triage(emergency, spam bool) triage.Result {
	res := triage.Result{Language: "und", Regime: c.Regime, Kind: c.Kind, Emergency: emergency, Spam: spam, Category: c.Category}
	if c.Targets && !spam {
		res.Targets = []docket.Target{{Kind: "message", Value: "t.me/c/1/1"}}
	}
	res.Priority, res.Queue = triage.Route(res)
	return res
}

// routeOf opens a case of class ci through workflow.Route, once per set of flags.
func (s *sim) routeOf(ci int, emergency, spam bool) (route, error) {
	sig := ci*4 + b2i(emergency) + 2*b2i(spam)
	if r, ok := s.routes[sig]; ok {
		return r, nil
	}
	cl := &s.cfg.Classes[ci]
	rq, _ := cl.Request(emergency, s.cfg.Start)
	c, err := s.svc.Route(rq, rq.Body.Country, cl.Triage(emergency, spam))
	if err != nil {
		return route{}, fmt.Errorf("sim: class %s: %w", cl.Name, err)
	}
	rg, _ := s.opt.Regimes.Lookup(c.Regime)
	r := route{regime: rg, regimeIdx: s.regIdx[c.Regime], queue: uint8(s.queue(c.Queue)), priority: uint8(min(max(c.Priority, 0), 255)),
		emergency: c.Emergency, discloses: c.Discloses, pause: c.PauseOnNeedInfo, closed: !c.State.Pending()}
	s.routes[sig] = r
	return r, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// run processes arrivals and events in time order until the horizon.
func (s *sim) run(ctx context.Context) error {
	hour := time.UnixMicro(s.from).UTC()
	var batch []arrival
	next := 0
	for n := 0; ; n++ {
		if n%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		for next >= len(batch) && hour.UnixMicro() < s.stop {
			batch, next = s.arr.hour(hour), 0
			hour = hour.Add(time.Hour)
		}
		if next < len(batch) && (len(s.events) == 0 || batch[next].at <= s.events[0].at) {
			s.arrive(batch[next])
			next++
			continue
		}
		if len(s.events) == 0 {
			return nil
		}
		e := s.pop()
		if e.at >= s.stop {
			return nil
		}
		s.handle(e)
	}
}

func (s *sim) sampleDur(d Dist) uint32 { return draw(s.rng, d) }

func (s *sim) sampleWork(d Dist) uint32 { return draw(s.wrng, d) }

// draw returns a duration in whole seconds (at least one) from a log-normal distribution.
func draw(rng *rand.Rand, d Dist) uint32 {
	m := float64(d.Median) / float64(time.Second)
	v := m * math.Exp(d.sigma()*rng.NormFloat64())
	return uint32(min(max(v, 1), 1e9))
}

// arrive receives one request: it joins an open case of its requester about the same
// matter, is closed by a rule, or opens a case that waits for a person.
func (s *sim) arrive(a arrival) {
	s.now = a.at
	cl := &s.cfg.Classes[a.class]
	emergency := s.rng.Float64() < cl.Emergency
	spam := s.rng.Float64() < cl.Spam
	lang := s.classLang[a.class].pick(s.rng)
	ctry := s.classCtry[a.class].pick(s.rng)
	rt, _ := s.routeOf(int(a.class), emergency, spam) // computed in newSim
	deadline, _ := rt.regime.Deadlines(time.UnixMicro(a.at).UTC(), rt.emergency)
	r := req{received: a.at, deadline: docket.Micros(deadline), regime: rt.regimeIdx,
		lawful: cl.Channel != docket.ChannelNotice && !deadline.IsZero(), measured: a.at >= s.start && a.at < s.end}
	if r.measured {
		s.res.count(cl, r.regime, s.classLang[a.class].keys[lang], s.classCtry[a.class].keys[ctry])
	}
	s.keep(int(a.class), emergency, spam, a.at, r.deadline, rt)
	var tr *Arrival
	if s.opt.Trace {
		s.res.Trace = append(s.res.Trace, Arrival{At: time.UnixMicro(a.at).UTC(), Class: int(a.class), Flagged: emergency, Spam: spam,
			Lang: s.classLang[a.class].keys[lang], Country: s.classCtry[a.class].keys[ctry]})
		tr = &s.res.Trace[len(s.res.Trace)-1]
	}
	if rt.closed {
		if r.measured {
			s.res.AutoClosed++
			s.answered(&r, a.at, 0)
		}
		return
	}
	// Joining: notices by the content they name, authorities' requests by matter.
	var target uint32
	if cl.Targets && s.zipf != nil && !spam {
		target = uint32(s.zipf.Uint64()) + 1
		if tr != nil {
			tr.Target = target
		}
		if idx, ok := s.open[target]; ok {
			s.join(idx, r, rt, emergency)
			return
		}
	} else if cl.Join > 0 && s.rng.Float64() < cl.Join {
		if tr != nil {
			tr.Join = true
		}
		if idx := s.lastOpen[a.class]; idx >= 0 && s.items[idx].gen == s.lastGen[a.class] && s.items[idx].pending {
			s.join(idx, r, rt, emergency)
			return
		}
	}
	idx := s.alloc()
	it := &s.items[idx]
	ver, gen := it.ver+1, it.gen+1 // the entries of the slot's last case go stale
	*it = item{received: a.at, deadline: r.deadline, ver: ver, gen: gen, decider: -1, target: target, class: a.class,
		queue: rt.queue, priority: rt.priority, lang: uint8(s.langIdx[s.classLang[a.class].keys[lang]]),
		emergency: rt.emergency, discloses: rt.discloses, pause: rt.pause, matched: cl.Matched, measured: r.measured, pending: true}
	it.reqs = s.addReq(r, -1)
	s.work(it, cl)
	if tr != nil {
		tr.Work = &Work{Handle: secs(it.handleS), Approve: secs(it.approveS), Answer: secs(it.answerS), Reply: secs(it.replyS), Outcome: outcomeNames[it.outcome]}
	}
	if target != 0 {
		s.open[target] = idx
	}
	s.lastOpen[a.class], s.lastGen[a.class] = idx, gen
	if r.measured {
		s.res.Cases++
		if it.emergency {
			s.res.emergencies++
		}
	}
	s.enqueue(idx)
	if it.emergency {
		ack := s.sampleDur(s.cfg.Staff.OncallAck)
		if tr != nil {
			tr.Ack = secs(ack)
		}
		s.push(event{at: a.at + int64(ack)*1e6, kind: evPage, item: idx, ver: it.ver})
	}
}

// work draws the work a new case will need, from the arrivals' generator, so that every
// policy and every team size sees the same cases.
func (s *sim) work(it *item, cl *Class) {
	it.handleS = s.sampleDur(s.cfg.Handling[cl.Kind])
	it.approveS = s.sampleDur(s.cfg.Approval)
	it.answerS = s.sampleDur(s.cfg.Answer)
	if !it.emergency && s.rng.Float64() < cl.NeedInfo {
		it.outcome = outNeedInfo
	} else {
		u, acc := s.rng.Float64(), 0.0
		it.outcome = outNotActionable
		for i, o := range []string{"comply", "partial", "refuse", "not_actionable"} {
			if acc += s.cfg.Outcomes[o]; u < acc {
				it.outcome = uint8(i)
				break
			}
		}
	}
	if s.rng.Float64() < s.cfg.Reply.Probability {
		it.replyS = s.sampleDur(Dist{Median: s.cfg.Reply.Median, P90: s.cfg.Reply.P90})
	}
}

// join adds a request to an open case: the case owes its answer by the earlier deadline,
// and becomes an emergency if the request is one (as workflow's attach does).
func (s *sim) join(idx int32, r req, rt route, emergency bool) {
	it := &s.items[idx]
	it.reqs = s.addReq(r, it.reqs)
	if r.measured {
		s.res.Joined++
	}
	rekey := false
	if r.deadline != 0 && (it.deadline == 0 || r.deadline < it.deadline) {
		it.deadline, rekey = r.deadline, true
	}
	if rt.emergency && !it.emergency {
		if s.queued(it) {
			s.res.waitingEmergency++
		}
		it.emergency, it.queue, it.priority, rekey = true, uint8(s.queueIdx["emergency"]), 100, true
		ack := s.sampleDur(s.cfg.Staff.OncallAck)
		if s.opt.Trace {
			s.res.Trace[len(s.res.Trace)-1].Ack = secs(ack)
		}
		s.push(event{at: r.received + int64(ack)*1e6, kind: evPage, item: idx, ver: it.ver})
	}
	if rekey && s.queued(it) {
		it.ver++
		s.enqueueAgain(idx)
	}
}

// queued reports whether a case waits in a queue (not being worked, not waiting for its
// requester).
func (s *sim) queued(it *item) bool { return it.pending && it.step != stepAwaiting && !it.busy }

func (s *sim) alloc() int32 {
	if n := len(s.free); n > 0 {
		idx := s.free[n-1]
		s.free = s.free[:n-1]
		return idx
	}
	s.items = append(s.items, item{})
	return int32(len(s.items) - 1)
}

func (s *sim) addReq(r req, next int32) int32 {
	r.next = next
	if n := len(s.freeRq); n > 0 {
		i := s.freeRq[n-1]
		s.freeRq = s.freeRq[:n-1]
		s.reqs[i] = r
		return i
	}
	s.reqs = append(s.reqs, r)
	return int32(len(s.reqs) - 1)
}

// key is the case's place in docket's queue: the same key as the console's order.
func (it *item) key() docket.QueueKey {
	return docket.QueueKey{Emergency: it.emergency, Deadline: it.deadline, Priority: int(it.priority)}
}

func (s *sim) bucketOf(it *item) int {
	if it.step == stepApprove {
		return len(s.buckets) - 1
	}
	return int(it.queue)
}

// enqueue puts a case that newly waits for a person in its queue.
func (s *sim) enqueue(idx int32) {
	s.res.waiting++
	if s.items[idx].emergency {
		s.res.waitingEmergency++
	}
	if s.items[idx].step == stepApprove {
		s.res.waitingApproval++
	}
	s.enqueueAgain(idx)
}

func (s *sim) enqueueAgain(idx int32) {
	it := &s.items[idx]
	b := s.bucketOf(it)
	s.bucketPush(b, entry{key: it.key(), received: it.received, idx: idx, ver: it.ver})
	// An idle person who may take it does so at once.
	for i, p := range s.idle {
		if s.mayTake(p, it, b) {
			s.unidle(i)
			if !s.takeNext(p) {
				s.setIdle(p)
			}
			return
		}
	}
}

// mayTake reports whether person p may take case it from bucket b: approvals only a
// reviewer other than the decider (four eyes).
func (s *sim) mayTake(p int32, it *item, b int) bool {
	if b == len(s.buckets)-1 {
		return s.staff[p].reviewer && it.decider != p
	}
	return s.staff[p].queues&(1<<b) != 0
}

func micros(t time.Time) int64 { return docket.Micros(t) }

// caseAt is the part of a docket.Case that the clock functions read.
func caseAt(it *item) *docket.Case {
	c := &docket.Case{State: docket.StateAwaitingRequester, DeadlineAt: time.UnixMicro(it.deadline).UTC()}
	if it.deadline == 0 {
		c.DeadlineAt = time.Time{}
	}
	if it.pausedAt != 0 {
		c.PausedAt = time.UnixMicro(it.pausedAt).UTC()
	}
	return c
}
