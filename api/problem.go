package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/docket-dev/docket"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string            `json:"type"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Code   string            `json:"code"`
	Errors map[string]string `json:"errors,omitempty"`
}

// ProblemBase prefixes the type URI of every problem.
const ProblemBase = "https://docket.dev/problems/"

// writeError answers err as a problem document. Internal errors are logged with their detail
// and answered with a generic message: they may name people and accounts.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := docket.ErrorCode(err)
	if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		code = docket.EUNAVAILABLE
	}
	status := docket.HTTPStatus(code)
	p := Problem{Type: ProblemBase + code, Title: http.StatusText(status), Status: status, Code: code, Detail: docket.ErrorMessage(err)}
	var de *docket.Error
	if errors.As(err, &de) {
		p.Errors = de.Fields
	}
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="docket"`)
	case http.StatusTooManyRequests:
		if w.Header().Get("Retry-After") == "" { // a limiter that knows better set it
			w.Header().Set("Retry-After", strconv.Itoa(60))
		}
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
