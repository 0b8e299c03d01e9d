package web

import (
	"net/http"

	"github.com/docket-dev/docket"
)

type signinData struct {
	Kind, Action, Next, Email string
	// SSO names the single sign-on provider offered to staff ("" when none).
	SSO string
}

// signin serves the sign-in form of the console (staff) or the portal (officers).
func (s *Server) signin(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *page) error {
		d := &signinData{Kind: kind, Action: r.URL.Path, Next: r.URL.Query().Get("next")}
		if kind == docket.LoginStaff && s.sso != nil {
			d.SSO = s.sso.cfg.Name
		}
		p.Title = "Sign in"
		if r.Method == http.MethodGet {
			return s.render(w, r, p, http.StatusOK, "signin", d)
		}
		if err := s.allowSignIn(r); err != nil {
			return err
		}
		if err := parseForm(w, r, smallForm); err != nil {
			return err
		}
		d.Email, d.Next = r.PostForm.Get("email"), r.PostForm.Get("next")
		l, token, err := s.accounts.SignIn(r.Context(), kind, d.Email, r.PostForm.Get("password"), r.PostForm.Get("code"))
		if err != nil {
			return s.again(w, r, p, err, "signin", d)
		}
		s.setSession(w, token, s.cfg.Now().Add(s.accounts.SessionTTL()))
		def := "/console"
		if l.Kind == docket.LoginOfficer {
			def = "/portal"
		}
		http.Redirect(w, r, safeNext(d.Next, def), http.StatusSeeOther)
		return nil
	}
}

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
