package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

func (s *Server) noticeRoutes() {
	s.handle("GET /notice", public, s.notice)
	s.handle("POST /notice", public, s.notice)
}

// notice is the public form for notices of illegal content (DSA art. 16): no account; name
// and address are optional for child sexual abuse material; a receipt page, and a receipt
// by e-mail when an address is given; limited per client address.
func (s *Server) notice(w http.ResponseWriter, r *http.Request, p *page) error {
	form := map[string]string{}
	p.Title = "Report illegal content"
	if r.Method == http.MethodGet {
		return s.render(w, r, p, http.StatusOK, "notice", form)
	}
	if !s.notices.Allow(ratelimit.ClientAddr(r, s.cfg.Proxies)) {
		return docket.Errorf(docket.ERATELIMIT, "Too many notices from your address; try again in a minute.")
	}
	if err := parseForm(w, r, smallForm); err != nil {
		return err
	}
	f := r.PostForm
	for k := range f {
		form[k] = f.Get(k)
	}
	var locations []string
	for line := range strings.Lines(f.Get("locations")) {
		if line = strings.TrimSpace(line); line != "" {
			locations = append(locations, line)
		}
	}
	in := intake.NoticeInput{Explanation: f.Get("explanation"), Locations: locations, Name: f.Get("name"), Email: f.Get("email"),
		GoodFaith: f.Get("good_faith") == "on", CSAM: f.Get("csam") == "on", Country: strings.ToUpper(f.Get("country"))}
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("notice form: %w", err)
	}
	parsed, err := intake.ParseNotice(raw, s.svc.Regimes())
	if err != nil {
		return s.again(w, r, p, err, "notice", form)
	}
	sub := &workflow.Submission{Channel: docket.ChannelNotice, Body: parsed.Body, Raw: raw, ContentType: "application/json"}
	if in.Email != "" && s.cfg.NoticeReceipt != "" {
		sub.FollowUps = []string{s.cfg.NoticeReceipt}
	}
	res, err := s.svc.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "notice received by form", slog.String("case", res.Receipt.CaseID))
	p.Title = "Receipt"
	return s.render(w, r, p, http.StatusCreated, "receipt", &res.Receipt)
}
