package api

import (
	"net/http"
	"strconv"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/workflow"
)

// Trusted flaggers (DSA art. 22) and notifiers' standing (art. 23).

// flaggerView is a trusted flagger with its status now and what its notices came to.
type flaggerView struct {
	*docket.Flagger
	StatusNow string                   `json:"status_now"`
	Notices   *docket.NotifierStanding `json:"notices,omitempty"`
	Accuracy  *float64                 `json:"accuracy,omitempty"`
}

func (s *Server) viewFlagger(r *http.Request, f *docket.Flagger) (flaggerView, error) {
	v := flaggerView{Flagger: f, StatusNow: f.StatusAt(s.svc.Now())}
	n, err := s.store.Notifier(r.Context(), "flagger:"+f.ID)
	if err != nil && docket.ErrorCode(err) != docket.ENOTFOUND {
		return v, err
	}
	if n != nil {
		v.Notices = n
		if n.Actioned+n.Unfounded > 0 {
			a := n.Accuracy()
			v.Accuracy = &a
		}
	}
	return v, nil
}

func (s *Server) listFlaggers(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.store.Flaggers(r.Context())
	if err != nil {
		return err
	}
	out := make([]flaggerView, 0, len(fs))
	for _, f := range fs {
		v, err := s.viewFlagger(r, f)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"flaggers": out})
	return nil
}

func (s *Server) createFlagger(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	raw, _, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Name        string   `json:"name"`
		Coordinator string   `json:"coordinator"`
		Reference   string   `json:"reference"`
		Areas       []string `json:"areas"`
		Email       string   `json:"email"`
	}
	if err := intake.Decode(raw, &in); err != nil {
		return err
	}
	f, token, err := s.svc.RegisterFlagger(r.Context(), docket.UserActor(p.user.ID), workflow.FlaggerSpec{
		Name: in.Name, Coordinator: in.Coordinator, Reference: in.Reference, Areas: in.Areas, Email: in.Email,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": f.ID, "token": token, "flagger": f})
	return nil
}

func (s *Server) changeFlagger(w http.ResponseWriter, r *http.Request) error {
	p := principalFrom(r.Context())
	raw, _, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	var in struct {
		Status      string       `json:"status"`
		Until       *docket.Time `json:"until"`
		Reason      string       `json:"reason"`
		RotateToken bool         `json:"rotate_token"`
	}
	if err := intake.Decode(raw, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	token, err := s.svc.ChangeFlagger(r.Context(), docket.UserActor(p.user.ID), id, workflow.FlaggerChange{
		Status: in.Status, Until: in.Until.OrZero(), Reason: in.Reason, RotateToken: in.RotateToken,
	})
	if err != nil {
		return err
	}
	f, err := s.store.Flagger(r.Context(), id)
	if err != nil {
		return err
	}
	v, err := s.viewFlagger(r, f)
	if err != nil {
		return err
	}
	out := map[string]any{"flagger": v}
	if token != "" {
		out["token"] = token
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// listNotifiers lists notifiers' counts and standing; ?key= reads one.
func (s *Server) listNotifiers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "key", "flaggers", "warned", "limit":
		default:
			return &docket.Error{Code: docket.EINVALID, Message: "Unknown query parameter " + strconv.Quote(k) + ": key, flaggers, warned or limit.", Fields: map[string]string{k: "unknown"}}
		}
	}
	now := s.svc.Now()
	view := func(n *docket.NotifierStanding) map[string]any {
		return map[string]any{"notifier": n, "warned": n.Warned(), "suspended": n.Suspended(now), "accuracy": n.Accuracy()}
	}
	if key := q.Get("key"); key != "" {
		n, err := s.store.Notifier(r.Context(), key)
		if docket.ErrorCode(err) == docket.ENOTFOUND {
			return docket.Errorf(docket.ENOTFOUND, "No notice of notifier %q has been assessed.", key)
		} else if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, view(n))
		return nil
	}
	f := docket.NotifierFilter{Flaggers: q.Get("flaggers") == "true", Warned: q.Get("warned") == "true", Limit: 100}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return &docket.Error{Code: docket.EINVALID, Message: "Query parameter limit is a number from 1 to 1000.", Fields: map[string]string{"limit": "invalid"}}
		}
		f.Limit = n
	}
	ns, err := s.store.Notifiers(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(ns))
	for _, n := range ns {
		out = append(out, view(n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifiers": out, "rule": misuseView(s.svc.Misuse())})
	return nil
}

func misuseView(m workflow.MisuseConfig) map[string]any {
	return map[string]any{"window": docket.Duration(m.Window).String(), "min_manifest": m.MinManifest, "rate": m.Rate,
		"suspension": docket.Duration(m.Suspension).String(), "off": m.Off}
}
