package refplatform

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/platform"
)

// Server serves the platform: public reading, and the connector for docket.
type Server struct {
	DB       *DB
	Verifier *platform.Verifier
	Log      *slog.Logger
	Now      func() time.Time

	keysMu sync.Mutex
	keys   map[string]*keyLock // the idempotency keys of the calls being answered
}

// keyLock serialises the calls that carry one idempotency key.
type keyLock struct {
	mu      sync.Mutex
	waiters int
}

// lockKey waits until no other call with key is being answered, and returns the unlock.
func (s *Server) lockKey(key string) func() {
	s.keysMu.Lock()
	if s.keys == nil {
		s.keys = map[string]*keyLock{}
	}
	l := s.keys[key]
	if l == nil {
		l = &keyLock{}
		s.keys[key] = l
	}
	l.waiters++
	s.keysMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.keysMu.Lock()
		if l.waiters--; l.waiters == 0 {
			delete(s.keys, key)
		}
		s.keysMu.Unlock()
	}
}

// Handler returns the platform's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /m/{id}", s.readMessage)
	mux.HandleFunc("GET /c/{name}", s.readChannel)
	mux.HandleFunc("GET /u/{handle}", s.readUser)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.Handle("POST "+platform.PathLookup, s.connector(s.lookup))
	mux.Handle("POST "+platform.PathAct, s.connector(s.act))
	mux.Handle("POST "+platform.PathPreserve, s.connector(s.preserve))
	mux.Handle("POST "+platform.PathExport, s.connector(s.export))
	mux.Handle("POST "+platform.PathNotify, s.connector(s.notify))
	mux.Handle("POST "+platform.PathAppeals, s.connector(s.appeals))
	mux.HandleFunc("POST /appeals", s.fileAppeal)
	mux.HandleFunc("GET /appeals/{id}", s.readAppeal)
	mux.HandleFunc("GET /decisions", s.readDecisions)
	return mux
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// status is an answer with an HTTP status other than 200.
type status struct {
	code int
	msg  string
}

func (e *status) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &status{code, fmt.Sprintf(format, args...)}
}

func problem(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(code), "status": code, "detail": detail})
}

// connector wraps a connector operation: size limit, signature, idempotency.
func (s *Server) connector(op func(ctx context.Context, body []byte) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			problem(w, http.StatusRequestEntityTooLarge, "The call's body is over 1 MiB.")
			return
		}
		if err := s.Verifier.Verify(r, body); err != nil {
			s.log().Warn("connector call refused", slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.Any("err", err))
			problem(w, http.StatusUnauthorized, "Refused: "+err.Error()+".")
			return
		}
		key := r.Header.Get(platform.HeaderIdempotency)
		ctx := r.Context()
		if key != "" {
			// One call of a key at a time (two docket nodes may send it at once: one took
			// over a job whose lease ran out while the other still ran it), and carried
			// through with its answer kept even if the caller hangs up meanwhile: otherwise
			// the retry would act a second time.
			defer s.lockKey(r.URL.Path + " " + key)()
			ctx = context.WithoutCancel(ctx)
			var code int
			var answer []byte
			err := s.DB.db.QueryRowContext(ctx, `SELECT status, answer FROM calls WHERE key = ?`, r.URL.Path+" "+key).Scan(&code, &answer)
			if err == nil {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Idempotent-Replayed", "true")
				w.WriteHeader(code)
				w.Write(answer)
				return
			}
		}
		out, err := op(ctx, body)
		code := http.StatusOK
		var answer []byte
		if err != nil {
			var st *status
			if !errors.As(err, &st) {
				s.log().Error("connector call failed", slog.String("path", r.URL.Path), slog.Any("err", err))
				problem(w, http.StatusInternalServerError, "The platform could not do it; try again.")
				return
			}
			code = st.code
			answer, _ = json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(code), "status": code, "detail": st.msg})
		} else if answer, err = json.Marshal(out); err != nil {
			problem(w, http.StatusInternalServerError, err.Error())
			return
		}
		if key != "" && code < 500 {
			if _, err := s.DB.db.ExecContext(ctx, `INSERT OR IGNORE INTO calls (key, path, status, answer) VALUES (?, ?, ?, ?)`,
				r.URL.Path+" "+key, r.URL.Path, code, answer); err != nil {
				s.log().Error("keep idempotent answer", slog.Any("err", err))
			}
		}
		if code == http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "application/problem+json")
		}
		w.WriteHeader(code)
		w.Write(answer)
	})
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail(http.StatusBadRequest, "Malformed call: %v.", err)
	}
	return nil
}

// ref is a thing on the platform.
type ref struct {
	kind string // message, channel, account
	id   int64
}

func (r ref) String() string { return r.kind + ":" + strconv.FormatInt(r.id, 10) }

// resolve finds what a target names; a target the platform does not know is a 404.
func (s *Server) resolve(ctx context.Context, t docket.Target) (ref, error) {
	v := strings.TrimSpace(t.Value)
	kind := t.Kind
	if u, err := url.Parse(v); err == nil && u.Path != "" && strings.Contains(v, "/") {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) == 2 {
			switch parts[0] {
			case "m":
				kind, v = "message", parts[1]
			case "c":
				kind, v = "channel", parts[1]
			case "u":
				kind, v = "account", parts[1]
			}
		}
	}
	var id int64
	var err error
	switch kind {
	case "message", "media":
		kind = "message"
		if id, err = strconv.ParseInt(v, 10, 64); err != nil {
			return ref{}, fail(http.StatusNotFound, "No message %q on the platform.", t.Value)
		}
		err = s.DB.db.QueryRowContext(ctx, `SELECT id FROM messages WHERE id = ?`, id).Scan(&id)
	case "channel", "group":
		err = s.DB.db.QueryRowContext(ctx, `SELECT id FROM channels WHERE name = ?`, strings.TrimLeft(v, "@#")).Scan(&id)
		kind = "channel"
	case "username", "account":
		err = s.DB.db.QueryRowContext(ctx, `SELECT id FROM users WHERE handle = ? OR CAST(id AS TEXT) = ?`, strings.TrimPrefix(v, "@"), v).Scan(&id)
		kind = "account"
	case "email":
		err = s.DB.db.QueryRowContext(ctx, `SELECT id FROM users WHERE lower(email) = lower(?)`, v).Scan(&id)
		kind = "account"
	case "phone":
		err = s.DB.db.QueryRowContext(ctx, `SELECT id FROM users WHERE phone = ?`, v).Scan(&id)
		kind = "account"
	default:
		return ref{}, fail(http.StatusNotFound, "The platform holds nothing of kind %q.", t.Kind)
	}
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ref{}, fail(http.StatusNotFound, "No %s %q on the platform.", kind, t.Value)
		}
		return ref{}, err
	}
	return ref{kind, id}, nil
}

type targetCall struct {
	Target docket.Target `json:"target"`
}

func (s *Server) lookup(ctx context.Context, body []byte) (any, error) {
	var in targetCall
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, in.Target)
	var st *status
	if errors.As(err, &st) && st.code == http.StatusNotFound {
		return docket.TargetInfo{Exists: false}, nil
	} else if err != nil {
		return nil, err
	}
	info := docket.TargetInfo{Exists: true, Kind: r.kind, ID: strconv.FormatInt(r.id, 10)}
	q := map[string]string{
		"message": `SELECT u.handle, u.country, c.public, m.created_at FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id WHERE m.id = ?`,
		"channel": `SELECT u.handle, u.country, c.public, c.created_at FROM channels c JOIN users u ON u.id = c.owner_id WHERE c.id = ?`,
		"account": `SELECT handle, country, 1, created_at FROM users WHERE id = ?`,
	}[r.kind]
	if err := s.DB.db.QueryRowContext(ctx, q, r.id).Scan(&info.Owner, &info.Country, &info.Public, &info.CreatedAt); err != nil {
		return nil, fmt.Errorf("lookup %s: %w", r, err)
	}
	return info, nil
}

func (s *Server) act(ctx context.Context, body []byte) (any, error) {
	var in docket.PlatformAction
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Statement == nil || in.Statement.PUID == "" {
		return nil, fail(http.StatusUnprocessableEntity, "Every action needs its statement of reasons, with a puid.")
	}
	r, err := s.resolve(ctx, in.Target)
	if err != nil {
		return nil, err
	}
	now := s.now().Format(time.RFC3339Nano)
	until := ""
	if in.Until != nil {
		until = in.Until.UTC().Format(time.RFC3339)
	}
	type stmt struct {
		q    string
		args []any
	}
	var stmts []stmt
	switch {
	case in.Op == docket.OpRemove && r.kind == "message":
		stmts = []stmt{{`UPDATE messages SET removed_at = ? WHERE id = ? AND removed_at = ''`, []any{now, r.id}}}
	case in.Op == docket.OpRemove && r.kind == "channel":
		stmts = []stmt{{`UPDATE channels SET removed_at = ? WHERE id = ? AND removed_at = ''`, []any{now, r.id}}}
	case in.Op == docket.OpRestrict && (r.kind == "message" || r.kind == "channel"):
		if len(in.Countries) == 0 {
			return nil, fail(http.StatusUnprocessableEntity, "A restriction needs the countries where it applies.")
		}
		for _, c := range in.Countries {
			stmts = append(stmts, stmt{`INSERT OR REPLACE INTO restrictions (kind, ref_id, country, until) VALUES (?, ?, ?, ?)`, []any{r.kind, r.id, strings.ToUpper(c), until}})
		}
	case (in.Op == docket.OpSuspend || in.Op == docket.OpTerminate) && r.kind == "account":
		st := map[string]string{docket.OpSuspend: "suspended", docket.OpTerminate: "terminated"}[in.Op]
		stmts = []stmt{{`UPDATE users SET status = ?, status_until = ? WHERE id = ?`, []any{st, until, r.id}}}
	case in.Op == docket.OpRestore && (r.kind == "message" || r.kind == "channel"):
		// An appeal was upheld: the content is back, everywhere it was removed or withheld
		// (in the countries named, when some are).
		table := map[string]string{"message": "messages", "channel": "channels"}[r.kind]
		stmts = []stmt{{`UPDATE ` + table + ` SET removed_at = '' WHERE id = ?`, []any{r.id}}}
		if len(in.Countries) == 0 {
			stmts = append(stmts, stmt{`DELETE FROM restrictions WHERE kind = ? AND ref_id = ?`, []any{r.kind, r.id}})
		}
		for _, c := range in.Countries {
			stmts = append(stmts, stmt{`DELETE FROM restrictions WHERE kind = ? AND ref_id = ? AND country = ?`, []any{r.kind, r.id, strings.ToUpper(c)}})
		}
	case in.Op == docket.OpReinstate && r.kind == "account":
		stmts = []stmt{{`UPDATE users SET status = 'active', status_until = '' WHERE id = ?`, []any{r.id}}}
	default:
		return nil, fail(http.StatusUnprocessableEntity, "The platform cannot %s a %s.", in.Op, r.kind)
	}
	sor, _ := json.Marshal(in.Statement)
	tx, err := s.DB.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return nil, fmt.Errorf("%s %s: %w", in.Op, r, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO statements (puid, op, target, statement, at) VALUES (?, ?, ?, ?, ?)`,
		in.Statement.PUID, in.Op, r.String(), string(sor), now); err != nil {
		return nil, fmt.Errorf("keep statement of reasons: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO history (op, target, puid, at) VALUES (?, ?, ?, ?)`, in.Op, r.String(), in.Statement.PUID, now); err != nil {
		return nil, fmt.Errorf("record history: %w", err)
	}
	if in.AppealURL != "" {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO appeal_links (puid, url) VALUES (?, ?)`, in.Statement.PUID, in.AppealURL); err != nil {
			return nil, fmt.Errorf("keep appeal link: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return docket.ActionResult{Status: "done", EffectiveAt: s.now(), Ref: r.String(), Detail: fmt.Sprintf("%s %s", in.Op, r)}, nil
}

func (s *Server) preserve(ctx context.Context, body []byte) (any, error) {
	var in targetCall
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, err := s.resolve(ctx, in.Target)
	if err != nil {
		return nil, err
	}
	snap := map[string]any{"target": in.Target, "resolved": r.String(), "taken_at": s.now()}
	var owner int64
	switch r.kind {
	case "message":
		m, err := s.messages(ctx, `WHERE m.id = ?`, r.id)
		if err != nil || len(m) == 0 {
			return nil, fmt.Errorf("preserve %s: %v", r, err)
		}
		snap["message"], owner = m[0], m[0].AuthorID
	case "channel":
		m, err := s.messages(ctx, `WHERE m.channel_id = ?`, r.id)
		if err != nil {
			return nil, err
		}
		snap["messages"] = m
		if err := s.DB.db.QueryRowContext(ctx, `SELECT owner_id FROM channels WHERE id = ?`, r.id).Scan(&owner); err != nil {
			return nil, err
		}
	case "account":
		m, err := s.messages(ctx, `WHERE m.author_id = ?`, r.id)
		if err != nil {
			return nil, err
		}
		snap["messages"], owner = m, r.id
	}
	u, err := s.user(ctx, owner)
	if err != nil {
		return nil, err
	}
	snap["account"] = u
	data, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return nil, err
	}
	return docket.Snapshot{TakenAt: s.now(), ContentType: "application/json", Data: data}, nil
}

type message struct {
	ID        int64  `json:"id"`
	Channel   string `json:"channel"`
	AuthorID  int64  `json:"author_id"`
	Author    string `json:"author"`
	Text      string `json:"text"`
	Media     string `json:"media_sha256,omitempty"`
	CreatedAt string `json:"created_at"`
	RemovedAt string `json:"removed_at,omitempty"`
}

func (s *Server) messages(ctx context.Context, where string, args ...any) ([]message, error) {
	rows, err := s.DB.db.QueryContext(ctx, `SELECT m.id, c.name, m.author_id, u.handle, m.text, m.media_sha256, m.created_at, m.removed_at
		FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	var out []message
	for rows.Next() {
		var m message
		if err := rows.Scan(&m.ID, &m.Channel, &m.AuthorID, &m.Author, &m.Text, &m.Media, &m.CreatedAt, &m.RemovedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

type account struct {
	ID        int64  `json:"id"`
	Handle    string `json:"handle"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Country   string `json:"country"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
}

func (s *Server) user(ctx context.Context, id int64) (*account, error) {
	var u account
	err := s.DB.db.QueryRowContext(ctx, `SELECT id, handle, name, email, phone, country, status, created_at FROM users WHERE id = ?`, id).
		Scan(&u.ID, &u.Handle, &u.Name, &u.Email, &u.Phone, &u.Country, &u.Status, &u.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("read account %d: %w", id, err)
	}
	return &u, nil
}

// owner returns the account behind a thing.
func (s *Server) owner(ctx context.Context, r ref) (int64, error) {
	var id int64
	var err error
	switch r.kind {
	case "account":
		return r.id, nil
	case "message":
		err = s.DB.db.QueryRowContext(ctx, `SELECT author_id FROM messages WHERE id = ?`, r.id).Scan(&id)
	case "channel":
		err = s.DB.db.QueryRowContext(ctx, `SELECT owner_id FROM channels WHERE id = ?`, r.id).Scan(&id)
	}
	return id, err
}

// ownerOf decodes a call into in and returns the account behind the target it names.
func (s *Server) ownerOf(ctx context.Context, body []byte, in any, target func() docket.Target) (int64, error) {
	if err := decode(body, in); err != nil {
		return 0, err
	}
	r, err := s.resolve(ctx, target())
	if err != nil {
		return 0, err
	}
	return s.owner(ctx, r)
}

func (s *Server) export(ctx context.Context, body []byte) (any, error) {
	var in docket.ExportRequest
	uid, err := s.ownerOf(ctx, body, &in, func() docket.Target { return in.Target })
	if err != nil {
		return nil, err
	}
	from, to := "0000", "9999"
	if in.From != nil {
		from = in.From.UTC().Format(time.RFC3339)
	}
	if in.To != nil {
		to = in.To.UTC().Format(time.RFC3339)
	}
	out := docket.Export{Missing: map[string]string{}}
	for _, cat := range in.Categories {
		switch cat {
		case "subscriber":
			u, err := s.user(ctx, uid)
			if err != nil {
				return nil, err
			}
			b, _ := json.MarshalIndent(u, "", "  ")
			out.Items = append(out.Items, docket.ExportItem{Name: "subscriber.json", Category: cat, ContentType: "application/json", Data: b})
		case "traffic":
			rows, err := s.DB.db.QueryContext(ctx, `SELECT ip, at FROM logins WHERE user_id = ? AND at >= ? AND at <= ? ORDER BY at`, uid, from, to)
			if err != nil {
				return nil, err
			}
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.Write([]string{"ip", "login_at"})
			n := 0
			for rows.Next() {
				var ip, at string
				if err := rows.Scan(&ip, &at); err != nil {
					rows.Close()
					return nil, err
				}
				w.Write([]string{ip, at})
				n++
			}
			rows.Close()
			w.Flush()
			if n == 0 {
				out.Missing[cat] = "no logins in the range asked"
				continue
			}
			out.Items = append(out.Items, docket.ExportItem{Name: "traffic.csv", Category: cat, ContentType: "text/csv", Data: buf.Bytes()})
		case "content":
			m, err := s.messages(ctx, `WHERE m.author_id = ? AND m.created_at >= ? AND m.created_at <= ?`, uid, from, to)
			if err != nil {
				return nil, err
			}
			if len(m) == 0 {
				out.Missing[cat] = "no messages in the range asked"
				continue
			}
			b, _ := json.MarshalIndent(m, "", "  ")
			out.Items = append(out.Items, docket.ExportItem{Name: "content.json", Category: cat, ContentType: "application/json", Data: b})
		default:
			return nil, fail(http.StatusUnprocessableEntity, "Unknown category %q: subscriber, traffic or content.", cat)
		}
	}
	return out, nil
}

func (s *Server) notify(ctx context.Context, body []byte) (any, error) {
	var in docket.UserNotice
	uid, err := s.ownerOf(ctx, body, &in, func() docket.Target { return in.Target })
	if err != nil {
		return nil, err
	}
	sor, _ := json.Marshal(in.Statement)
	if _, err := s.DB.db.ExecContext(ctx, `INSERT INTO user_notices (user_id, text, statement, at) VALUES (?, ?, ?, ?)`,
		uid, in.Text, string(sor), s.now().Format(time.RFC3339Nano)); err != nil {
		return nil, err
	}
	if in.Appeal != "" {
		// The answer to an in-app appeal: the app shows it with the appeal.
		if _, err := s.DB.db.ExecContext(ctx, `UPDATE appeals SET status = 'answered', answer = ? WHERE id = ? AND user_id = ?`, in.Text, in.Appeal, uid); err != nil {
			return nil, err
		}
	}
	return docket.ActionResult{Status: "done", EffectiveAt: s.now(), Ref: "account:" + strconv.FormatInt(uid, 10), Detail: "user notified"}, nil
}

// readerCountry is where a reader is: the X-Country header, or the country parameter.
func readerCountry(r *http.Request) string {
	return strings.ToUpper(strings.TrimSpace(cmp.Or(r.Header.Get("X-Country"), r.URL.Query().Get("country"))))
}

// restricted reports whether a thing is withheld in country now.
func (s *Server) restricted(ctx context.Context, kind string, id int64, country string) (bool, error) {
	if country == "" {
		return false, nil
	}
	var n int
	err := s.DB.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM restrictions WHERE kind = ? AND ref_id = ? AND country = ? AND (until = '' OR until > ?)`,
		kind, id, country, s.now().Format(time.RFC3339)).Scan(&n)
	return n > 0, err
}

// unavailable answers 451 (RFC 7725) for content withheld in the reader's country.
func unavailable(w http.ResponseWriter, what, country string) {
	w.Header().Set("Link", `</legal>; rel="blocked-by"`)
	http.Error(w, fmt.Sprintf("451 Unavailable For Legal Reasons: this %s is withheld in %s following a legal order.", what, country), http.StatusUnavailableForLegalReasons)
}

func (s *Server) readMessage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ms, err := s.messages(ctx, `WHERE m.id = ?`, id)
	if err != nil {
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	if len(ms) == 0 {
		http.NotFound(w, r)
		return
	}
	m := ms[0]
	var chID int64
	var chRemoved, authorStatus string
	if err := s.DB.db.QueryRowContext(ctx, `SELECT c.id, c.removed_at, u.status FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.author_id WHERE m.id = ?`, id).
		Scan(&chID, &chRemoved, &authorStatus); err != nil {
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	if m.RemovedAt != "" || chRemoved != "" || authorStatus == "terminated" {
		http.Error(w, "410 Gone: this message was removed.", http.StatusGone)
		return
	}
	country := readerCountry(r)
	for _, k := range []struct {
		kind string
		id   int64
	}{{"message", id}, {"channel", chID}} {
		if yes, err := s.restricted(ctx, k.kind, k.id, country); err != nil {
			http.Error(w, "error", http.StatusInternalServerError)
			return
		} else if yes {
			unavailable(w, "message", country)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "#%s @%s %s\n%s\n", m.Channel, m.Author, m.CreatedAt, m.Text)
}

func (s *Server) readChannel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var id int64
	var removed string
	err := s.DB.db.QueryRowContext(ctx, `SELECT id, removed_at FROM channels WHERE name = ?`, r.PathValue("name")).Scan(&id, &removed)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if removed != "" {
		http.Error(w, "410 Gone: this channel was removed.", http.StatusGone)
		return
	}
	country := readerCountry(r)
	if yes, _ := s.restricted(ctx, "channel", id, country); yes {
		unavailable(w, "channel", country)
		return
	}
	ms, err := s.messages(ctx, `WHERE m.channel_id = ? AND m.removed_at = ''`, id)
	if err != nil {
		http.Error(w, "error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, m := range ms {
		if yes, _ := s.restricted(ctx, "message", m.ID, country); yes {
			continue
		}
		fmt.Fprintf(w, "%d @%s %s: %s\n", m.ID, m.Author, m.CreatedAt, m.Text)
	}
}

func (s *Server) readUser(w http.ResponseWriter, r *http.Request) {
	var u account
	err := s.DB.db.QueryRowContext(r.Context(), `SELECT handle, country, status FROM users WHERE handle = ?`, r.PathValue("handle")).Scan(&u.Handle, &u.Country, &u.Status)
	switch {
	case err != nil:
		http.NotFound(w, r)
	case u.Status == "terminated":
		http.Error(w, "410 Gone: this account was terminated.", http.StatusGone)
	case u.Status == "suspended":
		http.Error(w, "403 Forbidden: this account is suspended.", http.StatusForbidden)
	default:
		fmt.Fprintf(w, "@%s (%s)\n", u.Handle, u.Country)
	}
}

// Notices returns what users were told, for tests and the demo.
func (d *DB) Notices(ctx context.Context) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT text FROM user_notices ORDER BY at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
