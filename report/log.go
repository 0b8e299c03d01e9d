package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
)

// Log is what the reports read of the audit log: every case rebuilt from its events (the
// replay audit verify checks the stored cases with), the facts of those events that the
// figures count, and the authorities as their events registered them.
type Log struct {
	// Events is how many events were read; HeadSeq and HeadHash are the last one's: the
	// point of the chain the report was computed at (docket audit verify --head SEQ:HASH
	// proves a store still holds it).
	Events   int64
	HeadSeq  int64
	HeadHash string

	cases []*caseLog // in the order they were opened
	byID  map[string]*caseLog
	creds *audit.Credentials
	// requests are the requests the receipt events record, with the case the merges and
	// splits put each in.
	requests map[string]*requestLog
}

// requestLog is what the chain records of one request: its receipt event, the digest of
// its target rows (empty for events written before it was recorded), and its case.
type requestLog struct {
	receipt event
	digest  string
	caseID  string
	targets []docket.Target
	sum     docket.TargetSum
}

// targetScanner is a store that can list the target rows of the requests (sqlstore.Store).
type targetScanner interface {
	ScanTargets(ctx context.Context, fn func(requestID, caseID, kind, value string) error) error
}

// event is one event a figure rests on.
type event struct {
	Seq  int64
	Type docket.EventType
	At   time.Time
}

// caseLog is one case as its events leave it, with the events the figures read.
type caseLog struct {
	c          *docket.Case // the replayed case, as the last event read left it
	opened     event
	actor      docket.Actor // who opened it
	sender     string       // verification level of an e-mail sender
	receivedAt time.Time
	ack        *event // the first acknowledgement of receipt
	ackByRules bool
	// answer is the first answer that closed the case (not a question); dataAnswer the
	// first answer that handed user data over (to a decision to comply on a case that
	// discloses).
	answer, dataAnswer *event
	// decided is the decided event of the decision in effect; rulesClosed the routing
	// rules' automatic decision, if they closed the case.
	decided, rulesClosed *event
	packages             []event
	done                 map[int64]event // action_requested seq → its action_done
	// triaged is the automatic triage (system:triage); corrected the first correction by a
	// person (retriaged) of each of its fields that changed it.
	triaged   *event
	corrected map[string]event
	// named are the events that name targets: the receipts of requests that name some,
	// triage and its corrections, merges, approvals' coverage, actions.
	named []event
	// requested are the targets the case's requests name (their target rows, proven
	// against the receipt events' digests).
	requested []docket.Target
	// appeals are the complaints against the case's actions (DSA art. 20).
	appeals []appealLog
}

// appealLog is one appeal: its receipt, its decision and outcome once decided, and the
// ground of the statement of reasons it contests.
type appealLog struct {
	seq      int64
	received event
	decided  *event
	outcome  string
	ground   string
}

var errStop = errors.New("stop")

// Read reads the audit log of s in Seq order, up to and including event upTo (0: all of
// it), checks that each event is sealed to the one before it, and rebuilds every case from
// its events. The targets a request names are the one
// thing of it the events do not hold: they are read from the request's target rows, which
// its receipt event fixes by their digest (a row that differs is an error: docket audit
// verify names it). It only reads.
func Read(ctx context.Context, s docket.Store, upTo int64) (*Log, error) {
	l := &Log{creds: audit.NewCredentials(), byID: map[string]*caseLog{}, requests: map[string]*requestLog{}}
	cases := audit.Cases{}
	byID := l.byID
	err := s.ScanEvents(ctx, func(e *docket.Event) error {
		if upTo > 0 && e.Seq > upTo {
			return errStop
		}
		// Figures are computed from the chain only as it holds: a changed, missing or
		// reordered event stops the report (docket audit verify says more).
		if e.Seq != l.HeadSeq+1 || e.PrevHash != l.HeadHash || audit.Hash(l.HeadHash, e) != e.Hash {
			return fmt.Errorf("the audit chain does not hold at event %d: run docket audit verify", e.Seq)
		}
		l.Events++
		l.HeadSeq, l.HeadHash = e.Seq, e.Hash
		if e.CaseID == "" {
			if err := l.creds.Apply(e); err != nil {
				return fmt.Errorf("event %d: %w", e.Seq, err)
			}
			return nil
		}
		cl := byID[e.CaseID]
		var before docket.Case
		if cl != nil {
			before = *cl.c
			if cl.c.Triage != nil {
				t := *cl.c.Triage
				before.Triage = &t
			}
			if cl.c.Decision != nil {
				d := *cl.c.Decision
				before.Decision = &d
			}
		}
		c, data, err := cases.Apply(e)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if cl == nil {
			cl = &caseLog{c: c, done: map[int64]event{}, corrected: map[string]event{}}
			byID[e.CaseID] = cl
			l.cases = append(l.cases, cl)
		}
		cl.record(e, data, &before)
		ev := event{Seq: e.Seq, Type: e.Type, At: e.At.UTC()}
		switch d := data.(type) {
		case *docket.CaseOpened:
			if d.SplitFrom != "" {
				l.move(e.CaseID, d.Requests)
			} else {
				l.receive(ev, e.CaseID, d.RequestID, d.TargetsDigest)
			}
		case *docket.RequestReceived:
			l.receive(ev, e.CaseID, d.RequestID, d.TargetsDigest)
		case *docket.RequesterReplied:
			l.receive(ev, e.CaseID, d.RequestID, d.TargetsDigest)
		case *docket.Merged:
			l.move(e.CaseID, d.Requests)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	if upTo > l.HeadSeq {
		return nil, fmt.Errorf("the audit log ends at event %d, before event %d", l.HeadSeq, upTo)
	}
	if err := l.readTargets(ctx, s); err != nil {
		return nil, err
	}
	return l, nil
}

// receive records a request's receipt event; move records that event e moved requests to
// its case (a merge, a split).
func (l *Log) receive(ev event, caseID, id, digest string) {
	l.requests[id] = &requestLog{receipt: ev, digest: digest, caseID: caseID}
}

func (l *Log) move(caseID string, ids []string) {
	for _, id := range ids {
		if r := l.requests[id]; r != nil {
			r.caseID = caseID
		}
	}
}

// readTargets reads the target rows of the requests the log received, checks each
// request's rows against the digest its receipt event recorded, and gives each case the
// targets its requests name.
func (l *Log) readTargets(ctx context.Context, s docket.Store) error {
	ts, ok := s.(targetScanner)
	if !ok {
		return nil // a store that cannot list them: the targets are the events' only
	}
	err := ts.ScanTargets(ctx, func(requestID, _, kind, value string) error {
		r := l.requests[requestID]
		if r == nil {
			return nil // received after the part of the log read
		}
		r.sum.Add(kind, value)
		if slices.Contains(docket.TargetKinds, kind) {
			r.targets = append(r.targets, docket.Target{Kind: kind, Value: value})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the requests' targets: %w", err)
	}
	ids := slices.Sorted(maps.Keys(l.requests))
	for _, id := range ids {
		r := l.requests[id]
		if r.digest != "" && r.digest != r.sum.String() {
			return fmt.Errorf("the target rows of request %s differ from what its receipt (event %d) recorded: run docket audit verify", id, r.receipt.Seq)
		}
		cl := l.byID[r.caseID]
		if cl == nil || len(r.targets) == 0 {
			continue
		}
		slices.SortFunc(r.targets, func(a, b docket.Target) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
		})
		cl.requested = append(cl.requested, r.targets...)
		cl.named = append(cl.named, r.receipt)
	}
	for _, cl := range l.cases {
		slices.SortFunc(cl.named, func(a, b event) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	return nil
}

// record keeps what event e, just applied, tells the figures; before is the case as it was
// before e.
func (cl *caseLog) record(e *docket.Event, data any, before *docket.Case) {
	ev := event{Seq: e.Seq, Type: e.Type, At: e.At.UTC()}
	c := cl.c
	switch d := data.(type) {
	case *docket.CaseOpened:
		cl.opened, cl.actor, cl.sender, cl.receivedAt = ev, e.Actor, d.Sender, d.ReceivedAt.UTC()
		return
	case *docket.Triaged:
		if e.Type == docket.EventTriaged && e.Actor == actorTriage && cl.triaged == nil {
			cl.triaged = &ev
		}
		if e.Type == docket.EventRetriaged {
			cl.correct(ev, before, c)
		}
		if len(d.Targets) > 0 {
			cl.named = append(cl.named, ev)
		}
	case *docket.Merged:
		if len(d.Targets) > 0 {
			cl.named = append(cl.named, ev)
		}
	case *docket.Approved:
		if d.Coverage != nil && len(d.Coverage.Targets) > 0 {
			cl.named = append(cl.named, ev)
		}
	case *docket.ActionRequested:
		cl.named = append(cl.named, ev)
	case *docket.AppealReceived:
		ap := appealLog{seq: e.Seq, received: ev}
		if a := c.Action(d.Action); a != nil && a.Statement != nil {
			ap.ground = a.Statement.DecisionGround
		}
		cl.appeals = append(cl.appeals, ap)
	case *docket.AppealDecided:
		for i := range cl.appeals {
			if cl.appeals[i].seq == d.Appeal {
				cl.appeals[i].decided, cl.appeals[i].outcome = &ev, d.Outcome
			}
		}
	case *docket.ActionDone:
		if _, ok := cl.done[d.Action]; !ok {
			cl.done[d.Action] = ev
		}
	case *docket.PackageReady:
		cl.packages = append(cl.packages, ev)
	case *docket.Decided:
		cl.decided = &ev
		if e.Actor == actorRules {
			cl.rulesClosed = &ev
		}
	case *docket.RequesterReplied:
		cl.decided = nil // the reply clears the decision: the case is worked again
	case *docket.Answered:
		if c.State == docket.StateAnswered && cl.answer == nil {
			cl.answer = &ev
		}
		if c.State == docket.StateAnswered && cl.dataAnswer == nil && before.Decision != nil && before.Decision.Outcome.Releases() && c.Discloses {
			cl.dataAnswer = &ev
		}
	}
	switch e.Type {
	case docket.EventApprovalRejected:
		cl.decided = nil
	case docket.EventAcknowledged:
		if cl.ack == nil {
			cl.ack, cl.ackByRules = &ev, e.Actor == actorRules
		}
	}
}

// Triage fields whose corrections the automated-means figures count.
var triageFields = []string{"regime", "kind", "emergency", "spam", "label", "category"}

// correct records the fields of the triage that a person's correction (retriaged event ev)
// changed: the case before it (before) against after it (after).
func (cl *caseLog) correct(ev event, before, after *docket.Case) {
	tri := func(c *docket.Case) docket.CaseTriage {
		if c.Triage == nil {
			return docket.CaseTriage{}
		}
		return *c.Triage
	}
	b, a := tri(before), tri(after)
	changed := map[string]bool{
		"regime": before.Regime != after.Regime, "kind": before.Kind != after.Kind, "emergency": before.Emergency != after.Emergency,
		"spam": b.Spam != a.Spam, "label": b.Label != a.Label, "category": b.Category != a.Category,
	}
	for _, f := range triageFields {
		if _, seen := cl.corrected[f]; changed[f] && !seen {
			cl.corrected[f] = ev
		}
	}
}

// Actors of automatic steps.
const (
	actorTriage docket.Actor = "system:triage"
	actorRules  docket.Actor = "system:rules"
)

// requester is who a case came from, as the reports group it: a country and a type (an
// authority's kind; "official" for e-mail from a government domain that no registered
// authority owns; "public" for everyone else).
func (l *Log) requester(cl *caseLog) (country, typ string) {
	c := cl.c
	country = strings.ToUpper(c.Country)
	switch {
	case c.AuthorityID != "":
		typ = "unspecified"
		if a, ok := l.creds.Authority(c.AuthorityID); ok {
			typ = strings.ToLower(strings.TrimSpace(a.Kind))
			if typ == "" {
				typ = "unspecified"
			}
			if country == "" {
				country = strings.ToUpper(a.Country)
			}
		}
	case cl.sender == docket.SenderOfficial:
		typ = "official"
	default:
		typ = "public"
	}
	if country == "" {
		country = unknownCountry
	}
	return country, typ
}

// unknownCountry is the country of a requester whose country docket does not know (ISO
// 3166's user-assigned code for it).
const unknownCountry = "XX"

// targets returns the distinct targets a case names: those of its requests, of its triage
// as corrected and merged, of its approval's coverage and of its actions. A target counts
// once whatever kind names it (a message's address is a url to the triage and a message to
// an action): by its value, without regard to case.
func (cl *caseLog) targets() []string {
	var out []string
	add := func(ts ...docket.Target) {
		for _, t := range ts {
			v := strings.ToLower(strings.TrimSpace(t.Value))
			if v != "" && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	c := cl.c
	add(cl.requested...)
	if c.Triage != nil {
		add(c.Triage.Targets...)
	}
	if c.Decision != nil && c.Decision.Coverage != nil {
		add(c.Decision.Coverage.Targets...)
	}
	for _, a := range c.Actions {
		add(a.Target)
	}
	return out
}

// category returns the type of illegal content of a case as the EU Transparency Database
// names it: the category a person gave the statement of reasons of the case's first
// content action that has one, else the triage's (as corrected), else not specified.
func (cl *caseLog) category() string {
	for _, a := range cl.c.Actions {
		if docket.ContentOp(a.Op) && a.Statement != nil && a.Statement.Category != "" {
			return a.Statement.Category
		}
	}
	if t := cl.c.Triage; t != nil && strings.HasPrefix(t.Category, "STATEMENT_CATEGORY_") {
		return t.Category
	}
	return categoryNotSpecified
}

const categoryNotSpecified = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"

// contentDone returns the case's content actions (remove, restrict, suspend, terminate)
// that the platform confirmed, in the order they were asked for, with their action_done
// events.
func (cl *caseLog) contentDone() ([]docket.CaseAction, []event) {
	var acts []docket.CaseAction
	var evs []event
	for _, a := range cl.c.Actions {
		if d, ok := cl.done[a.Seq]; ok && docket.ContentOp(a.Op) {
			acts, evs = append(acts, a), append(evs, d)
		}
	}
	return acts, evs
}

// effect returns the event that gave effect to an order to act: the platform's confirmation
// of the last of its content actions (the order is carried out once every item is), or nil.
func (cl *caseLog) effect() *event {
	_, evs := cl.contentDone()
	if len(evs) == 0 {
		return nil
	}
	last := slices.MaxFunc(evs, func(a, b event) int { return a.At.Compare(b.At) })
	return &last
}

// dataProduced returns the events by which user data left: disclosure packages, and an
// answer to a decision to comply on a case that discloses.
func (cl *caseLog) dataProduced() []event {
	out := slices.Clone(cl.packages)
	if cl.dataAnswer != nil {
		out = append(out, *cl.dataAnswer)
	}
	return out
}

// informed returns when the requester was told of the receipt: at once for requests by
// API, portal and notice form (the receipt is the answer to the submission, at the time of
// receipt), else the first acknowledgement (an e-mail receipt), else the first answer.
func (cl *caseLog) informed() *event {
	switch cl.c.Channel {
	case docket.ChannelAPI, docket.ChannelPortal, docket.ChannelNotice:
		return &cl.opened
	}
	if cl.ack != nil {
		return cl.ack
	}
	return cl.answer
}
