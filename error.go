package docket

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. The list is append-only: clients and the HTTP layer rely on it.
const (
	EMALFORMED    = "malformed"     // the input cannot be read (bad JSON, bad UTF-8, unknown field)
	EINVALID      = "invalid"       // the input reads but is wrong; Message and Fields say how
	ENOTFOUND     = "not_found"     // no such thing, or not visible to the caller
	ECONFLICT     = "conflict"      // the thing exists or changed in a way that forbids this
	EUNAUTHORIZED = "unauthorized"  // no or wrong credentials
	EFORBIDDEN    = "forbidden"     // credentials fine, permission missing
	ETOOLARGE     = "too_large"     // the input is over a size limit
	ERATELIMIT    = "rate_limited"  // too many requests from this client
	EUNSUPPORTED  = "unsupported"   // wrong media type
	EUNAVAILABLE  = "unavailable"   // try again later; nothing was stored
	EINTERNAL     = "internal"      // a bug or an outage; details are logged, not shown
	EFOUREYES     = "four_eyes"     // an approval by the decision's own author
	ESTATE        = "invalid_state" // the case is not in a state that allows this
	ETOOLATE      = "too_late"      // a time limit has passed (an appeal after six months)
)

// Error is an error meant for the client: a stable Code and a safe Message. Fields, when set,
// names what was wrong with each input field. Anything else (wrapped causes) stays in logs.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	return fmt.Sprintf("docket error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the safe message of err for a client.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrNotFound is returned by stores when a row does not exist.
var ErrNotFound = &Error{Code: ENOTFOUND, Message: "Not found."}

var httpStatus = map[string]int{
	EMALFORMED:    http.StatusBadRequest,
	EINVALID:      http.StatusUnprocessableEntity,
	ENOTFOUND:     http.StatusNotFound,
	ECONFLICT:     http.StatusConflict,
	ESTATE:        http.StatusConflict,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	EFOUREYES:     http.StatusForbidden,
	ETOOLATE:      http.StatusUnprocessableEntity,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ERATELIMIT:    http.StatusTooManyRequests,
	EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status that answers an error with this code (500 for codes it
// does not know).
func HTTPStatus(code string) int {
	if s, ok := httpStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
