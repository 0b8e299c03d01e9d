package intake_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/intake"
	"github.com/docket-dev/docket/regime"
)

var regimes = regime.DefaultTable()

func TestParseRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		code       string // "" when valid
		field      string
		wantRegime string
		emergency  bool
	}{
		{"french requisition", `{"regime":"fr-requisition","kind":"disclosure","reference":"PV 1","legal_basis":"Art. 60-1 CPP","description":"Identification","targets":[{"kind":"username","value":"@x"}]}`, "", "", "fr-requisition", false},
		{"german order, no regime: left to triage", `{"kind":"disclosure","description":"Bestandsdatenauskunft nach § 100j StPO","targets":[{"kind":"phone","value":"+4915112345678"}]}`, "", "", "national-other", false},
		{"emergency without regime", `{"kind":"emergency_disclosure","description":"Kidnapping in progress, child in danger","targets":[{"kind":"username","value":"@k"}]}`, "", "", "emergency", true},
		{"spanish epoc in emergency", `{"regime":"eu-epoc","kind":"emergency_disclosure","reference":"EPOC-ES-1","legal_basis":"Reglamento (UE) 2023/1543","targets":[{"kind":"account","value":"12345"}]}`, "", "", "eu-epoc", true},
		{"arabic description", `{"kind":"other","description":"طلب معلومات عن الحساب"}`, "", "", "national-other", false},
		{"notice kind refused here", `{"kind":"notice","description":"x"}`, docket.EINVALID, "kind", "", false},
		{"missing kind", `{"description":"x"}`, docket.EINVALID, "kind", "", false},
		{"tco needs reasons", `{"regime":"eu-tco-removal","kind":"removal","reference":"T","legal_basis":"2021/784","targets":[{"kind":"url","value":"https://x"}]}`, docket.EINVALID, "reasons", "", false},
		{"trailing garbage", `{"kind":"other","description":"x"} {}`, docket.EMALFORMED, "", "", false},
		{"number for string", `{"kind":"other","description":5}`, docket.EMALFORMED, "description", "", false},
		{"control character", `{"kind":"other","description":"a\u0007b"}`, docket.EINVALID, "description", "", false},
		{"too many targets", `{"kind":"other","description":"x","targets":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"url","value":"u"},`, intake.MaxTargets+1), ",") + `]}`, docket.EINVALID, "targets", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := intake.ParseRequest([]byte(tt.body), regimes)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				if p.Body.Regime != tt.wantRegime || p.Body.Emergency != tt.emergency {
					t.Fatalf("regime %s emergency %v, want %s %v", p.Body.Regime, p.Body.Emergency, tt.wantRegime, tt.emergency)
				}
				return
			}
			if docket.ErrorCode(err) != tt.code {
				t.Fatalf("error %v, want code %s", err, tt.code)
			}
			if tt.field != "" {
				if e := err.(*docket.Error); e.Fields[tt.field] == "" {
					t.Fatalf("error does not name %s: %v", tt.field, e.Fields)
				}
			}
		})
	}
}

func TestParseNotice(t *testing.T) {
	t.Parallel()
	p, err := intake.ParseNotice([]byte(`{"explanation":"Menaces de mort","locations":["https://t.me/x/1"],"name":"Ana","email":"ana@example.org","good_faith":true}`), regimes)
	if err != nil {
		t.Fatal(err)
	}
	if p.Body.Regime != "dsa-art16" || p.Body.Targets[0].Kind != "url" || p.Body.Notifier.Email != "ana@example.org" {
		t.Fatalf("notice: %+v", p.Body)
	}
	// A notice may carry its evidence: the files come back as blobs, named on the body.
	p, err = intake.ParseNotice([]byte(`{"explanation":"A copy of the picture","locations":["https://t.me/x/1"],"csam":true,"good_faith":true,`+
		`"attachments":[{"filename":"../copy.png","data":"iVBORw0KGgo="}]}`), regimes)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Blobs) != 1 || len(p.Body.Attachments) != 1 || p.Body.Attachments[0].Filename != "copy.png" ||
		p.Body.Attachments[0].SHA256 != p.Blobs[0].SHA256 || p.Body.Attachments[0].ContentType != "image/png" {
		t.Fatalf("notice with an attachment: %+v, %d blobs", p.Body.Attachments, len(p.Blobs))
	}
	for body, field := range map[string]string{
		`{"explanation":"x","locations":["https://a/b"],"csam":true,"good_faith":true,"attachments":[{"filename":"a.png","data":""}]}`: "attachments[0].data",
		`{"explanation":"x","locations":["javascript:alert(1)"],"name":"A","email":"a@b.c","good_faith":true}`:                         "locations[0]",
		`{"explanation":"x","locations":["https://a/b"],"name":"A","email":"not-an-address","good_faith":true}`:                        "email",
		`{"explanation":"x","locations":["https://a/b"],"name":"A","email":"a@b.c","good_faith":false}`:                                "good_faith",
		`{"explanation":"","locations":["https://a/b"],"csam":true,"good_faith":true}`:                                                 "explanation",
		`{"explanation":"x","locations":[],"csam":true,"good_faith":true}`:                                                             "locations",
	} {
		_, err := intake.ParseNotice([]byte(body), regimes)
		e, ok := err.(*docket.Error)
		if !ok || e.Fields[field] == "" {
			t.Errorf("%s: %v, want an error naming %s", body, err, field)
		}
	}
}

// FuzzParseRequest: whatever arrives, the parser answers a result or a client error, never
// panics, and what it accepts is clean (valid UTF-8, known kind and regime, bounded).
func FuzzParseRequest(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/requests/*.json")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"other","description":"\ud800"}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := intake.ParseRequest(raw, regimes)
		if err != nil {
			code := docket.ErrorCode(err)
			if code != docket.EMALFORMED && code != docket.EINVALID {
				t.Fatalf("unexpected error code %s: %v", code, err)
			}
			return
		}
		if _, ok := regimes.Lookup(p.Body.Regime); !ok || !p.Body.Kind.Valid() {
			t.Fatalf("accepted unknown regime or kind: %+v", p.Body)
		}
		js, _ := json.Marshal(p.Body)
		if !utf8.Valid(js) || len(p.Body.Targets) > intake.MaxTargets {
			t.Fatalf("accepted body is not clean: %s", js)
		}
		for _, tg := range p.Body.Targets {
			if tg.Value == "" || strings.ContainsRune(tg.Value, 0) {
				t.Fatalf("accepted bad target %q", tg)
			}
		}
	})
}

func FuzzParseNotice(f *testing.F) {
	f.Add([]byte(`{"explanation":"x","locations":["https://t.me/x/1"],"name":"A","email":"a@b.c","good_faith":true}`))
	f.Add([]byte(`{"explanation":"x","locations":["https://[::1]:80/%zz"],"csam":true,"good_faith":true}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := intake.ParseNotice(raw, regimes)
		if err != nil {
			if c := docket.ErrorCode(err); c != docket.EMALFORMED && c != docket.EINVALID {
				t.Fatalf("unexpected error code %s: %v", c, err)
			}
			return
		}
		if len(p.Body.Targets) == 0 || p.Body.Description == "" || !p.Body.Notifier.GoodFaith {
			t.Fatalf("accepted an incomplete notice: %+v", p.Body)
		}
	})
}

func TestParseRequestNonDisclosure(t *testing.T) {
	p, err := intake.ParseRequest([]byte(`{"kind":"other","description":"x","non_disclosure":true}`), regimes)
	if err != nil || !p.Body.NonDisclosure {
		t.Fatalf("non_disclosure not kept: %+v, %v", p, err)
	}
}
