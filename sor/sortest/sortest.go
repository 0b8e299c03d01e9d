// Package sortest is a double of the EU Transparency Database's API for tests: an
// httptest server that takes POST /api/v1/statement and POST /api/v1/statements as the
// database does — its validation (package sor), its answers (201 with the statement and its
// uuid; 422 with {"message", "errors"}; the batch's errors per "statement_N"; 401 without a
// known bearer token), each puid once per platform — and can be told to fail (5xx) or to
// answer late, to test retries.
package sortest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket/sor"
)

// Server is the double. Its zero value is not usable: call New.
type Server struct {
	*httptest.Server
	mu sync.Mutex
	// platforms maps a bearer token to the platform it belongs to.
	platforms map[string]string
	// puids holds each platform's puids, with the uuid of their statement.
	puids  map[string]map[string]string
	stored []Stored
	fail   []int
	delay  time.Duration
	calls  []Call
	n      int
}

// Stored is a statement the double accepted.
type Stored struct {
	Platform  string
	UUID      string
	Statement map[string]any
}

// Call is one call the double received.
type Call struct {
	Path       string
	Statements int // how many the body held (1 for the single endpoint)
	Status     int
}

// New starts a double that knows the given bearer tokens, each of a platform.
func New(tokens map[string]string) *Server {
	s := &Server{platforms: tokens, puids: map[string]map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/statement", s.single)
	mux.HandleFunc("POST /api/v1/statements", s.batch)
	s.Server = httptest.NewServer(mux)
	return s
}

// FailNext makes the next calls answer these statuses (a 5xx, a 429…) before anything else.
func (s *Server) FailNext(status ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, status...)
}

// Delay makes every call wait d before it is answered (after the statements are stored).
func (s *Server) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Hold records puid as used by platform, as if a statement had been stored with it.
func (s *Server) Hold(platform, puid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdLocked(platform, puid)
}

func (s *Server) holdLocked(platform, puid string) string {
	if s.puids[platform] == nil {
		s.puids[platform] = map[string]string{}
	}
	s.n++
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.n)
	s.puids[platform][puid] = uuid
	return uuid
}

// Stored returns the statements accepted, in order.
func (s *Server) Stored() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stored)
}

// Calls returns the calls received, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// UUID returns the uuid of the statement a platform stored under puid, or "".
func (s *Server) UUID(platform, puid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puids[platform][puid]
}

// begin authenticates a call and applies an injected failure; it returns the platform, the
// body and the call's index, or false when it has answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, n int) (string, []byte, int, bool) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	call := Call{Path: r.URL.Path, Statements: n}
	if n < 0 {
		var v struct {
			Statements []json.RawMessage `json:"statements"`
		}
		json.Unmarshal(body, &v)
		call.Statements = len(v.Statements)
	}
	defer func() { s.calls = append(s.calls, call) }()
	idx := len(s.calls)
	if len(s.fail) > 0 {
		call.Status = s.fail[0]
		s.fail = s.fail[1:]
		answer(w, call.Status, map[string]string{"message": http.StatusText(call.Status)})
		return "", nil, idx, false
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	platform := s.platforms[token]
	if !ok || platform == "" {
		call.Status = http.StatusUnauthorized
		answer(w, call.Status, map[string]string{"message": "Unauthenticated."})
		return "", nil, idx, false
	}
	call.Status = http.StatusCreated // until the handler says otherwise
	return platform, body, idx, true
}

func (s *Server) setStatus(idx, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[idx].Status = status
}

func (s *Server) wait() {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	time.Sleep(d)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// puidOf is the puid of a validated statement, as PHP reads it (a string or a number).
func puidOf(in map[string]any) string {
	switch v := in["puid"].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return fmt.Sprint(in["puid"])
}

const (
	notUniqueSingle = "The identifier given is not unique within this platform."
	notUniqueBatch  = "The platform identifier(s) are not all unique within this call."
)

func (s *Server) single(w http.ResponseWriter, r *http.Request) {
	platform, body, idx, ok := s.begin(w, r, 1)
	if !ok {
		return
	}
	in := sor.Decode(body)
	if errs := sor.ValidateInput(in, sor.Single); errs != nil {
		s.setStatus(idx, http.StatusUnprocessableEntity)
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": errs.Summary(), "errors": errs})
		return
	}
	puid := puidOf(in)
	s.mu.Lock()
	if _, used := s.puids[platform][puid]; used {
		s.mu.Unlock()
		s.setStatus(idx, http.StatusUnprocessableEntity)
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": notUniqueSingle,
			"errors": map[string]any{"puid": []string{notUniqueSingle}}, "existing": map[string]string{"puid": puid}})
		return
	}
	out := s.storeLocked(platform, in)
	out["id"] = s.n
	s.mu.Unlock()
	s.wait()
	answer(w, http.StatusCreated, out)
}

func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	platform, body, idx, ok := s.begin(w, r, -1)
	if !ok {
		return
	}
	res := sor.ValidateBatch(body)
	switch {
	case len(res.Top) > 0:
		s.setStatus(idx, http.StatusUnprocessableEntity)
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": res.Top.Summary(), "errors": res.Top})
		return
	case res.Broken:
		s.setStatus(idx, http.StatusInternalServerError)
		answer(w, http.StatusInternalServerError, map[string]string{"message": "Server Error"})
		return
	case res.Refused():
		errs := map[string]sor.Errors{}
		for _, it := range res.Items {
			if len(it.Errors) > 0 {
				errs["statement_"+it.Key] = it.Errors
			}
		}
		s.setStatus(idx, http.StatusUnprocessableEntity)
		answer(w, http.StatusUnprocessableEntity, map[string]any{"errors": errs})
		return
	}
	var puids, dups []string
	for _, it := range res.Items {
		p := puidOf(it.Input)
		if slices.Contains(puids, p) && !slices.Contains(dups, p) {
			dups = append(dups, p)
		}
		puids = append(puids, p)
	}
	s.mu.Lock()
	if len(dups) == 0 {
		for _, p := range puids {
			if _, used := s.puids[platform][p]; used {
				dups = append(dups, p)
			}
		}
	}
	if len(dups) > 0 {
		s.mu.Unlock()
		s.setStatus(idx, http.StatusUnprocessableEntity)
		answer(w, http.StatusUnprocessableEntity, map[string]any{"message": notUniqueBatch,
			"errors": map[string]any{"puid": []string{notUniqueBatch}, "existing_puids": dups}})
		return
	}
	var out []map[string]any
	for _, it := range res.Items {
		out = append(out, s.storeLocked(platform, it.Input))
	}
	s.mu.Unlock()
	s.wait()
	answer(w, http.StatusCreated, map[string]any{"statements": out})
}

// storeLocked keeps a statement and returns it as the database answers it.
func (s *Server) storeLocked(platform string, in map[string]any) map[string]any {
	uuid := s.holdLocked(platform, puidOf(in))
	s.stored = append(s.stored, Stored{Platform: platform, UUID: uuid, Statement: in})
	out := map[string]any{}
	for k, v := range in {
		out[k] = v
	}
	out["uuid"] = uuid
	out["created_at"] = time.Now().UTC().Format(time.DateTime)
	out["platform_name"] = platform
	out["permalink"] = "https://transparency.example/statement/" + uuid
	out["self"] = "https://transparency.example/api/v1/statement/" + uuid
	return out
}

// Post sends body to the double's path with a bearer token and returns the status and the
// decoded answer: a helper for tests of the double itself.
func (s *Server) Post(path, token string, body []byte) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	err = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v, err
}
