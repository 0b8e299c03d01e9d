package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/docket-dev/docket"
)

// page is what every template gets.
type page struct {
	Title string
	L     string // the language of the page: "en" or "fr"
	Who   *who
	// Ended says why a session cookie no longer signs anyone in.
	Ended  string
	Flash  string
	Error  string
	Status int
	Path   string
	Now    time.Time
	Data   any
}

func (s *Server) newPage(r *http.Request) *page {
	return &page{L: pageLanguage(r), Path: r.URL.RequestURI(), Now: s.cfg.Now().UTC(), Flash: flashText(r.URL.Query().Get("done"))}
}

// Pages and the base layout each is rendered in.
var pageNames = []string{"home", "error", "signin", "queue", "case", "raw", "dashboard", "accounts",
	"portal", "portal_new", "portal_case", "receipt", "register", "confirm", "delegates", "notice", "report", "appeal"}

func (s *Server) parseTemplates() error {
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("base.html").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("parse template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, p *page, status int, name string, data any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	p.Data, p.Status = data, status
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base.html", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// renderError answers an error with a page that says what went wrong. Errors that are the
// visitor's (4xx) say it in their words and are logged as warnings; internal errors are
// logged in full and answered in general terms.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	if p == nil {
		p = s.newPage(r)
	}
	status := docket.HTTPStatus(docket.ErrorCode(err))
	msg := docket.ErrorMessage(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "page failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	} else {
		s.log.WarnContext(r.Context(), "page refused", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("why", msg))
	}
	switch status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "60")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
	}
	p.Error = msg
	p.Title = http.StatusText(status)
	if rerr := s.render(w, r, p, status, "error", nil); rerr != nil {
		s.log.ErrorContext(r.Context(), "render error page", slog.Any("err", rerr))
		http.Error(w, msg, status)
	}
}

// smallForm is the limit of a form without files (a decision's statement may have 100,000
// characters).
const smallForm = 1 << 20

// parseForm reads a form of at most limit bytes; a form with files is read within the
// upload limit by readForm.
func parseForm(w http.ResponseWriter, r *http.Request, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return formError(r.ParseForm(), limit)
}

func formError(err error, limit int64) error {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return docket.Errorf(docket.ETOOLARGE, "The form is larger than %d KiB; send less.", limit>>10)
	case err != nil:
		return docket.Errorf(docket.EMALFORMED, "The form could not be read.")
	}
	return nil
}

// again shows a form's page once more with why it was refused, when the error is the
// visitor's (4xx); other errors are returned for the error page.
func (s *Server) again(w http.ResponseWriter, r *http.Request, p *page, err error, name string, data any) error {
	status := docket.HTTPStatus(docket.ErrorCode(err))
	if status >= 500 {
		return err
	}
	p.Error = docket.ErrorMessage(err)
	by := "anonymous"
	if p.Who != nil {
		by = p.Who.Login.ID
	}
	s.log.WarnContext(r.Context(), "form refused", slog.String("path", r.URL.Path), slog.String("login", by), slog.Int("status", status), slog.String("why", p.Error))
	return s.render(w, r, p, status, name, data)
}

var funcs = template.FuncMap{
	"t": translate,
	"tf": func(lang, key string, args ...any) string {
		return fmt.Sprintf(translate(lang, key), args...)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenp": func(t *docket.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"left": timeLeft,
	// receiptURL is a receipt as the API gives it, as a data: link to download: the file
	// docket receipt verify checks.
	"receiptURL": func(r *docket.Receipt) template.URL {
		js, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return ""
		}
		return template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(append(js, '\n')))
	},
	"clock":     clockClass,
	"short":     func(id string) string { return shortID(id) },
	"pct":       func(f float64) string { return fmt.Sprintf("%.0f %%", f*100) },
	"targetStr": func(t docket.Target) string { return t.Kind + ": " + t.Value },
	"list":      func(v ...string) []string { return v },
	// person names who an actor or a staff id is: the address of a staff member.
	"person": func(names map[string]string, actor any) string {
		a := fmt.Sprint(actor)
		if n, ok := names[strings.TrimPrefix(a, "user:")]; ok {
			return n
		}
		return a
	},
}

// shortID is the last 8 characters of an id: enough to tell cases apart on a screen.
func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[len(id)-8:]
}

// timeLeft says how long until a deadline (or how long past it), in the largest unit.
func timeLeft(c *docket.Case, now time.Time) string {
	switch {
	case !c.State.Pending():
		return "answered"
	case c.DeadlineAt.IsZero():
		return "no deadline"
	case !c.PausedAt.IsZero():
		return "paused"
	}
	d := c.DeadlineAt.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%d d", int(d.Hours()/24))
	case d >= time.Hour:
		s = fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		s = fmt.Sprintf("%d min", int(d.Minutes()))
	}
	if past {
		return "overdue by " + s
	}
	return s
}

// clockClass is the colour of a case's clock: red when overdue, amber when due soon.
func clockClass(c *docket.Case, now time.Time) string {
	switch {
	case !c.State.Pending() || c.DeadlineAt.IsZero() || !c.PausedAt.IsZero():
		return "clock"
	case !now.Before(c.DeadlineAt):
		return "clock overdue"
	case !c.DueSoonAt.IsZero() && !now.Before(c.DueSoonAt):
		return "clock due"
	}
	return "clock ok"
}

// flashText turns the ?done= of a redirect after a form into a sentence.
func flashText(done string) string {
	if done == "" || len(done) > 40 {
		return ""
	}
	for _, r := range done {
		if (r < 'a' || r > 'z') && r != '_' {
			return ""
		}
	}
	return "Done: " + strings.ReplaceAll(done, "_", " ") + "."
}
