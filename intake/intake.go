// Package intake reads what requesters send (an authority's request, a public notice, a
// reply) and turns it into a validated docket.RequestBody, or into a precise error that says
// which field is wrong and why. It reads bytes only: storing is the workflow's job.
package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/regime"
)

// Limits on what one request may carry.
const (
	MaxText        = 100_000 // description, reasons
	MaxField       = 2_000   // reference, legal basis, names…
	MaxTargets     = 1_000
	MaxTargetValue = 2_048
	MaxAttachments = 20
)

// Input is the JSON an authority posts to /api/v1/requests.
type Input struct {
	Regime                 string            `json:"regime"`
	Kind                   docket.Kind       `json:"kind"`
	Reference              string            `json:"reference"`
	Description            string            `json:"description"`
	LegalBasis             string            `json:"legal_basis"`
	Reasons                string            `json:"reasons"`
	Redress                string            `json:"redress"`
	Emergency              bool              `json:"emergency"`
	EmergencyJustification string            `json:"emergency_justification"`
	Targets                []docket.Target   `json:"targets"`
	Attachments            []AttachmentInput `json:"attachments"`
	// NonDisclosure: the user concerned must not be told (a gag order).
	NonDisclosure bool `json:"non_disclosure"`
}

// AttachmentInput is a file sent inline, its content in base64.
type AttachmentInput struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// NoticeInput is the JSON anyone may post to /api/v1/notices (DSA art. 16).
type NoticeInput struct {
	Explanation string   `json:"explanation"`
	Locations   []string `json:"locations"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	GoodFaith   bool     `json:"good_faith"`
	CSAM        bool     `json:"csam"`
	Country     string   `json:"country"`
	// Attachments are files the notifier gives as evidence (a copy of the picture, a
	// screenshot); pictures among them are checked against the hash banks.
	Attachments []AttachmentInput `json:"attachments"`
}

// ReplyInput is a requester's answer to a question on its request.
type ReplyInput struct {
	Text        string            `json:"text"`
	Attachments []AttachmentInput `json:"attachments"`
}

// Parsed is a validated request body with the attachment contents it carried.
type Parsed struct {
	Body  docket.RequestBody
	Blobs []docket.Blob
}

// Decode reads one JSON object from raw into v, strictly: valid UTF-8, no unknown fields,
// nothing after the object. Its errors are *docket.Error with code EMALFORMED.
func Decode(raw []byte, v any) error {
	if !utf8.Valid(raw) {
		return docket.Errorf(docket.EMALFORMED, "The body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return docket.Errorf(docket.EMALFORMED, "The body must hold exactly one JSON object; found more after it.")
	}
	return nil
}

func malformed(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var b64 base64.CorruptInputError
	switch {
	case errors.Is(err, io.EOF):
		return docket.Errorf(docket.EMALFORMED, "The body is empty; a JSON object is expected.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return docket.Errorf(docket.EMALFORMED, "The body ends in the middle of a JSON value.")
	case errors.As(err, &syn):
		return docket.Errorf(docket.EMALFORMED, "The body is not valid JSON (at byte %d): %s.", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return docket.Errorf(docket.EMALFORMED, "The body must be a JSON object, not %s.", typ.Value)
		}
		return &docket.Error{Code: docket.EMALFORMED, Message: fmt.Sprintf("Field %q must be %s, not %s.", field, jsonType(typ.Type.String()), typ.Value),
			Fields: map[string]string{field: "wrong type"}}
	case errors.As(err, &b64):
		return docket.Errorf(docket.EMALFORMED, "An attachment's data is not valid base64.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &docket.Error{Code: docket.EMALFORMED, Message: fmt.Sprintf("Unknown field %q.", name), Fields: map[string]string{name: "unknown field"}}
	}
	return docket.Errorf(docket.EMALFORMED, "The body is not valid JSON: %s.", err.Error())
}

func jsonType(goType string) string {
	switch {
	case goType == "string" || strings.HasPrefix(goType, "docket."):
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]uint8"):
		return "a base64 string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "an object"
}

// fieldErrors collects what is wrong, field by field.
type fieldErrors map[string]string

func (f fieldErrors) add(field, format string, args ...any) {
	if _, ok := f[field]; !ok {
		f[field] = fmt.Sprintf(format, args...)
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return &docket.Error{Code: docket.EINVALID, Message: "The request is not valid: " + strings.Join(parts, "; ") + ".", Fields: map[string]string(f)}
}

// text checks a free-text field: its length in characters, and no control characters
// other than tab and line breaks (they are never meaningful, and some databases refuse NUL).
func (f fieldErrors) text(field, s string, limit int) string {
	if n := utf8.RuneCountInString(s); n > limit {
		f.add(field, "at most %d characters, got %d", limit, n)
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			f.add(field, "contains a control character (U+%04X)", r)
			break
		}
	}
	return strings.TrimSpace(s)
}

// ParseRequest validates an authority's request against the regime table.
func ParseRequest(raw []byte, regimes *regime.Table) (*Parsed, error) {
	var in Input
	if err := Decode(raw, &in); err != nil {
		return nil, err
	}
	f := fieldErrors{}
	body := docket.RequestBody{
		Regime:        f.text("regime", in.Regime, 100),
		RegimeSource:  "requester",
		Kind:          docket.Kind(f.text("kind", string(in.Kind), 100)),
		Reference:     f.text("reference", in.Reference, MaxField),
		Description:   f.text("description", in.Description, MaxText),
		LegalBasis:    f.text("legal_basis", in.LegalBasis, MaxField),
		Reasons:       f.text("reasons", in.Reasons, MaxText),
		Redress:       f.text("redress", in.Redress, MaxField),
		Emergency:     in.Emergency,
		Justification: f.text("emergency_justification", in.EmergencyJustification, MaxText),
		NonDisclosure: in.NonDisclosure,
	}
	body.Targets = targets(f, in.Targets)
	blobs := attachments(f, in.Attachments, &body)
	if body.Kind == docket.KindEmergencyDisclosure {
		body.Emergency = true
	}
	if body.Regime == "" {
		body.Regime, body.RegimeSource = regime.Default, "default"
		if body.Emergency {
			body.Regime = regime.Emergency
		}
	}
	switch {
	case body.Kind == "":
		f.add("kind", "required; one of %v", docket.Kinds)
	case !body.Kind.Valid():
		f.add("kind", "unknown kind %q; one of %v", body.Kind, docket.Kinds)
	case body.Kind == docket.KindNotice:
		f.add("kind", "notices go to /api/v1/notices")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := checkRegime(f, &body, regimes); err != nil {
		return nil, err
	}
	return &Parsed{Body: body, Blobs: blobs}, nil
}

func checkRegime(f fieldErrors, body *docket.RequestBody, regimes *regime.Table) error {
	r, ok := regimes.Lookup(body.Regime)
	if !ok {
		f.add("regime", "unknown regime %q; known: %s", body.Regime, strings.Join(regimes.IDs(), ", "))
		return f.err()
	}
	if !r.AllowsKind(body.Kind) {
		f.add("kind", "regime %s does not cover %s requests (it covers %v)", r.ID, body.Kind, r.Kinds)
	}
	for _, el := range r.Requires {
		missing := false
		switch el {
		case "reference":
			missing = body.Reference == ""
		case "description":
			missing = body.Description == ""
		case "legal_basis":
			missing = body.LegalBasis == ""
		case "reasons":
			missing = body.Reasons == ""
		case "redress":
			missing = body.Redress == ""
		case "targets":
			missing = len(body.Targets) == 0
		case "notifier_name":
			missing = body.Notifier != nil && !body.Notifier.CSAM && body.Notifier.Name == ""
		case "notifier_email":
			missing = body.Notifier != nil && !body.Notifier.CSAM && body.Notifier.Email == ""
		case "good_faith":
			missing = body.Notifier != nil && !body.Notifier.GoodFaith
		}
		if missing {
			field := el
			switch el {
			case "notifier_name":
				field = "name"
			case "notifier_email":
				field = "email"
			}
			f.add(field, "required by regime %s", r.ID)
		}
	}
	return f.err()
}

func targets(f fieldErrors, in []docket.Target) []docket.Target {
	if len(in) > MaxTargets {
		f.add("targets", "at most %d, got %d", MaxTargets, len(in))
		return nil
	}
	out := make([]docket.Target, 0, len(in))
	for i, t := range in {
		field := fmt.Sprintf("targets[%d]", i)
		kind := strings.ToLower(strings.TrimSpace(t.Kind))
		value := f.text(field+".value", t.Value, MaxTargetValue)
		if !slices.Contains(docket.TargetKinds, kind) {
			f.add(field+".kind", "unknown kind %q; one of %v", t.Kind, docket.TargetKinds)
		}
		if value == "" {
			f.add(field+".value", "required")
		}
		out = append(out, docket.Target{Kind: kind, Value: value})
	}
	return out
}

func attachments(f fieldErrors, in []AttachmentInput, body *docket.RequestBody) []docket.Blob {
	if len(in) > MaxAttachments {
		f.add("attachments", "at most %d, got %d", MaxAttachments, len(in))
		return nil
	}
	var blobs []docket.Blob
	for i, a := range in {
		field := fmt.Sprintf("attachments[%d]", i)
		name := f.text(field+".filename", a.Filename, 255)
		name = path.Base(strings.ReplaceAll(name, `\`, "/"))
		if name == "." || name == "/" || name == "" {
			f.add(field+".filename", "required")
		}
		if len(a.Data) == 0 {
			f.add(field+".data", "required and not empty")
			continue
		}
		sum := sha256.Sum256(a.Data)
		hexSum := hex.EncodeToString(sum[:])
		sniffed := http.DetectContentType(a.Data)
		blobs = append(blobs, docket.Blob{SHA256: hexSum, Data: a.Data})
		body.Attachments = append(body.Attachments, docket.Attachment{
			SHA256: hexSum, Filename: name, ContentType: strings.SplitN(sniffed, ";", 2)[0], Size: int64(len(a.Data)),
		})
	}
	return blobs
}

// ParseNotice validates a public notice (DSA art. 16) and maps it onto the dsa-art16 regime.
func ParseNotice(raw []byte, regimes *regime.Table) (*Parsed, error) {
	var in NoticeInput
	if err := Decode(raw, &in); err != nil {
		return nil, err
	}
	f := fieldErrors{}
	n := &docket.Notifier{
		Name:      f.text("name", in.Name, MaxField),
		Email:     f.text("email", in.Email, 320),
		GoodFaith: in.GoodFaith,
		CSAM:      in.CSAM,
	}
	if n.Email != "" {
		if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
			f.add("email", "not an e-mail address")
		}
	}
	body := docket.RequestBody{
		Regime:       "dsa-art16",
		RegimeSource: "requester",
		Kind:         docket.KindNotice,
		Description:  f.text("explanation", in.Explanation, MaxText),
		Notifier:     n,
		Country:      strings.ToUpper(f.text("country", in.Country, 2)),
	}
	if len(in.Locations) > MaxTargets {
		f.add("locations", "at most %d, got %d", MaxTargets, len(in.Locations))
	}
	for i, loc := range in.Locations {
		field := fmt.Sprintf("locations[%d]", i)
		loc = f.text(field, loc, MaxTargetValue)
		u, err := url.Parse(loc)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.add(field, "must be an exact http(s) URL")
			continue
		}
		body.Targets = append(body.Targets, docket.Target{Kind: "url", Value: u.String()})
	}
	if body.Description == "" {
		f.add("explanation", "required: why the content is illegal")
	}
	if len(in.Locations) == 0 {
		f.add("locations", "required: the exact URL of each item")
	}
	blobs := attachments(f, in.Attachments, &body)
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := checkRegime(f, &body, regimes); err != nil {
		return nil, err
	}
	return &Parsed{Body: body, Blobs: blobs}, nil
}

// ParseReply validates a requester's reply to a question.
func ParseReply(raw []byte) (*Parsed, error) {
	var in ReplyInput
	if err := Decode(raw, &in); err != nil {
		return nil, err
	}
	f := fieldErrors{}
	body := docket.RequestBody{Description: f.text("text", in.Text, MaxText), Kind: docket.KindOther}
	blobs := attachments(f, in.Attachments, &body)
	if body.Description == "" && len(blobs) == 0 {
		f.add("text", "required (or attachments)")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return &Parsed{Body: body, Blobs: blobs}, nil
}
