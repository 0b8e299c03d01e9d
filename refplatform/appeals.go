package refplatform

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docket-dev/docket"
)

// The in-app appeal (DSA art. 20): a user contests, in the app, a decision on their content
// or account (the puid of its statement of reasons). docket collects the appeals through the
// connector (POST /connector/v1/appeals), acknowledges each, and answers with a notice that
// names the appeal (POST /connector/v1/notify).

// appealIn is an appeal as the app sends it: the user signed in (here, named by handle), the
// decision and the text.
type appealIn struct {
	User string `json:"user"`
	PUID string `json:"puid"`
	Text string `json:"text"`
}

// fileAppeal files an in-app appeal: only the user whose content or account the decision
// concerns may.
func (s *Server) fileAppeal(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "The appeal is over 64 KiB.")
		return
	}
	var in appealIn
	if err := decode(body, &in); err != nil {
		problem(w, http.StatusBadRequest, err.Error())
		return
	}
	if strings.TrimSpace(in.Text) == "" || utf8.RuneCountInString(in.Text) > 5000 {
		problem(w, http.StatusUnprocessableEntity, "Say why the decision is wrong, in at most 5,000 characters.")
		return
	}
	var target string
	err = s.DB.db.QueryRowContext(ctx, `SELECT target FROM statements WHERE puid = ?`, in.PUID).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		problem(w, http.StatusNotFound, "No decision has this reference.")
		return
	} else if err != nil {
		problem(w, http.StatusInternalServerError, "error")
		return
	}
	var uid int64
	if err := s.DB.db.QueryRowContext(ctx, `SELECT id FROM users WHERE handle = ?`, strings.TrimPrefix(in.User, "@")).Scan(&uid); err != nil {
		problem(w, http.StatusForbidden, "Sign in as the user the decision concerns.")
		return
	}
	kind, idText, _ := strings.Cut(target, ":")
	id, _ := strconv.ParseInt(idText, 10, 64)
	owner, err := s.owner(ctx, ref{kind, id})
	if err != nil || owner != uid {
		problem(w, http.StatusForbidden, "Only the user the decision concerns may contest it here.")
		return
	}
	res, err := s.DB.db.ExecContext(ctx, `INSERT INTO appeals (puid, user_id, text, filed_at) VALUES (?, ?, ?, ?)`,
		in.PUID, uid, in.Text, s.now().Format(time.RFC3339Nano))
	if err != nil {
		problem(w, http.StatusInternalServerError, "error")
		return
	}
	n, _ := res.LastInsertId()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": strconv.FormatInt(n, 10), "status": "filed"})
}

// readAppeal shows an in-app appeal and its answer.
func (s *Server) readAppeal(w http.ResponseWriter, r *http.Request) {
	var v struct {
		ID      string `json:"id"`
		PUID    string `json:"puid"`
		Status  string `json:"status"`
		Detail  string `json:"detail,omitempty"`
		Answer  string `json:"answer,omitempty"`
		FiledAt string `json:"filed_at"`
	}
	err := s.DB.db.QueryRowContext(r.Context(), `SELECT id, puid, status, detail, answer, filed_at FROM appeals WHERE id = ?`, r.PathValue("id")).
		Scan(&v.ID, &v.PUID, &v.Status, &v.Detail, &v.Answer, &v.FiledAt)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// appeals records docket's acknowledgements and returns the appeals it has not acknowledged.
func (s *Server) appeals(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Acks []docket.AppealAck `json:"acks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	for _, a := range in.Acks {
		if a.Status != "received" && a.Status != "refused" {
			return nil, fail(http.StatusUnprocessableEntity, "An acknowledgement's status is received or refused, not %q.", a.Status)
		}
		if _, err := s.DB.db.ExecContext(ctx, `UPDATE appeals SET status = ?, detail = ? WHERE id = ? AND status = 'filed'`, a.Status, a.Detail, a.ID); err != nil {
			return nil, fmt.Errorf("acknowledge appeal %s: %w", a.ID, err)
		}
	}
	rows, err := s.DB.db.QueryContext(ctx, `SELECT id, puid, text, filed_at FROM appeals WHERE status = 'filed' ORDER BY id LIMIT 100`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []docket.PlatformAppeal{}
	for rows.Next() {
		var p docket.PlatformAppeal
		var id int64
		var filed string
		if err := rows.Scan(&id, &p.PUID, &p.Text, &filed); err != nil {
			return nil, err
		}
		p.ID, p.Appellant = strconv.FormatInt(id, 10), docket.AppellantUser
		p.FiledAt, _ = time.Parse(time.RFC3339Nano, filed)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return map[string]any{"appeals": out}, nil
}

// History returns the actions the platform carried out, one "op target puid" a line, for
// tests and the demo.
func (d *DB) History(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT op, target, puid FROM history ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var op, target, puid string
		if err := rows.Scan(&op, &target, &puid); err != nil {
			return nil, err
		}
		out = append(out, op+" "+target+" "+puid)
	}
	return out, rows.Err()
}

// AppealLink returns the appeal link the platform was given with the decision puid.
func (d *DB) AppealLink(ctx context.Context, puid string) (string, error) {
	var url string
	err := d.db.QueryRowContext(ctx, `SELECT url FROM appeal_links WHERE puid = ?`, puid).Scan(&url)
	return url, err
}

// decision is a decision on a user's content or account as the app shows it to that user:
// the statement of reasons and the appeal link docket gave with it.
type decision struct {
	PUID      string          `json:"puid"`
	Op        string          `json:"op"`
	Target    string          `json:"target"`
	At        string          `json:"at"`
	Statement json.RawMessage `json:"statement"`
	AppealURL string          `json:"appeal_url,omitempty"`
}

// readDecisions shows a user (signed in: here, named by ?user=HANDLE) the decisions taken
// on their content and account, with the appeal link of each.
func (s *Server) readDecisions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var uid int64
	if err := s.DB.db.QueryRowContext(ctx, `SELECT id FROM users WHERE handle = ?`, strings.TrimPrefix(r.URL.Query().Get("user"), "@")).Scan(&uid); err != nil {
		problem(w, http.StatusForbidden, "Sign in (?user=HANDLE) to see the decisions on your content.")
		return
	}
	rows, err := s.DB.db.QueryContext(ctx, `SELECT s.puid, s.op, s.target, s.at, s.statement, COALESCE(l.url, '') FROM statements s
		LEFT JOIN appeal_links l ON l.puid = s.puid ORDER BY s.at, s.puid`)
	if err != nil {
		problem(w, http.StatusInternalServerError, "error")
		return
	}
	var all []decision
	for rows.Next() {
		var d decision
		var st string
		if err := rows.Scan(&d.PUID, &d.Op, &d.Target, &d.At, &st, &d.AppealURL); err != nil {
			rows.Close()
			problem(w, http.StatusInternalServerError, "error")
			return
		}
		d.Statement = json.RawMessage(st)
		all = append(all, d)
	}
	rows.Close()
	out := []decision{}
	for _, d := range all {
		kind, idText, _ := strings.Cut(d.Target, ":")
		id, _ := strconv.ParseInt(idText, 10, 64)
		if owner, err := s.owner(ctx, ref{kind, id}); err == nil && owner == uid {
			out = append(out, d)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"decisions": out})
}
