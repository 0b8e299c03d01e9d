package api

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

const maxIdempotencyKey = 255

func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > maxIdempotencyKey {
		return "", docket.Errorf(docket.EMALFORMED, "Idempotency-Key is longer than %d characters.", maxIdempotencyKey)
	}
	for _, c := range []byte(k) {
		if c < 0x21 || c > 0x7e {
			return "", docket.Errorf(docket.EMALFORMED, "Idempotency-Key must be printable ASCII without spaces.")
		}
	}
	return k, nil
}

func (s *Server) writeReceipt(w http.ResponseWriter, res *workflow.Result) {
	w.Header().Set("Location", "/api/v1/requests/"+res.Receipt.ID)
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	// Compact, unlike other answers: with its proof a receipt is 2–3 KB, and indenting it
	// would cost five times its encoding on the intake's hot path.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(res.Receipt)
}

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := s.allowRequester(w, p.authority.ID); err != nil {
		return err
	}
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	raw, ct, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if key != "" {
		// A reused key with another body is a conflict even when that body is invalid; the
		// committer checks again inside its transaction.
		prev, err := s.store.RequestByIdempotencyKey(r.Context(), p.authority.ID, key)
		if err == nil && prev.SHA256 != workflow.SHA256(raw) {
			return docket.Errorf(docket.ECONFLICT, "Idempotency-Key %q was used for a different request (%s).", key, prev.ID)
		} else if err != nil && docket.ErrorCode(err) != docket.ENOTFOUND {
			return err
		}
	}
	parsed, err := intake.ParseRequest(raw, s.svc.Regimes())
	if err != nil {
		return err
	}
	res, err := s.svc.Submit(r.Context(), &workflow.Submission{
		Channel: docket.ChannelAPI, Authority: p.authority, Body: parsed.Body, Blobs: parsed.Blobs,
		Raw: raw, ContentType: ct, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	if !res.Replayed {
		s.metrics.received.WithLabelValues(docket.ChannelAPI).Inc()
	}
	s.writeReceipt(w, res)
	return nil
}

func (s *Server) createNotice(w http.ResponseWriter, r *http.Request) error {
	if !s.notices.Allow(ratelimit.ClientAddr(r, s.proxies)) {
		return docket.Errorf(docket.ERATELIMIT, "Too many notices from your address; try again in a minute.")
	}
	raw, ct, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	parsed, err := intake.ParseNotice(raw, s.svc.Regimes())
	if err != nil {
		return err
	}
	sub := &workflow.Submission{Channel: docket.ChannelNotice, Body: parsed.Body, Blobs: parsed.Blobs, Raw: raw, ContentType: ct}
	if p := principalFrom(r.Context()); p != nil && p.flagger != nil {
		sub.Flagger = p.flagger
	}
	res, err := s.svc.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	s.metrics.received.WithLabelValues(docket.ChannelNotice).Inc()
	if res.Unprocessed != nil {
		// Received and kept, closed unreviewed (DSA art. 23): the receipt says so.
		w.Header().Set("Location", "/api/v1/requests/"+res.Receipt.ID)
		writeJSON(w, http.StatusCreated, struct {
			docket.Receipt
			Processing string `json:"processing"`
			*workflow.Unprocessed
		}{res.Receipt, "suspended", res.Unprocessed})
		return nil
	}
	s.writeReceipt(w, res)
	return nil
}

// visibleRequest returns a request the caller may see: staff see all, an authority only its own.
func (s *Server) visibleRequest(r *http.Request) (*docket.Request, *principal, error) {
	p := principalFrom(r.Context())
	req, err := s.store.Request(r.Context(), r.PathValue("id"))
	if docket.ErrorCode(err) == docket.ENOTFOUND || (err == nil && p.authority != nil && req.AuthorityID != p.authority.ID) {
		// Another authority's request answers exactly like one that does not exist.
		return nil, nil, docket.Errorf(docket.ENOTFOUND, "No such request.")
	}
	return req, p, err
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	req, p, err := s.visibleRequest(r)
	if err != nil {
		return err
	}
	c, err := s.store.Case(r.Context(), req.CaseID)
	if err != nil {
		return err
	}
	if p.user != nil {
		writeJSON(w, http.StatusOK, map[string]any{"request": viewRequest(req), "case": viewCase(c, s.svc.Now())})
		return nil
	}
	writeJSON(w, http.StatusOK, viewStatus(req, c))
	return nil
}

func (s *Server) getRequestRaw(w http.ResponseWriter, r *http.Request) error {
	req, _, err := s.visibleRequest(r)
	if err != nil {
		return err
	}
	// Served as an inert download whatever it holds.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+req.ID+`.raw"`)
	w.Header().Set("Digest", "sha-256="+req.SHA256)
	w.Header().Set("Content-Length", strconv.Itoa(len(req.Raw)))
	w.Write(req.Raw)
	return nil
}

// allowRequester counts a submission (a request or a reply) against its authority's limit;
// beyond it, 429 with the seconds until the next one is allowed.
func (s *Server) allowRequester(w http.ResponseWriter, authorityID string) error {
	if s.requesters == nil {
		return nil
	}
	if ok, wait := s.requesters.Wait(authorityID); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return docket.Errorf(docket.ERATELIMIT, "Too many requests from your authority at once; send again after the time in Retry-After. Nothing of this request was kept.")
	}
	return nil
}

func (s *Server) createReply(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if err := s.allowRequester(w, p.authority.ID); err != nil {
		return err
	}
	raw, ct, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	parsed, err := intake.ParseReply(raw)
	if err != nil {
		return err
	}
	res, err := s.svc.Reply(r.Context(), p.authority, r.PathValue("id"), &workflow.Submission{
		Channel: docket.ChannelReply, Authority: p.authority, Body: parsed.Body, Blobs: parsed.Blobs, Raw: raw, ContentType: ct,
	})
	if err != nil {
		return err
	}
	s.metrics.received.WithLabelValues(docket.ChannelReply).Inc()
	s.writeReceipt(w, res)
	return nil
}

func (s *Server) listOwnRequests(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	f, err := caseFilter(r)
	if err != nil {
		return err
	}
	f.AuthorityID = p.authority.ID
	f.Sort = "-received"
	cases, err := s.store.Cases(r.Context(), f)
	if err != nil {
		return err
	}
	type item struct {
		CaseID     string       `json:"case_id"`
		Reference  string       `json:"reference,omitempty"`
		Regime     string       `json:"regime"`
		Kind       docket.Kind  `json:"kind"`
		State      string       `json:"state"`
		ReceivedAt any          `json:"received_at"`
		Deadline   *docket.Time `json:"deadline"`
	}
	out := make([]item, 0, len(cases))
	for _, c := range cases {
		out = append(out, item{c.ID, c.Reference, c.Regime, c.Kind, requesterState(c.State), c.ReceivedAt, docket.OptTime(c.DeadlineAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
	return nil
}

// caseFilter reads the list filters shared by staff and authorities.
func caseFilter(r *http.Request) (docket.CaseFilter, error) {
	q := r.URL.Query()
	var f docket.CaseFilter
	for _, st := range strings.Split(q.Get("state"), ",") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		valid := false
		for _, known := range docket.CaseStates {
			valid = valid || docket.CaseState(st) == known
		}
		if !valid {
			return f, &docket.Error{Code: docket.EINVALID, Message: "Unknown state " + strconv.Quote(st) + ".", Fields: map[string]string{"state": "unknown"}}
		}
		f.States = append(f.States, docket.CaseState(st))
	}
	f.Queue, f.Regime, f.AssigneeID, f.Sort = q.Get("queue"), q.Get("regime"), q.Get("assignee"), q.Get("sort")
	switch f.Sort {
	case "", "deadline", "queue", "received", "-received":
	default:
		return f, &docket.Error{Code: docket.EINVALID, Message: "sort must be deadline, queue, received or -received.", Fields: map[string]string{"sort": "unknown"}}
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (name == "limit" && n > 1000) {
				return f, &docket.Error{Code: docket.EINVALID, Message: name + " must be a whole number (limit at most 1000).", Fields: map[string]string{name: "invalid"}}
			}
			*dst = n
		}
	}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, &docket.Error{Code: docket.EINVALID, Message: "overdue must be true or false.", Fields: map[string]string{"overdue": "invalid"}}
		}
		f.Overdue = b
	}
	return f, nil
}
