package sor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The database is a Laravel application: its validation is a list of rules per field, run in
// order, with Laravel's meaning. This file reproduces that meaning on JSON values: a field
// absent and a field null differ (a non-"nullable" field given as null is checked, and
// fails most rules); the request's strings are trimmed and empty ones made null before any
// rule runs (the TrimStrings and ConvertEmptyStringsToNull middleware); "required" refuses
// null, blank strings and empty arrays; "max" counts characters of a string and items of an
// array; "in" compares PHP string casts; an "exclude" rule drops the field from validation
// but keeps the messages of the rules before it. Known simplifications, which change only
// the wording or number of messages and never whether a statement is accepted: dates that
// fail date_format are not read by PHP's free-form date parser for after_or_equal and
// before_or_equal (they fail those too), and "url" is checked with net/url.

// Mode is the endpoint whose rules apply: they differ in two details (source_identity with
// SOURCE_VOLUNTARY, and what counts as choosing an _OTHER value when the field is not an
// array).
type Mode int

// Endpoints.
const (
	// Single is POST /api/v1/statement (StatementStoreRequest).
	Single Mode = iota
	// Batch is each statement of POST /api/v1/statements (GroupedSubmissionsService).
	Batch
)

// FieldErrors are one field's messages.
type FieldErrors struct {
	Field    string
	Messages []string
}

// Errors are the database's reasons for refusing a statement: each field with its
// messages, in the order the database checks the fields. A statement it accepts has none.
type Errors []FieldErrors

// Error returns the summary the database puts in its answer's "message".
func (e Errors) Error() string { return e.Summary() }

// Summary is the database's "message": the first message, and how many more there are.
func (e Errors) Summary() string {
	n := 0
	for _, f := range e {
		n += len(f.Messages)
	}
	if n == 0 {
		return "The given data was invalid."
	}
	msg := e[0].Messages[0]
	switch n - 1 {
	case 0:
	case 1:
		msg += " (and 1 more error)"
	default:
		msg += fmt.Sprintf(" (and %d more errors)", n-1)
	}
	return msg
}

// Fields names the fields refused, in order.
func (e Errors) Fields() []string {
	out := make([]string, len(e))
	for i, f := range e {
		out[i] = f.Field
	}
	return out
}

// Has reports whether field was refused.
func (e Errors) Has(field string) bool {
	return slices.ContainsFunc(e, func(f FieldErrors) bool { return f.Field == field })
}

// MarshalJSON writes the errors as the database does: an object of field → messages, in
// order.
func (e Errors) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range e {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Field)
		v, err := json.Marshal(f.Messages)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (e *Errors) add(field, msg string) {
	for i := range *e {
		if (*e)[i].Field == field {
			(*e)[i].Messages = append((*e)[i].Messages, msg)
			return
		}
	}
	*e = append(*e, FieldErrors{Field: field, Messages: []string{msg}})
}

// Check validates a statement as the single endpoint would receive it.
func Check(s *Statement) Errors {
	b, err := json.Marshal(s)
	if err != nil {
		return Errors{{Field: "statement", Messages: []string{err.Error()}}}
	}
	return Validate(b, Single)
}

// Validate checks one statement, given as the JSON body sent, exactly as the database does
// before it stores it; nil means it would be accepted (a puid already used by the platform
// is refused later, by the database alone).
func Validate(body []byte, mode Mode) Errors {
	return ValidateInput(Decode(body), mode)
}

// Decode reads a request body as the database does: JSON, its strings trimmed and empty
// ones made null. A body that PHP's json_decode refuses (not JSON, not UTF-8, an unpaired
// UTF-16 surrogate, data after the value), or that is not an object, reads as no input.
func Decode(body []byte) map[string]any {
	v, ok := decodeJSON(body)
	if !ok {
		return map[string]any{}
	}
	m, ok := normalise(v).(map[string]any)
	if !ok {
		return map[string]any{}
	}
	return m
}

func decodeJSON(body []byte) (any, bool) {
	if !utf8.Valid(body) || loneSurrogate(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

// loneSurrogate reports whether a JSON text escapes half of a UTF-16 surrogate pair, which
// PHP refuses and Go would read as U+FFFD.
func loneSurrogate(b []byte) bool {
	inString := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(b):
			if b[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(b, i+2)
			if !ok {
				return false // not JSON: the decoder says so
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return true
			case r >= 0xD800 && r <= 0xDBFF:
				if i+6 >= len(b) || b[i+1] != '\\' || b[i+2] != 'u' {
					return true
				}
				low, ok := hex4(b, i+3)
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return true
				}
				i += 6
			}
		}
	}
	return false
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}

// normalise applies Laravel's TrimStrings and ConvertEmptyStringsToNull, through arrays.
func normalise(v any) any {
	switch x := v.(type) {
	case string:
		if s := phpTrim(x); s != "" {
			return s
		}
		return nil
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalise(x[k])
		}
	}
	return v
}

// phpTrim is Laravel's Str::trim: Unicode white space, NUL, and the zero-width no-break
// space, space and left-to-right mark.
func phpTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == 0 || r == '\uFEFF' || r == '\u200B' || r == '\u200E'
	})
}

// check is one Laravel rule on one field.
type check struct {
	implicit bool // runs on an absent or null field (required…)
	exclude  bool // an exclude rule: when it does not pass, the field leaves validation
	pass     func(v any) bool
	msg      string
}

type field struct {
	name     string
	nullable bool
	checks   []check
}

var (
	rePUID = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)
	reEAN  = regexp.MustCompile(`^[0-9]{13}$`)
)

// ValidateInput checks a decoded statement (see Decode); nil means accepted.
func ValidateInput(in map[string]any, mode Mode) Errors {
	in, _ = normalise(in).(map[string]any)
	if in == nil {
		in = map[string]any{}
	}
	var errs Errors
	for _, f := range rules(in, mode) {
		v, present := lookup(in, f.name)
		for _, c := range f.checks {
			if !c.exclude && !c.implicit && (!present || (f.nullable && v == nil)) {
				continue
			}
			if c.pass(v) {
				continue
			}
			if c.exclude {
				break
			}
			errs.add(f.name, c.msg)
		}
	}
	return errs
}

// lookup reads a field; content_id.EAN-13 is Laravel's dotted name of a key inside
// content_id.
func lookup(in map[string]any, name string) (any, bool) {
	if parent, key, ok := strings.Cut(name, "."); ok {
		m, isMap := in[parent].(map[string]any)
		if !isMap {
			return nil, false
		}
		v, ok := m[key]
		return v, ok
	}
	v, ok := in[name]
	return v, ok
}

// rules are the database's rules for the input in (some depend on other fields' values).
func rules(in map[string]any, mode Mode) []field {
	ground := func(want string) func() bool { return func() bool { return in["decision_ground"] == want } }
	chosen := func(name, value string) bool {
		v := in[name]
		if _, isList := v.([]any); !isList && mode == Batch {
			return false // the batch endpoint looks for _OTHER in arrays only
		}
		return slices.Contains(phpArrayCast(v), any(value))
	}
	visOther, typeOther := chosen("decision_visibility", VisibilityOther), chosen("content_type", ContentOther)
	voluntary := slices.Contains(phpArrayCast(in["source_type"]), any(SourceVoluntary))
	decisions := []string{"decision_visibility", "decision_monetary", "decision_provision", "decision_account"}
	others := func(self string) []string {
		return slices.DeleteFunc(slices.Clone(decisions), func(s string) bool { return s == self })
	}
	nullableIn := func(list []string) []string { return append([]string{"null"}, list...) }
	dateFmt := func(name string) check {
		msg := map[string]string{
			"content_date":                    "The content date does not match the format YYYY-MM-DD.",
			"application_date":                "The application date does not match the format YYYY-MM-DD.",
			"end_date_account_restriction":    "The end date of account restriction does not match the format YYYY-MM-DD.",
			"end_date_monetary_restriction":   "The end date of monetary restriction does not match the format YYYY-MM-DD.",
			"end_date_service_restriction":    "The end date of service restriction does not match the format YYYY-MM-DD.",
			"end_date_visibility_restriction": "The end date of visibility restriction does not match the format YYYY-MM-DD.",
		}[name]
		return check{pass: validDate, msg: msg}
	}
	groundText := func(name, want string, limit int, msg string) field {
		return field{name: name, checks: []check{requiredIfEq(name, in, "decision_ground", want, msg),
			{exclude: true, pass: func(any) bool { return ground(want)() }}, maxLen(name, limit, false)}}
	}
	endDate := func(name string) field {
		return field{name: name, nullable: true, checks: []check{dateFmt(name), beforeOrEqual(name, "2038-01-01")}}
	}
	sourceIdentity := field{name: "source_identity", checks: []check{maxLen("source_identity", 500, false), excludeIf(voluntary)}}
	if mode == Batch {
		sourceIdentity = field{name: "source_identity", nullable: true, checks: []check{maxLen("source_identity", 500, false)}}
	}
	return []field{
		{name: "content_id", nullable: true, checks: []check{isArray("content_id")}},
		{name: "content_id.EAN-13", checks: []check{isString("content_id.EAN-13"), regex("content_id.EAN-13", reEAN, "")}},
		{name: "content_id_ean", nullable: true, checks: []check{isString("content_id_ean"), regex("content_id_ean", reEAN, "")}},
		{name: "decision_visibility", nullable: true, checks: []check{isArray("decision_visibility"),
			inList("decision_visibility", nullableIn(DecisionVisibilities), true),
			requiredWithoutAll("decision_visibility", in, others("decision_visibility"))}},
		{name: "decision_visibility_other", checks: []check{maxLen("decision_visibility_other", 500, false),
			requiredIf("decision_visibility_other", visOther), excludeIf(!visOther)}},
		{name: "decision_monetary", nullable: true, checks: []check{inList("decision_monetary", nullableIn(DecisionMonetaries), false),
			requiredWithoutAll("decision_monetary", in, others("decision_monetary"))}},
		{name: "decision_monetary_other", checks: []check{
			requiredIfEq("decision_monetary_other", in, "decision_monetary", MonetaryOther, "The decision monetary other field is required when decision monetary is other."),
			{exclude: true, pass: func(any) bool { return in["decision_monetary"] == MonetaryOther }},
			maxLen("decision_monetary_other", 500, false)}},
		{name: "decision_provision", nullable: true, checks: []check{inList("decision_provision", nullableIn(DecisionProvisions), false),
			requiredWithoutAll("decision_provision", in, others("decision_provision"))}},
		{name: "decision_account", nullable: true, checks: []check{inList("decision_account", nullableIn(DecisionAccounts), false),
			requiredWithoutAll("decision_account", in, others("decision_account"))}},
		{name: "account_type", nullable: true, checks: []check{inList("account_type", nullableIn(AccountTypes), false)}},
		{name: "category_specification", nullable: true, checks: []check{isArray("category_specification"),
			inList("category_specification", nullableIn(Keywords), true)}},
		{name: "category_specification_other", checks: []check{maxLen("category_specification_other", 500, false)}},
		{name: "decision_ground", checks: []check{required("decision_ground"), inList("decision_ground", DecisionGrounds, false)}},
		{name: "decision_ground_reference_url", nullable: true, checks: []check{isURL("decision_ground_reference_url"),
			maxLen("decision_ground_reference_url", 500, false)}},
		groundText("illegal_content_legal_ground", GroundIllegal, 500,
			"The illegal content legal ground field is required when decision ground is illegal content."),
		groundText("illegal_content_explanation", GroundIllegal, 2000,
			"The illegal content explanation field is required when decision ground is illegal content."),
		groundText("incompatible_content_ground", GroundIncompatible, 500,
			"The incompatible content ground field is required when decision ground is incompatible content."),
		groundText("incompatible_content_explanation", GroundIncompatible, 2000,
			"The incompatible content explanation field is required when decision ground is incompatible content."),
		{name: "incompatible_content_illegal", checks: []check{inList("incompatible_content_illegal", YesNo, false),
			{exclude: true, pass: func(any) bool { return ground(GroundIncompatible)() }}}},
		{name: "content_type", checks: []check{isArray("content_type"), required("content_type"), inList("content_type", ContentTypes, true)}},
		{name: "content_type_other", checks: []check{maxLen("content_type_other", 500, false),
			requiredIf("content_type_other", typeOther), excludeIf(!typeOther)}},
		{name: "category", checks: []check{required("category"), inList("category", Categories, false)}},
		{name: "category_addition", checks: []check{isArray("category_addition"), inList("category_addition", Categories, true)}},
		{name: "territorial_scope", nullable: true, checks: []check{isArray("territorial_scope"), inList("territorial_scope", EEA, true)}},
		{name: "content_language", nullable: true, checks: []check{inList("content_language", Languages, false)}},
		{name: "content_date", checks: []check{required("content_date"), dateFmt("content_date"),
			afterOrEqual("content_date", "2000-01-01"), beforeOrEqual("content_date", "2038-01-01")}},
		{name: "application_date", checks: []check{required("application_date"), dateFmt("application_date"),
			afterOrEqual("application_date", "2020-01-01"), beforeOrEqual("application_date", "2038-01-01")}},
		endDate("end_date_account_restriction"),
		endDate("end_date_monetary_restriction"),
		endDate("end_date_service_restriction"),
		endDate("end_date_visibility_restriction"),
		{name: "decision_facts", checks: []check{required("decision_facts"), maxLen("decision_facts", 5000, false)}},
		{name: "source_type", checks: []check{required("source_type"), inList("source_type", SourceTypes, false)}},
		sourceIdentity,
		{name: "automated_detection", checks: []check{required("automated_detection"), inList("automated_detection", YesNo, false)}},
		{name: "automated_decision", checks: []check{required("automated_decision"), inList("automated_decision", AutomatedDecisions, false)}},
		{name: "puid", checks: []check{required("puid"), maxLen("puid", MaxPUID, false), regex("puid", rePUID, "The puid format is invalid.")}},
	}
}

// display is how Laravel names a field in its messages.
func display(name string) string {
	if name == "content_id.EAN-13" {
		return "content id. e a n-13"
	}
	return strings.ReplaceAll(name, "_", " ")
}

func required(name string) check {
	return check{implicit: true, pass: filled, msg: "The " + display(name) + " field is required."}
}

// requiredIf is Rule::requiredIf: "required" when cond holds, no rule otherwise.
func requiredIf(name string, cond bool) check {
	if !cond {
		return check{pass: func(any) bool { return true }}
	}
	return required(name)
}

// requiredIfEq is required_if:other,value.
func requiredIfEq(name string, in map[string]any, other, value, msg string) check {
	return check{implicit: true, msg: msg, pass: func(v any) bool {
		o, ok := in[other]
		return !ok || o != value || filled(v)
	}}
}

func requiredWithoutAll(name string, in map[string]any, others []string) check {
	names := make([]string, len(others))
	for i, o := range others {
		names[i] = display(o)
	}
	return check{implicit: true, msg: "The " + display(name) + " field is required when none of " + strings.Join(names, " / ") + " are present.",
		pass: func(v any) bool {
			return slices.ContainsFunc(others, func(o string) bool { return filled(in[o]) }) || filled(v)
		}}
}

func excludeIf(cond bool) check { return check{exclude: true, pass: func(any) bool { return !cond }} }

func isArray(name string) check {
	return check{pass: isPHPArray, msg: "The " + display(name) + " field must be an array."}
}

func isString(name string) check {
	return check{pass: func(v any) bool { _, ok := v.(string); return ok }, msg: "The " + display(name) + " field must be a string."}
}

// inList is "in": a PHP array (with the "array" rule) must hold only listed values, anything
// else must be one.
func inList(name string, list []string, arrayRule bool) check {
	return check{msg: "The selected " + display(name) + " is invalid.", pass: func(v any) bool {
		if elems, ok := phpArray(v); ok {
			if !arrayRule {
				return false
			}
			for _, e := range elems {
				if isPHPArray(e) || !slices.Contains(list, phpString(e)) {
					return false
				}
			}
			return true
		}
		return slices.Contains(list, phpString(v))
	}}
}

func maxLen(name string, limit int, arrayRule bool) check {
	msg := fmt.Sprintf("The %s field must not be greater than %d characters.", display(name), limit)
	if arrayRule {
		msg = fmt.Sprintf("The %s field must not have more than %d items.", display(name), limit)
	}
	return check{msg: msg, pass: func(v any) bool { return size(v) <= limit }}
}

func regex(name string, re *regexp.Regexp, msg string) check {
	if msg == "" {
		msg = "The " + display(name) + " field format is invalid."
	}
	return check{msg: msg, pass: func(v any) bool {
		switch v.(type) {
		case string, json.Number:
			return re.MatchString(phpString(v))
		}
		return false
	}}
}

// urlProtocols are the schemes Laravel's url rule accepts that a statement could sensibly
// name; the rule is approximated with net/url (see the file's comment).
var urlProtocols = []string{"http", "https", "ftp", "ftps", "sftp", "file"}

func isURL(name string) check {
	return check{msg: "The " + display(name) + " field must be a valid URL.", pass: func(v any) bool {
		s, ok := v.(string)
		if !ok || strings.ContainsFunc(s, unicode.IsSpace) {
			return false
		}
		u, err := url.Parse(s)
		return err == nil && slices.Contains(urlProtocols, strings.ToLower(u.Scheme)) && u.Host != ""
	}}
}

func afterOrEqual(name, date string) check {
	limit, _ := time.Parse(time.DateOnly, date)
	return check{msg: "The " + display(name) + " field must be a date after or equal to " + date + ".", pass: func(v any) bool {
		t, ok := looseDate(v)
		return ok && !t.Before(limit)
	}}
}

func beforeOrEqual(name, date string) check {
	limit, _ := time.Parse(time.DateOnly, date)
	return check{msg: "The " + display(name) + " field must be a date before or equal to " + date + ".", pass: func(v any) bool {
		t, ok := looseDate(v)
		return ok && !t.After(limit)
	}}
}

var (
	reStrictDate = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	reLooseDate  = regexp.MustCompile(`^([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})$`)
)

// validDate is date_format:Y-m-d: PHP reads the value with that format and must write it
// back unchanged, so a date that does not exist (2023-02-30) fails.
func validDate(v any) bool {
	s, ok := v.(string)
	if !ok || !reStrictDate.MatchString(s) {
		return false
	}
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// looseDate is how after_or_equal and before_or_equal read a date given date_format:Y-m-d:
// PHP's DateTime::createFromFormat, which rolls days and months over (2023-02-30 is
// 2023-03-02).
func looseDate(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		if n, isNum := v.(json.Number); isNum {
			s = n.String()
		} else {
			return time.Time{}, false
		}
	}
	m := reLooseDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
}

// filled is Laravel's "required": not null, not a blank string, not an empty array.
func filled(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(x) != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// isPHPArray: JSON arrays and objects are both PHP arrays.
func isPHPArray(v any) bool {
	_, ok := phpArray(v)
	return ok
}

func phpArray(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, e)
		}
		return out, true
	}
	return nil, false
}

// phpArrayCast is PHP's (array) cast: null is empty, a scalar a one-element array.
func phpArrayCast(v any) []any {
	if elems, ok := phpArray(v); ok {
		return elems
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// size is what "max" measures: items of an array, characters of anything else as a string.
func size(v any) int {
	if elems, ok := phpArray(v); ok {
		return len(elems)
	}
	return utf8.RuneCountInString(phpString(v))
}

// phpString is PHP's (string) cast of a JSON value (arrays are not cast).
func phpString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "1"
		}
		return ""
	case json.Number:
		return phpNumber(x)
	}
	return ""
}

// phpNumber writes a JSON number as PHP does once json_decode has read it: integers that
// fit in 64 bits as such, anything else as a float with 14 significant digits.
func phpNumber(n json.Number) string {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	out := strconv.FormatFloat(f, 'G', 14, 64)
	mant, exp, ok := strings.Cut(out, "E")
	if !ok {
		return out
	}
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	sign := exp[:1]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "E" + sign + exp
}

// BatchItem is one statement of a batch: its key in the array (its index, as the
// database's errors name it "statement_KEY"), what it holds, and why it is refused.
type BatchItem struct {
	Key    string
	Input  map[string]any
	Errors Errors
}

// BatchResult is how the database judges the body of POST /api/v1/statements before it
// looks at puids.
type BatchResult struct {
	// Top are the errors of the "statements" field itself (required, an array of 1 to 100).
	Top Errors
	// Broken is set when an element is not an object or array: the database then fails
	// with 500.
	Broken bool
	Items  []BatchItem
}

// Refused reports whether the database answers 422 (or 500, when Broken) before storing
// anything.
func (r *BatchResult) Refused() bool {
	return len(r.Top) > 0 || r.Broken || slices.ContainsFunc(r.Items, func(it BatchItem) bool { return len(it.Errors) > 0 })
}

// ValidateBatch checks the body of POST /api/v1/statements as the database does:
// "statements" is required, an array of 1 to 100, and each element is checked with the
// batch endpoint's rules. Elements given as an object's values are taken in key order.
func ValidateBatch(body []byte) BatchResult {
	var res BatchResult
	in := Decode(body)
	v, present := in["statements"]
	if !filled(v) {
		res.Top.add("statements", "The statements field is required.")
	}
	if present {
		elems, isArray := phpArray(v)
		if !isArray {
			res.Top.add("statements", "The statements field must be an array.")
		}
		if n := size(v); n < 1 || n > MaxBatch {
			res.Top.add("statements", fmt.Sprintf("The statements field must have between 1 and %d items.", MaxBatch))
		}
		if len(res.Top) > 0 {
			return res
		}
		keys := make([]string, len(elems))
		if m, isMap := v.(map[string]any); isMap {
			keys = keys[:0]
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				elems[i] = m[k]
			}
		} else {
			for i := range keys {
				keys[i] = strconv.Itoa(i)
			}
		}
		for i, e := range elems {
			item := BatchItem{Key: keys[i]}
			switch x := e.(type) {
			case map[string]any:
				item.Input = x
			case []any:
				item.Input = map[string]any{}
				for j, y := range x {
					item.Input[strconv.Itoa(j)] = y
				}
			default:
				res.Broken = true
				return res
			}
			item.Errors = ValidateInput(item.Input, Batch)
			res.Items = append(res.Items, item)
		}
	}
	return res
}
