package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/workflow"
)

func (s *Server) portalRoutes() {
	s.handle("GET /portal/signin", public, s.signin(docket.LoginOfficer))
	s.handle("POST /portal/signin", public, s.signin(docket.LoginOfficer))
	s.handle("POST /portal/signout", officerOnly, s.signout)
	s.handle("GET /portal", officerOnly, s.portalList)
	s.handle("GET /portal/new", officerOnly, s.portalNew)
	s.handle("POST /portal/new", officerOnly, s.portalNew)
	s.handle("GET /portal/cases/{id}", officerOnly, s.portalCase)
	s.handle("POST /portal/cases/{id}/reply", officerOnly, s.portalReply)
	s.handle("GET /portal/register", public, s.register)
	s.handle("POST /portal/register", public, s.register)
	s.handle("GET /portal/confirm", public, s.confirm)
	s.handle("POST /portal/confirm", public, s.confirm)
	s.handle("GET /portal/delegates", officerOnly, s.delegates)
	s.handle("POST /portal/delegates", officerOnly, s.delegates)
}

func (s *Server) portalList(w http.ResponseWriter, r *http.Request, p *page) error {
	cases, err := s.store.Cases(r.Context(), docket.CaseFilter{AuthorityID: p.Who.Authority.ID, Sort: "-received", Limit: 200})
	if err != nil {
		return err
	}
	p.Title = "Your requests"
	return s.render(w, r, p, http.StatusOK, "portal", cases)
}

// ownCase returns a case of the officer's authority; another authority's case answers
// exactly like one that does not exist, and the attempt is logged.
func (s *Server) ownCase(r *http.Request, p *page) (*docket.Case, error) {
	c, err := s.store.Case(r.Context(), r.PathValue("id"))
	if err == nil && c.AuthorityID != p.Who.Authority.ID {
		s.log.WarnContext(r.Context(), "officer asked for another authority's case", slog.String("case", c.ID),
			slog.String("login", p.Who.Login.ID), slog.String("authority", p.Who.Authority.ID))
		err = docket.ErrNotFound
	}
	if errors.Is(err, docket.ErrNotFound) {
		return nil, docket.Errorf(docket.ENOTFOUND, "No such request.")
	}
	return c, err
}

type portalCaseData struct {
	Case     *docket.Case
	Requests []*docket.Request
	Actions  []workflow.ActionSummary
}

func (s *Server) portalCase(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.ownCase(r, p)
	if err != nil {
		return err
	}
	reqs, err := s.store.CaseRequests(r.Context(), c.ID)
	if err != nil {
		return err
	}
	p.Title = "Request " + shortID(c.ID)
	return s.render(w, r, p, http.StatusOK, "portal_case", &portalCaseData{Case: c, Requests: reqs, Actions: workflow.ActionSummaries(c)})
}

// readForm reads a form with files, within the upload limit.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	err := r.ParseMultipartForm(4 << 20)
	if errors.Is(err, http.ErrNotMultipart) {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return docket.Errorf(docket.ETOOLARGE, "The form and its files are larger than %d MiB; send fewer or smaller files.", s.cfg.MaxUpload>>20)
	}
	return formError(err, s.cfg.MaxUpload)
}

// allowedFiles maps the file types the portal takes to the extensions they may have. A
// file whose content is of another type than its name says is refused.
var allowedFiles = map[string][]string{
	"application/pdf": {".pdf"},
	"image/png":       {".png"},
	"image/jpeg":      {".jpg", ".jpeg"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"text/plain":      {".txt", ".csv", ".eml"},
	"text/csv":        {".csv"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
	"application/vnd.oasis.opendocument.text":                                 {".odt"},
}

// files reads the uploaded files of a form field, refusing types docket does not take
// and files whose name disguises their type.
func files(form *multipart.Form, field string) ([]intake.AttachmentInput, error) {
	if form == nil {
		return nil, nil
	}
	var out []intake.AttachmentInput
	for _, fh := range form.File[field] {
		if fh.Filename == "" && fh.Size == 0 {
			continue
		}
		f, err := fh.Open()
		if err != nil {
			return nil, fmt.Errorf("open upload: %w", err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		kind := mimetype.Detect(data)
		typ, _, _ := strings.Cut(kind.String(), ";")
		if kind.Is("text/plain") {
			typ = "text/plain"
		}
		ext := strings.ToLower(filepath.Ext(fh.Filename))
		exts, ok := allowedFiles[typ]
		if !ok {
			return nil, docket.Errorf(docket.EUNSUPPORTED, "%q is %s, which the portal does not take: send PDF, images, text, DOCX or ODT.", fh.Filename, typ)
		}
		if !slices.Contains(exts, ext) {
			return nil, docket.Errorf(docket.EUNSUPPORTED, "%q is named as %s but its content is %s; rename or convert it.", fh.Filename, cmp.Or(ext, "a file without extension"), typ)
		}
		out = append(out, intake.AttachmentInput{Filename: fh.Filename, ContentType: typ, Data: data})
	}
	return out, nil
}

// parseTargets reads one target per line, "kind: value" or a value whose kind is plain.
func parseTargets(text string) []docket.Target {
	var out []docket.Target
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok && slices.Contains(docket.TargetKinds, strings.ToLower(strings.TrimSpace(k))) {
			out = append(out, docket.Target{Kind: strings.ToLower(strings.TrimSpace(k)), Value: strings.TrimSpace(v)})
			continue
		}
		out = append(out, docket.Target{Kind: guessKind(line), Value: line})
	}
	return out
}

func guessKind(v string) string {
	switch {
	case strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://"):
		return "url"
	case strings.HasPrefix(v, "@"):
		return "username"
	case strings.Contains(v, "@"):
		return "email"
	case net.ParseIP(v) != nil:
		return "ip"
	case strings.HasPrefix(v, "+"):
		return "phone"
	}
	return "account"
}

type newData struct {
	Regimes []*docket.Regime
	Kinds   []docket.Kind
	Form    map[string]string
}

// portalNew shows and takes the request form. What the officer typed becomes the same
// JSON document the API takes, checked by the same code, and kept as the request's raw
// body.
func (s *Server) portalNew(w http.ResponseWriter, r *http.Request, p *page) error {
	d := &newData{Regimes: s.svc.Regimes().All(), Kinds: docket.Kinds, Form: map[string]string{}}
	p.Title = "New request"
	if r.Method == http.MethodGet {
		return s.render(w, r, p, http.StatusOK, "portal_new", d)
	}
	if err := s.readForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	for k := range f {
		d.Form[k] = f.Get(k)
	}
	fail := func(err error) error { return s.again(w, r, p, err, "portal_new", d) }
	atts, err := files(r.MultipartForm, "attachments")
	if err != nil {
		return fail(err)
	}
	in := intake.Input{Regime: f.Get("regime"), Kind: docket.Kind(f.Get("kind")), Reference: f.Get("reference"),
		Description: f.Get("description"), LegalBasis: f.Get("legal_basis"), Emergency: f.Get("emergency") == "on",
		EmergencyJustification: f.Get("emergency_justification"), Targets: parseTargets(f.Get("targets")),
		Attachments: atts, NonDisclosure: f.Get("non_disclosure") == "on"}
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("portal request: %w", err)
	}
	parsed, err := intake.ParseRequest(raw, s.svc.Regimes())
	if err != nil {
		return fail(err)
	}
	res, err := s.svc.Submit(r.Context(), &workflow.Submission{Channel: docket.ChannelPortal, Authority: p.Who.Authority,
		Body: parsed.Body, Blobs: parsed.Blobs, Raw: raw, ContentType: "application/json"})
	if err != nil {
		return fail(err)
	}
	s.log.InfoContext(r.Context(), "portal request received", slog.String("case", res.Receipt.CaseID), slog.String("login", p.Who.Login.ID))
	p.Title = "Receipt"
	return s.render(w, r, p, http.StatusCreated, "receipt", &res.Receipt)
}

// portalReply takes the officer's answer to a question on a case.
func (s *Server) portalReply(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.ownCase(r, p)
	if err != nil {
		return err
	}
	if err := s.readForm(w, r); err != nil {
		return err
	}
	atts, err := files(r.MultipartForm, "attachments")
	if err != nil {
		return err
	}
	raw, err := json.Marshal(intake.ReplyInput{Text: r.PostForm.Get("text"), Attachments: atts})
	if err != nil {
		return fmt.Errorf("portal reply: %w", err)
	}
	parsed, err := intake.ParseReply(raw)
	if err != nil {
		return err
	}
	first, err := s.store.FirstRequest(r.Context(), c.ID)
	if err != nil {
		return err
	}
	if _, err := s.svc.Reply(r.Context(), p.Who.Authority, first.ID, &workflow.Submission{Body: parsed.Body, Blobs: parsed.Blobs, Raw: raw, ContentType: "application/json"}); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/cases/"+c.ID+"?done=replied", http.StatusSeeOther)
	return nil
}
