package sim

import (
	"time"
)

// The event heap: earliest first; equal times in the order of their kinds, persons, cases.
func evLess(a, b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.who != b.who {
		return a.who < b.who
	}
	return a.item < b.item
}

func (s *sim) push(e event) {
	s.events = append(s.events, e)
	h := s.events
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !evLess(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (s *sim) pop() event {
	h := s.events
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	s.events = h[:n]
	h = s.events
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && evLess(&h[r], &h[l]) {
			m = r
		}
		if !evLess(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}

// less is the policy's order of two waiting cases.
func (s *sim) less(a, b *entry) bool {
	switch s.opt.Policy {
	case PolicyFIFO:
	case PolicyPriority:
		if a.key.Priority != b.key.Priority {
			return a.key.Priority > b.key.Priority
		}
	default:
		if c := a.key.Compare(b.key); c != 0 {
			return c < 0
		}
	}
	if a.received != b.received {
		return a.received < b.received
	}
	return a.idx < b.idx
}

func (s *sim) bucketPush(b int, e entry) {
	s.buckets[b] = append(s.buckets[b], e)
	h := s.buckets[b]
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (s *sim) bucketPop(b int) entry {
	h := s.buckets[b]
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	s.buckets[b] = h
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(&h[r], &h[l]) {
			m = r
		}
		if !s.less(&h[m], &h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}

// top drops stale entries and returns the first live one of bucket b.
func (s *sim) top(b int) (entry, bool) {
	for len(s.buckets[b]) > 0 {
		e := s.buckets[b][0]
		if it := &s.items[e.idx]; it.ver == e.ver && s.queued(it) && s.bucketOf(it) == b {
			return e, true
		}
		s.bucketPop(b)
	}
	return entry{}, false
}

// takeNext gives person p the first case it may take across its queues, in the policy's
// order; false when there is none.
func (s *sim) takeNext(p int32) bool {
	best, bestB := entry{}, -1
	per := &s.staff[p]
	approvals := len(s.buckets) - 1
	for b := range approvals {
		if per.queues&(1<<b) == 0 {
			continue
		}
		if e, ok := s.top(b); ok && (bestB < 0 || s.less(&e, &best)) {
			best, bestB = e, b
		}
	}
	if per.reviewer {
		// Four eyes: skip the cases this reviewer decided, and put them back.
		var skipped []entry
		for {
			e, ok := s.top(approvals)
			if !ok {
				break
			}
			if s.items[e.idx].decider != p {
				if bestB < 0 || s.less(&e, &best) {
					// Taken off now: the skipped entries pushed back may come before it.
					best, bestB = s.bucketPop(approvals), approvals
				}
				break
			}
			skipped = append(skipped, s.bucketPop(approvals))
		}
		for _, e := range skipped {
			s.bucketPush(approvals, e)
		}
	}
	if bestB < 0 {
		return false
	}
	if bestB != approvals {
		s.bucketPop(bestB)
	}
	s.take(p, best.idx)
	return true
}

// take: person p takes case idx now.
func (s *sim) take(p int32, idx int32) {
	it := &s.items[idx]
	it.ver++
	it.busy = true
	s.res.waiting--
	if it.emergency {
		s.res.waitingEmergency--
	}
	if it.step == stepApprove {
		s.res.waitingApproval--
	}
	if it.touched == 0 {
		it.touched = s.now
		if it.emergency && it.measured {
			s.res.emFirstTouch.add(float64(s.now-it.received) / 1e6)
		}
	}
	var secs float64
	switch it.step {
	case stepApprove:
		secs = float64(it.approveS)
	case stepAnswer:
		secs = float64(it.answerS)
	default:
		secs = float64(it.handleS)
		if it.matched {
			secs *= s.cfg.MatchedFactor
		}
		if s.staff[p].langs&(1<<it.lang) == 0 {
			secs *= s.cfg.ForeignLanguageFactor
		}
	}
	per := &s.staff[p]
	per.busy, per.item, per.since = true, idx, s.now
	d := int64(max(secs, 1) * 1e6)
	it.workS += uint32(d / 1e6)
	s.push(event{at: s.now + d, kind: evDone, who: p, item: idx, ver: it.ver})
}

func (s *sim) setIdle(p int32) {
	per := &s.staff[p]
	if per.idleAt >= 0 || !per.onShift || per.busy {
		return
	}
	per.idleAt = len(s.idle)
	s.idle = append(s.idle, p)
}

func (s *sim) unidle(i int) {
	p := s.idle[i]
	last := len(s.idle) - 1
	s.idle[i] = s.idle[last]
	s.staff[s.idle[i]].idleAt = i
	s.idle = s.idle[:last]
	s.staff[p].idleAt = -1
}

func (s *sim) free1(p int32) {
	if !s.takeNext(p) {
		s.setIdle(p)
	}
}

// handle processes one event.
func (s *sim) handle(e event) {
	s.now = e.at
	switch e.kind {
	case evSample:
		s.res.sample(e.at, s)
	case evShiftStart:
		per := &s.staff[e.who]
		per.onShift = true
		per.shiftUs += min(s.shiftEnd(e.who, e.at), s.stop) - e.at
		if !per.busy {
			s.free1(e.who)
		}
	case evShiftEnd:
		per := &s.staff[e.who]
		per.onShift = false
		if per.idleAt >= 0 {
			s.unidle(per.idleAt)
		}
	case evDone:
		s.done(e)
	case evPage:
		s.page(e)
	case evReply:
		it := &s.items[e.item]
		if it.ver != e.ver || it.step != stepAwaiting {
			return
		}
		// The reply resumes the clock, the deadline moved by the pause (docket.Case's
		// ResumedDeadlines, as workflow's Reply).
		c := caseAt(it)
		deadline, _ := c.ResumedDeadlines(time.UnixMicro(s.now).UTC())
		it.paused += s.now - it.pausedAt
		it.deadline, it.pausedAt = micros(deadline), 0
		it.step, it.outcome = stepHandle, outComply
		it.ver++
		s.enqueue(e.item)
	}
}

func (s *sim) shiftEnd(p int32, at int64) int64 {
	for _, sh := range s.staff[p].shifts {
		if sh.from <= at && at < sh.to {
			return sh.to
		}
	}
	return at
}

// done: a person finished a step of a case.
func (s *sim) done(e event) {
	per := &s.staff[e.who]
	it := &s.items[e.item]
	took := e.at - per.since
	per.busyUs += took
	per.busy, per.item = false, -1
	if !per.onShift {
		per.extraUs += took
	}
	it.busy = false
	it.ver++
	switch it.step {
	case stepHandle:
		switch {
		case it.outcome == outNeedInfo:
			// The question is the answer for now; the clock stops where the regime allows.
			it.step = stepAwaiting
			if it.pause {
				it.pausedAt = e.at
			}
			if it.replyS > 0 {
				s.push(event{at: e.at + int64(it.replyS)*1e6, kind: evReply, item: e.item, ver: it.ver})
			}
		case it.discloses && (it.outcome == outComply || it.outcome == outPartial):
			it.step, it.decider = stepApprove, e.who
			s.enqueue(e.item)
			s.pageStep(e.item)
		default:
			s.close(e.item, e.at)
		}
	case stepApprove:
		it.step = stepAnswer
		s.enqueue(e.item)
		s.pageStep(e.item)
	case stepAnswer:
		s.close(e.item, e.at)
	}
	if per.onShift {
		s.free1(e.who)
	}
}

// page: a rung of the pager ladder acknowledges an emergency's page (every step of an
// emergency pages: its handling, its four-eyes approval, its answer). If nobody took the
// case meanwhile, the person on call takes it; if busy, or if they may not take it (the
// decider cannot approve), the next rung is paged; past the last rung, the ladder starts
// again, until someone takes it.
func (s *sim) page(e event) {
	it := &s.items[e.item]
	if !it.emergency || !s.queued(it) {
		return
	}
	p := int32(oncall(len(s.staff), s.from, e.at, int(e.who)))
	if s.staff[p].busy || !s.mayTake(p, it, s.bucketOf(it)) {
		s.push(event{at: e.at + int64(s.cfg.Staff.OncallEscalate)/1000, kind: evPage, who: e.who + 1, item: e.item})
		return
	}
	if s.staff[p].idleAt >= 0 {
		s.unidle(s.staff[p].idleAt)
	}
	s.res.paged++
	s.take(p, e.item)
}

// close records the answer of a case: every request in it is answered now.
func (s *sim) close(idx int32, at int64) {
	it := &s.items[idx]
	it.pending = false
	if it.emergency && it.measured {
		s.res.emAnswer.add(float64(at-it.received) / 1e6)
	}
	work := s.minWork(it)
	for r := it.reqs; r >= 0; {
		rq := &s.reqs[r]
		next := rq.next
		if rq.measured {
			s.answered(rq, at, it.paused)
			if rq.deadline != 0 && at > rq.deadline+it.paused && work >= rq.deadline-rq.received {
				s.res.regimes[rq.regime].Unavoidable++
			}
		}
		s.freeRq = append(s.freeRq, r)
		r = next
	}
	if it.target != 0 && s.open[it.target] == idx {
		delete(s.open, it.target)
	}
	it.ver++
	s.free = append(s.free, idx)
}

// answered records a measured request answered at at, its clock stopped for paused.
func (s *sim) answered(r *req, at, paused int64) {
	st := &s.res.regimes[r.regime]
	st.Answered++
	st.hist.add(float64(at-r.received-paused) / 1e6)
	if r.deadline != 0 && at > r.deadline+paused {
		st.Overdue++
		st.LateAnswered++
	}
}

// finish counts the requests still unanswered at the horizon.
func (s *sim) finish() {
	for i := range s.items {
		it := &s.items[i]
		if !it.pending {
			continue
		}
		if it.step == stepAwaiting {
			for r := it.reqs; r >= 0; r = s.reqs[r].next {
				if s.reqs[r].measured {
					s.res.regimes[s.reqs[r].regime].AwaitingRequester++
				}
			}
			continue
		}
		for r := it.reqs; r >= 0; r = s.reqs[r].next {
			rq := &s.reqs[r]
			if !rq.measured {
				continue
			}
			st := &s.res.regimes[rq.regime]
			st.Open++
			if rq.deadline != 0 && s.stop > rq.deadline+it.paused {
				st.Overdue++
			}
		}
	}
	s.res.done(s)
}

// pageStep pages the on-call ladder for the next step of an emergency that nobody took.
func (s *sim) pageStep(idx int32) {
	if it := &s.items[idx]; it.emergency && s.queued(it) {
		s.push(event{at: s.now + int64(s.sampleWork(s.cfg.Staff.OncallAck))*1e6, kind: evPage, item: idx})
	}
}

// minWork is the time the people who worked a case spent on it: with nobody waiting for
// anybody, it would have taken that long (µs).
func (s *sim) minWork(it *item) int64 { return int64(it.workS) * 1e6 }
