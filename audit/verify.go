package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/translog"
)

// Report is what Verify checked.
type Report struct {
	Events      int64  `json:"events"`
	Cases       int    `json:"cases"`
	Requests    int    `json:"requests"`
	Targets     int    `json:"targets"`
	Blobs       int    `json:"blobs"`
	Users       int    `json:"users"`
	Authorities int    `json:"authorities"`
	Logins      int    `json:"logins"`
	Sessions    int    `json:"sessions"`
	Jobs        int    `json:"jobs"`
	Statements  int    `json:"statements"`
	Banks       int    `json:"banks"`
	BankHashes  int    `json:"bank_hashes"`
	Flaggers    int    `json:"flaggers"`
	Notifiers   int    `json:"notifiers"`
	Assessments int    `json:"notice_assessments"`
	HeadSeq     int64  `json:"head_seq"`
	HeadHash    string `json:"head_hash"`
	// The event log's Merkle tree: the subtrees stored, the signed heads checked, and the
	// public keys that signed them.
	TreeNodes int64    `json:"tree_nodes"`
	TreeHeads int      `json:"tree_heads"`
	TreeRoot  string   `json:"tree_root"`
	LogKeys   []string `json:"log_keys,omitempty"`
}

// Problem is the first inconsistency Verify found. Seq names the bad event when there is one;
// Table the table whose rows disagree with the chain, when it is not the chain itself.
type Problem struct {
	Seq    int64
	CaseID string
	Table  string
	What   string
}

func (p *Problem) Error() string {
	what := p.What
	if p.Table != "" {
		what = "table " + p.Table + ": " + what
	}
	switch {
	case p.Seq > 0:
		return fmt.Sprintf("event %d (case %s): %s", p.Seq, p.CaseID, what)
	case p.CaseID != "":
		return fmt.Sprintf("case %s: %s", p.CaseID, what)
	}
	return what
}

// Source is what Verify reads: the store, and a row-by-row scan of each table that is
// checked against the chain. sqlstore.Store implements it.
type Source interface {
	docket.Store
	// CheckSchema fails unless the database has every migration of this version of docket.
	CheckSchema(ctx context.Context) error
	// ScanCaseRows gives each case's stored document and index columns (as CaseIndex
	// renders them, in the order of CaseIndexColumns).
	ScanCaseRows(ctx context.Context, fn func(id string, doc []byte, index []string) error) error
	CaseIndex(c *docket.Case) []string
	CaseIndexColumns() []string
	ScanRequestRows(ctx context.Context, fn func(r *RequestRow) error) error
	ScanTargets(ctx context.Context, fn func(requestID, caseID, kind, value string) error) error
	ScanBlobs(ctx context.Context, fn func(sha256 string, size int64, data []byte) error) error
	ScanUsers(ctx context.Context, fn func(u *docket.UserAdded) error) error
	ScanAuthorities(ctx context.Context, fn func(a *docket.AuthorityRegistered) error) error
	ScanLogins(ctx context.Context, fn func(l *docket.Login) error) error
	ScanSessions(ctx context.Context, fn func(se *docket.Session) error) error
	ScanJobs(ctx context.Context, fn func(j *docket.Job) error) error
	// CaseCounts gives the counts of cases by state the database keeps for the figures.
	CaseCounts(ctx context.Context) (map[string]int64, error)
	// ScanTreeNodes gives every stored subtree of the event log's Merkle tree, ScanTreeHeads
	// every signed tree head with the public key stored with it; Frontier is the compact
	// range stored with the head.
	ScanTreeNodes(ctx context.Context, fn func(id translog.NodeID, hash []byte) error) error
	ScanTreeHeads(ctx context.Context, fn func(h *translog.SignedTreeHead, key string) error) error
	Frontier(ctx context.Context) ([]byte, error)
	// ScanFlaggers gives every trusted flagger's row with its token's hash, ScanNotifiers
	// every notifier's, ScanAssessments every assessed notice's.
	ScanFlaggers(ctx context.Context, fn func(f *docket.FlaggerRegistered) error) error
	ScanNotifiers(ctx context.Context, fn func(n *docket.NotifierStanding) error) error
	ScanAssessments(ctx context.Context, fn func(a *docket.NoticeAssessment) error) error
}

// RequestRow is a request's row as stored: Body is the stored encoding of its normalised
// body, ReceivedAt in microseconds.
type RequestRow struct {
	ID, CaseID, Channel, AuthorityID, SHA256 string
	ReceivedAt                               int64
	Raw, Body                                []byte
	// Seq is the receipt event the row names (docket.Request.Seq).
	Seq int64
}

// Verify checks everything the store holds and returns the first Problem found, or another
// error when the store could not be read. When expectSeq > 0, the chain must contain an event
// with that sequence number and hash expectHash: a head recorded outside the database earlier
// (docket audit head) proves that nothing was cut off the end since.
//
// Each table is read once, in one streaming scan; the chain is checked while a second
// goroutine replays the events into cases, so that verification uses two cores.
func Verify(ctx context.Context, s docket.Store, expectSeq int64, expectHash string) (*Report, error) {
	src, ok := s.(Source)
	if !ok {
		return nil, fmt.Errorf("verify: a %T cannot list its tables for verification", s)
	}
	if err := src.CheckSchema(ctx); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v := &verifier{src: src, rep: &Report{}}
	steps := []func(context.Context) error{v.scanJobs, func(ctx context.Context) error { return v.chain(ctx, expectSeq, expectHash) },
		v.checkTree, v.checkCases, v.checkRequests, v.checkTargets, v.checkBlobs, v.checkCredentials, v.checkJobs, v.checkStatements, v.checkBanks, v.checkFlaggers}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return v.rep, err
		}
	}
	return v.rep, nil
}

type verifier struct {
	src Source
	rep *Report
	rp  *replay
	// caseIDs are the cases the chain holds (the replayed cases are dropped once checked).
	caseIDs map[string]bool
	// blobs are the blobs the records name: attachments, unreleased holds' snapshots,
	// disclosure packages; what names each.
	blobs map[string]string
	// jobs point at events: seq -> the job that names it, and its case.
	jobEvents map[int64][]*jobRef
	jobs      []*jobRef
	creds     *Credentials
	banks     banks
	flaggers  flaggers
	// statements are the statements of reasons the chain queued for the Transparency
	// Database, by puid, with where each stands.
	statements map[string]*queuedStatement
	// leaves are the leaf hashes of the event log's Merkle tree, event by event.
	leaves []translog.Hash
}

// queuedStatement is what the chain says of one statement of reasons.
type queuedStatement struct {
	caseID string
	action int64
	sub    docket.Submission
	seen   bool
}

// jobRef is what a job's payload names.
type jobRef struct {
	ID        int64
	Kind      string
	CaseID    string `json:"case_id"`
	RequestID string `json:"request_id"`
	Seq       int64  `json:"seq"`
	Hold      int64  `json:"hold"`
	found     int    // events found of those it names
}

func (v *verifier) scanJobs(ctx context.Context) error {
	v.jobEvents = map[int64][]*jobRef{}
	err := v.src.ScanJobs(ctx, func(j *docket.Job) error {
		v.rep.Jobs++
		ref := &jobRef{ID: j.ID, Kind: j.Kind}
		if err := json.Unmarshal(j.Payload, ref); err != nil {
			return &Problem{Table: "jobs", What: fmt.Sprintf("job %d (%s): unreadable payload: %v", j.ID, j.Kind, err)}
		}
		v.jobs = append(v.jobs, ref)
		for _, seq := range []int64{ref.Seq, ref.Hold} {
			if seq > 0 {
				v.jobEvents[seq] = append(v.jobEvents[seq], ref)
			}
		}
		return nil
	})
	if err != nil {
		return wrap(err, "scan jobs")
	}
	return nil
}

// wrap returns a Problem as it is, and adds what was being done to other errors.
func wrap(err error, doing string) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return fmt.Errorf("verify: %s: %w", doing, err)
}

// chain checks the hash chain and the head, replays the case events in a second goroutine
// and the staff and authority events here.
func (v *verifier) chain(ctx context.Context, expectSeq int64, expectHash string) error {
	rp := &replay{cases: Cases{}, requests: map[string]*requestFacts{}}
	v.rp = rp
	v.creds = NewCredentials()
	v.banks = newBanks()
	v.flaggers = newFlaggers()
	batches := make(chan []*docket.Event, 16)
	replayed := make(chan struct{})
	go func() {
		defer close(replayed)
		for batch := range batches {
			rp.apply(batch)
		}
	}()
	var prevSeq int64
	var prevHash string
	var problem *Problem
	fail := func(p *Problem) error { problem = p; return p }
	batch := make([]*docket.Event, 0, 512)
	err := v.src.ScanEvents(ctx, func(e *docket.Event) error {
		if e.Seq != prevSeq+1 {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: fmt.Sprintf("follows event %d: events %d to %d are missing or out of order", prevSeq, prevSeq+1, e.Seq-1)})
		}
		if e.PrevHash != prevHash {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its link to the previous event does not match the previous event's hash"})
		}
		if want := Hash(prevHash, e); e.Hash != want {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its content does not match its hash (the event was changed)"})
		}
		if expectSeq == e.Seq && expectHash != e.Hash {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: "its hash differs from the head recorded earlier"})
		}
		leaf, err := Leaf(e)
		if err != nil {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: err.Error()})
		}
		v.leaves = append(v.leaves, leaf)
		prevSeq, prevHash = e.Seq, e.Hash
		v.rep.Events++
		for _, j := range v.jobEvents[e.Seq] {
			if e.CaseID == j.CaseID {
				j.found++
			}
		}
		if e.CaseID == "" {
			if err := v.creds.Apply(e); err != nil {
				return fail(&Problem{Seq: e.Seq, What: err.Error()})
			}
			if err := v.banks.apply(e); err != nil {
				return fail(&Problem{Seq: e.Seq, What: err.Error()})
			}
			if err := v.flaggers.apply(e); err != nil {
				return fail(&Problem{Seq: e.Seq, What: err.Error()})
			}
			return nil
		}
		if p := v.creds.mayHaveActed(e); p != "" {
			return fail(&Problem{Seq: e.Seq, CaseID: e.CaseID, What: p})
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			batches <- batch
			batch = make([]*docket.Event, 0, 512)
		}
		return nil
	})
	batches <- batch
	close(batches)
	<-replayed
	// Report the earliest problem, whether the chain or the replay found it.
	if rp.problem != nil && (problem == nil || rp.problem.Seq < problem.Seq) {
		problem = rp.problem
	}
	if problem != nil {
		return problem
	} else if err != nil {
		return fmt.Errorf("verify: scan events: %w", err)
	}
	if expectSeq > prevSeq {
		return &Problem{What: fmt.Sprintf("the chain ends at event %d but a head at event %d was recorded earlier: events were cut off the end", prevSeq, expectSeq)}
	}
	headSeq, headHash, err := v.src.Head(ctx)
	if err != nil {
		return fmt.Errorf("verify: read head: %w", err)
	}
	v.rep.HeadSeq, v.rep.HeadHash = headSeq, headHash
	if headSeq != prevSeq || headHash != prevHash {
		return &Problem{Seq: prevSeq, What: fmt.Sprintf("the recorded head (event %d) does not match the last event of the chain (event %d): events were added or removed at the end", headSeq, prevSeq)}
	}
	v.caseIDs = make(map[string]bool, len(rp.cases))
	v.blobs = map[string]string{}
	v.statements = map[string]*queuedStatement{}
	for id, c := range rp.cases {
		v.caseIDs[id] = true
		for _, a := range c.Actions {
			if a.Submission != nil {
				v.statements[a.Submission.PUID] = &queuedStatement{caseID: id, action: a.Seq, sub: *a.Submission}
			}
		}
		for _, h := range c.Holds {
			if h.ReleasedAt == nil && h.Blob != "" {
				v.blobs[h.Blob] = fmt.Sprintf("the hold placed by event %d of case %s", h.Seq, id)
			}
		}
		for _, p := range c.Packages {
			if p.Blob != "" {
				v.blobs[p.Blob] = fmt.Sprintf("the disclosure package of event %d of case %s", p.Seq, id)
			}
		}
	}
	return nil
}

// checkCases compares every case's stored document and index columns with the state its
// events produce.
func (v *verifier) checkCases(ctx context.Context) error {
	cases := v.rp.cases
	// The counts by state that stats and gauges show must be those of the replayed cases
	// (compared once the rows are, so that an edited row is named first).
	want := map[string]int64{}
	for _, c := range cases {
		want[string(c.State)]++
	}
	cols := v.src.CaseIndexColumns()
	err := v.src.ScanCaseRows(ctx, func(id string, doc []byte, index []string) error {
		v.rep.Cases++
		replayed := cases[id]
		if replayed == nil {
			return &Problem{CaseID: id, Table: "cases", What: "the case has no events in the chain"}
		}
		js, err := json.Marshal(replayed)
		if err != nil {
			return fmt.Errorf("encode replayed case %s: %w", id, err)
		}
		if !bytes.Equal(js, doc) {
			var stored docket.Case
			if err := json.Unmarshal(doc, &stored); err != nil {
				return &Problem{CaseID: id, Table: "cases", What: "unreadable stored state: " + err.Error()}
			}
			if stored.ID != id {
				return &Problem{CaseID: id, Table: "cases", What: fmt.Sprintf("the row holds the state of case %q", stored.ID)}
			}
			if diff := caseDiff(&stored, replayed); diff != "" {
				return &Problem{CaseID: id, Table: "cases", What: "stored state differs from the state its events produce: " + diff}
			}
		}
		want := v.src.CaseIndex(replayed)
		for i, got := range index {
			if got != want[i] {
				return &Problem{CaseID: id, Table: "cases", What: fmt.Sprintf("column %s is %q but the case's events make it %q", cols[i], got, want[i])}
			}
		}
		delete(cases, id)
		return nil
	})
	if err != nil {
		return wrap(err, "scan cases")
	}
	for id := range cases {
		return &Problem{CaseID: id, Table: "cases", What: "the chain has events of this case but the case is gone"}
	}
	got, err := v.src.CaseCounts(ctx)
	if err != nil {
		return wrap(err, "read case counts")
	}
	states := slices.Collect(maps.Keys(want))
	for st := range got {
		if _, ok := want[st]; !ok {
			states = append(states, st)
		}
	}
	slices.Sort(states)
	for _, st := range states {
		if got[st] != want[st] {
			return &Problem{Table: "case_counts", What: fmt.Sprintf("%d cases counted in state %s, but the chain's cases make it %d", got[st], st, want[st])}
		}
	}
	return nil
}

// checkRequests compares every stored request with what its receipt recorded, and its case
// with the case its events put it in.
func (v *verifier) checkRequests(ctx context.Context) error {
	facts := v.rp.requests
	err := v.src.ScanRequestRows(ctx, func(r *RequestRow) error {
		v.rep.Requests++
		fail := func(format string, args ...any) error {
			return &Problem{CaseID: r.CaseID, Table: "requests", What: fmt.Sprintf("request %s: ", r.ID) + fmt.Sprintf(format, args...)}
		}
		sum := sha256.Sum256(r.Raw)
		if got := hex.EncodeToString(sum[:]); got != r.SHA256 {
			return fail("its raw body does not match its SHA-256")
		}
		f := facts[r.ID]
		if f == nil {
			return fail("it has no receipt event in the chain")
		}
		if f.seen {
			return fail("it is stored twice")
		}
		f.seen = true
		switch {
		case f.sha != r.SHA256:
			return fail("its SHA-256 differs from the one its receipt event recorded")
		case f.caseID != r.CaseID:
			return fail("it is stored in case %s but its events put it in case %s", r.CaseID, f.caseID)
		case f.channel != "" && f.channel != r.Channel:
			return fail("its channel is %q but its receipt event recorded %q", r.Channel, f.channel)
		case f.knownSender && f.authorityID != r.AuthorityID:
			return fail("its authority is %q but its receipt event recorded %q", r.AuthorityID, f.authorityID)
		case f.knownSender && f.receivedAt != r.ReceivedAt:
			return fail("its time of receipt is %s but its receipt event recorded %s", docket.FromMicros(r.ReceivedAt).Format(time.RFC3339Nano), docket.FromMicros(f.receivedAt).Format(time.RFC3339Nano))
		case r.Seq != f.seq:
			return fail("it names event %d as its receipt (its leaf in the log's Merkle tree) but its receipt is event %d", r.Seq, f.seq)
		}
		if f.body != "" {
			sum := sha256.Sum256(r.Body)
			if hex.EncodeToString(sum[:]) != f.body {
				return fail("its normalised body (sender, targets, attachments…) differs from the one its receipt event recorded")
			}
		}
		if bytes.Contains(r.Body, []byte(`"attachments":`)) {
			var b struct {
				Attachments []docket.Attachment `json:"attachments"`
			}
			if err := json.Unmarshal(r.Body, &b); err != nil {
				return fail("unreadable body: %v", err)
			}
			for _, a := range b.Attachments {
				v.blobs[a.SHA256] = fmt.Sprintf("attachment %q of request %s", a.Filename, r.ID)
			}
		}
		return nil
	})
	if err != nil {
		return wrap(err, "scan requests")
	}
	for id, f := range facts {
		if !f.seen {
			return &Problem{CaseID: f.caseID, Table: "requests", What: fmt.Sprintf("request %s has a receipt event but the request is gone", id)}
		}
	}
	return nil
}

// checkTargets checks every stored target row: its request exists, it is in its request's
// case, and each request's rows add up to the digest its receipt recorded.
func (v *verifier) checkTargets(ctx context.Context) error {
	facts := v.rp.requests
	err := v.src.ScanTargets(ctx, func(requestID, caseID, kind, value string) error {
		v.rep.Targets++
		f := facts[requestID]
		if f == nil {
			return &Problem{CaseID: caseID, Table: "targets", What: fmt.Sprintf("target %s %q names request %s, which the chain does not hold", kind, value, requestID)}
		}
		if caseID != f.caseID {
			return &Problem{CaseID: caseID, Table: "targets", What: fmt.Sprintf("target %s %q of request %s is filed under case %s but the request is in case %s", kind, value, requestID, caseID, f.caseID)}
		}
		f.targets.Add(kind, value)
		return nil
	})
	if err != nil {
		return wrap(err, "scan targets")
	}
	for id, f := range facts {
		if f.targetsDigest != "" && f.targets.String() != f.targetsDigest {
			return &Problem{CaseID: f.caseID, Table: "targets", What: fmt.Sprintf("the targets stored with request %s differ from those its receipt event recorded (added, removed or changed)", id)}
		}
	}
	return nil
}

// checkBlobs checks every blob's bytes against its SHA-256 and size, and that every blob the
// records name is there.
func (v *verifier) checkBlobs(ctx context.Context) error {
	err := v.src.ScanBlobs(ctx, func(sum string, size int64, data []byte) error {
		v.rep.Blobs++
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			return &Problem{Table: "blobs", What: fmt.Sprintf("blob %s: its bytes do not match its SHA-256", sum)}
		}
		if int64(len(data)) != size {
			return &Problem{Table: "blobs", What: fmt.Sprintf("blob %s: its size is recorded as %d but it holds %d bytes", sum, size, len(data))}
		}
		delete(v.blobs, sum)
		return nil
	})
	if err != nil {
		return wrap(err, "scan blobs")
	}
	missing := make([]string, 0, len(v.blobs))
	for sum := range v.blobs {
		missing = append(missing, sum)
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		return &Problem{Table: "blobs", What: fmt.Sprintf("blob %s, %s, is missing", missing[0], v.blobs[missing[0]])}
	}
	return nil
}

// checkJobs checks that every job points only at facts in the chain: the case, request and
// event its payload names.
func (v *verifier) checkJobs(ctx context.Context) error {
	for _, j := range v.jobs {
		fail := func(format string, args ...any) error {
			return &Problem{CaseID: j.CaseID, Table: "jobs", What: fmt.Sprintf("job %d (%s): ", j.ID, j.Kind) + fmt.Sprintf(format, args...)}
		}
		if j.CaseID != "" && !v.caseIDs[j.CaseID] {
			return fail("it names case %s, which the chain does not hold", j.CaseID)
		}
		if j.RequestID != "" && v.rp.requests[j.RequestID] == nil {
			return fail("it names request %s, which the chain does not hold", j.RequestID)
		}
		want := 0
		for _, seq := range []int64{j.Seq, j.Hold} {
			if seq > 0 {
				want++
			}
		}
		if want > 0 && (j.CaseID == "" || j.found < want) {
			return fail("it names an event (%d) that is not an event of its case", max(j.Seq, j.Hold))
		}
	}
	return nil
}

// checkStatements compares every statement of reasons kept for the Transparency Database
// with its events: the statement itself (against the SHA-256 its statement_queued event
// recorded), its case and action, where its submission stands; none is missing. The
// scheduling of attempts is outside the proof, like the jobs'.
func (v *verifier) checkStatements(ctx context.Context) error {
	err := v.src.Statements(ctx, docket.StatementFilter{}, func(r *docket.StatementRecord) error {
		v.rep.Statements++
		fail := func(format string, args ...any) error {
			return &Problem{CaseID: r.CaseID, Table: "statements", What: fmt.Sprintf("statement %s: ", r.PUID) + fmt.Sprintf(format, args...)}
		}
		q := v.statements[r.PUID]
		if q == nil {
			return fail("no statement_queued event in the chain queued it")
		}
		q.seen = true
		sum := sha256.Sum256(r.Payload)
		switch sub := q.sub; {
		case r.CaseID != q.caseID || r.Action != q.action:
			return fail("it is filed under action %d of case %s but its events are those of action %d of case %s", r.Action, r.CaseID, q.action, q.caseID)
		case hex.EncodeToString(sum[:]) != sub.SHA256:
			return fail("the statement differs from the one its statement_queued event recorded")
		case r.State != sub.State:
			return fail("its state is %q but its events make it %q", r.State, sub.State)
		case r.RemoteID != sub.ID:
			return fail("the database's id is %q but its events make it %q", r.RemoteID, sub.ID)
		case r.Error != sub.Error:
			return fail("its refusal reads %q but its events make it %q", r.Error, sub.Error)
		case docket.Micros(r.QueuedAt) != docket.Micros(sub.QueuedAt) || docket.Micros(r.DecidedAt) != docket.Micros(sub.DecidedAt.OrZero()):
			return fail("its times differ from those of its events")
		}
		return nil
	})
	if err != nil {
		return wrap(err, "scan statements")
	}
	for _, puid := range slices.Sorted(maps.Keys(v.statements)) {
		if q := v.statements[puid]; !q.seen {
			return &Problem{CaseID: q.caseID, Table: "statements", What: fmt.Sprintf("statement %s was queued by an event of the chain but is gone", puid)}
		}
	}
	return nil
}

// Credentials are the staff, authorities and sign-in accounts as the chain's events leave
// them: apply every event outside a case, in Seq order (Apply). audit verify compares the
// tables with them; the reports (package report) read the authorities' kinds from them.
type Credentials struct {
	users       map[string]docket.UserAdded
	authorities map[string]docket.AuthorityRegistered
	logins      map[string]docket.LoginState
	sessions    map[string]docket.SessionOpened // by digest of the cookie's hash
}

// mayHaveActed checks a staff member's act against the role the chain gave them at that
// moment: a decision and an answer by someone who may work cases, an approval or a refusal
// of one by a reviewer or an admin. A role raised behind docket's back for one act and put
// back is caught here. It returns what is wrong, or "".
func (c *Credentials) mayHaveActed(e *docket.Event) string {
	id, ok := strings.CutPrefix(string(e.Actor), "user:")
	if !ok {
		return ""
	}
	u, known := c.users[id]
	if !known {
		return "" // stores older than the staff events: nothing to compare with
	}
	switch e.Type {
	case docket.EventApproved, docket.EventApprovalRejected:
		if !u.Role.CanApprove() {
			return fmt.Sprintf("%s by user %s, whose role was %s at the time: only a reviewer or an admin may", e.Type, id, u.Role)
		}
	case docket.EventDecided, docket.EventAnswered:
		if !u.Role.CanWork() {
			return fmt.Sprintf("%s by user %s, whose role was %s at the time", e.Type, id, u.Role)
		}
	}
	return ""
}

// NewCredentials returns the credentials of an empty chain.
func NewCredentials() *Credentials {
	return &Credentials{users: map[string]docket.UserAdded{}, authorities: map[string]docket.AuthorityRegistered{},
		logins: map[string]docket.LoginState{}, sessions: map[string]docket.SessionOpened{}}
}

// Authority returns an authority as the chain registered and changed it.
func (c *Credentials) Authority(id string) (docket.Authority, bool) {
	a, ok := c.authorities[id]
	return a.Authority, ok
}

// Apply applies an event outside any case (user_added, authority_registered, …); other
// events change nothing.
func (c *Credentials) Apply(e *docket.Event) error {
	switch e.Type {
	case docket.EventUserAdded:
		var d docket.UserAdded
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		c.users[d.ID] = d
	case docket.EventAuthorityRegistered:
		var d docket.AuthorityRegistered
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		c.authorities[d.ID] = d
	case docket.EventUserChanged:
		var d docket.UserChanged
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		u, ok := c.users[d.ID]
		if !ok {
			return fmt.Errorf("it changes user %s, whom no event added", d.ID)
		}
		if d.Role != "" {
			u.Role = d.Role
		}
		if d.TokenHash != "" {
			u.TokenHash = d.TokenHash
		}
		c.users[d.ID] = u
	case docket.EventAuthorityChanged:
		var d docket.AuthorityChanged
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		a, ok := c.authorities[d.ID]
		if !ok {
			return fmt.Errorf("it changes authority %s, which no event registered", d.ID)
		}
		if d.Domains != nil {
			a.Domains = *d.Domains
		}
		if d.AgeRecipient != nil {
			a.AgeRecipient = *d.AgeRecipient
		}
		if d.TokenHash != "" {
			a.TokenHash = d.TokenHash
		}
		c.authorities[d.ID] = a
	case docket.EventLoginChanged:
		var d docket.LoginChanged
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		c.logins[d.ID] = d.LoginState
	case docket.EventSessionOpened:
		var d docket.SessionOpened
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		c.sessions[d.Session] = d
	case docket.EventCredentialsBaseline:
		var d docket.CredentialsBaseline
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return fmt.Errorf("unreadable %s event: %w", e.Type, err)
		}
		clear(c.users)
		clear(c.authorities)
		clear(c.logins)
		clear(c.sessions)
		for _, u := range d.Users {
			c.users[u.ID] = u
		}
		for _, a := range d.Authorities {
			c.authorities[a.ID] = a
		}
		for _, l := range d.Logins {
			c.logins[l.ID] = l
		}
		for _, se := range d.Sessions {
			c.sessions[se.Session] = se
		}
	}
	return nil
}

// checkCredentials compares the users, authorities and logins tables with the chain.
func (v *verifier) checkCredentials(ctx context.Context) error {
	c := v.creds
	err := v.src.ScanUsers(ctx, func(u *docket.UserAdded) error {
		v.rep.Users++
		fail := func(what string) error {
			return &Problem{Table: "users", What: fmt.Sprintf("user %s (%s): %s", u.ID, u.Email, what)}
		}
		want, ok := c.users[u.ID]
		switch {
		case !ok:
			return fail("no event of the chain added this user")
		case u.Role != want.Role:
			return fail(fmt.Sprintf("role is %q but the chain says %q", u.Role, want.Role))
		case u.TokenHash != want.TokenHash:
			return fail("its API token hash differs from the chain's")
		case u.Email != want.Email:
			return fail(fmt.Sprintf("e-mail is %q but the chain says %q", u.Email, want.Email))
		case docket.Micros(u.CreatedAt) != docket.Micros(want.CreatedAt):
			return fail("created_at differs from the chain's")
		}
		delete(c.users, u.ID)
		return nil
	})
	if err != nil {
		return wrap(err, "scan users")
	}
	for id, u := range c.users {
		return &Problem{Table: "users", What: fmt.Sprintf("user %s (%s) is in the chain but was deleted from the table", id, u.Email)}
	}
	err = v.src.ScanAuthorities(ctx, func(a *docket.AuthorityRegistered) error {
		v.rep.Authorities++
		fail := func(what string) error {
			return &Problem{Table: "authorities", What: fmt.Sprintf("authority %s (%s): %s", a.ID, a.Name, what)}
		}
		want, ok := c.authorities[a.ID]
		switch {
		case !ok:
			return fail("no event of the chain registered this authority")
		case !slices.Equal(a.Domains, want.Domains):
			return fail(fmt.Sprintf("domains are %q but the chain says %q", a.Domains, want.Domains))
		case a.AgeRecipient != want.AgeRecipient:
			return fail(fmt.Sprintf("age_recipient is %q but the chain says %q", a.AgeRecipient, want.AgeRecipient))
		case a.TokenHash != want.TokenHash:
			return fail("its API token hash differs from the chain's")
		case a.Name != want.Name || a.Country != want.Country || a.Kind != want.Kind:
			return fail(fmt.Sprintf("name, country or kind (%q, %q, %q) differ from the chain's (%q, %q, %q)", a.Name, a.Country, a.Kind, want.Name, want.Country, want.Kind))
		case docket.Micros(a.CreatedAt) != docket.Micros(want.CreatedAt):
			return fail("created_at differs from the chain's")
		}
		delete(c.authorities, a.ID)
		return nil
	})
	if err != nil {
		return wrap(err, "scan authorities")
	}
	for id, a := range c.authorities {
		return &Problem{Table: "authorities", What: fmt.Sprintf("authority %s (%s) is in the chain but was deleted from the table", id, a.Name)}
	}
	err = v.src.ScanLogins(ctx, func(l *docket.Login) error {
		v.rep.Logins++
		want, ok := c.logins[l.ID]
		if !ok {
			return &Problem{Table: "logins", What: fmt.Sprintf("sign-in account %s (%s %s): no event of the chain created it", l.ID, l.Kind, l.Email)}
		}
		if diff := docket.LoginStateOf(l).Diff(want); len(diff) > 0 {
			return &Problem{Table: "logins", What: fmt.Sprintf("sign-in account %s (%s %s): %v differ from the chain's", l.ID, l.Kind, l.Email, diff)}
		}
		delete(c.logins, l.ID)
		return nil
	})
	if err != nil {
		return wrap(err, "scan logins")
	}
	for id, l := range c.logins {
		return &Problem{Table: "logins", What: fmt.Sprintf("sign-in account %s (%s %s) is in the chain but was deleted from the table", id, l.Kind, l.Email)}
	}
	// Sessions end (sign-out, expiry): only a row the chain does not hold is a problem.
	err = v.src.ScanSessions(ctx, func(se *docket.Session) error {
		v.rep.Sessions++
		got := docket.SessionOpenedOf(se)
		want, ok := c.sessions[got.Session]
		switch {
		case !ok:
			return &Problem{Table: "sessions", What: fmt.Sprintf("a session of account %s: no event of the chain opened it", se.LoginID)}
		case want.LoginID != got.LoginID:
			return &Problem{Table: "sessions", What: fmt.Sprintf("a session of account %s was opened for account %s", got.LoginID, want.LoginID)}
		case docket.Micros(want.ExpiresAt) != docket.Micros(got.ExpiresAt) || docket.Micros(want.CreatedAt) != docket.Micros(got.CreatedAt):
			return &Problem{Table: "sessions", What: fmt.Sprintf("a session of account %s: its lifetime differs from the chain's", se.LoginID)}
		}
		return nil
	})
	if err != nil {
		return wrap(err, "scan sessions")
	}
	return nil
}

// requestFacts is what the chain says of one request.
type requestFacts struct {
	sha     string // of the raw bytes, from the receipt
	caseID  string // received by, or moved to
	channel string // "" when the receipt did not record it
	// knownSender: the receipt recorded authorityID and receivedAt (microseconds).
	knownSender   bool
	authorityID   string
	receivedAt    int64
	body          string // SHA-256 of the stored body; "" when not recorded
	targetsDigest string // "" when not recorded
	targets       docket.TargetSum
	seen          bool
	seq           int64 // the receipt event
}

// replay applies events to the cases they belong to and collects what each receipt event
// recorded of its request.
type replay struct {
	cases    Cases
	requests map[string]*requestFacts
	problem  *Problem
}

func (rp *replay) apply(events []*docket.Event) {
	for _, e := range events {
		if rp.problem != nil {
			return
		}
		_, data, err := rp.cases.Apply(e)
		if err != nil {
			rp.problem = &Problem{Seq: e.Seq, CaseID: e.CaseID, What: err.Error()}
			return
		}
		switch d := data.(type) {
		case *docket.CaseOpened:
			if d.SplitFrom != "" {
				rp.move(e, d.SplitFrom, d.Requests)
				break
			}
			rp.receive(e, d.RequestID, &requestFacts{sha: d.SHA256, caseID: e.CaseID, channel: d.Channel,
				knownSender: true, authorityID: d.AuthorityID, receivedAt: docket.Micros(d.ReceivedAt),
				body: d.BodySHA256, targetsDigest: d.TargetsDigest})
		case *docket.RequestReceived:
			rp.receive(e, d.RequestID, storedFacts(e, d.SHA256, d.Channel, &d.StoredRequest))
		case *docket.RequesterReplied:
			rp.receive(e, d.RequestID, storedFacts(e, d.SHA256, d.Channel, &d.StoredRequest))
		case *docket.Merged:
			rp.move(e, d.From, d.Requests)
		}
	}
}

func storedFacts(e *docket.Event, sha, channel string, s *docket.StoredRequest) *requestFacts {
	f := &requestFacts{sha: sha, caseID: e.CaseID, channel: channel, body: s.BodySHA256, targetsDigest: s.TargetsDigest}
	if s.BodySHA256 != "" {
		f.knownSender, f.authorityID = true, s.AuthorityID
		if s.ReceivedAt != nil {
			f.receivedAt = docket.Micros(s.ReceivedAt.Time)
		}
	}
	return f
}

func (rp *replay) receive(e *docket.Event, id string, f *requestFacts) {
	if rp.requests[id] != nil {
		rp.problem = &Problem{Seq: e.Seq, CaseID: e.CaseID, What: fmt.Sprintf("it receives request %s a second time", id)}
		return
	}
	f.seq = e.Seq
	rp.requests[id] = f
}

// move records that event e moved requests from case from to its own case.
func (rp *replay) move(e *docket.Event, from string, requests []string) {
	for _, id := range requests {
		f := rp.requests[id]
		if f == nil || f.caseID != from {
			rp.problem = &Problem{Seq: e.Seq, CaseID: e.CaseID, What: fmt.Sprintf("it moves request %s from case %s, which does not hold it", id, from)}
			return
		}
		f.caseID = e.CaseID
	}
}

// caseDiff names the first field in which two cases differ, or returns "".
func caseDiff(a, b *docket.Case) string {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA == nil && errB == nil && string(ja) == string(jb) {
		return ""
	}
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	for i := 0; i < va.NumField(); i++ {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if ta, ok := fa.(time.Time); ok {
			if !ta.Equal(fb.(time.Time)) {
				return va.Type().Field(i).Name
			}
			continue
		}
		ja, _ := json.Marshal(fa)
		jb, _ := json.Marshal(fb)
		if string(ja) != string(jb) {
			return va.Type().Field(i).Name
		}
	}
	return ""
}
