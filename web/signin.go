package web

import (
	"net/http"
	"time"

	"github.com/docket-dev/docket"
)

type signinData struct {
	Kind, Action, Next, Email string
}

// signin serves the sign-in form of the console (staff) or the portal (officers).
func (s *Server) signin(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *page) error {
		d := &signinData{Kind: kind, Action: r.URL.Path, Next: r.URL.Query().Get("next")}
		p.Title = "Sign in"
		if r.Method == http.MethodGet {
			return s.render(w, r, p, http.StatusOK, "signin", d)
		}
		if err := r.ParseForm(); err != nil {
			return docket.Errorf(docket.EMALFORMED, "The form could not be read.")
		}
		d.Email, d.Next = r.PostForm.Get("email"), r.PostForm.Get("next")
		l, token, err := s.accounts.SignIn(r.Context(), kind, d.Email, r.PostForm.Get("password"), r.PostForm.Get("code"))
		if err != nil {
			code := docket.ErrorCode(err)
			if code != docket.EUNAUTHORIZED && code != docket.ERATELIMIT && code != docket.EFORBIDDEN {
				return err
			}
			p.Error = docket.ErrorMessage(err)
			return s.render(w, r, p, docket.HTTPStatus(code), "signin", d)
		}
		s.setSession(w, token, s.cfg.Now().Add(sessionCookieTTL))
		def := "/console"
		if l.Kind == docket.LoginOfficer {
			def = "/portal"
		}
		http.Redirect(w, r, localPath(d.Next, def), http.StatusSeeOther)
		return nil
	}
}

// sessionCookieTTL bounds the cookie; the session itself expires on the server first.
const sessionCookieTTL = 12 * time.Hour

func (s *Server) signout(w http.ResponseWriter, r *http.Request, p *page) error {
	if p.Who != nil {
		if err := s.accounts.SignOut(r.Context(), p.Who.Token); err != nil {
			return err
		}
	}
	s.clearSession(w)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
