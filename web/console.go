package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

func (s *Server) consoleRoutes() {
	s.handle("GET /console/signin", public, s.signin(docket.LoginStaff))
	s.handle("POST /console/signin", public, s.signin(docket.LoginStaff))
	s.handle("POST /console/signout", staffOnly, s.signout)
	if s.sso != nil {
		s.handle("GET /console/sso", public, s.ssoStart)
		s.handle("GET /console/sso/callback", public, s.ssoCallback)
	}
	s.handle("GET /console", staffOnly, s.queue)
	s.handle("GET /console/cases/{id}", staffOnly, s.casePage)
	s.handle("POST /console/cases/{id}/act", staffOnly, s.act)
	s.handle("POST /console/bulk", staffOnly, s.bulk)
	s.handle("GET /console/requests/{id}/raw", staffOnly, s.raw)
	s.handle("GET /console/attachments/{sha256}", staffOnly, s.attachment)
	s.handle("GET /console/dashboard", staffOnly, s.dashboard)
	s.handle("GET /console/reports/{name}", staffOnly, s.reportPage)
	s.handle("GET /console/accounts", staffOnly, s.accountsPage)
	s.handle("POST /console/accounts/{id}/approve", staffOnly, s.approveAccount)
	s.handle("POST /console/accounts/{id}/reset", staffOnly, s.resetAccount)
}

// queueRow is one line of the queue.
type queueRow struct {
	Case      *docket.Case
	Assignee  string
	Authority string
	Verified  string
	Targets   []docket.Target
}

type queueData struct {
	Rows    []queueRow
	Filter  map[string]string
	Regimes []*docket.Regime
	Stats   *docket.Stats
	States  []string
	CanWork bool
}

// verification says how far the requester of a case is known.
func verification(c *docket.Case) string {
	switch {
	case c.SenderVerified != nil:
		return "verified by staff"
	case c.Sender != "":
		return c.Sender
	case c.AuthorityID != "" && c.Channel == docket.ChannelPortal:
		return "registered (portal)"
	case c.AuthorityID != "":
		return "registered (API)"
	case c.Channel == docket.ChannelNotice:
		return "public"
	}
	return "unknown"
}

func (s *Server) authorityNames(ctx context.Context) (map[string]*docket.Authority, error) {
	all, err := s.store.Authorities(ctx)
	if err != nil {
		return nil, fmt.Errorf("list authorities: %w", err)
	}
	m := make(map[string]*docket.Authority, len(all))
	for _, a := range all {
		m[a.ID] = a
	}
	return m, nil
}

// staff lists the staff, and maps their ids to their addresses for people to read.
func (s *Server) staff(ctx context.Context) ([]*docket.User, map[string]string, error) {
	users, err := s.store.Users(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list staff: %w", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Email
	}
	return users, names, nil
}

// queue lists cases: emergencies first, then by deadline, filtered and searched.
func (s *Server) queue(w http.ResponseWriter, r *http.Request, p *page) error {
	q := r.URL.Query()
	f := docket.CaseFilter{Sort: "queue", Limit: 200, Now: p.Now,
		Queue: q.Get("queue"), Regime: q.Get("regime"), Country: strings.ToUpper(q.Get("country")), Query: q.Get("q")}
	if utf8.RuneCountInString(f.Query) > 200 {
		return docket.Errorf(docket.EINVALID, "The search is longer than 200 characters.")
	}
	switch st := q.Get("state"); st {
	case "", "pending":
		f.Pending = true
	case "all":
	default:
		if !slices.Contains(docket.CaseStates, docket.CaseState(st)) {
			return docket.Errorf(docket.EINVALID, "Unknown state %q.", st)
		}
		f.States = []docket.CaseState{docket.CaseState(st)}
	}
	if q.Get("mine") == "1" {
		f.AssigneeID = p.Who.User.ID
	}
	if q.Get("emergency") == "1" {
		f.Emergency = true
	}
	if q.Get("overdue") == "1" {
		f.Overdue = true
	}
	cases, err := s.store.Cases(r.Context(), f)
	if err != nil {
		return err
	}
	authorities, err := s.authorityNames(r.Context())
	if err != nil {
		return err
	}
	stats, err := s.store.Stats(r.Context(), p.Now)
	if err != nil {
		return err
	}
	_, names, err := s.staff(r.Context())
	if err != nil {
		return err
	}
	d := &queueData{Regimes: s.svc.Regimes().All(), Stats: stats, States: []string{"open", "awaiting_approval", "decided", "awaiting_requester", "answered", "all"}, CanWork: p.Who.User.Role.CanWork(), Filter: map[string]string{
		"q": f.Query, "queue": f.Queue, "regime": f.Regime, "country": f.Country, "state": q.Get("state"),
		"mine": q.Get("mine"), "emergency": q.Get("emergency"), "overdue": q.Get("overdue")}}
	for _, c := range cases {
		row := queueRow{Case: c, Verified: verification(c), Assignee: names[c.AssigneeID]}
		if a := authorities[c.AuthorityID]; a != nil {
			row.Authority = a.Name
		} else if c.Channel == docket.ChannelNotice {
			row.Authority = "public notice"
		}
		if c.Triage != nil {
			row.Targets = c.Triage.Targets[:min(len(c.Triage.Targets), 3)]
		}
		d.Rows = append(d.Rows, row)
	}
	p.Title = "Queue"
	return s.render(w, r, p, http.StatusOK, "queue", d)
}

type caseData struct {
	Case       *docket.Case
	Authority  *docket.Authority
	Verified   string
	Requests   []*docket.Request
	Events     []*docket.Event
	Related    []*docket.Case
	Staff      []*docket.User
	Regimes    []*docket.Regime
	Templates  []decisionTemplate
	CanWork    bool
	CanApprove bool
	// CanSplit: the case is open, has requests besides the first, and the viewer works cases.
	CanSplit bool
	Form     map[string]string
	// Names maps staff ids to their addresses, for people to read.
	Names map[string]string
	// Matched lists, by an attachment's SHA-256, the hash banks it was found in: the page
	// does not load such a picture until someone asks for it.
	Matched map[string][]docket.MediaMatch
	// NotifierLinks are the appeal links of the case's actions for the sender of the notice
	// (DSA art. 20), for staff who work cases to give with the answer; by decision (puid).
	NotifierLinks map[string]string
}

func (s *Server) loadCase(ctx context.Context, p *page, id string) (*caseData, error) {
	c, err := s.store.Case(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &caseData{Case: c, Verified: verification(c), Regimes: s.svc.Regimes().All(), Form: map[string]string{}, Matched: map[string][]docket.MediaMatch{}}
	for _, m := range c.MediaMatches() {
		d.Matched[m.SHA256] = append(d.Matched[m.SHA256], m)
	}
	if d.Requests, err = s.store.CaseRequests(ctx, id); err != nil {
		return nil, err
	}
	if d.Events, err = s.store.CaseEvents(ctx, id); err != nil {
		return nil, err
	}
	if c.AuthorityID != "" {
		if d.Authority, err = s.store.Authority(ctx, c.AuthorityID); err != nil {
			return nil, err
		}
		others, err := s.store.Cases(ctx, docket.CaseFilter{AuthorityID: c.AuthorityID, Pending: true, Limit: 11})
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.ID != c.ID && len(d.Related) < 10 {
				d.Related = append(d.Related, o)
			}
		}
	}
	if d.Staff, d.Names, err = s.staff(ctx); err != nil {
		return nil, err
	}
	d.Templates = templatesFor(s.svc.Grounds(), caseLanguage(c))
	u := p.Who.User
	d.CanWork = u.Role.CanWork()
	d.CanApprove = u.Role.CanApprove() && c.State == docket.StateAwaitingApproval && c.Decision != nil && c.Decision.DecidedBy != u.ID
	d.CanSplit = d.CanWork && c.State == docket.StateOpen && len(d.Requests) > 1
	if d.CanWork && c.Channel == docket.ChannelNotice {
		for _, a := range c.Actions {
			if link := ""; docket.ContentOp(a.Op) && a.Status == docket.ActionDoneStatus && a.Statement != nil {
				if link = s.svc.AppealLink(docket.AppellantNotifier, a.Statement.PUID); link != "" {
					if d.NotifierLinks == nil {
						d.NotifierLinks = map[string]string{}
					}
					d.NotifierLinks[a.Statement.PUID] = s.cfg.PublicURL + link
				}
			}
		}
	}
	return d, nil
}

// caseLanguage is the language triage found in a case's requests ("en" when none).
func caseLanguage(c *docket.Case) string {
	if c.Triage != nil && c.Triage.Language != "" {
		return c.Triage.Language
	}
	return "en"
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, p *page) error {
	d, err := s.loadCase(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	p.Title = "Case " + shortID(d.Case.ID)
	return s.render(w, r, p, http.StatusOK, "case", d)
}

// formAction reads an action form into a workflow action; a chosen template fills an
// empty statement.
func formAction(r *http.Request, templates []decisionTemplate) (workflow.Action, error) {
	f := r.PostForm
	a := workflow.Action{Type: f.Get("type"), Assignee: f.Get("assignee"), Text: f.Get("text"),
		Outcome: docket.Outcome(f.Get("outcome")), ReasonCode: f.Get("reason_code"), Statement: f.Get("statement"), Policy: f.Get("policy"),
		Regime: f.Get("regime"), Queue: f.Get("queue"), Label: f.Get("label"), Category: f.Get("category"), Method: f.Get("method"),
		Case: strings.TrimSpace(f.Get("case")), Requests: f["request"]}
	if a.Type == workflow.ActDecide && strings.TrimSpace(a.Statement) == "" && f.Get("template") != "" {
		for _, t := range templates {
			if t.ID == f.Get("template") {
				a.Statement = t.Text
				if a.ReasonCode == "" {
					a.ReasonCode = t.Reason
				}
			}
		}
	}
	if a.Type == workflow.ActDecideAppeal {
		n, err := strconv.ParseInt(f.Get("appeal"), 10, 64)
		if err != nil || n <= 0 {
			return a, docket.Errorf(docket.EINVALID, "Name the appeal to decide.")
		}
		a.Appeal = n
	}
	if a.Type == workflow.ActRetriage {
		em, spam := f.Get("emergency") == "on", f.Get("spam") == "on"
		a.Emergency, a.Spam = &em, &spam
		if v := f.Get("priority"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				return a, docket.Errorf(docket.EINVALID, "Priority is a whole number from 0 to 100.")
			}
			a.Priority = &n
		}
	}
	return a, nil
}

// act applies one action from the case page and goes back to it.
func (s *Server) act(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := parseForm(w, r, smallForm); err != nil {
		return err
	}
	id := r.PathValue("id")
	c, err := s.store.Case(r.Context(), id)
	if err != nil {
		return err
	}
	a, err := formAction(r, templatesFor(s.svc.Grounds(), caseLanguage(c)))
	if err == nil && a.Type == workflow.ActMerge {
		a.Case, err = s.resolveShort(r.Context(), c, a.Case)
	}
	if err == nil {
		_, _, err = s.svc.Act(r.Context(), p.Who.User, id, a)
	}
	if err != nil {
		// The page again, with what was typed and why it was refused.
		d, err2 := s.loadCase(r.Context(), p, id)
		if err2 != nil {
			return errors.Join(err, err2)
		}
		for k := range r.PostForm {
			d.Form[k] = r.PostForm.Get(k)
		}
		p.Title = "Case " + shortID(id)
		return s.again(w, r, p, err, "case", d)
	}
	http.Redirect(w, r, "/console/cases/"+id+"?done="+a.Type, http.StatusSeeOther)
	return nil
}

// resolveShort turns the short id the pages show (the last 8 characters) into the full id
// of one of the requester's open cases; a full id, or one that matches none, is left as typed
// for the workflow to judge.
func (s *Server) resolveShort(ctx context.Context, c *docket.Case, typed string) (string, error) {
	if len(typed) != 8 || c.AuthorityID == "" {
		return typed, nil
	}
	open, err := s.store.Cases(ctx, docket.CaseFilter{AuthorityID: c.AuthorityID, Pending: true, Limit: 1000})
	if err != nil {
		return "", err
	}
	var found []string
	for _, o := range open {
		if strings.HasSuffix(o.ID, typed) && o.ID != c.ID {
			found = append(found, o.ID)
		}
	}
	if len(found) > 1 {
		return "", docket.Errorf(docket.EINVALID, "%s matches %d open cases of this requester; give the full id.", typed, len(found))
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return typed, nil
}

// bulk closes the selected cases as spam: each is re-triaged as spam, decided not
// actionable and answered, three events on each case.
func (s *Server) bulk(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := parseForm(w, r, smallForm); err != nil {
		return err
	}
	if r.PostForm.Get("action") != "spam" {
		return docket.Errorf(docket.EINVALID, "Unknown bulk action %q.", r.PostForm.Get("action"))
	}
	ids := r.PostForm["case"]
	if len(ids) == 0 {
		return docket.Errorf(docket.EINVALID, "Select the cases to close first.")
	}
	if len(ids) > 200 {
		return docket.Errorf(docket.EINVALID, "At most 200 cases at once.")
	}
	yes := true
	var failed []string
	for _, id := range ids {
		for _, a := range []workflow.Action{
			{Type: workflow.ActRetriage, Spam: &yes, Text: "bulk close as spam"},
			{Type: workflow.ActDecide, Outcome: docket.OutcomeNotActionable, ReasonCode: "spam", Statement: "Closed as spam: no lawful request or notice to act on."},
			{Type: workflow.ActAnswer, Text: "Closed as spam: no lawful request or notice to act on."},
		} {
			if _, _, err := s.svc.Act(r.Context(), p.Who.User, id, a); err != nil {
				if docket.ErrorCode(err) == docket.EFORBIDDEN {
					return err
				}
				failed = append(failed, shortID(id)+": "+docket.ErrorMessage(err))
				break
			}
		}
	}
	if len(failed) > 0 {
		return docket.Errorf(docket.ESTATE, "Closed %d of %d; not closed: %s", len(ids)-len(failed), len(ids), strings.Join(failed, "; "))
	}
	http.Redirect(w, r, "/console?done=closed_as_spam", http.StatusSeeOther)
	return nil
}

// raw shows a request exactly as received (an e-mail's source), as text on a page.
func (s *Server) raw(w http.ResponseWriter, r *http.Request, p *page) error {
	req, err := s.store.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	const maxShown = 2 << 20
	text := req.Raw
	cut := len(text) > maxShown
	if cut {
		text = text[:maxShown]
	}
	p.Title = "Request " + shortID(req.ID) + " as received"
	return s.render(w, r, p, http.StatusOK, "raw", map[string]any{"Request": req, "Text": strings.ToValidUTF8(string(text), "\uFFFD"), "Cut": cut})
}

// inlineImages are the types shown on the case page (blurred until clicked); every other
// attachment is only downloaded, as bytes.
var inlineImages = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// attachment sends an attachment: images inline when asked (for the blurred preview),
// everything else as a download that no browser renders.
func (s *Server) attachment(w http.ResponseWriter, r *http.Request, p *page) error {
	b, err := s.store.Blob(r.Context(), r.PathValue("sha256"))
	if err != nil {
		return err
	}
	kind := mimetype.Detect(b.Data).String()
	kind, _, _ = strings.Cut(kind, ";")
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.URL.Query().Get("inline") == "1" && slices.Contains(inlineImages, kind) {
		h.Set("Content-Type", kind)
	} else {
		name := cmp.Or(safeFilename(r.URL.Query().Get("name")), b.SHA256[:16]+".bin")
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	}
	h.Set("Content-Length", strconv.Itoa(len(b.Data)))
	_, err = w.Write(b.Data)
	return err
}

// safeFilename keeps letters, digits and a few marks of a file name, for a download.
func safeFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	return strings.TrimLeft(b.String(), ".")
}

type accountsData struct {
	Pending     []*docket.Login
	Officers    []*docket.Login // every officer, for a reset
	Authorities map[string]*docket.Authority
	CanApprove  bool
}

// accountsPage lists officers who wait for approval.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, p *page) error {
	pending, err := s.store.Logins(r.Context(), docket.LoginFilter{Kind: docket.LoginOfficer, Status: docket.LoginAwaitingApproval})
	if err != nil {
		return err
	}
	names, err := s.authorityNames(r.Context())
	if err != nil {
		return err
	}
	officers, err := s.store.Logins(r.Context(), docket.LoginFilter{Kind: docket.LoginOfficer})
	if err != nil {
		return err
	}
	p.Title = "Officer accounts"
	return s.render(w, r, p, http.StatusOK, "accounts", &accountsData{Pending: pending, Officers: officers, Authorities: names, CanApprove: p.Who.User.Role.CanApprove()})
}

// resetAccount starts an officer's sign-in over: a new link to the account's address.
func (s *Server) resetAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	if !p.Who.User.Role.CanApprove() {
		return docket.Errorf(docket.EFORBIDDEN, "Only a reviewer or an admin may reset an officer's sign-in.")
	}
	if err := s.resetOfficer(r, r.PathValue("id"), p.Who.User.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/accounts?done=link_sent", http.StatusSeeOther)
	return nil
}

// resetOfficer resets an officer's sign-in and sends the new confirmation link.
func (s *Server) resetOfficer(r *http.Request, id, by string) error {
	l, token, err := s.accounts.ResetOfficer(r.Context(), id, by)
	if err != nil {
		return err
	}
	a, err := s.store.Authority(r.Context(), l.AuthorityID)
	if err != nil {
		return err
	}
	return s.sendLink(r, l, a, token)
}

func (s *Server) approveAccount(w http.ResponseWriter, r *http.Request, p *page) error {
	if !p.Who.User.Role.CanApprove() {
		return docket.Errorf(docket.EFORBIDDEN, "Only a reviewer or an admin may approve an officer's account.")
	}
	if err := s.accounts.Approve(r.Context(), r.PathValue("id"), p.Who.User.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/accounts?done=approved", http.StatusSeeOther)
	return nil
}
