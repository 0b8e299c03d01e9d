// Package ncmectest is a double of NCMEC's CyberTipline Reporting API for tests: an HTTP
// server that checks what the real one checks — basic authentication, the report's and the
// file details' XML by the schema's rules (package ncmec's validation), that an upload, file
// details and /finish name a report it opened and that is neither finished nor retracted,
// that file details name a file of that report, that a report is finished once — and answers
// with the API's XML and response codes. Failures can be injected per endpoint.
package ncmectest

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"

	"github.com/docket-dev/docket/ncmec"
)

// Fault is an injected failure: the HTTP status and, when Code is set, a reportResponse
// with that responseCode. Drop closes the connection without an answer.
type Fault struct {
	Status int
	Code   int
	Drop   bool
}

// File is a file uploaded to a report.
type File struct {
	ID      string
	Name    string
	Data    []byte
	MD5     string
	Details []byte // the last fileDetails sent for it
}

// Report is a report the double opened.
type Report struct {
	ID        int64
	XML       []byte
	Files     []*File
	Finished  bool
	Retracted bool
}

// Server is the double.
type Server struct {
	*httptest.Server
	user, password string

	mu      sync.Mutex
	next    int64
	reports map[int64]*Report
	order   []int64
	faults  map[string][]Fault
	calls   map[string]int
}

// New starts a double that accepts the credentials user and password.
func New(user, password string) *Server {
	s := &Server{user: user, password: password, next: 41000000, reports: map[int64]*Report{},
		faults: map[string][]Fault{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", s.auth(func(w http.ResponseWriter, r *http.Request) { answer(w, http.StatusOK, ncmec.Response{}) }))
	mux.HandleFunc("POST /submit", s.auth(s.submit))
	mux.HandleFunc("POST /upload", s.auth(s.upload))
	mux.HandleFunc("POST /fileinfo", s.auth(s.fileinfo))
	mux.HandleFunc("POST /finish", s.auth(s.finish))
	mux.HandleFunc("POST /retract", s.auth(s.retract))
	s.Server = httptest.NewServer(mux)
	return s
}

// Fail makes the next call to path (such as "/upload") fail with f; calls queue.
func (s *Server) Fail(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], f)
}

// Calls counts the calls to path that passed authentication (failed ones included).
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Reports returns copies of the reports opened, in order.
func (s *Server) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Report, 0, len(s.order))
	for _, id := range s.order {
		r := *s.reports[id]
		r.Files = append([]*File(nil), r.Files...)
		out = append(out, r)
	}
	return out
}

func answer(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}

func refuse(w http.ResponseWriter, status, code int, desc string) {
	answer(w, status, ncmec.Response{ResponseCode: code, ResponseDescription: desc})
}

// auth checks basic authentication, counts the call and applies an injected fault.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(s.user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(s.password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="CyberTipline"`)
			refuse(w, http.StatusUnauthorized, ncmec.CodeAuthenticationRequired, "Authentication required")
			return
		}
		s.mu.Lock()
		s.calls[r.URL.Path]++
		var f *Fault
		if q := s.faults[r.URL.Path]; len(q) > 0 {
			f, s.faults[r.URL.Path] = &q[0], q[1:]
		}
		s.mu.Unlock()
		if f != nil {
			if f.Drop {
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
						return
					}
				}
			}
			if f.Code != 0 {
				refuse(w, f.Status, f.Code, "Injected failure")
			} else {
				http.Error(w, "injected failure", f.Status)
			}
			return
		}
		h(w, r)
	}
}

// xmlBody reads an XML request body (text/xml or application/xml).
func xmlBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/xml" && mt != "application/xml") {
		refuse(w, http.StatusBadRequest, ncmec.CodeInvalidRequest, "Invalid request: the body must be XML")
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		refuse(w, http.StatusBadRequest, ncmec.CodeInvalidRequest, "Invalid request")
		return nil, false
	}
	return b, true
}

// invalid answers a document that failed validation: 4110 when it is not well-formed XML,
// 4100 otherwise.
func invalid(w http.ResponseWriter, err error) {
	code := ncmec.CodeValidationFailed
	if errors.Is(err, ncmec.ErrMalformed) {
		code = ncmec.CodeMalformedXML
	}
	refuse(w, http.StatusBadRequest, code, err.Error())
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	b, ok := xmlBody(w, r)
	if !ok {
		return
	}
	if err := ncmec.ValidateReport(b); err != nil {
		invalid(w, err)
		return
	}
	s.mu.Lock()
	s.next++
	id := s.next
	s.reports[id] = &Report{ID: id, XML: b}
	s.order = append(s.order, id)
	s.mu.Unlock()
	answer(w, http.StatusOK, ncmec.Response{ReportID: id})
}

// open returns the open report id names, or answers why there is none; s.mu is held.
func (s *Server) open(w http.ResponseWriter, id string) *Report {
	n, err := strconv.ParseInt(id, 10, 64)
	rep := s.reports[n]
	switch {
	case err != nil || rep == nil:
		refuse(w, http.StatusOK, ncmec.CodeNoSuchReport, "Report does not exist")
	case rep.Retracted:
		refuse(w, http.StatusOK, ncmec.CodeAlreadyRetracted, "Report already retracted")
	case rep.Finished:
		refuse(w, http.StatusOK, ncmec.CodeAlreadyFinished, "Report already finished")
	default:
		return rep
	}
	return nil
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		refuse(w, http.StatusBadRequest, ncmec.CodeInvalidRequest, "Invalid request: a multipart form with id and file is expected")
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		refuse(w, http.StatusBadRequest, ncmec.CodeMalformedFile, "Malformed file: no file part")
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		refuse(w, http.StatusBadRequest, ncmec.CodeMalformedFile, "Malformed file")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.open(w, r.FormValue("id"))
	if rep == nil {
		return
	}
	var raw [8]byte
	rand.Read(raw[:])
	sum := md5.Sum(data)
	file := &File{ID: hex.EncodeToString(raw[:]), Name: hdr.Filename, Data: data, MD5: hex.EncodeToString(sum[:])}
	rep.Files = append(rep.Files, file)
	answer(w, http.StatusOK, ncmec.Response{ReportID: rep.ID, FileID: file.ID, Hash: file.MD5})
}

func (s *Server) fileinfo(w http.ResponseWriter, r *http.Request) {
	b, ok := xmlBody(w, r)
	if !ok {
		return
	}
	id, fileID, err := ncmec.ValidateFileDetails(b)
	if err != nil {
		invalid(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.open(w, strconv.FormatInt(id, 10))
	if rep == nil {
		return
	}
	for _, f := range rep.Files {
		if f.ID == fileID {
			f.Details = b
			answer(w, http.StatusOK, ncmec.Response{ReportID: rep.ID, FileID: fileID})
			return
		}
	}
	refuse(w, http.StatusOK, ncmec.CodeNoSuchFile, "File does not exist")
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.open(w, r.FormValue("id"))
	if rep == nil {
		return
	}
	rep.Finished = true
	done := ncmec.DoneResponse{ReportID: rep.ID}
	for _, f := range rep.Files {
		done.Files = append(done.Files, f.ID)
	}
	answer(w, http.StatusOK, done)
}

func (s *Server) retract(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := s.open(w, r.FormValue("id"))
	if rep == nil {
		return
	}
	rep.Retracted = true
	answer(w, http.StatusOK, ncmec.Response{ReportID: rep.ID})
}
