// Package ncmec reports apparent child sexual abuse material to NCMEC's CyberTipline, as a
// provider under US law must (18 U.S.C. § 2258A), through the CyberTipline Reporting API:
// the report's XML and a file's details in the elements and order of NCMEC's schema, their
// validation by the rules the API applies, a client of its endpoints (/status, /submit,
// /upload, /fileinfo, /finish, /retract; basic authentication; XML answers with a
// responseCode), and the jobs that send a case's queued report step by step — each step an
// event on the case, resumed from the last one recorded — keep what was reported for a year,
// and retract a report whose decision was reversed. Package ncmectest is a double of the API
// for tests.
package ncmec

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The elements of a report, in the order of NCMEC's schema (the XSD served at /xsd). Only
// what docket fills is declared; the schema has more (law enforcement, victims, intended
// recipients, IP capture events…), which the validation below accepts in their place.

// Report is the document POSTed to /submit.
type Report struct {
	XMLName              xml.Name              `xml:"report"`
	IncidentSummary      IncidentSummary       `xml:"incidentSummary"`
	InternetDetails      []InternetDetails     `xml:"internetDetails,omitempty"`
	Reporter             Reporter              `xml:"reporter"`
	PersonOrUserReported *PersonOrUserReported `xml:"personOrUserReported,omitempty"`
	AdditionalInfo       string                `xml:"additionalInfo,omitempty"`
}

// IncidentSummary is the incident's type and time: the only elements the API requires.
type IncidentSummary struct {
	IncidentType                string `xml:"incidentType"`
	Platform                    string `xml:"platform,omitempty"`
	IncidentDateTime            string `xml:"incidentDateTime"` // xs:dateTime, with its time zone
	IncidentDateTimeDescription string `xml:"incidentDateTimeDescription,omitempty"`
}

// InternetDetails says where the incident happened; docket reports a web page (the
// content's addresses on the platform).
type InternetDetails struct {
	WebPageIncident *WebPageIncident `xml:"webPageIncident,omitempty"`
}

// WebPageIncident lists the addresses of the reported content.
type WebPageIncident struct {
	URL            []string `xml:"url,omitempty"`
	AdditionalInfo string   `xml:"additionalInfo,omitempty"`
}

// Reporter is the provider and the person NCMEC and law enforcement may contact.
type Reporter struct {
	ReportingPerson Person `xml:"reportingPerson"`
	CompanyTemplate string `xml:"companyTemplate,omitempty"`
	TermsOfService  string `xml:"termsOfService,omitempty"`
	LegalURL        string `xml:"legalURL,omitempty"`
}

// Person is a person record (the schema's order: names, phones, e-mails).
type Person struct {
	FirstName string   `xml:"firstName,omitempty"`
	LastName  string   `xml:"lastName,omitempty"`
	Email     []string `xml:"email,omitempty"`
}

// PersonOrUserReported is the account the content came from, as the case names it.
type PersonOrUserReported struct {
	EspIdentifier  string   `xml:"espIdentifier,omitempty"`
	EspService     string   `xml:"espService,omitempty"`
	ScreenName     string   `xml:"screenName,omitempty"`
	ProfileURL     []string `xml:"profileUrl,omitempty"`
	AdditionalInfo string   `xml:"additionalInfo,omitempty"`
}

// FileDetails is the document POSTed to /fileinfo for an uploaded file.
type FileDetails struct {
	XMLName          xml.Name `xml:"fileDetails"`
	ReportID         int64    `xml:"reportId"`
	FileID           string   `xml:"fileId"`
	OriginalFileName string   `xml:"originalFileName,omitempty"`
	LocationOfFile   string   `xml:"locationOfFile,omitempty"`
	FileViewedByEsp  bool     `xml:"fileViewedByEsp"`
	FileRelevance    string   `xml:"fileRelevance,omitempty"`
	OriginalFileHash []Hash   `xml:"originalFileHash,omitempty"`
	AdditionalInfo   []string `xml:"additionalInfo,omitempty"`
}

// Hash is a digest of the file as the user uploaded it, with its type (MD5, SHA256…).
type Hash struct {
	Value    string `xml:",chardata"`
	HashType string `xml:"hashType,attr"`
}

// Response is the API's answer to /submit, /upload, /fileinfo, /retract and /status
// (reportResponse): responseCode 0 is success.
type Response struct {
	XMLName             xml.Name `xml:"reportResponse"`
	ResponseCode        int      `xml:"responseCode"`
	ResponseDescription string   `xml:"responseDescription,omitempty"`
	ReportID            int64    `xml:"reportId,omitempty"`
	FileID              string   `xml:"fileId,omitempty"`
	Hash                string   `xml:"hash,omitempty"` // the MD5 NCMEC computed of an upload
}

// DoneResponse is the API's answer to /finish (reportDoneResponse): the files received.
type DoneResponse struct {
	XMLName      xml.Name `xml:"reportDoneResponse"`
	ResponseCode int      `xml:"responseCode"`
	ReportID     int64    `xml:"reportId,omitempty"`
	Files        []string `xml:"files>fileId,omitempty"`
}

// Incident types of the schema's enumeration.
var IncidentTypes = []string{
	"Child Pornography (possession, manufacture, and distribution)",
	"Child Sex Trafficking",
	"Child Sex Tourism",
	"Child Sexual Molestation",
	"Misleading Domain Name",
	"Misleading Words or Digital Images on the Internet",
	"Online Enticement of Children for Sexual Acts",
	"Unsolicited Obscene Material Sent to a Child",
}

// IncidentCSAM is the incident type of apparent child sexual abuse material.
const IncidentCSAM = "Child Pornography (possession, manufacture, and distribution)"

// Response codes the API documents (0 is success). The list is not exhaustive: an unknown
// code is kept as NCMEC sent it.
const (
	CodeSuccess                = 0
	CodeServerError            = 1000
	CodeSaveFailed             = 1100
	CodeUploadFailed           = 1110
	CodeFileUploadFailed       = 1111
	CodeResourceNotFound       = 1210
	CodeUpdateFailed           = 1300
	CodeAuthenticationRequired = 2000
	CodeNotAuthorized          = 3000
	CodeNotAuthorizedSubmit    = 3100
	CodeNotAuthorizedUpdate    = 3300
	CodeInvalidRequest         = 4000
	CodeValidationFailed       = 4100
	CodeMalformedXML           = 4110
	CodeMalformedFile          = 4200
	CodeNoSuchReport           = 5001
	CodeNoSuchFile             = 5002
	CodeAlreadyRetracted       = 5101
	CodeAlreadyFinished        = 5102
)

// Marshal returns a document's XML with its declaration.
func Marshal(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ncmec: marshal %T: %w", v, err)
	}
	return append([]byte(xml.Header), b...), nil
}

// ErrMalformed is wrapped by a validation error whose document is not well-formed XML
// (NCMEC's code 4110); other validation errors break the schema's rules (4100).
var ErrMalformed = errors.New("malformed XML")

// node is an element of a parsed document.
type node struct {
	name     string
	attrs    map[string]string
	text     string
	children []*node
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parse reads a whole document into its tree of elements (namespaces dropped: NCMEC's schema
// has none; xsi attributes are allowed).
func parse(b []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%w: more than one root element", ErrMalformed)
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("%w: text outside the root element", ErrMalformed)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", ErrMalformed)
	}
	return root, nil
}

// sequences are the children each element may have, in the schema's order (xs:sequence).
var sequences = map[string][]string{
	"report": {"batchedReport", "incidentSummary", "internetDetails", "lawEnforcement", "reporter", "personOrUserReported",
		"intendedRecipient", "victim", "additionalInfo"},
	"incidentSummary": {"incidentType", "platform", "escalateToHighPriority", "reportAnnotations", "incidentDateTime", "incidentDateTimeDescription"},
	"reporter":        {"reportingPerson", "contactPerson", "companyTemplate", "termsOfService", "legalURL"},
	"reportingPerson": {"firstName", "lastName", "phone", "email", "address", "age", "dateOfBirth"},
	"webPageIncident": {"url", "additionalInfo"},
	"personOrUserReported": {"personOrUserReportedPerson", "vehicleDescription", "espIdentifier", "espService", "compromisedAccount",
		"screenName", "displayName", "profileUrl", "profileBio", "ipCaptureEvent", "deviceId", "thirdPartyUserReported", "priorCTReports",
		"groupIdentifier", "accountTemporarilyDisabled", "accountPermanentlyDisabled", "estimatedLocation", "allEmailsReported",
		"associatedAccount", "additionalInfo"},
	"fileDetails": {"reportId", "fileId", "fileName", "originalFileName", "uploadedToEspTimestamp", "locationOfFile", "fileViewedByEsp",
		"exifViewedByEsp", "publiclyAvailable", "fileRelevance", "potentialMeme", "fileAnnotations", "industryClassification",
		"originalFileHash", "ipCaptureEvent", "deviceId", "details", "additionalInfo"},
}

// repeated lists the elements that may appear more than once in their parent.
var repeated = map[string]bool{"internetDetails": true, "intendedRecipient": true, "victim": true, "url": true, "phone": true,
	"email": true, "address": true, "displayName": true, "profileUrl": true, "ipCaptureEvent": true, "deviceId": true,
	"priorCTReports": true, "associatedAccount": true, "originalFileHash": true, "details": true}

// order checks that n's children are elements of its sequence, in order, each single one
// at most once; it descends into the children that have sequences of their own.
func order(n *node, path string) error {
	seq, ok := sequences[n.name]
	if !ok {
		return nil
	}
	last := -1
	for _, c := range n.children {
		i := slices.Index(seq, c.name)
		switch {
		case i < 0:
			return fmt.Errorf("%s: element %s is not allowed here", path, c.name)
		case i < last:
			return fmt.Errorf("%s: element %s is out of the schema's order (after %s)", path, c.name, seq[last])
		case i == last && !repeated[c.name] && !(n.name == "fileDetails" && c.name == "additionalInfo"):
			return fmt.Errorf("%s: element %s appears more than once", path, c.name)
		}
		last = i
		if err := order(c, path+"/"+c.name); err != nil {
			return err
		}
	}
	return nil
}

// dateTime parses an xs:dateTime (with or without its time zone; NCMEC asks for one).
func dateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an xs:dateTime", s)
}

func boolean(s string) error {
	switch strings.TrimSpace(s) {
	case "true", "false", "1", "0":
		return nil
	}
	return fmt.Errorf("%q is not an xs:boolean", s)
}

// ValidateReport checks a report's XML as the API does before it opens a report: well
// formed, the root element report, the schema's elements in its order, an incident type of
// its enumeration and an incident date and time (the two elements the API requires), and a
// reporting person.
func ValidateReport(b []byte) error {
	root, err := parse(b)
	if err != nil {
		return err
	}
	if root.name != "report" {
		return fmt.Errorf("the root element is %s, not report", root.name)
	}
	if err := order(root, "report"); err != nil {
		return err
	}
	sum := root.child("incidentSummary")
	if sum == nil {
		return errors.New("report/incidentSummary is required")
	}
	typ := sum.child("incidentType")
	if typ == nil || !slices.Contains(IncidentTypes, strings.TrimSpace(typ.text)) {
		return errors.New("report/incidentSummary/incidentType is required, one of the schema's incident types")
	}
	at := sum.child("incidentDateTime")
	if at == nil {
		return errors.New("report/incidentSummary/incidentDateTime is required")
	}
	if _, err := dateTime(at.text); err != nil {
		return fmt.Errorf("report/incidentSummary/incidentDateTime: %v", err)
	}
	rep := root.child("reporter")
	if rep == nil || rep.child("reportingPerson") == nil {
		return errors.New("report/reporter/reportingPerson is required")
	}
	return nil
}

// FileRelevances are the values of fileRelevance.
var FileRelevances = []string{"Reported", "Supplemental Reported"}

// ValidateFileDetails checks a file's details as the API does: well formed, the root
// element fileDetails, the schema's elements in its order, a numeric reportId and a fileId,
// booleans and the relevance as the schema types them, each hash with its type. It returns
// the report and file ids.
func ValidateFileDetails(b []byte) (int64, string, error) {
	root, err := parse(b)
	if err != nil {
		return 0, "", err
	}
	if root.name != "fileDetails" {
		return 0, "", fmt.Errorf("the root element is %s, not fileDetails", root.name)
	}
	if err := order(root, "fileDetails"); err != nil {
		return 0, "", err
	}
	rid := root.child("reportId")
	if rid == nil {
		return 0, "", errors.New("fileDetails/reportId is required")
	}
	id, err := strconv.ParseInt(strings.TrimSpace(rid.text), 10, 64)
	if err != nil || id <= 0 {
		return 0, "", fmt.Errorf("fileDetails/reportId %q is not a report id", rid.text)
	}
	fid := root.child("fileId")
	if fid == nil || strings.TrimSpace(fid.text) == "" {
		return 0, "", errors.New("fileDetails/fileId is required")
	}
	for _, c := range root.children {
		switch c.name {
		case "fileViewedByEsp", "exifViewedByEsp", "publiclyAvailable", "potentialMeme":
			if err := boolean(c.text); err != nil {
				return 0, "", fmt.Errorf("fileDetails/%s: %v", c.name, err)
			}
		case "fileRelevance":
			if !slices.Contains(FileRelevances, strings.TrimSpace(c.text)) {
				return 0, "", fmt.Errorf("fileDetails/fileRelevance %q is not one of %s", c.text, strings.Join(FileRelevances, ", "))
			}
		case "originalFileHash":
			if c.attrs["hashType"] == "" || strings.TrimSpace(c.text) == "" {
				return 0, "", errors.New("fileDetails/originalFileHash needs its value and its hashType")
			}
		case "uploadedToEspTimestamp":
			if _, err := dateTime(c.text); err != nil {
				return 0, "", fmt.Errorf("fileDetails/uploadedToEspTimestamp: %v", err)
			}
		}
	}
	return id, strings.TrimSpace(fid.text), nil
}
