package ncmec

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Addresses of the API (NCMEC's documentation, "Access").
const (
	ProductionURL = "https://report.cybertip.org/ispws"
	TestingURL    = "https://exttest.cybertip.org/ispws"
)

// Client calls the CyberTipline Reporting API with basic authentication.
type Client struct {
	// BaseURL is the API's base (ProductionURL, TestingURL); User and Password the
	// credentials NCMEC issued.
	BaseURL  string
	User     string
	Password string
	// HTTP is the client used (default: one with a 60 s timeout).
	HTTP *http.Client
}

// Error is a call the API did not accept: no answer (Status 0, Err set), an HTTP error, or
// an answer whose responseCode is not 0 (Code, Description).
type Error struct {
	Step        string
	Status      int
	Code        int
	Description string
	Err         error
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("ncmec %s: no answer: %v", e.Step, e.Err)
	case e.Code != 0:
		return fmt.Sprintf("ncmec %s: responseCode %d: %s (HTTP %d)", e.Step, e.Code, e.Description, e.Status)
	}
	return fmt.Sprintf("ncmec %s: HTTP %d %s", e.Step, e.Status, e.Description)
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot mend the failure: NCMEC judged what was sent
// (an invalid request, a validation failure, malformed XML or file) or does not know the
// report or file named, or the report is retracted or finished already. No answer, server
// errors (1000–1300, HTTP 5xx), throttling and credentials NCMEC refused (2000–3300, HTTP
// 401/403: the operator can correct them) are retried.
func (e *Error) Permanent() bool {
	switch {
	case e.Err != nil:
		return false
	case e.Code >= 4000:
		return true
	case e.Code != 0:
		return false
	}
	return e.Status >= 400 && e.Status < 500 && e.Status != 401 && e.Status != 403 && e.Status != 408 && e.Status != 429
}

// Credentials reports whether NCMEC refused the credentials.
func (e *Error) Credentials() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || (e.Code >= 2000 && e.Code < 4000)
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 1 << 20

// call sends a request and decodes the XML answer into out; an answer whose code is not 0,
// or an HTTP error, is an *Error.
func (c *Client) call(ctx context.Context, step, method, path, contentType string, body []byte, out any, code func() int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return &Error{Step: step, Err: err}
	}
	req.SetBasicAuth(c.User, c.Password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/xml, text/xml")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Error{Step: step, Err: err}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return &Error{Step: step, Status: resp.StatusCode, Err: fmt.Errorf("read the answer: %w", err)}
	}
	if xerr := xml.Unmarshal(answer, out); xerr != nil {
		// /finish answers a refusal with a reportResponse, not its reportDoneResponse.
		var alt Response
		if _, done := out.(*DoneResponse); done && xml.Unmarshal(answer, &alt) == nil && alt.ResponseCode != CodeSuccess {
			return &Error{Step: step, Status: resp.StatusCode, Code: alt.ResponseCode, Description: alt.ResponseDescription}
		}
		desc := strings.TrimSpace(string(answer))
		if len(desc) > 200 {
			desc = desc[:200] + "…"
		}
		if resp.StatusCode >= 300 {
			return &Error{Step: step, Status: resp.StatusCode, Description: strings.TrimSpace(http.StatusText(resp.StatusCode) + " " + desc)}
		}
		return &Error{Step: step, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer %q: %v", desc, xerr)}
	}
	if n := code(); n != CodeSuccess || resp.StatusCode >= 300 {
		desc := ""
		if r, ok := out.(*Response); ok {
			desc = r.ResponseDescription
		}
		return &Error{Step: step, Status: resp.StatusCode, Code: n, Description: strings.TrimSpace(desc + " " + http.StatusText(resp.StatusCode))}
	}
	return nil
}

// Status checks that the API is reached and the credentials accepted (GET /status).
func (c *Client) Status(ctx context.Context) error {
	var r Response
	return c.call(ctx, "status", http.MethodGet, "/status", "", nil, &r, func() int { return r.ResponseCode })
}

// Submit opens a report (POST /submit with the report's XML) and returns NCMEC's report id.
func (c *Client) Submit(ctx context.Context, report []byte) (int64, error) {
	var r Response
	if err := c.call(ctx, "submit", http.MethodPost, "/submit", "text/xml; charset=utf-8", report, &r, func() int { return r.ResponseCode }); err != nil {
		return 0, err
	}
	if r.ReportID <= 0 {
		return 0, &Error{Step: "submit", Status: http.StatusOK, Err: errors.New("the answer has no reportId")}
	}
	return r.ReportID, nil
}

// Upload adds a file to an open report (POST /upload, multipart: id and file) and returns
// NCMEC's file id and the MD5 it computed.
func (c *Client) Upload(ctx context.Context, reportID int64, name string, data []byte) (fileID, md5 string, err error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("id", strconv.FormatInt(reportID, 10)); err != nil {
		return "", "", &Error{Step: "upload", Err: err}
	}
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		return "", "", &Error{Step: "upload", Err: err}
	}
	if _, err := fw.Write(data); err != nil {
		return "", "", &Error{Step: "upload", Err: err}
	}
	if err := w.Close(); err != nil {
		return "", "", &Error{Step: "upload", Err: err}
	}
	var r Response
	if err := c.call(ctx, "upload", http.MethodPost, "/upload", w.FormDataContentType(), b.Bytes(), &r, func() int { return r.ResponseCode }); err != nil {
		return "", "", err
	}
	if r.FileID == "" {
		return "", "", &Error{Step: "upload", Status: http.StatusOK, Err: errors.New("the answer has no fileId")}
	}
	return r.FileID, r.Hash, nil
}

// FileInfo sends an uploaded file's details (POST /fileinfo with the fileDetails XML).
func (c *Client) FileInfo(ctx context.Context, details []byte) error {
	var r Response
	return c.call(ctx, "fileinfo", http.MethodPost, "/fileinfo", "text/xml; charset=utf-8", details, &r, func() int { return r.ResponseCode })
}

// Finish closes a report (POST /finish, form id) and returns the files NCMEC received.
func (c *Client) Finish(ctx context.Context, reportID int64) ([]string, error) {
	var r DoneResponse
	form := url.Values{"id": {strconv.FormatInt(reportID, 10)}}.Encode()
	err := c.call(ctx, "finish", http.MethodPost, "/finish", "application/x-www-form-urlencoded", []byte(form), &r, func() int { return r.ResponseCode })
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code != 0 && ae.Description == "" {
			// reportDoneResponse carries no description: name the code.
			ae.Description = describe(ae.Code)
		}
		return nil, err
	}
	return r.Files, nil
}

// Retract cancels a report (POST /retract, form id).
func (c *Client) Retract(ctx context.Context, reportID int64) error {
	var r Response
	form := url.Values{"id": {strconv.FormatInt(reportID, 10)}}.Encode()
	return c.call(ctx, "retract", http.MethodPost, "/retract", "application/x-www-form-urlencoded", []byte(form), &r, func() int { return r.ResponseCode })
}

// describe names a documented response code.
func describe(code int) string {
	switch code {
	case CodeServerError:
		return "Server error"
	case CodeAuthenticationRequired:
		return "Authentication required"
	case CodeNotAuthorized, CodeNotAuthorizedSubmit, CodeNotAuthorizedUpdate:
		return "Not authorized"
	case CodeValidationFailed:
		return "Validation failed"
	case CodeMalformedXML:
		return "Malformed XML"
	case CodeNoSuchReport:
		return "Report does not exist"
	case CodeNoSuchFile:
		return "File does not exist"
	case CodeAlreadyRetracted:
		return "Report already retracted"
	case CodeAlreadyFinished:
		return "Report already finished"
	}
	return "responseCode " + strconv.Itoa(code)
}
