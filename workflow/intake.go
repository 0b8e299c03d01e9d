package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// Submission is one request ready to be stored.
type Submission struct {
	Channel   string
	Authority *docket.Authority // nil for public notices
	Body      docket.RequestBody
	Blobs     []docket.Blob
	// Raw is the body exactly as received; ContentType its media type.
	Raw            []byte
	ContentType    string
	IdempotencyKey string
	// ReceivedAt is the time of authenticated receipt; the service's clock when zero.
	ReceivedAt time.Time
	// Sender is the verification level of an e-mail's sender (docket.SenderRegistered…).
	Sender string
	// ThreadCase is a case this request answers (an e-mail reply to docket's mail, or one
	// tagged [docket:ID] in its subject), already checked to come from the same requester;
	// ThreadWhy says how it was found. The request joins that case while it is pending.
	ThreadCase, ThreadWhy string
	// Queue, when set, is the queue of the new case instead of its regime's (an e-mail
	// address's queue); emergencies go to the emergency queue whatever it says.
	Queue string
	// Keys are further keys to store with the request (the Message-ID of an e-mail), so
	// that later requests can find it (Store.RequestByKey).
	Keys []docket.Target
	// FollowUps are job kinds queued in the receipt's transaction, each with the payload
	// {"request_id","case_id"} (the e-mail receipt to the sender).
	FollowUps []string
	// Flagger is the trusted flagger whose API token sent a notice (nil: none).
	Flagger *docket.Flagger
}

// FollowUp is the payload of a Submission's follow-up jobs.
type FollowUp struct {
	RequestID string `json:"request_id"`
	CaseID    string `json:"case_id"`
}

// Result is what Submit returns.
type Result struct {
	Receipt docket.Receipt
	// Replayed is true when the idempotency key matched an earlier, identical submission.
	Replayed bool
	// Unprocessed is set when the notice was received and kept but closed without review:
	// its notifier's notices are suspended (DSA art. 23).
	Unprocessed *Unprocessed
}

type pending struct {
	sub *Submission
	// Prepared before the commit, in the submitter's goroutine: the request, its new case
	// and the event that opens it (sealed into the chain only inside the transaction).
	req    *docket.Request
	c      *docket.Case
	opened *docket.Event
	job    *docket.Job // the triage job, when the triage could not be done at receipt
	// triaged are the events of the triage done at receipt (triaged, and the rules' steps),
	// already applied to c; they are sealed after opened, in the same transaction.
	triaged []*docket.Event
	// related is an open case of the same requester that this request belongs to, found
	// before the commit; why says how.
	related, why string
	// first is the event that records the request's receipt (its leaf in the log's Merkle
	// tree), log the commit's part of the tree: with them the receipt carries its proof.
	first *docket.Event
	log   docket.LogCommit
	// replayed is the seq of the receipt event of the earlier request an idempotency key
	// matched: its receipt is given again, with a proof read from the store.
	replayed int64
	// standing is what is kept of the notice's notifier, read in the intake transaction.
	standing *docket.NotifierStanding
	res      *Result
	err      error
	done     chan struct{}
}

// Submit stores a request and opens its case, and returns the receipt once committed. Many
// concurrent submissions share one transaction (group commit), so that each durable commit
// carries as many receipts as arrived while the previous one was being written.
func (s *Service) Submit(ctx context.Context, sub *Submission) (*Result, error) {
	if sub.ReceivedAt.IsZero() {
		sub.ReceivedAt = s.Now()
	}
	sub.ReceivedAt = sub.ReceivedAt.UTC().Truncate(time.Microsecond)
	if sub.Flagger != nil {
		if err := s.markFlagger(ctx, sub); err != nil {
			return nil, err
		}
	}
	p, err := s.prepare(sub)
	if err != nil {
		return nil, err
	}
	if relates(p.req) && sub.ThreadCase == "" && (s.related == nil || s.related.mayRelate(p.req)) {
		// Looked up here, on the readers, so that the committer does not wait for it.
		c, why, err := s.store.RelatedOpenCase(ctx, p.req.AuthorityID, sub.Body.Reference, append(sub.Body.Targets[:len(sub.Body.Targets):len(sub.Body.Targets)], p.req.Keys...))
		switch {
		case err == nil && strings.HasPrefix(why, "names simhash "):
			// A shared band is only a candidate: the texts must be near-duplicates.
			if d, ok := s.nearDuplicate(ctx, &sub.Body, c.ID); ok {
				p.related, p.why = c.ID, fmt.Sprintf("near-duplicate text (SimHash distance %d)", d)
			}
		case err == nil:
			p.related, p.why = c.ID, why
		case !isNotFound(err):
			s.log.WarnContext(ctx, "related case lookup failed; opening a new case", slog.Any("err", err))
		}
	}
	select {
	case s.intake <- p:
	case <-s.stop:
		return nil, docket.Errorf(docket.EUNAVAILABLE, "The server is shutting down; nothing was stored. Retry.")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, the submission is committed or refused whatever the caller does.
	<-p.done
	if p.err == nil && p.res != nil {
		// The proof is built here, in the submitter's goroutine, from what the commit kept in
		// memory: no read, and the committer is not held up by it.
		s.proveReceipt(ctx, p)
	}
	return p.res, p.err
}

func (s *Service) commitLoop(ctx context.Context) {
	batch := make([]*pending, 0, s.maxBatch)
	for {
		select {
		case p := <-s.intake:
			batch = append(batch[:0], p)
		case <-s.stop:
			for {
				select {
				case p := <-s.intake:
					s.commit(ctx, []*pending{p})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case p := <-s.intake:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		s.commit(ctx, batch)
	}
}

// commit stores a batch in one transaction. If the transaction fails, each submission is
// tried alone, so that one bad submission cannot refuse the others.
func (s *Service) commit(ctx context.Context, batch []*pending) {
	var log docket.LogCommit
	err := s.store.Update(ctx, func(tx docket.Tx) error {
		log = tx.Log()
		known, err := standings(ctx, tx, batch)
		if err != nil {
			return err
		}
		for _, p := range batch {
			p.res, p.err, p.first, p.replayed = nil, nil, nil, 0
			p.standing = known[docket.NotifierKey(p.req.Body.Notifier)]
			if err := s.store1(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		s.log.WarnContext(ctx, "intake batch failed; retrying one by one", slog.Int("size", len(batch)), slog.Any("err", err))
		for _, p := range batch {
			s.commit(ctx, []*pending{p})
		}
		return
	}
	if err == nil && s.related != nil {
		for _, p := range batch {
			if p.res != nil && !p.res.Replayed {
				s.related.addRequest(p.req)
			}
		}
	}
	if err == nil && s.onIntake != nil {
		s.onIntake()
	}
	for _, p := range batch {
		if err != nil {
			s.log.ErrorContext(ctx, "intake failed", slog.String("channel", p.sub.Channel), slog.Any("err", err))
			p.res, p.err = nil, docket.Errorf(docket.EUNAVAILABLE, "The request could not be stored; nothing was kept. Retry.")
		}
		p.log = log
		close(p.done)
	}
}

// prepare does all the work of a submission that needs no transaction, so that the single
// committer does as little as possible per receipt.
func (s *Service) prepare(sub *Submission) (*pending, error) {
	r, ok := s.regimes.Lookup(sub.Body.Regime)
	if !ok {
		return nil, docket.Errorf(docket.EINVALID, "Unknown regime %q.", sub.Body.Regime)
	}
	authorityID := ""
	actor := docket.ActorPublic
	country := sub.Body.Country
	if sub.Authority != nil {
		authorityID, country = sub.Authority.ID, sub.Authority.Country
		actor = docket.AuthorityActor(sub.Authority.ID)
	} else if sub.Body.Email != nil {
		actor = docket.EmailActor(sub.Body.Email.From)
	} else if n := sub.Body.Notifier; n != nil && n.FlaggerID != "" {
		actor = docket.FlaggerActor(n.FlaggerID)
	}
	keys := sub.Keys
	if sub.Channel == docket.ChannelNotice {
		// Copy-paste campaigns of notices thread by their text. Authorities' requests thread
		// by reference and targets only: comparing every letter's text costs a look-up per
		// request once the store holds many cases (16-bit bands collide).
		keys = append(keys[:len(keys):len(keys)], textKeys(&sub.Body)...)
	}
	req := &docket.Request{
		ID: docket.NewID(), CaseID: docket.NewID(), Channel: sub.Channel, AuthorityID: authorityID,
		ReceivedAt: sub.ReceivedAt, SHA256: sha(sub.Raw), Raw: sub.Raw, ContentType: sub.ContentType,
		IdempotencyKey: sub.IdempotencyKey, Body: sub.Body, Keys: keys,
	}
	d := opening(req, r, country, sub.Sender, sub.Queue)
	stored, err := docket.StoredRequestOf(req)
	if err != nil {
		return nil, fmt.Errorf("prepare request: %w", err)
	}
	d.BodySHA256, d.TargetsDigest = stored.BodySHA256, stored.TargetsDigest
	// The receipt event records the deadline the receipt gives: the case's once triaged
	// (the event is written again below in the rare case the triage moves the clock).
	d.Receipt = &docket.ReceiptFacts{Deadline: d.DeadlineAt}
	opened := docket.NewEvent(req.CaseID, docket.EventCaseOpened, actor, req.ReceivedAt, d)
	c := &docket.Case{}
	if err := c.Apply(opened); err != nil {
		return nil, fmt.Errorf("prepare case: %w", err)
	}
	p := &pending{sub: sub, req: req, c: c, opened: opened, done: make(chan struct{})}
	if s.triager != nil {
		if err := s.triageAtReceipt(p); err != nil {
			// The triage failed here: a job will try again right after the receipt.
			s.log.Warn("triage at receipt failed; queued as a job", slog.String("request", req.ID), slog.Any("err", err))
			p.triaged = nil
			payload, _ := json.Marshal(triagePayload{RequestID: req.ID})
			p.job = &docket.Job{Kind: JobTriage, Payload: payload, RunAt: req.ReceivedAt, MaxAttempts: 10}
		}
	}
	if !p.c.DeadlineAt.Equal(d.DeadlineAt.OrZero()) {
		d.Receipt = &docket.ReceiptFacts{Deadline: docket.OptTime(p.c.DeadlineAt)}
		p.opened = docket.NewEvent(req.CaseID, docket.EventCaseOpened, actor, req.ReceivedAt, d)
	}
	return p, nil
}

// opening returns what the case_opened event of a case that req opens says: its regime r
// (the request's clock, from the time of receipt), where its requester is, how well its
// e-mail sender is verified, and a queue chosen at receipt (else the regime's).
func opening(req *docket.Request, r *docket.Regime, country, sender, queue string) docket.CaseOpened {
	b := &req.Body
	emergency := b.Emergency || r.Emergency || b.Kind == docket.KindEmergencyDisclosure
	deadline, dueSoon := r.Deadlines(req.ReceivedAt, emergency)
	queue, priority := cmp.Or(queue, r.Queue), r.Priority
	if emergency {
		queue, priority = "emergency", max(priority, 100)
	}
	return docket.CaseOpened{
		RequestID: req.ID, SHA256: req.SHA256, Regime: r.ID, Kind: b.Kind, Channel: req.Channel,
		AuthorityID: req.AuthorityID, Country: country, Reference: b.Reference, Emergency: emergency,
		Sender: sender, Queue: queue, Priority: priority,
		Discloses:       kindDiscloses(b.Kind, r.Discloses),
		PauseOnNeedInfo: r.PauseOnNeedInfo, ReceivedAt: req.ReceivedAt,
		DeadlineAt: docket.OptTime(deadline), DueSoonAt: docket.OptTime(dueSoon),
		TrustedFlagger: trustedFlagger(req),
	}
}

// triageAtReceipt triages a new request before its commit, in the submitter's goroutine, so
// that the triage is recorded in the receipt's own transaction: no request is ever stored
// unsorted, and the single writer is not taken twice per request.
func (s *Service) triageAtReceipt(p *pending) error {
	c := *p.c // the events are applied to a copy first: on error, p.c stays as it was
	events, err := s.triage(p.req, &c, p.req.ReceivedAt)
	if err != nil {
		return err
	}
	for _, e := range events {
		if err := c.Apply(e); err != nil {
			return err
		}
	}
	*p.c, p.triaged = c, events
	return nil
}

// triage triages req, the request that opens case c, and returns the events that record the
// triage (see triageEvents) without applying them. A triager that panics is an error: the
// request is stored all the same.
func (s *Service) triage(req *docket.Request, c *docket.Case, now time.Time) (events []*docket.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("triage panicked: %v", r)
		}
	}()
	return s.triageEvents(req, c, s.triager.Triage(TriageInput(req, c)), now)
}

// store1 writes one prepared submission inside the batch's transaction. Refusals that
// concern only this submission (an idempotency key reused with another body) are set on p
// and leave the transaction intact; they are decided before anything is written.
func (s *Service) store1(ctx context.Context, tx docket.Tx, p *pending) error {
	req := p.req
	if req.IdempotencyKey != "" {
		prev, err := tx.RequestByIdempotencyKey(ctx, req.AuthorityID, req.IdempotencyKey)
		switch {
		case err == nil && prev.SHA256 != req.SHA256:
			p.err = docket.Errorf(docket.ECONFLICT, "Idempotency-Key %q was used for a different request (%s).", req.IdempotencyKey, prev.ID)
			return nil
		case err == nil:
			c, err := tx.Case(ctx, prev.CaseID)
			if err != nil {
				return err
			}
			p.res = &Result{Receipt: receipt(prev, c), Replayed: true}
			p.replayed = prev.Seq
			return nil
		case !isNotFound(err):
			return err
		}
	}
	suspended := req.Channel == docket.ChannelNotice && p.standing.Suspended(req.ReceivedAt)
	if !suspended {
		if attached, err := s.attach(ctx, tx, p); err != nil || attached {
			return err
		}
	}
	if err := tx.Append(ctx, p.opened); err != nil {
		return err
	}
	p.first = p.opened
	req.Seq = p.opened.Seq
	for _, e := range p.triaged {
		if err := tx.Append(ctx, e); err != nil {
			return err
		}
	}
	c := p.c
	var unprocessed *Unprocessed
	if suspended {
		// A notice of a suspended notifier opens its own case, kept and closed unreviewed
		// (DSA art. 23). The events apply to a copy: the batch may be tried again.
		cc := *p.c
		c = &cc
		closing := closeSuspended(c, p.standing, req.ReceivedAt)
		for _, e := range closing {
			if err := tx.Append(ctx, e); err != nil {
				return err
			}
			if err := c.Apply(e); err != nil {
				return err
			}
		}
		if len(closing) > 0 && closing[0].Type == docket.EventDecided {
			unprocessed = &Unprocessed{Until: p.standing.SuspendedUntil, Statement: suspendedStatement(p.standing.SuspendedUntil)}
		}
	}
	if err := tx.InsertCase(ctx, c); err != nil {
		return err
	}
	for i := range p.sub.Blobs {
		if err := tx.InsertBlob(ctx, &p.sub.Blobs[i]); err != nil {
			return err
		}
	}
	if err := tx.InsertRequest(ctx, req); err != nil {
		return err
	}
	if err := s.queueMediaMatch(ctx, tx, req); err != nil {
		return err
	}
	if p.job != nil {
		if err := tx.Enqueue(ctx, p.job); err != nil {
			return err
		}
	}
	if err := enqueueFollowUps(ctx, tx, p); err != nil {
		return err
	}
	if err := s.pageIfFlagged(ctx, tx, c, false, req.ReceivedAt); err != nil {
		return err
	}
	p.res = &Result{Receipt: receipt(req, c), Unprocessed: unprocessed}
	return nil
}

// relates says whether a request may join another open case of its requester by reference
// or target: only when the requester is known (an authority, or the public for notices).
// An unverified e-mail sender is nobody in particular, so its mail threads only as a reply.
func relates(r *docket.Request) bool {
	switch r.Channel {
	case docket.ChannelAPI, docket.ChannelPortal, docket.ChannelNotice:
		return true
	case docket.ChannelEmail:
		return r.AuthorityID != ""
	}
	return false
}

func enqueueFollowUps(ctx context.Context, tx docket.Tx, p *pending) error {
	for _, kind := range p.sub.FollowUps {
		payload, err := json.Marshal(FollowUp{RequestID: p.req.ID, CaseID: p.req.CaseID})
		if err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, &docket.Job{Kind: kind, Payload: payload, RunAt: p.req.ReceivedAt, MaxAttempts: 12}); err != nil {
			return fmt.Errorf("queue %s: %w", kind, err)
		}
	}
	return nil
}

// thread adds the request to the case it replies to, when that case still waits for
// something: as the requester's reply when it waits for one (the clock resumes), else as a
// further request. It reports false when the case is closed: the request opens its own.
func (s *Service) thread(ctx context.Context, tx docket.Tx, p *pending) (bool, error) {
	req := p.req
	c, err := tx.Case(ctx, p.sub.ThreadCase)
	// A case merged into another answers there: the reply follows (a merge chain is short).
	for hops := 0; err == nil && c.State == docket.StateMerged && hops < 10; hops++ {
		c, err = tx.Case(ctx, c.MergedInto)
	}
	if isNotFound(err) || (err == nil && !c.State.Pending()) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	req.CaseID = c.ID
	req.Body.InReplyTo = cmp.Or(req.Body.InReplyTo, c.ID)
	stored, err := docket.StoredRequestOf(req)
	if err != nil {
		return false, err
	}
	var e *docket.Event
	if c.State == docket.StateAwaitingRequester {
		deadline, dueSoon := c.ResumedDeadlines(req.ReceivedAt)
		e = docket.NewEvent(c.ID, docket.EventRequesterReplied, p.opened.Actor, req.ReceivedAt, docket.RequesterReplied{
			RequestID: req.ID, SHA256: req.SHA256, DeadlineAt: docket.OptTime(deadline), DueSoonAt: docket.OptTime(dueSoon),
			Channel: req.Channel, StoredRequest: stored, Receipt: &docket.ReceiptFacts{Deadline: docket.OptTime(deadline)},
		})
	} else {
		e = docket.NewEvent(c.ID, docket.EventRequestReceived, p.opened.Actor, req.ReceivedAt, docket.RequestReceived{
			RequestID: req.ID, Channel: req.Channel, SHA256: req.SHA256, Why: p.sub.ThreadWhy, Emergency: p.c.Emergency && !c.Emergency,
			Discloses:      p.c.Discloses && !c.Discloses,
			Unverified:     p.c.Sender == docket.SenderUnverified,
			TrustedFlagger: joinedFlagger(p.c, c),
			StoredRequest:  stored,
			Receipt:        &docket.ReceiptFacts{Deadline: docket.OptTime(c.DeadlineAt)},
		})
	}
	if err := s.join(ctx, tx, p, c, e); err != nil {
		return false, err
	}
	return true, nil
}

// join records e, the event by which the request joins case c, with what it sets off (a page
// if the case became an emergency, the extension of its holds), and stores the request with
// its blobs and follow-ups.
func (s *Service) join(ctx context.Context, tx docket.Tx, p *pending, c *docket.Case, e *docket.Event) error {
	was := c.Emergency
	if err := record(ctx, tx, c, e); err != nil {
		return err
	}
	p.first = e
	p.req.Seq = e.Seq
	if err := s.pageIfFlagged(ctx, tx, c, was, p.req.ReceivedAt); err != nil {
		return err
	}
	if err := s.extendHolds(ctx, tx, c, p.req, p.opened.Actor); err != nil {
		return err
	}
	for i := range p.sub.Blobs {
		if err := tx.InsertBlob(ctx, &p.sub.Blobs[i]); err != nil {
			return err
		}
	}
	if err := tx.InsertRequest(ctx, p.req); err != nil {
		return err
	}
	if err := s.queueMediaMatch(ctx, tx, p.req); err != nil {
		return err
	}
	if err := tx.UpdateCase(ctx, c); err != nil {
		return err
	}
	if err := enqueueFollowUps(ctx, tx, p); err != nil {
		return err
	}
	p.res = &Result{Receipt: receipt(p.req, c)}
	return nil
}

// attach adds the request to an open case of the same requester about the same matter (same
// reference, or a shared target) instead of opening a new case, when there is one. The case
// then owes its answer by the earlier of its deadline and the new request's.
func (s *Service) attach(ctx context.Context, tx docket.Tx, p *pending) (bool, error) {
	req := p.req
	if p.sub.ThreadCase != "" {
		if threaded, err := s.thread(ctx, tx, p); err != nil || threaded {
			return threaded, err
		}
	}
	if !relates(req) {
		return false, nil
	}
	c, why, err := tx.RelatedOpenCase(ctx, req.AuthorityID, req.Body.Reference, req.Body.Targets)
	switch {
	case err == nil:
	case !isNotFound(err):
		return false, err
	case p.related == "":
		return false, nil
	default:
		if c, err = tx.Case(ctx, p.related); err != nil {
			return false, err
		}
		why = p.why
		if !c.State.Pending() {
			return false, nil // answered since: a new case
		}
	}
	stored, err := docket.StoredRequestOf(req)
	if err != nil {
		return false, err
	}
	d := docket.RequestReceived{RequestID: req.ID, Channel: req.Channel, SHA256: req.SHA256, Why: why, StoredRequest: stored}
	if !p.c.DeadlineAt.IsZero() && (c.DeadlineAt.IsZero() || p.c.DeadlineAt.Before(c.DeadlineAt)) {
		d.DeadlineAt, d.DueSoonAt = docket.OptTime(p.c.DeadlineAt), docket.OptTime(p.c.DueSoonAt)
	}
	d.Emergency = p.c.Emergency && !c.Emergency
	d.Discloses = p.c.Discloses && !c.Discloses
	d.Unverified = p.c.Sender == docket.SenderUnverified
	d.TrustedFlagger = joinedFlagger(p.c, c)
	d.Receipt = &docket.ReceiptFacts{Deadline: cmp.Or(d.DeadlineAt, docket.OptTime(c.DeadlineAt))}
	req.CaseID = c.ID
	if err := s.join(ctx, tx, p, c, docket.NewEvent(c.ID, docket.EventRequestReceived, p.opened.Actor, req.ReceivedAt, d)); err != nil {
		return false, err
	}
	return true, nil
}

// joinedFlagger is the trusted flagger a request's own case (opened) brings to the case c
// it joins, when c had none.
func joinedFlagger(opened, c *docket.Case) string {
	if c.TrustedFlagger == "" {
		return opened.TrustedFlagger
	}
	return ""
}

func receipt(r *docket.Request, c *docket.Case) docket.Receipt {
	return docket.Receipt{ID: r.ID, CaseID: r.CaseID, ReceivedAt: r.ReceivedAt, Deadline: docket.OptTime(c.DeadlineAt), SHA256: r.SHA256}
}

// Reply stores a requester's reply to a question on one of its requests. When the case waits
// for it, the case reopens and a paused clock resumes, its deadline moved by the pause.
func (s *Service) Reply(ctx context.Context, a *docket.Authority, requestID string, sub *Submission) (*Result, error) {
	orig, err := s.store.Request(ctx, requestID)
	if isNotFound(err) || (err == nil && orig.AuthorityID != a.ID) {
		return nil, notFound("request")
	} else if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	now := s.Now().Truncate(time.Microsecond)
	req := &docket.Request{
		ID: docket.NewID(), CaseID: orig.CaseID, Channel: docket.ChannelReply, AuthorityID: a.ID,
		ReceivedAt: now, SHA256: sha(sub.Raw), Raw: sub.Raw, ContentType: sub.ContentType, Body: sub.Body,
	}
	req.Body.InReplyTo = orig.ID
	req.Body.Regime = orig.Body.Regime
	stored, err := docket.StoredRequestOf(req)
	if err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	var c *docket.Case
	var first *docket.Event
	var log docket.LogCommit
	err = s.store.Update(ctx, func(tx docket.Tx) error {
		c, err = tx.Case(ctx, orig.CaseID)
		if err != nil {
			return err
		}
		if c.State != docket.StateAwaitingRequester {
			return docket.Errorf(docket.ESTATE, "No question is waiting for your reply on this request (its case is %s).", c.State)
		}
		deadline, dueSoon := c.ResumedDeadlines(now)
		e := docket.NewEvent(c.ID, docket.EventRequesterReplied, docket.AuthorityActor(a.ID), now, docket.RequesterReplied{
			RequestID: req.ID, SHA256: req.SHA256, DeadlineAt: docket.OptTime(deadline), DueSoonAt: docket.OptTime(dueSoon),
			Channel: req.Channel, StoredRequest: stored, Receipt: &docket.ReceiptFacts{Deadline: docket.OptTime(deadline)},
		})
		if err := record(ctx, tx, c, e); err != nil {
			return err
		}
		req.Seq, first, log = e.Seq, e, tx.Log()
		for i := range sub.Blobs {
			if err := tx.InsertBlob(ctx, &sub.Blobs[i]); err != nil {
				return err
			}
		}
		if err := tx.InsertRequest(ctx, req); err != nil {
			return err
		}
		if err := s.queueMediaMatch(ctx, tx, req); err != nil {
			return err
		}
		return tx.UpdateCase(ctx, c)
	})
	if err != nil {
		return nil, fmt.Errorf("reply to request %s: %w", requestID, err)
	}
	res := &Result{Receipt: receipt(req, c)}
	s.proveReceipt(ctx, &pending{req: req, res: res, first: first, log: log})
	return res, nil
}
