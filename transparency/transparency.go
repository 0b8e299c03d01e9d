// Package transparency submits docket's statements of reasons to the Commission's DSA
// Transparency Database (DSA art. 24(5)) from the job queue: a recurring job claims the
// pending statements, checks each by the database's rules (package sor), sends them — one
// with POST /api/v1/statement, more in batches of up to 100 with POST /api/v1/statements —
// and records, on each statement's case, the database's answer: accepted with its id, or
// refused with its reasons. Failures that say nothing about a statement (the database
// unreachable, a timeout, 5xx, 429, a token or address it does not know) are retried with
// backoff, for as long as it takes: a statement is never dropped.
package transparency

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/jobs"
	"github.com/docket-dev/docket/sor"
	"github.com/docket-dev/docket/workflow"
)

// Paths of the API.
const (
	PathStatement  = "/api/v1/statement"
	PathStatements = "/api/v1/statements"
)

// Client calls the database's API.
type Client struct {
	// BaseURL is the database's address (https://transparency.dsa.ec.europa.eu, or its
	// sandbox); Token the platform's API token.
	BaseURL string
	Token   string
	// HTTP is the client used (default: one with a 30 s timeout).
	HTTP *http.Client
}

// maxAnswer bounds what is read of an answer: a batch of 100 statements comes back whole.
const maxAnswer = 8 << 20

// post sends body and returns the database's status and answer; err is set only when no
// answer came (the network, a timeout).
func (c *Client) post(ctx context.Context, path string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read the answer: %w", err)
	}
	return resp.StatusCode, resp.Header, answer, nil
}

// Submitter runs the submission job.
type Submitter struct {
	Service *workflow.Service
	Store   docket.Store
	Client  *Client
	Logger  *slog.Logger
	// Interval is how often the job looks for due statements (default 10 s); Batch how many
	// one call sends (1 to 100, default 100); Lease how long a claimed statement belongs to
	// this node (default 2 minutes); Rounds how many batches one run sends at most (10).
	Interval time.Duration
	Batch    int
	Lease    time.Duration
	Rounds   int
}

// Register adds the recurring job to a runner.
func (s *Submitter) Register(r *jobs.Runner) {
	r.Every(workflow.JobSubmitStatements, cmp.Or(s.Interval, 10*time.Second), s.Run)
}

func (s *Submitter) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Run sends the due statements, a batch at a time, until none is due (or Rounds batches
// were sent: the next run goes on).
func (s *Submitter) Run(ctx context.Context, _ *docket.Job) error {
	batch := min(max(s.Batch, 0), sor.MaxBatch)
	if batch == 0 {
		batch = sor.MaxBatch
	}
	for range cmp.Or(s.Rounds, 10) {
		due, err := s.Store.ClaimStatements(ctx, s.Service.Now(), batch, cmp.Or(s.Lease, 2*time.Minute))
		if err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		if err := s.Submit(ctx, due); err != nil {
			return err
		}
	}
	return nil
}

// result is what became of the statements of one call.
type result struct {
	outcomes []workflow.StatementOutcome
	// retry are the statements to send again later, with why; again, those to send again
	// at once (a batch refused for another statement's sake: none of it was stored).
	retry   []retry
	after   time.Duration // the database's Retry-After, if any
	again   []*docket.StatementRecord
	singles []*docket.StatementRecord // to send one by one now (a batch the database did not judge statement by statement)
}

type retry struct {
	r   *docket.StatementRecord
	why string
}

// Submit sends claimed statements and records what became of them: each is accepted,
// refused, or put back for a later attempt.
func (s *Submitter) Submit(ctx context.Context, due []*docket.StatementRecord) error {
	var res result
	var send []*docket.StatementRecord
	for _, r := range due {
		if errs := sor.Validate(r.Payload, sor.Single); errs != nil {
			// Refused by the database's own rules: never sent (the database would refuse it).
			res.outcomes = append(res.outcomes, workflow.StatementOutcome{Statement: r, Error: workflow.RefusalText(errs)})
			continue
		}
		send = append(send, r)
	}
	switch len(send) {
	case 0:
	case 1:
		s.single(ctx, send[0], &res)
	default:
		s.batch(ctx, send, &res)
	}
	for _, r := range res.singles {
		s.single(ctx, r, &res)
	}
	if err := s.Service.RecordStatements(ctx, res.outcomes); err != nil {
		// The statements stay pending and leased: they are claimed again when the lease ends.
		return err
	}
	for _, o := range res.outcomes {
		if o.Accepted {
			s.log().InfoContext(ctx, "statement of reasons accepted by the Transparency Database", slog.String("case", o.Statement.CaseID),
				slog.String("puid", o.Statement.PUID), slog.String("id", o.ID), slog.Bool("existing", o.Existing))
		} else {
			s.log().WarnContext(ctx, "statement of reasons refused", slog.String("case", o.Statement.CaseID),
				slog.String("puid", o.Statement.PUID), slog.Int("status", o.Status), slog.String("error", o.Error))
		}
	}
	now := s.Service.Now()
	if len(res.again) > 0 {
		if err := s.Store.RetryStatements(ctx, puids(res.again), now, ""); err != nil {
			return err
		}
	}
	// Each statement waits by its own count of attempts: 1 s, 2 s, 4 s… up to an hour.
	type later struct {
		wait time.Duration
		why  string
	}
	groups := map[later][]string{}
	for _, rt := range res.retry {
		k := later{max(jobs.Backoff(rt.r.Attempts), res.after), rt.why}
		groups[k] = append(groups[k], rt.r.PUID)
	}
	for k, ps := range groups {
		if err := s.Store.RetryStatements(ctx, ps, now.Add(k.wait), k.why); err != nil {
			return err
		}
	}
	return nil
}

func puids(rs []*docket.StatementRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.PUID
	}
	return out
}

// single sends one statement with POST /api/v1/statement.
func (s *Submitter) single(ctx context.Context, r *docket.StatementRecord, res *result) {
	status, hdr, body, err := s.Client.post(ctx, PathStatement, r.Payload)
	if err != nil {
		s.later(ctx, res, hdr, []*docket.StatementRecord{r}, "no answer from the Transparency Database: "+err.Error())
		return
	}
	switch judge(status) {
	case accepted:
		var a struct {
			UUID string          `json:"uuid"`
			ID   json.RawMessage `json:"id"`
		}
		json.Unmarshal(body, &a)
		res.outcomes = append(res.outcomes, workflow.StatementOutcome{Statement: r, Accepted: true, ID: cmp.Or(a.UUID, strings.Trim(string(a.ID), `"`))})
	case refused:
		var a struct {
			Message  string         `json:"message"`
			Errors   map[string]any `json:"errors"`
			Existing any            `json:"existing"`
		}
		json.Unmarshal(body, &a)
		if status == http.StatusUnprocessableEntity && a.Existing != nil && len(a.Errors) == 1 && a.Errors["puid"] != nil {
			res.outcomes = append(res.outcomes, duplicate(r, status, body))
			return
		}
		res.outcomes = append(res.outcomes, workflow.StatementOutcome{Statement: r, Status: status, Error: text(status, body)})
	default:
		s.later(ctx, res, hdr, []*docket.StatementRecord{r}, answered(status, body))
	}
}

// duplicate is the outcome of a puid the database already holds. After an attempt whose
// answer docket did not get (a timeout, a 5xx), that attempt stored it: it is accepted (the
// database gives no id then). On a first attempt the puid was used by someone else: refused.
func duplicate(r *docket.StatementRecord, status int, body []byte) workflow.StatementOutcome {
	if r.Attempts > 1 {
		return workflow.StatementOutcome{Statement: r, Accepted: true, Existing: true}
	}
	return workflow.StatementOutcome{Statement: r, Status: status, Error: text(status, body)}
}

// batch sends statements with POST /api/v1/statements.
func (s *Submitter) batch(ctx context.Context, rs []*docket.StatementRecord, res *result) {
	var b bytes.Buffer
	b.WriteString(`{"statements":[`)
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r.Payload)
	}
	b.WriteString(`]}`)
	status, hdr, body, err := s.Client.post(ctx, PathStatements, b.Bytes())
	if err != nil {
		s.later(ctx, res, hdr, rs, "no answer from the Transparency Database: "+err.Error())
		return
	}
	byPUID := map[string]*docket.StatementRecord{}
	for _, r := range rs {
		byPUID[r.PUID] = r
	}
	switch judge(status) {
	case accepted:
		var a struct {
			Statements []struct {
				PUID json.RawMessage `json:"puid"`
				UUID string          `json:"uuid"`
			} `json:"statements"`
		}
		json.Unmarshal(body, &a)
		for _, st := range a.Statements {
			p := strings.Trim(string(st.PUID), `"`)
			if r := byPUID[p]; r != nil && st.UUID != "" {
				res.outcomes = append(res.outcomes, workflow.StatementOutcome{Statement: r, Accepted: true, ID: st.UUID})
				delete(byPUID, p)
			}
		}
		if len(byPUID) > 0 {
			// Stored, as the 201 says, but not named in the answer: the next attempt learns it
			// (the database then answers that it holds the puid).
			var missing []*docket.StatementRecord
			for _, r := range rs {
				if byPUID[r.PUID] != nil {
					missing = append(missing, r)
				}
			}
			s.later(ctx, res, hdr, missing, "the Transparency Database stored a batch but its answer did not name these statements")
		}
	case refused:
		if status != http.StatusUnprocessableEntity {
			res.singles = append(res.singles, rs...) // too large, malformed…: each gets its own verdict
			return
		}
		var a struct {
			Message string                     `json:"message"`
			Errors  map[string]json.RawMessage `json:"errors"`
		}
		json.Unmarshal(body, &a)
		judged := false
		for i, r := range rs {
			if e, ok := a.Errors["statement_"+strconv.Itoa(i)]; ok {
				judged = true
				errs, _ := json.Marshal(map[string]any{"message": firstMessage(e), "errors": e})
				res.outcomes = append(res.outcomes, workflow.StatementOutcome{Statement: r, Status: status, Error: string(errs)})
				delete(byPUID, r.PUID)
			}
		}
		var existing []json.RawMessage
		if e, ok := a.Errors["existing_puids"]; ok && json.Unmarshal(e, &existing) == nil {
			for _, raw := range existing {
				p := strings.Trim(string(raw), `"`)
				if r := byPUID[p]; r != nil {
					judged = true
					res.outcomes = append(res.outcomes, duplicate(r, status, body))
					delete(byPUID, p)
				}
			}
		}
		for _, r := range rs {
			if byPUID[r.PUID] == nil {
				continue
			}
			if judged {
				res.again = append(res.again, r) // none of the batch was stored
			} else {
				res.singles = append(res.singles, r)
			}
		}
	default:
		s.later(ctx, res, hdr, rs, answered(status, body))
	}
}

// later puts statements back for another attempt.
func (s *Submitter) later(ctx context.Context, res *result, hdr http.Header, rs []*docket.StatementRecord, why string) {
	if secs, err := strconv.Atoi(hdr.Get("Retry-After")); err == nil && secs > 0 {
		res.after = max(res.after, time.Duration(secs)*time.Second)
	}
	level := slog.LevelWarn
	if strings.Contains(why, "answered 401") || strings.Contains(why, "answered 403") || strings.Contains(why, "answered 404") {
		level, why = slog.LevelError, why+" (check sor_url and sor_token)"
	}
	for _, r := range rs {
		res.retry = append(res.retry, retry{r, why})
	}
	s.log().Log(ctx, level, "statements of reasons not submitted; will retry", slog.Int("statements", len(rs)), slog.String("why", why))
}

// kinds of answers.
const (
	accepted = iota
	refused
	retried
)

// judge says what an HTTP status means for the statements sent. The database judged them
// with 400, 413, 422 and other 4xx: refused (422 is its validation and its puid check).
// Some 4xx say nothing about the statements and are retried, so that none is lost: 401
// and 403 (the token), 404 and 405 (the address), 408 and 429 (later, by definition), 425.
// 5xx are retried; so is anything else unexpected.
func judge(status int) int {
	switch {
	case status >= 200 && status < 300:
		return accepted
	case status == 401 || status == 403 || status == 404 || status == 405 || status == 408 || status == 425 || status == 429:
		return retried
	case status >= 400 && status < 500:
		return refused
	}
	return retried
}

// answered says what the database answered, for a statement put back for later.
func answered(status int, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 200 {
		body = append(body[:200:200], "…"...)
	}
	return strings.TrimSuffix(fmt.Sprintf("the Transparency Database answered %d %s: %s", status, http.StatusText(status), body), ": ")
}

// firstMessage is the first message of a JSON object of field → messages, in its order.
func firstMessage(errs json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(errs))
	inList := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return "The statement was refused."
		}
		if d, ok := tok.(json.Delim); ok {
			inList = d == '['
			continue
		}
		if msg, ok := tok.(string); ok && inList {
			return msg
		}
	}
}

// text is the database's answer as kept with a refusal: its JSON, or the status.
func text(status int, body []byte) string {
	body = bytes.TrimSpace(body)
	const keep = 4000
	if len(body) > keep {
		body = append(body[:keep:keep], "…"...)
	}
	if len(body) == 0 {
		return fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	if json.Valid(body) {
		return string(body)
	}
	return fmt.Sprintf("%d %s: %s", status, http.StatusText(status), body)
}
