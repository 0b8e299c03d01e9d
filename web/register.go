package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pquerna/otp"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/account"
)

// authorityOf finds the registered authority whose official domain the address is on.
func (s *Server) authorityOf(ctx context.Context, email string) (*docket.Authority, error) {
	all, err := s.store.Authorities(ctx)
	if err != nil {
		return nil, fmt.Errorf("list authorities: %w", err)
	}
	for _, a := range all {
		if account.OnDomain(email, a) {
			return a, nil
		}
	}
	_, domain, _ := strings.Cut(email, "@")
	return nil, docket.Errorf(docket.EINVALID, "No authority is registered with the domain %s. Use your official address, or ask the platform to register your authority.", domain)
}

// sendLink mails an address-confirmation link. Without a relay the link goes to the log,
// for the operator to pass on by other means.
func (s *Server) sendLink(r *http.Request, l *docket.Login, a *docket.Authority, token string) error {
	// The configured address, never the request's Host: a forged Host would send an
	// officer's link elsewhere.
	link := s.cfg.PublicURL + "/portal/confirm?token=" + url.QueryEscape(token)
	if s.cfg.Mailer == nil || !s.cfg.Mailer.Configured() {
		s.log.InfoContext(r.Context(), "no mail relay: pass this confirmation link to the officer", slog.String("email", l.Email), slog.String("link", link))
		return nil
	}
	text := fmt.Sprintf(`An account in the portal of the platform's legal team was opened for %s, for %s.

To confirm this address, choose a password and set up your second factor, open this link
(good for 48 hours):

%s

If you did not ask for this account, ignore this message.
`, l.Email, a.Name, link)
	if _, _, err := s.cfg.Mailer.Mail(r.Context(), "account-"+l.ID, "confirm", l.Email, "Confirm your address for the docket portal", text); err != nil {
		return fmt.Errorf("mail the confirmation link: %w", err)
	}
	return nil
}

type registerData struct {
	Form map[string]string
	Sent string
}

// register lets an officer ask for an account with an address on the official domain.
func (s *Server) register(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &registerData{Form: map[string]string{}}
	p.Title = "Register"
	if r.Method == http.MethodGet {
		return s.render(w, r, p, http.StatusOK, "register", d)
	}
	if err := s.allowSignIn(r); err != nil {
		return err
	}
	if err := parseForm(w, r, smallForm); err != nil {
		return err
	}
	d.Form["email"], d.Form["name"] = r.PostForm.Get("email"), r.PostForm.Get("name")
	l, a, err := s.registerOfficer(r, nil, d.Form["email"], d.Form["name"], "self")
	if err != nil {
		return s.again(w, r, p, err, "register", d)
	}
	d.Sent = l.Email
	s.log.InfoContext(r.Context(), "officer registration", slog.String("authority", a.ID), slog.String("email", l.Email))
	return s.render(w, r, p, http.StatusOK, "register", d)
}

// registerOfficer opens an officer's account for authority a (nil: the authority whose
// domain the address is on) and mails the confirmation link.
func (s *Server) registerOfficer(r *http.Request, a *docket.Authority, email, name, by string) (*docket.Login, *docket.Authority, error) {
	email, err := account.NormalizeEmail(email)
	if err != nil {
		return nil, nil, err
	}
	if a == nil {
		if a, err = s.authorityOf(r.Context(), email); err != nil {
			return nil, nil, err
		}
	}
	l, token, err := s.accounts.Register(r.Context(), a, email, name, by)
	if err != nil {
		return nil, nil, err
	}
	return l, a, s.sendLink(r, l, a, token)
}

type confirmData struct {
	Token, Email, Secret string
	QR                   template.URL
	Done                 *docket.Login
}

// confirm completes a registration from the mailed link.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title = "Confirm your account"
	token := r.URL.Query().Get("token")
	if r.Method == http.MethodPost {
		if err := s.allowSignIn(r); err != nil {
			return err
		}
		if err := parseForm(w, r, smallForm); err != nil {
			return err
		}
		token = r.PostForm.Get("token")
	}
	l, err := s.accounts.Confirming(r.Context(), token)
	if err != nil {
		return err
	}
	d := &confirmData{Token: token, Email: l.Email, Secret: l.TOTPSecret, QR: qrCode(l)}
	if r.Method == http.MethodGet {
		return s.render(w, r, p, http.StatusOK, "confirm", d)
	}
	if r.PostForm.Get("password") != r.PostForm.Get("password2") {
		return s.again(w, r, p, docket.Errorf(docket.EINVALID, "The two passwords differ."), "confirm", d)
	}
	done, err := s.accounts.Confirm(r.Context(), token, r.PostForm.Get("password"), r.PostForm.Get("code"))
	if err != nil {
		return s.again(w, r, p, err, "confirm", d)
	}
	d.Done = done
	return s.render(w, r, p, http.StatusOK, "confirm", d)
}

// qrCode is the second factor's secret as a QR code, for an authenticator app to scan.
func qrCode(l *docket.Login) template.URL {
	k, err := otp.NewKeyFromURL(account.TOTPURL(l.Email, l.TOTPSecret))
	if err != nil {
		return ""
	}
	img, err := k.Image(200, 200)
	if err != nil {
		return ""
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return ""
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())) // #nosec: a PNG docket made
}

type delegatesData struct {
	Officers []*docket.Login
	Form     map[string]string
	Sent     string
	Me       string // the signed-in officer's login id
}

// delegates lists the officers of the authority and adds one: a delegate confirms the
// address by the link and is then active without staff approval.
func (s *Server) delegates(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &delegatesData{Form: map[string]string{}, Me: p.Who.Login.ID}
	p.Title = "Delegates"
	var refused error
	if r.Method == http.MethodPost {
		if err := parseForm(w, r, smallForm); err != nil {
			return err
		}
		if id := r.PostForm.Get("reset"); id != "" {
			// A colleague's sign-in starts over (same authority only).
			l, err := s.store.Login(r.Context(), id)
			if err != nil || l.Kind != docket.LoginOfficer || l.AuthorityID != p.Who.Authority.ID {
				s.log.WarnContext(r.Context(), "officer asked to reset an account not of their authority", slog.String("login", p.Who.Login.ID), slog.String("target", id))
				return docket.Errorf(docket.ENOTFOUND, "No such officer account.")
			}
			if err := s.resetOfficer(r, id, p.Who.Login.ID); err != nil {
				return err
			}
			d.Sent = l.Email
		} else {
			d.Form["email"], d.Form["name"] = r.PostForm.Get("email"), r.PostForm.Get("name")
			l, _, err := s.registerOfficer(r, p.Who.Authority, d.Form["email"], d.Form["name"], p.Who.Login.ID)
			if err != nil {
				refused = err
			} else {
				d.Sent, d.Form = l.Email, map[string]string{}
			}
		}
	}
	officers, err := s.store.Logins(r.Context(), docket.LoginFilter{Kind: docket.LoginOfficer, AuthorityID: p.Who.Authority.ID})
	if err != nil {
		return err
	}
	d.Officers = officers
	if refused != nil {
		return s.again(w, r, p, refused, "delegates", d)
	}
	return s.render(w, r, p, http.StatusOK, "delegates", d)
}
