// Package mailmsg reads an e-mail as docket needs it: the headers that identify and thread
// it, its text (an HTML part made into plain text when there is no plain one), its
// attachments with their sniffed type and SHA-256, and (through a given reader, see
// package pdftext) the text of its PDF attachments.
//
// Only what is dangerous is refused: a header block over its size limit, or a MIME
// structure that is a bomb (too deep, too many parts). Everything else is read as far as it
// can be — a message that begins with an mbox envelope line ("From sender date", as
// archives and some forwarders write it), a header that cannot be parsed (the whole message
// is then read as text), no From header, a missing boundary, bad base64, an unknown charset —
// and what was odd is listed in Problems: a legal desk does not bounce a lawful request for
// a formatting defect, and the raw message is kept whole anyway.
package mailmsg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // registers the legacy charsets (ISO-8859-*, windows-125*, KOI8…)
	"github.com/emersion/go-message/mail"
	"github.com/gabriel-vasile/mimetype"
	"github.com/microcosm-cc/bluemonday"
)

// Limits bound the work one message may cause. Zero fields take the defaults.
type Limits struct {
	MaxHeaderBytes int64 // the top-level header block (default 256 KiB)
	MaxDepth       int   // nesting of multiparts (default 10)
	MaxParts       int   // MIME parts in all (default 500)
	MaxText        int   // bytes of text kept from the body (default 1 MiB)
	// PDFText, when set, reads the text of PDF attachments (pdftext.Isolated's Extract in
	// the server) within ctx; PDFs are stored but not read when it is nil.
	PDFText func(ctx context.Context, data []byte) (string, error)
	// The PDF work of one message is budgeted: at most MaxPDFs PDFs read (default 5),
	// MaxPDFBytes of them in all (default 8 MiB) and PDFTime of reading in all (default
	// 20 s). Past the budget PDFs are kept but not read, and Attachment.NotRead says so.
	MaxPDFs     int
	MaxPDFBytes int
	PDFTime     time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = 256 << 10
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = 10
	}
	if l.MaxParts == 0 {
		l.MaxParts = 500
	}
	if l.MaxPDFs == 0 {
		l.MaxPDFs = 5
	}
	if l.MaxPDFBytes == 0 {
		l.MaxPDFBytes = 8 << 20
	}
	if l.PDFTime == 0 {
		l.PDFTime = 20 * time.Second
	}
	if l.MaxText == 0 {
		l.MaxText = 1 << 20
	}
	return l
}

// Message is what docket reads of an e-mail.
type Message struct {
	From       string // the address of the (first) From header
	FromName   string
	ReplyTo    string
	To, Cc     []string
	Subject    string
	MessageID  string // without angle brackets
	InReplyTo  []string
	References []string
	Date       time.Time

	// Text is the plain-text body, or the HTML body made into text; HTML is the HTML body
	// sanitised for display (no script, no remote content fetched by itself).
	Text     string
	HTML     string
	FromHTML bool

	Attachments []Attachment
	// Problems lists what could not be read; the message was kept anyway.
	Problems []string
}

// Attachment is one file of a message.
type Attachment struct {
	Filename string
	// ContentType is sniffed from the bytes; Declared is what the message said.
	ContentType string
	Declared    string
	Data        []byte
	SHA256      string
	// Text is the text extracted for triage (PDF letters), if any.
	Text string
	// NotRead says why the text of a PDF was not read (the message's budget for PDF work
	// was spent); the file is kept all the same.
	NotRead string
}

// Errors for messages that are refused.
var (
	ErrTooDeep  = errors.New("message nests MIME parts too deeply")
	ErrTooMany  = errors.New("message has too many MIME parts")
	ErrTooLarge = errors.New("message header is too large")
)

// Parse reads raw, a whole message as received.
func Parse(raw []byte, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	m := &Message{}
	if envelope, rest, ok := mboxEnvelope(raw); ok {
		m.problem("the message begins with an mbox envelope line (%q): read after it", clean(envelope, 200))
		raw = rest
	}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: lim.MaxHeaderBytes})
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		if strings.Contains(err.Error(), "exceeds maximum size") {
			return nil, fmt.Errorf("%w (over %d bytes)", ErrTooLarge, lim.MaxHeaderBytes)
		}
		// No header can be read: the whole message is its text.
		m.problem("the header cannot be read (%s): the whole message is read as text", clean(err.Error(), 200))
		m.Text = clean(string(raw[:min(len(raw), lim.MaxText)]), lim.MaxText)
		return m, nil
	}
	if err != nil {
		m.problem("top-level part: %v", err)
	}
	m.readHeader(mail.Header{Header: e.Header})
	w := walker{m: m, lim: lim}
	defer func() {
		if w.pdfCancel != nil {
			w.pdfCancel()
		}
	}()
	if err := w.entity(e, 0); err != nil {
		return nil, err
	}
	if m.Text == "" && m.HTML != "" {
		m.Text, m.FromHTML = htmlText(w.rawHTML, lim.MaxText), true
	}
	return m, nil
}

func (m *Message) problem(format string, args ...any) {
	if len(m.Problems) < 50 {
		m.Problems = append(m.Problems, clean(fmt.Sprintf(format, args...), 300))
	}
}

// mboxEnvelope splits off the "From " line that mbox files put before each message.
func mboxEnvelope(raw []byte) (line string, rest []byte, ok bool) {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return "", raw, false
	}
	i := bytes.IndexByte(raw, '\n')
	if i < 0 {
		return "", raw, false
	}
	return strings.TrimRight(string(raw[:i]), "\r"), raw[i+1:], true
}

// readHeader reads the header fields docket uses; what is missing or malformed is noted in
// Problems (a message with no From is kept: its envelope sender identifies it).
func (m *Message) readHeader(h mail.Header) {
	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		// A From the strict parser refuses may still carry an address: keep it if so.
		if a := looseAddress(h.Get("From")); a != "" {
			m.From = a
			m.problem("From header is malformed: %q", clean(h.Get("From"), 200))
		} else if h.Get("From") == "" {
			m.problem("the message has no From header")
		} else {
			m.problem("From header names no address: %q", clean(h.Get("From"), 200))
		}
	} else {
		m.From, m.FromName = strings.ToLower(from[0].Address), clean(from[0].Name, 200)
	}
	if rt, err := h.AddressList("Reply-To"); err == nil && len(rt) > 0 {
		m.ReplyTo = strings.ToLower(rt[0].Address)
	}
	for _, k := range []struct {
		key string
		to  *[]string
	}{{"To", &m.To}, {"Cc", &m.Cc}} {
		list, _ := h.AddressList(k.key)
		for i, a := range list {
			if i == 100 {
				break
			}
			*k.to = append(*k.to, strings.ToLower(a.Address))
		}
	}
	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	m.Subject = clean(subject, 1000)
	if id, err := h.MessageID(); err == nil {
		m.MessageID = clean(id, 500)
	}
	m.InReplyTo = msgIDs(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	if d, err := h.Date(); err == nil {
		m.Date = d
	}
}

func msgIDs(h mail.Header, key string) []string {
	ids, err := h.MsgIDList(key)
	if err != nil {
		return nil
	}
	out := make([]string, 0, min(len(ids), 50))
	for _, id := range ids[max(0, len(ids)-50):] { // the newest 50 are enough to thread
		out = append(out, clean(id, 500))
	}
	return out
}

var addrRE = regexp.MustCompile(`[A-Za-z0-9._%+\-=]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

func looseAddress(v string) string {
	return strings.ToLower(addrRE.FindString(v))
}

type walker struct {
	m       *Message
	lim     Limits
	parts   int
	rawHTML string
	// PDF work spent on this message: PDFs read, their bytes, and the deadline of reading.
	pdfs, pdfBytes int
	pdfCtx         context.Context
	pdfCancel      context.CancelFunc
}

// pdfBudget reports whether a PDF of size bytes may still be read, and if not why.
func (w *walker) pdfBudget(size int) (context.Context, string) {
	if w.pdfCtx == nil {
		w.pdfCtx, w.pdfCancel = context.WithTimeout(context.Background(), w.lim.PDFTime)
	}
	switch {
	case w.pdfs >= w.lim.MaxPDFs:
		return nil, fmt.Sprintf("text not read: this message's first %d PDFs were read, no more", w.lim.MaxPDFs)
	case w.pdfBytes+size > w.lim.MaxPDFBytes:
		return nil, fmt.Sprintf("text not read: this message's PDFs are over %d MiB to read", w.lim.MaxPDFBytes>>20)
	case w.pdfCtx.Err() != nil:
		return nil, fmt.Sprintf("text not read: this message's PDFs took over %s to read", w.lim.PDFTime)
	}
	w.pdfs++
	w.pdfBytes += size
	return w.pdfCtx, ""
}

func (w *walker) entity(e *message.Entity, depth int) error {
	w.parts++
	if w.parts > w.lim.MaxParts {
		return fmt.Errorf("%w (over %d)", ErrTooMany, w.lim.MaxParts)
	}
	if depth > w.lim.MaxDepth {
		return fmt.Errorf("%w (over %d levels)", ErrTooDeep, w.lim.MaxDepth)
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
				// A missing closing boundary or a broken part header: keep what was read.
				w.m.problem("multipart at depth %d: %v", depth, err)
				return nil
			}
			if err != nil {
				w.m.problem("part %d: %v", w.parts, err)
			}
			if err := w.entity(p, depth+1); err != nil {
				return err
			}
		}
	}
	return w.leaf(e)
}

func (w *walker) leaf(e *message.Entity) error {
	ct, params, err := e.Header.ContentType()
	if err != nil || ct == "" {
		ct = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	// Read at most what a message can hold: the SMTP size limit already bounds it.
	body, err := io.ReadAll(e.Body)
	if err != nil {
		w.m.problem("part %d (%s): %v", w.parts, ct, err)
		if len(body) == 0 {
			return nil
		}
	}
	isText := ct == "text/plain" || ct == "text/html"
	if isText && disp != "attachment" && filename == "" {
		s := clean(string(body), w.lim.MaxText)
		switch {
		case ct == "text/plain" && w.m.Text == "":
			w.m.Text = s
			return nil
		case ct == "text/html" && w.m.HTML == "":
			w.rawHTML = s
			w.m.HTML = displayPolicy.Sanitize(s)
			return nil
		}
	}
	if len(body) == 0 {
		return nil
	}
	a := Attachment{Filename: safeFilename(filename, ct), Declared: ct, Data: body}
	sum := sha256.Sum256(body)
	a.SHA256 = hex.EncodeToString(sum[:])
	a.ContentType = mimetype.Detect(body).String()
	if i := strings.IndexByte(a.ContentType, ';'); i > 0 {
		a.ContentType = a.ContentType[:i]
	}
	if a.ContentType == "application/pdf" && w.lim.PDFText != nil {
		if ctx, why := w.pdfBudget(len(body)); why != "" {
			a.NotRead = why
			w.m.problem("PDF %s: %s", a.Filename, why)
		} else {
			text, err := w.lim.PDFText(ctx, body)
			if err != nil {
				w.m.problem("PDF %s: %v", a.Filename, err)
			}
			a.Text = clean(text, w.lim.MaxText)
		}
	}
	w.m.Attachments = append(w.m.Attachments, a)
	return nil
}

// displayPolicy keeps the HTML a person may read: formatting and links, never script,
// styles, forms or embedded remote content.
var displayPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowImages() // kept as markup; the console shows them blurred and never fetches remote ones itself
	return p
}()

var stripPolicy = bluemonday.StrictPolicy()

var blockTags = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|p|div|li|tr|h[1-6])\b[^>]*>`)

// htmlText turns HTML into the plain text a reader sees: tags and script dropped, block
// ends kept as line breaks, entities decoded.
func htmlText(s string, max int) string {
	s = blockTags.ReplaceAllString(s, "\n$0")
	s = stripPolicy.Sanitize(s)
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return clean(strings.TrimSpace(strings.Join(out, "\n")), max)
}

// safeFilename keeps the last path element of a name, without control characters, at most
// 200 bytes; a part without a name gets one from its type.
func safeFilename(name, ct string) string {
	if dec, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = dec
	}
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" {
		name = "part"
		if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
			name += exts[0]
		}
	}
	return clean(name, 200)
}

// clean makes s safe to store and show: valid UTF-8, no NUL bytes, at most max bytes.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
