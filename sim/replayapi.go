package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// Submission is one HTTP request that sends an arrival to docket: a notice to the public
// endpoint, or an authority's request with its class's token.
type Submission struct {
	Class     int
	Authority bool // sent with the class's authority's token
	Path      string
	Body      []byte
}

// Submittable reports whether a class's requests can be sent over the API: notices, and
// requests from a known requester (an e-mail from nobody in particular, such as misdirected
// mail, comes only by SMTP).
func Submittable(cl *Class) bool { return cl.Channel == docket.ChannelNotice || cl.Spam < 1 }

// RequestFor maps an arrival of class cl onto the API request that sends it: a notice names
// its content (t.me/c/1/TARGET, the simulation's popularity draw, so that notices about the
// same content join one case as they do in the simulation) or, spam, a link of its own; an
// authority's request cites its class's regime and kind, is flagged an emergency when its
// sender flagged it, and carries ref as its reference (a request about the matter of an
// open case repeats that case's reference, so that the server joins it). n numbers the
// arrival; the texts vary with it so that no two notices are near-duplicates.
func RequestFor(cl *Class, a Arrival, ref string, n int) Submission {
	if cl.Channel == docket.ChannelNotice {
		// Each notifier sends one notice: the misuse rules (DSA art. 23) count per notifier.
		in := map[string]any{"name": fmt.Sprintf("Notifier %d", n), "email": fmt.Sprintf("notifier%d@sim.example", n), "good_faith": true}
		if a.Spam {
			in["explanation"] = "Buy cheap followers now!!! Best crypto investment, double your bitcoin, click here to win. " + words(uint64(n), 12)
			in["locations"] = []string{fmt.Sprintf("https://spam.example/%d", n)}
		} else {
			in["explanation"] = fmt.Sprintf("This post breaks the law: %s. Item %d.", words(uint64(a.Target), 14), a.Target)
			in["locations"] = []string{fmt.Sprintf("https://t.me/c/1/%d", a.Target)}
		}
		if len(a.Country) == 2 && a.Country != "ZZ" {
			in["country"] = a.Country
		}
		b, _ := json.Marshal(in)
		return Submission{Class: a.Class, Path: "/api/v1/notices", Body: b}
	}
	in := map[string]any{
		"regime": cl.Regime, "kind": cl.Kind, "reference": ref,
		"description": fmt.Sprintf("Request %s under %s: %s concerning the account named in our file.", ref, cl.Regime, cl.Kind),
		"legal_basis": "The provisions of " + cl.Regime + " cited in the attached order.",
		"reasons":     "The account is relevant to an investigation of fraud.",
		"redress":     "An appeal lies with the court that issued the order.",
		// The account named is the matter's: requests about it join its case.
		"targets": []docket.Target{{Kind: "username", Value: "@" + strings.ToLower(strings.ReplaceAll(ref, "-", ""))}},
	}
	if a.Flagged {
		in["emergency"] = true
	}
	b, _ := json.Marshal(in)
	return Submission{Class: a.Class, Authority: true, Path: "/api/v1/requests", Body: b}
}

var vocabulary = strings.Fields(`insults defames harasses mocks copies steals repeats shares publishes posts
	photo video message comment channel group account profile picture address number name
	neighbour colleague teacher brother sister friend stranger customer artist singer writer
	without consent permission again daily weekly twice falsely openly publicly repeatedly
	private personal family home school office shop street village town city market garden`)

// words returns k words of the vocabulary drawn from seed.
func words(seed uint64, k int) string {
	rng := rand.New(rand.NewPCG(seed, 0xface))
	w := make([]string, k)
	for i := range w {
		w[i] = vocabulary[rng.IntN(len(vocabulary))]
	}
	return strings.Join(w, " ")
}

// APIServer is a docket server reached over HTTP at Base, its clock moved by Clock (a
// server started by the same program with that clock: the API has no way to move it).
type APIServer struct {
	Base   string
	Client *http.Client
	Clock  func(time.Time)
	// Staff are the persons' API tokens, Authorities the classes' (empty: none).
	Staff       []string
	Authorities []string
	admin       string
}

// NewAPIServer registers, with the admin token, one user per person (reviewers with the
// reviewer role, the others agents) and one authority per class that needs one.
func NewAPIServer(ctx context.Context, base, admin string, clock func(time.Time), cfg *Config, staff int) (*APIServer, error) {
	s := &APIServer{Base: strings.TrimRight(base, "/"), Client: &http.Client{Timeout: time.Minute}, Clock: clock, admin: admin}
	people := buildStaff(cfg, staff, map[string]int{}, map[string]int{}, cfg.Start, cfg.Start.Add(24*time.Hour))
	for i, p := range people {
		role := docket.RoleAgent
		if p.reviewer {
			role = docket.RoleReviewer
		}
		var out struct{ Token string }
		if err := s.call(ctx, admin, "POST", "/api/v1/users", map[string]any{"email": fmt.Sprintf("person%d@sim.example", i), "role": role}, &out); err != nil {
			return nil, err
		}
		s.Staff = append(s.Staff, out.Token)
	}
	for _, cl := range cfg.Classes {
		tok := ""
		if cl.Channel != docket.ChannelNotice && Submittable(&cl) {
			var out struct{ Token string }
			if err := s.call(ctx, admin, "POST", "/api/v1/authorities", map[string]any{"name": "sim " + cl.Name, "country": countryCode(firstKey(cl.Countries))}, &out); err != nil {
				return nil, err
			}
			tok = out.Token
		}
		s.Authorities = append(s.Authorities, tok)
	}
	return s, nil
}

var _ Server = (*APIServer)(nil)

// SetNow moves the server's clock.
func (s *APIServer) SetNow(t time.Time) { s.Clock(t) }

// Submit sends a request and returns its receipt.
func (s *APIServer) Submit(ctx context.Context, sub Submission) (docket.Receipt, error) {
	var rc docket.Receipt
	tok := ""
	if sub.Authority {
		tok = s.Authorities[sub.Class]
	}
	err := s.call(ctx, tok, "POST", sub.Path, json.RawMessage(sub.Body), &rc)
	return rc, err
}

// Case returns a case.
func (s *APIServer) Case(ctx context.Context, id string) (*CaseView, error) {
	cv, _, err := s.History(ctx, id)
	return cv, err
}

// History returns a case with its events.
func (s *APIServer) History(ctx context.Context, id string) (*CaseView, []docket.Event, error) {
	var out struct {
		Case   CaseView       `json:"case"`
		Events []docket.Event `json:"events"`
	}
	err := s.call(ctx, s.admin, "GET", "/api/v1/cases/"+url.PathEscape(id), nil, &out)
	return &out.Case, out.Events, err
}

// Queue returns cases in states in the console's queue order.
func (s *APIServer) Queue(ctx context.Context, states []docket.CaseState, limit, offset int) ([]*CaseView, error) {
	st := make([]string, len(states))
	for i, x := range states {
		st[i] = string(x)
	}
	q := url.Values{"state": {strings.Join(st, ",")}, "sort": {"queue"}, "limit": {fmt.Sprint(limit)}, "offset": {fmt.Sprint(offset)}}
	var out struct {
		Cases []*CaseView `json:"cases"`
	}
	err := s.call(ctx, s.admin, "GET", "/api/v1/cases?"+q.Encode(), nil, &out)
	return out.Cases, err
}

// Act takes a person's action on a case.
func (s *APIServer) Act(ctx context.Context, person int, caseID string, a workflow.Action) (*CaseView, error) {
	var out struct {
		Case CaseView `json:"case"`
	}
	err := s.call(ctx, s.Staff[person], "POST", "/api/v1/cases/"+url.PathEscape(caseID)+"/events", a, &out)
	return &out.Case, err
}

// Reply sends the authority's reply to a question on its request.
func (s *APIServer) Reply(ctx context.Context, class int, requestID string) error {
	return s.call(ctx, s.Authorities[class], "POST", "/api/v1/requests/"+url.PathEscape(requestID)+"/replies", map[string]string{"text": "Here is the information you asked for."}, nil)
}

func (s *APIServer) call(ctx context.Context, token, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.Base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}
