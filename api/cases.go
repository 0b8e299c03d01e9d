package api

import (
	"net/http"
	"strconv"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/workflow"
)

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	f, err := caseFilter(r)
	if err != nil {
		return err
	}
	now := s.svc.Now()
	f.Now = now
	cases, err := s.store.Cases(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]caseView, 0, len(cases))
	for _, c := range cases {
		out = append(out, viewCase(c, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
	return nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.store.Case(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	reqs, err := s.store.CaseRequests(ctx, c.ID)
	if err != nil {
		return err
	}
	events, err := s.store.CaseEvents(ctx, c.ID)
	if err != nil {
		return err
	}
	rv := make([]requestView, 0, len(reqs))
	for _, q := range reqs {
		rv = append(rv, viewRequest(q))
	}
	writeJSON(w, http.StatusOK, map[string]any{"case": viewCase(c, s.svc.Now()), "requests": rv, "events": events})
	return nil
}

func (s *Server) createCaseEvent(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	raw, _, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var a workflow.Action
	if err := intake.Decode(raw, &a); err != nil {
		return err
	}
	c, ev, err := s.svc.Act(r.Context(), p.user, r.PathValue("id"), a)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+c.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"case": viewCase(c, s.svc.Now()), "event": ev})
	return nil
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) error {
	b, err := s.store.Blob(r.Context(), r.PathValue("sha256"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+b.SHA256+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b.Data)))
	w.Write(b.Data)
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.store.Stats(r.Context(), s.svc.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) auditHead(w http.ResponseWriter, r *http.Request) error {
	seq, hash, err := s.store.Head(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"seq": seq, "hash": hash})
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	if p.authority != nil {
		writeJSON(w, http.StatusOK, map[string]any{"authority": p.authority})
	} else {
		writeJSON(w, http.StatusOK, map[string]any{"user": p.user})
	}
	return nil
}

func (s *Server) listRegimes(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"regimes": s.svc.Regimes().All()})
	return nil
}

func (s *Server) createAuthority(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	raw, _, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Name    string   `json:"name"`
		Country string   `json:"country"`
		Kind    string   `json:"kind"`
		Domains []string `json:"domains"`
		// AgeRecipient is the authority's age public key: disclosure packages are encrypted to it.
		AgeRecipient string `json:"age_recipient"`
	}
	if err := intake.Decode(raw, &in); err != nil {
		return err
	}
	a := &docket.Authority{Name: in.Name, Country: in.Country, Kind: in.Kind, Domains: in.Domains, AgeRecipient: in.AgeRecipient}
	token, err := s.svc.RegisterAuthority(r.Context(), docket.UserActor(p.user.ID), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": a.ID, "token": token, "authority": a})
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	raw, _, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Email string      `json:"email"`
		Role  docket.Role `json:"role"`
	}
	if err := intake.Decode(raw, &in); err != nil {
		return err
	}
	u := &docket.User{Email: in.Email, Role: in.Role}
	token, err := s.svc.AddUser(r.Context(), docket.UserActor(p.user.ID), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": u.ID, "token": token, "user": u})
	return nil
}
