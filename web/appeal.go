package web

import (
	"log/slog"
	"net/http"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

func (s *Server) appealRoutes() {
	s.handle("GET /appeal/{decision}", public, s.appeal)
	s.handle("POST /appeal/{decision}", public, s.appeal)
}

// appealPage is what the appeal page shows: the decision and the appellant's appeals, the
// token to send back with the form, and what was typed.
type appealPage struct {
	View  *workflow.AppealView
	Token string
	Form  map[string]string
}

// appeal is the public page reached from a statement of reasons (DSA art. 20): the link's
// token opens one decision for one appellant; the page shows the decision, the time left to
// contest it and the answers, and takes an appeal. Limited per client address like notices.
func (s *Server) appeal(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title = "Contest a decision"
	puid := r.PathValue("decision")
	token := r.URL.Query().Get("token")
	if r.Method == http.MethodPost {
		if !s.notices.Allow(ratelimit.ClientAddr(r, s.cfg.Proxies)) {
			return docket.Errorf(docket.ERATELIMIT, "Too many submissions from your address; try again in a minute.")
		}
		if err := parseForm(w, r, smallForm); err != nil {
			return err
		}
		token = r.PostForm.Get("token")
	}
	who, err := s.svc.CheckAppealToken(puid, token)
	if err != nil {
		return err
	}
	d := &appealPage{Token: token, Form: map[string]string{}}
	if r.Method == http.MethodPost {
		d.Form["text"], d.Form["contact"] = r.PostForm.Get("text"), r.PostForm.Get("contact")
		_, _, err := s.svc.FileAppeal(r.Context(), workflow.AppealFiling{PUID: puid, Appellant: who, Channel: docket.AppealChannelWeb,
			Text: d.Form["text"], Contact: d.Form["contact"]})
		if err != nil {
			if d.View, _ = s.svc.AppealStatus(r.Context(), puid, who); d.View == nil {
				return err
			}
			return s.again(w, r, p, err, "appeal", d)
		}
		s.log.InfoContext(r.Context(), "appeal received by the public page", slog.String("decision", puid), slog.String("appellant", who))
		p.Flash = translate(p.L, "Your appeal was received. A person who took no part in the decision will examine it.")
		d.Form = map[string]string{}
	}
	if d.View, err = s.svc.AppealStatus(r.Context(), puid, who); err != nil {
		return err
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	return s.render(w, r, p, status, "appeal", d)
}
