package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"

	"github.com/docket-dev/docket/sor/sortest"
)

// The outbound effects of the two-node campaign (chaos --effects): what docket's jobs do
// to the outside world — a page to the incident tool's webhook, an action on the platform,
// a mail through the relay, a statement of reasons to the Transparency Database — each
// received by a receiver this process runs (or fronts), which notes every delivery with its
// key and which node made it. A receiver that already took an effect under a key takes a
// delivery with the same key as a retry and does nothing more: the incident tool by the
// page's dedup_key and step (as PagerDuty does by dedup_key), the platform by the
// Idempotency-Key (the reference platform keeps its answers by key), a mailbox by
// Message-ID, the Transparency Database by puid.

// Kinds of effects.
const (
	fxPage      = "page"
	fxPlatform  = "platform action"
	fxMail      = "mail"
	fxStatement = "statement of reasons"
)

var fxKinds = []string{fxPage, fxPlatform, fxMail, fxStatement}

// ledger is every delivery the receivers saw.
type ledger struct {
	mu sync.Mutex
	// by kind, then key: the deliveries in order.
	seen map[string]map[string][]delivery
}

// delivery is one call or message that reached a receiver.
type delivery struct {
	node int
	at   time.Time
	// deduped: the receiver knew the key and did nothing (a retry); otherwise the
	// receiver carried the effect out.
	deduped bool
}

func newLedger() *ledger { return &ledger{seen: map[string]map[string][]delivery{}} }

// record notes a delivery. For the receivers that dedup by themselves (the platform, the
// Transparency Database) deduped says what they answered; for the page and mail sinks,
// which are the receivers, a key seen before is a retry taken once.
func (l *ledger) record(kind, key string, node int, deduped bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[kind] == nil {
		l.seen[kind] = map[string][]delivery{}
	}
	if kind == fxPage || kind == fxMail {
		deduped = len(l.seen[kind][key]) > 0
	}
	l.seen[kind][key] = append(l.seen[kind][key], delivery{node: node, at: time.Now(), deduped: deduped})
}

// tally is what the receivers saw of one kind.
type tally struct {
	Effects    int `json:"effects"`    // keys whose effect took place
	Deliveries int `json:"deliveries"` // calls or messages received
	Deduped    int `json:"deduped"`    // deliveries of a key already taken, answered without a second effect
	Twice      int `json:"twice"`      // keys whose effect took place more than once
	ByOther    int `json:"by_other"`   // keys delivered by both nodes (a job taken over)
}

func (l *ledger) tally(kind string) tally {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t tally
	for _, ds := range l.seen[kind] {
		done, nodes := 0, map[int]bool{}
		for _, d := range ds {
			t.Deliveries++
			nodes[d.node] = true
			if d.deduped {
				t.Deduped++
			} else {
				done++
			}
		}
		if done > 0 {
			t.Effects++
		}
		if done > 1 {
			t.Twice++
		}
		if len(nodes) > 1 {
			t.ByOther++
		}
	}
	return t
}

// effected reports whether the effect of key took place at its receiver.
func (l *ledger) effected(kind, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.seen[kind][key] {
		if !d.deduped {
			return true
		}
	}
	return false
}

// receivers are the outside world of one campaign: the reference platform (its own
// process), a Transparency Database double, and per node an HTTP front (pager webhook,
// the platform and the database behind a recording proxy) and an SMTP relay sink, so that
// every delivery is known with the node that made it.
type receivers struct {
	ledger   *ledger
	platform *server // docket refplatform
	platData string
	sorDB    *sortest.Server
	fronts   []*http.Server
	relays   []*smtp.Server
	env      [][]string // each node's environment

	lease     time.Duration
	slowEvery int
	mu        sync.Mutex
	slow      int // answers held past the lease
}

const (
	platformSecret = "chaos-secret"
	sorToken       = "chaos-sor-token"
	mailDomain     = "chaos.test"
)

// slowly waits up to 300 ms before a receiver answers, after it took the effect: a kill in
// that moment leaves the effect done and docket not knowing it, so the job runs again. With
// slowEvery N, one answer in N comes only after the lease and a second: the job's lease
// runs out while its node still waits, another node takes it over and runs it too.
func (rc *receivers) slowly() {
	if rc.slowEvery > 0 && rand.IntN(rc.slowEvery) == 0 {
		rc.mu.Lock()
		rc.slow++
		rc.mu.Unlock()
		time.Sleep(rc.lease + time.Second)
		return
	}
	time.Sleep(rand.N(300 * time.Millisecond))
}

func startReceivers(docketBin, dir string, nodes int, lease time.Duration, slowEvery int) (*receivers, error) {
	rc := &receivers{ledger: newLedger(), platData: filepath.Join(dir, "refplatform"), lease: lease, slowEvery: slowEvery}
	var err error
	rc.platform, err = start(docketBin, []string{"refplatform", "--seed", "--addr", "127.0.0.1:0", "--data", rc.platData, "--secret", platformSecret}, nil)
	if err != nil {
		return nil, err
	}
	rc.sorDB = sortest.New(map[string]string{sorToken: "chaos-platform"})
	platURL, _ := url.Parse("http://" + rc.platform.addr)
	sorURL, _ := url.Parse(rc.sorDB.URL)
	for i := range nodes {
		front, addr, err := rc.front(i, platURL, sorURL)
		if err != nil {
			rc.close()
			return nil, err
		}
		rc.fronts = append(rc.fronts, front)
		relay, relayAddr, err := rc.relay(i)
		if err != nil {
			rc.close()
			return nil, err
		}
		rc.relays = append(rc.relays, relay)
		pagerFile := filepath.Join(dir, fmt.Sprintf("pager-%d.json", i))
		pc := fmt.Sprintf(`{"people":[{"name":"on-call"}],"rotation":{"people":["on-call"]},"ladder":[{"after":"0s","notify":"primary"}],"webhooks":["http://%s/page"]}`, addr)
		if err := os.WriteFile(pagerFile, []byte(pc), 0o600); err != nil {
			rc.close()
			return nil, err
		}
		rc.env = append(rc.env, []string{
			"DOCKET_PAGER_FILE=" + pagerFile,
			"DOCKET_PLATFORM_URL=http://" + addr, "DOCKET_PLATFORM_SECRET=" + platformSecret,
			"DOCKET_SOR_URL=http://" + addr, "DOCKET_SOR_TOKEN=" + sorToken, "DOCKET_SOR_INTERVAL=1s",
			"DOCKET_RELAY_ADDR=" + relayAddr, "DOCKET_RELAY_SECURITY=none",
			"DOCKET_JOB_LEASE=" + lease.String(),
		})
	}
	return rc, nil
}

// front serves node i's pager webhook and proxies its calls to the platform and the
// Transparency Database, noting each.
func (rc *receivers) front(i int, platform, sorDB *url.URL) (*http.Server, string, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /page", func(w http.ResponseWriter, r *http.Request) {
		var v struct {
			DedupKey string `json:"dedup_key"`
			Docket   struct {
				Step int `json:"step"`
			} `json:"docket"`
		}
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil || v.DedupKey == "" {
			http.Error(w, "no dedup_key", http.StatusBadRequest)
			return
		}
		rc.ledger.record(fxPage, fmt.Sprintf("%s/%d", v.DedupKey, v.Docket.Step), i, false)
		rc.slowly()
		w.WriteHeader(http.StatusAccepted)
	})
	toPlatform := httputil.NewSingleHostReverseProxy(platform)
	toPlatform.ModifyResponse = func(resp *http.Response) error {
		key := resp.Request.Header.Get("Idempotency-Key")
		op := strings.TrimPrefix(resp.Request.URL.Path, "/connector/v1/")
		// What changes the platform: actions and snapshots (each keyed); look-ups change nothing.
		if key != "" && (op == "actions" || op == "preserve") && resp.StatusCode < 500 {
			rc.ledger.record(fxPlatform, op+" "+key, i, resp.Header.Get("Idempotent-Replayed") == "true")
			rc.slowly()
		}
		return nil
	}
	mux.Handle("/connector/", toPlatform)
	toSOR := httputil.NewSingleHostReverseProxy(sorDB)
	toSOR.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		stored, existing := sorAnswer(resp.StatusCode, body)
		for _, p := range stored {
			rc.ledger.record(fxStatement, p, i, false)
		}
		for _, p := range existing {
			rc.ledger.record(fxStatement, p, i, true)
		}
		if len(stored)+len(existing) > 0 {
			rc.slowly()
		}
		return nil
	}
	mux.Handle("/api/v1/", toSOR)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, ln.Addr().String(), nil
}

// sorAnswer reads the Transparency Database's answer: the puids it stored, and those it
// refused because it holds them already.
func sorAnswer(status int, body []byte) (stored, existing []string) {
	var a struct {
		PUID       json.RawMessage `json:"puid"`
		Statements []struct {
			PUID json.RawMessage `json:"puid"`
		} `json:"statements"`
		Existing struct {
			PUID json.RawMessage `json:"puid"`
		} `json:"existing"`
		Errors struct {
			ExistingPUIDs []json.RawMessage `json:"existing_puids"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &a) != nil {
		return nil, nil
	}
	p := func(raw json.RawMessage) string { return strings.Trim(string(raw), `"`) }
	switch status {
	case http.StatusCreated:
		if len(a.PUID) > 0 {
			stored = append(stored, p(a.PUID))
		}
		for _, s := range a.Statements {
			stored = append(stored, p(s.PUID))
		}
	case http.StatusUnprocessableEntity:
		if len(a.Existing.PUID) > 0 {
			existing = append(existing, p(a.Existing.PUID))
		}
		for _, e := range a.Errors.ExistingPUIDs {
			existing = append(existing, p(e))
		}
	}
	return stored, existing
}

// relay is node i's mail relay: it takes every message, notes its Message-ID, and answers
// 250 a moment later.
func (rc *receivers) relay(i int) (*smtp.Server, string, error) {
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &relaySession{rc: rc, node: i}, nil }))
	s.Domain = "relay.chaos.test"
	s.ErrorLog = log.New(io.Discard, "", 0) // a node killed in a session is the point
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	go s.Serve(ln)
	return s, ln.Addr().String(), nil
}

type relaySession struct {
	rc   *receivers
	node int
}

func (*relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (*relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (*relaySession) Reset()                               {}
func (*relaySession) Logout() error                        { return nil }
func (s *relaySession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, m.Body)
	id := m.Header.Get("Message-Id")
	if id == "" {
		return &smtp.SMTPError{Code: 554, Message: "no Message-ID"}
	}
	s.rc.ledger.record(fxMail, strings.Trim(id, "<>"), s.node, false)
	s.rc.slowly()
	return nil
}

func (rc *receivers) close() {
	for _, f := range rc.fronts {
		f.Close()
	}
	for _, r := range rc.relays {
		r.Close()
	}
	if rc.sorDB != nil {
		rc.sorDB.Close()
	}
	if rc.platform != nil {
		rc.platform.stop()
	}
}

// freshSchema creates a schema of its own for the campaign in the database at base and
// returns the URL that uses it, and how to drop it.
func freshSchema(base string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", base, err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("docket_effects_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

// workItem is a case staff work on through the API until its effect is asked for.
type workItem struct {
	kind    string // "remove", "restrict" or "answer"
	caseID  string // known from the receipt, or found from mailKey
	mailKey string // the idempotency key of an e-mail (answer)
	target  string
	tries   int
}

// staff works the items through the API of whichever node is up, the way a careful person
// does: after a call whose answer a crash hid, it reads the case again before the next
// step, so that no step is asked for twice.
type staff struct {
	token  string
	client *http.Client
	lookup func(ctx context.Context, mailKey string) (string, error) // an e-mail's case
	node   func(k int) *node                                         // a node that is up, or nil

	mu       sync.Mutex
	queue    []*workItem
	busy     int
	done     map[string]int // by kind
	refused  []string
	attempts int
}

func (s *staff) add(it *workItem) {
	s.mu.Lock()
	s.queue = append(s.queue, it)
	s.mu.Unlock()
}

// run works items until stop is closed.
func (s *staff) run(stop <-chan struct{}, k int) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
			continue
		}
		it := s.queue[0]
		s.queue = s.queue[1:]
		s.busy++
		s.mu.Unlock()
		done, err := s.work(it, k)
		k++
		s.mu.Lock()
		s.busy--
		s.attempts++
		var refused *refusal
		switch {
		case err != nil && !errors.As(err, &refused) && it.tries < 200:
			it.tries++
			s.queue = append(s.queue, it) // the node went down, or the case is not stored yet
		case err != nil:
			s.refused = append(s.refused, fmt.Sprintf("%s %s: %v", it.kind, it.caseID, err))
		case done:
			s.done[it.kind]++
		}
		s.mu.Unlock()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// idle reports whether no item is queued or being worked.
func (s *staff) idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) == 0 && s.busy == 0
}

// refusal is an answer that retrying will not change.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

// work takes one item a step further; it returns done when the effect has been asked for.
func (s *staff) work(it *workItem, k int) (bool, error) {
	n := s.node(k)
	if n == nil {
		return false, fmt.Errorf("no node up")
	}
	ctx := context.Background()
	if it.caseID == "" {
		id, err := s.lookup(ctx, it.mailKey)
		if err != nil {
			return false, err
		}
		it.caseID = id
	}
	var c struct {
		Case struct {
			State    string `json:"state"`
			Decision *struct {
				Outcome string `json:"outcome"`
			} `json:"decision"`
			Actions []struct {
				Op     string `json:"op"`
				Target struct {
					Value string `json:"value"`
				} `json:"target"`
			} `json:"actions"`
		} `json:"case"`
	}
	if err := s.call(n, "GET", "/api/v1/cases/"+it.caseID, "", &c); err != nil {
		return false, err
	}
	for {
		st := c.Case.State
		switch {
		case it.kind == "answer" && st == "answered":
			return true, nil
		case it.kind == "answer" && c.Case.Decision == nil:
			if err := s.call(n, "POST", "/api/v1/cases/"+it.caseID+"/events", `{"type":"decide","outcome":"refuse","reason_code":"unverified_sender","statement":"Sender not verified."}`, &c); err != nil {
				return false, err
			}
		case it.kind == "answer":
			if err := s.call(n, "POST", "/api/v1/cases/"+it.caseID+"/events", `{"type":"answer","text":"Merci de renvoyer la réquisition depuis votre adresse officielle."}`, &c); err != nil {
				return false, err
			}
		case slices.ContainsFunc(c.Case.Actions, func(a struct {
			Op     string `json:"op"`
			Target struct {
				Value string `json:"value"`
			} `json:"target"`
		}) bool {
			return a.Op == it.kind && a.Target.Value == it.target
		}):
			return true, nil
		case c.Case.Decision == nil:
			if err := s.call(n, "POST", "/api/v1/cases/"+it.caseID+"/events", `{"type":"decide","outcome":"comply","statement":"Valid removal order."}`, &c); err != nil {
				return false, err
			}
		default:
			countries := ""
			if it.kind == "restrict" {
				countries = `"countries":["DE"],`
			}
			body := fmt.Sprintf(`{"type":%q,"target":{"kind":"message","value":%q},%s"statement_of_reasons":{"decision_ground":"DECISION_GROUND_ILLEGAL_CONTENT","legal_ground":"Regulation (EU) 2021/784","explanation":"Terrorist content.","decision_facts":"Removal order of the chaos campaign."}}`, it.kind, it.target, countries)
			if err := s.call(n, "POST", "/api/v1/cases/"+it.caseID+"/events", body, &c); err != nil {
				return false, err
			}
		}
	}
}

// call makes one API call as the agent; an answer other than 2xx is an error (a refusal
// when it is a 4xx), and a 2xx fills out.
func (s *staff) call(n *node, method, path, body string, out any) error {
	req, _ := http.NewRequest(method, n.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status) // not there yet, or passing
	}
	if resp.StatusCode >= 300 {
		return &refusal{fmt.Sprintf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(b))}
	}
	return json.Unmarshal(b, out)
}

// leaseWatch follows the jobs and statements held when a node is killed, until each is
// let go: finished, put back, or claimed again by a node that took it over.
type leaseWatch struct {
	db    *sql.DB
	mu    sync.Mutex
	held  []*heldLease
	lease time.Duration
}

// heldLease is a job (or statement) running when a node was killed.
type heldLease struct {
	what     string // "job 17 (page)" or "statement docket-…"
	killedAt time.Time
	until    time.Time // its lease
	lockedUS int64
	released time.Time // when it was seen let go (zero: not yet)
}

// snapshot notes what is held at a kill.
func (w *leaseWatch) snapshot(ctx context.Context, killedAt time.Time) error {
	rows, err := w.db.QueryContext(ctx, `SELECT 'job ' || id || ' (' || kind || ')', locked_until FROM jobs WHERE state = 'running'
		UNION ALL SELECT 'statement ' || puid, locked_until FROM statements WHERE state = 'pending' AND locked_until > $1`, killedAt.UnixMicro())
	if err != nil {
		return err
	}
	defer rows.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	for rows.Next() {
		h := &heldLease{killedAt: killedAt}
		if err := rows.Scan(&h.what, &h.lockedUS); err != nil {
			return err
		}
		h.until = time.UnixMicro(h.lockedUS)
		w.held = append(w.held, h)
	}
	return rows.Err()
}

// poll notes which of the held leases were let go since the last poll.
func (w *leaseWatch) poll(ctx context.Context) error {
	rows, err := w.db.QueryContext(ctx, `SELECT 'job ' || id || ' (' || kind || ')', locked_until FROM jobs WHERE state = 'running'
		UNION ALL SELECT 'statement ' || puid, locked_until FROM statements WHERE state = 'pending' AND locked_until > 0`)
	if err != nil {
		return err
	}
	now := time.Now()
	still := map[string]int64{}
	for rows.Next() {
		var what string
		var us int64
		if err := rows.Scan(&what, &us); err != nil {
			rows.Close()
			return err
		}
		still[what] = us
	}
	rows.Close()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.held {
		if h.released.IsZero() {
			if us, ok := still[h.what]; !ok || us != h.lockedUS {
				h.released = now
			}
		}
	}
	return nil
}

// run polls every 200 ms until stop is closed.
func (w *leaseWatch) run(stop <-chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			w.poll(context.Background())
		}
	}
}

// takeovers sums up the leases held at the kills: how many, how many were let go only
// after the kill by more than a second (those of the killed node, taken over), the latest
// release after its kill, how late after its lease ended the latest was let go, and how many
// were never let go or let go later than the lease and a margin allow.
type takeovers struct {
	Held       int     `json:"held"`
	TakenOver  int     `json:"taken_over"`
	MaxAfterS  float64 `json:"max_after_kill_s"`
	MaxLateS   float64 `json:"max_after_lease_s"`
	Overdue    int     `json:"overdue"`
	overdueFor []string
}

func (w *leaseWatch) sum(margin time.Duration) takeovers {
	w.mu.Lock()
	defer w.mu.Unlock()
	var t takeovers
	for _, h := range w.held {
		t.Held++
		if h.released.IsZero() || h.released.After(h.until.Add(margin)) {
			t.Overdue++
			t.overdueFor = append(t.overdueFor, h.what)
			continue
		}
		after := h.released.Sub(h.killedAt)
		if after > time.Second {
			t.TakenOver++
		}
		t.MaxAfterS = max(t.MaxAfterS, after.Seconds())
		t.MaxLateS = max(t.MaxLateS, h.released.Sub(h.until).Seconds())
	}
	return t
}

// fxCount is the proof for one kind of effect: what the database says was due, and what
// the receivers took.
type fxCount struct {
	Due     int `json:"due"`     // effects the database says were due
	Lost    int `json:"lost"`    // due, never carried out at the receiver
	Twice   int `json:"twice"`   // carried out twice at the receiver (by the ledger, or the platform's own history)
	Noted2  int `json:"noted2"`  // recorded done twice in docket's log
	Undone  int `json:"undone"`  // due, and docket's log does not say it was done
	Retries int `json:"retries"` // deliveries of a key already taken: deduplicated by the receiver
	// Snapshots are the platform's snapshots taken before a removal under a regime that
	// keeps removed content (TCO): effects of their own, keyed KEY-keep.
	Snapshots int `json:"snapshots,omitempty"`
	tally
	lostKeys []string
}

// proveEffects reads what was due from the database and compares it with the ledger and the
// reference platform's history.
func proveEffects(ctx context.Context, db *sql.DB, l *ledger, platformData string) (map[string]*fxCount, error) {
	out := map[string]*fxCount{}
	for _, k := range fxKinds {
		out[k] = &fxCount{tally: l.tally(k)}
		out[k].Retries = out[k].Deduped
		out[k].Twice = out[k].tally.Twice
	}
	due := func(kind, key string, done bool) {
		c := out[kind]
		c.Due++
		if !l.effected(kind, key) {
			c.Lost++
			c.lostKeys = append(c.lostKeys, key)
		}
		if !done {
			c.Undone++
		}
	}
	// Pages: every emergency case, step 0 of the ladder, recorded paged once.
	paged := map[string]int{}
	if err := eachRow(ctx, db, `SELECT case_id, data FROM events WHERE type = 'paged'`, func(caseID, data string) {
		var p struct{ Step int }
		json.Unmarshal([]byte(data), &p)
		if p.Step == 0 {
			paged[caseID]++
		}
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, db, `SELECT id, '' FROM cases WHERE emergency <> 0`, func(id, _ string) {
		due(fxPage, "docket-"+id+"/0", paged[id] > 0)
		if paged[id] > 1 {
			out[fxPage].Noted2++
		}
	}); err != nil {
		return nil, err
	}
	// Platform actions: every action asked for, done once.
	doneActs := map[string]int{}
	if err := eachRow(ctx, db, `SELECT case_id, data FROM events WHERE type = 'action_done'`, func(caseID, data string) {
		var d struct{ Action int64 }
		json.Unmarshal([]byte(data), &d)
		doneActs[fmt.Sprintf("%s/%d", caseID, d.Action)]++
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, db, `SELECT case_id || '/' || seq, data FROM events WHERE type = 'action_requested'`, func(id, data string) {
		var a struct{ Key string }
		json.Unmarshal([]byte(data), &a)
		due(fxPlatform, "actions "+a.Key, doneActs[id] > 0)
		if doneActs[id] > 1 {
			out[fxPlatform].Noted2++
		}
	}); err != nil {
		return nil, err
	}
	// The platform's own record: each action it carried out, by the puid of its statement.
	pdb, err := sql.Open("sqlite", "file:"+filepath.Join(platformData, "refplatform.db")+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer pdb.Close()
	twice := 0
	if err := eachRow(ctx, pdb, `SELECT puid, COUNT(*) FROM history GROUP BY puid HAVING COUNT(*) > 1`, func(string, string) { twice++ }); err != nil {
		return nil, fmt.Errorf("the platform's history: %w", err)
	}
	out[fxPlatform].Twice = max(out[fxPlatform].Twice, twice)
	l.mu.Lock()
	for key := range l.seen[fxPlatform] {
		if strings.HasPrefix(key, "preserve ") {
			out[fxPlatform].Snapshots++
		}
	}
	l.mu.Unlock()
	// Statements of reasons: every statement queued, accepted once.
	if err := eachRow(ctx, db, `SELECT puid, state FROM statements`, func(puid, state string) {
		due(fxStatement, puid, state == "accepted")
	}); err != nil {
		return nil, err
	}
	// Mail: every answer of a case opened by e-mail, sent once under its Message-ID.
	sent := map[string]int{}
	if err := eachRow(ctx, db, `SELECT case_id, data FROM events WHERE type = 'mail_sent'`, func(_, data string) {
		var m struct {
			Purpose   string `json:"purpose"`
			MessageID string `json:"message_id"`
		}
		json.Unmarshal([]byte(data), &m)
		sent[m.MessageID]++
	}); err != nil {
		return nil, err
	}
	if err := eachRow(ctx, db, `SELECT e.case_id, e.seq::text FROM events e WHERE e.type = 'answered'
		AND EXISTS (SELECT 1 FROM requests r WHERE r.case_id = e.case_id AND r.channel = 'email')`, func(caseID, seq string) {
		id := "docket." + caseID + "." + seq + "@" + mailDomain
		due(fxMail, id, sent[id] > 0)
		if sent[id] > 1 {
			out[fxMail].Noted2++
		}
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// eachRow runs a query of two text columns and calls fn on each row.
func eachRow(ctx context.Context, db *sql.DB, q string, fn func(a, b string)) error {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
}

// effectJobs are the kinds of jobs whose work leads to an effect.
const effectJobs = `('page', 'platform.action', 'mail.answer', 'mail.receipt', 'triage', 'media.match')`

// quietJobs waits until no effect is left to carry out — no job that makes one pending or
// running, no statement pending — and returns how many are left, and how many such jobs
// failed for good.
func quietJobs(ctx context.Context, db *sql.DB, within time.Duration) (left, failed int, err error) {
	end := time.Now().Add(within)
	for {
		err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM jobs WHERE kind IN `+effectJobs+` AND state IN ('pending', 'running'))
			+ (SELECT COUNT(*) FROM statements WHERE state = 'pending'),
			(SELECT COUNT(*) FROM jobs WHERE kind IN `+effectJobs+` AND state = 'failed')`).Scan(&left, &failed)
		if err != nil || left == 0 || time.Now().After(end) {
			return left, failed, err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// addUser runs `docket user add` and returns the new staff member's API token.
func addUser(docketBin string, env []string, email, role string) (string, error) {
	cmd := exec.Command(docketBin, "user", "add", "--email", email, "--role", role, "--json")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("user add: %w", err)
	}
	var u struct{ Token string }
	if err := json.Unmarshal(out, &u); err != nil || u.Token == "" {
		return "", fmt.Errorf("user add: %q", out)
	}
	return u.Token, nil
}

// effectsRun is what the effects part of a campaign found.
type effectsRun struct {
	counts       map[string]*fxCount
	leases       takeovers
	staff        *staff
	left, failed int // effect jobs or statements still due at the end; effect jobs failed for good
	slow         int // receivers' answers held past the lease (--slow)
}

// report prints the effects' summary (and its JSON line) and says whether a promise broke.
func (fx *effectsRun) report(w io.Writer, asJSON bool, lease time.Duration) (broken bool) {
	var parts []string
	retries, lost, twice, noted2, undone := 0, 0, 0, 0, 0
	for _, k := range fxKinds {
		c := fx.counts[k]
		snaps := ""
		if c.Snapshots > 0 {
			snaps = fmt.Sprintf(" + %d snapshots before removal", c.Snapshots)
		}
		parts = append(parts, fmt.Sprintf("%s %d due / %d done%s (%d deliveries, %d by both nodes)", k, c.Due, c.Effects-c.Snapshots, snaps, c.Deliveries, c.ByOther))
		retries += c.Retries
		lost += c.Lost
		twice += c.Twice
		noted2 += c.Noted2
		undone += c.Undone
	}
	fmt.Fprintf(w, "effects: %s\n", strings.Join(parts, "; "))
	fmt.Fprintf(w, "effects: %d lost, %d carried out twice, %d recorded done twice, %d not recorded done; %d retries deduplicated by key at the receiver (page %d, platform %d, mail %d, statement %d); %d effect jobs failed for good, %d still due at the end\n",
		lost, twice, noted2, undone, retries, fx.counts[fxPage].Retries, fx.counts[fxPlatform].Retries, fx.counts[fxMail].Retries, fx.counts[fxStatement].Retries, fx.failed, fx.left)
	l := fx.leases
	if fx.slow > 0 {
		fmt.Fprintf(w, "receivers answered %d times only after the lease had run out (--slow)\n", fx.slow)
	}
	fmt.Fprintf(w, "leases (job_lease %s): %d jobs and statements held at the kills, %d let go over a second after the kill (taken over), all within %.1f s of the kill and %.1f s of their lease's end; %d not let go in time %v\n",
		lease, l.Held, l.TakenOver, l.MaxAfterS, l.MaxLateS, l.Overdue, l.overdueFor)
	fx.staff.mu.Lock()
	fmt.Fprintf(w, "staff through the API: %d removals, %d restrictions, %d answers asked for (%d steps, %d refused, %d left undone)\n",
		fx.staff.done["remove"], fx.staff.done["restrict"], fx.staff.done["answer"], fx.staff.attempts, len(fx.staff.refused), len(fx.staff.queue)+fx.staff.busy)
	for i, r := range fx.staff.refused {
		if i == 5 {
			break
		}
		fmt.Fprintf(w, "  refused: %s\n", r)
	}
	fx.staff.mu.Unlock()
	for _, k := range fxKinds {
		if ks := fx.counts[k].lostKeys; len(ks) > 0 {
			fmt.Fprintf(w, "  lost %s: %v\n", k, ks[:min(len(ks), 5)])
		}
	}
	if asJSON {
		js, _ := json.Marshal(map[string]any{"effects": fx.counts, "leases": l, "lease_s": lease.Seconds(), "failed_jobs": fx.failed, "left": fx.left,
			"slow": fx.slow, "lost": lost, "twice": twice, "recorded_twice": noted2, "retries_deduplicated": retries})
		fmt.Fprintln(w, string(js))
	}
	none := 0 // kinds of which no effect was due: the campaign proved nothing of them
	for _, k := range fxKinds {
		if fx.counts[k].Due == 0 {
			fmt.Fprintf(w, "effects: no %s was due: nothing proven of it\n", k)
			none++
		}
	}
	return lost+twice+noted2+undone+fx.failed+fx.left+l.Overdue+none > 0
}
