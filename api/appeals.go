package api

import (
	"errors"
	"net/http"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/ratelimit"
	"github.com/docket-dev/docket/workflow"
)

// maxAppealBody bounds an appeal's body: its text is at most 5,000 characters.
const maxAppealBody = 32 << 10

// appealBody is what an appellant sends (POST /api/v1/appeals).
type appealBody struct {
	Decision string `json:"decision"` // the statement of reasons' puid
	Token    string `json:"token"`    // the appeal link's token
	Text     string `json:"text"`
	Contact  string `json:"contact,omitempty"`
}

// createAppeal files an appeal against a decision (DSA art. 20) by the holder of its link:
// the token says whose appeal it is (the user concerned, or the notice's sender).
func (s *Server) createAppeal(w http.ResponseWriter, r *http.Request) error {
	if !s.notices.Allow(ratelimit.ClientAddr(r, s.proxies)) {
		return docket.Errorf(docket.ERATELIMIT, "Too many submissions from your address; try again in a minute.")
	}
	if r.ContentLength > maxAppealBody {
		return docket.Errorf(docket.ETOOLARGE, "An appeal's body is at most %d bytes.", maxAppealBody)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAppealBody)
	raw, _, err := s.readBody(w, r)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || (err != nil && docket.ErrorCode(err) == docket.ETOOLARGE) {
		return docket.Errorf(docket.ETOOLARGE, "An appeal's body is at most %d bytes.", maxAppealBody)
	} else if err != nil {
		return err
	}
	var in appealBody
	if err := intake.Decode(raw, &in); err != nil {
		return err
	}
	if in.Decision == "" {
		return &docket.Error{Code: docket.EINVALID, Message: "Field decision is required: the reference of the statement of reasons (its puid).", Fields: map[string]string{"decision": "required"}}
	}
	who, err := s.svc.CheckAppealToken(in.Decision, in.Token)
	if err != nil {
		return err
	}
	if _, _, err := s.svc.FileAppeal(r.Context(), workflow.AppealFiling{PUID: in.Decision, Appellant: who, Channel: docket.AppealChannelWeb,
		Text: in.Text, Contact: in.Contact}); err != nil {
		return err
	}
	v, err := s.svc.AppealStatus(r.Context(), in.Decision, who)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/appeals/"+in.Decision)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// getAppeal shows the holder of an appeal link the decision and their appeals, with the
// answers (GET /api/v1/appeals/{decision}?token=…).
func (s *Server) getAppeal(w http.ResponseWriter, r *http.Request) error {
	puid := r.PathValue("decision")
	who, err := s.svc.CheckAppealToken(puid, r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	v, err := s.svc.AppealStatus(r.Context(), puid, who)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
