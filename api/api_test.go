package api_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/api"
)

// TestPermissions is the matrix of who may call what.
func TestPermissions(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	rc := h.expect(h.do("POST", "/api/v1/requests", "authority", frRequisition()), 201).json(t)
	reqID, caseID := str(rc, "id"), str(rc, "case_id")
	comment := map[string]any{"type": "comment", "text": "note"}
	tests := []struct {
		method, path string
		body         any
		allowed      map[string]int // who -> status; anyone else gets the default
		other        int
	}{
		{"GET", "/api/v1/cases", nil, map[string]int{"agent": 200, "reviewer": 200, "admin": 200, "auditor": 200, "": 401, "bad": 401}, 403},
		{"GET", "/api/v1/cases/" + caseID, nil, map[string]int{"agent": 200, "reviewer": 200, "admin": 200, "auditor": 200, "": 401}, 403},
		{"POST", "/api/v1/cases/" + caseID + "/events", comment, map[string]int{"agent": 201, "reviewer": 201, "admin": 201, "auditor": 403, "": 401}, 403},
		{"GET", "/api/v1/requests/" + reqID, nil, map[string]int{"authority": 200, "other": 404, "agent": 200, "reviewer": 200, "admin": 200, "auditor": 200, "": 401}, 403},
		{"GET", "/api/v1/requests/" + reqID + "/raw", nil, map[string]int{"authority": 200, "other": 404, "auditor": 200, "": 401}, 200},
		{"GET", "/api/v1/requests/" + reqID + "/proof", nil, map[string]int{"authority": 200, "other": 404, "": 401}, 200},
		{"GET", "/api/v1/log/key", nil, map[string]int{}, 200},
		{"GET", "/api/v1/log/head", nil, map[string]int{}, 200},
		{"GET", "/api/v1/log/consistency?from=1", nil, map[string]int{}, 200},
		{"POST", "/api/v1/requests", frRequisition(), map[string]int{"authority": 201, "other": 201, "": 401}, 403},
		{"GET", "/api/v1/requests", nil, map[string]int{"authority": 200, "other": 200, "": 401}, 403},
		{"GET", "/api/v1/stats", nil, map[string]int{"agent": 200, "reviewer": 200, "admin": 200, "auditor": 200, "": 401}, 403},
		{"GET", "/api/v1/audit/head", nil, map[string]int{"agent": 200, "reviewer": 200, "admin": 200, "auditor": 200, "": 401}, 403},
		{"POST", "/api/v1/users", map[string]any{"email": "x@y.z", "role": "agent"}, map[string]int{"admin": 201, "": 401}, 403},
		{"POST", "/api/v1/authorities", map[string]any{"name": "Court", "country": "BE"}, map[string]int{"admin": 201, "": 401}, 403},
		{"GET", "/api/v1/regimes", nil, map[string]int{}, 200},
		{"GET", "/api/v1/openapi.json", nil, map[string]int{}, 200},
		{"GET", "/api/v1/me", nil, map[string]int{"": 401}, 200},
	}
	whos := []string{"", "bad", "authority", "other", "agent", "reviewer", "admin", "auditor"}
	h.tokens["bad"] = "dku_not-a-real-token"
	for _, tt := range tests {
		for _, who := range whos {
			want, ok := tt.allowed[who]
			if !ok {
				want = tt.other
			}
			if who == "bad" {
				want = 401 // a wrong token is refused, even where no token is needed
			}
			body := tt.body
			if tt.method == "POST" && tt.path == "/api/v1/users" {
				body = map[string]any{"email": fmt.Sprintf("%s-%d@y.z", who, time.Now().UnixNano()), "role": "agent"}
			}
			r := h.do(tt.method, tt.path, who, body)
			if r.status != want {
				t.Errorf("%s %s as %q: %d, want %d (%s)", tt.method, tt.path, who, r.status, want, r.body)
			}
		}
	}
}

// TestBadInput: each mistake gets a precise problem and stores nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	valid, _ := json.Marshal(frRequisition())
	with := func(k string, v any) map[string]any { m := frRequisition(); m[k] = v; return m }
	big := strings.Repeat("a", 2<<20)
	tests := []struct {
		name      string
		body      any
		headers   []string
		status    int
		code      string
		fieldName string
	}{
		{"not JSON", "{regime:", nil, 400, "malformed", ""},
		{"empty body", "", nil, 400, "malformed", ""},
		{"array", "[]", nil, 400, "malformed", ""},
		{"two objects", string(valid) + string(valid), nil, 400, "malformed", ""},
		{"unknown field", with("colour", "red"), nil, 400, "malformed", "colour"},
		{"wrong type", with("targets", "@x"), nil, 400, "malformed", "targets"},
		{"bad UTF-8", []byte("{\"regime\":\"fr-requisition\",\"description\":\"\xff\xfe\"}"), nil, 400, "malformed", ""},
		{"NUL in text", with("description", "a\x00b"), nil, 422, "invalid", "description"},
		{"unknown regime", with("regime", "mars-law"), nil, 422, "invalid", "regime"},
		{"unknown kind", with("kind", "arrest"), nil, 422, "invalid", "kind"},
		{"kind outside regime", with("kind", "removal"), nil, 422, "invalid", "kind"},
		{"missing reference", with("reference", ""), nil, 422, "invalid", "reference"},
		{"bad target kind", with("targets", []map[string]string{{"kind": "dna", "value": "x"}}), nil, 422, "invalid", "targets[0].kind"},
		{"empty target", with("targets", []map[string]string{{"kind": "username", "value": " "}}), nil, 422, "invalid", "targets[0].value"},
		{"bad base64", with("attachments", []map[string]string{{"filename": "a.pdf", "data": "!!!"}}), nil, 400, "malformed", ""},
		{"too large", with("description", big), nil, 413, "too_large", ""},
		{"wrong content type", string(valid), []string{"Content-Type", "text/plain"}, 415, "unsupported", ""},
		{"bad idempotency key", string(valid), []string{"Idempotency-Key", "has space"}, 400, "malformed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/requests", "authority", tt.body, tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			p := r.json(t)
			if r.header.Get("Content-Type") != "application/problem+json" || str(p, "code") != tt.code || str(p, "detail") == "" {
				t.Fatalf("problem %s", r.body)
			}
			if tt.fieldName != "" {
				if errs, _ := p["errors"].(map[string]any); errs[tt.fieldName] == nil {
					t.Fatalf("problem does not name field %s: %s", tt.fieldName, r.body)
				}
			}
		})
	}
	st := h.expect(h.do("GET", "/api/v1/stats", "admin", nil), 200).json(t)
	if st["open"].(float64) != 0 {
		t.Fatalf("bad input left cases behind: %v", st)
	}
	h.expect(h.do("GET", "/api/v1/cases/nope", "agent", nil), 404)
	h.expect(h.do("GET", "/api/v1/nowhere", "agent", nil), 404)
	h.expect(h.do("POST", "/api/v1/cases/nope/events", "agent", map[string]any{"type": "comment", "text": "x"}), 404)
	h.expect(h.do("GET", "/api/v1/cases?state=lost", "agent", nil), 422)
}

func TestAttachmentsAndRaw(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	pdf := []byte("%PDF-1.4\n% réquisition signée\n")
	body := frRequisition()
	body["attachments"] = []map[string]string{{"filename": "../../etc/requisition.pdf", "data": base64.StdEncoding.EncodeToString(pdf)}}
	raw, _ := json.Marshal(body)
	rc := h.expect(h.do("POST", "/api/v1/requests", "authority", raw), 201).json(t)
	got := h.expect(h.do("GET", "/api/v1/requests/"+str(rc, "id")+"/raw", "agent", nil), 200)
	if string(got.body) != string(raw) {
		t.Fatal("raw body is not byte-exact")
	}
	c := h.expect(h.do("GET", "/api/v1/cases/"+str(rc, "case_id"), "agent", nil), 200).json(t)
	att := c["requests"].([]any)[0].(map[string]any)["body"].(map[string]any)["attachments"].([]any)[0].(map[string]any)
	if att["filename"] != "requisition.pdf" || att["content_type"] != "application/pdf" {
		t.Fatalf("attachment metadata: %v", att)
	}
	blob := h.expect(h.do("GET", "/api/v1/attachments/"+att["sha256"].(string), "agent", nil), 200)
	if string(blob.body) != string(pdf) {
		t.Fatal("attachment changed")
	}
	h.expect(h.do("GET", "/api/v1/attachments/"+att["sha256"].(string), "authority", nil), 403)
}

func TestNotices(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	notice := map[string]any{
		"explanation": "This channel sells stolen identity documents.",
		"locations":   []string{"https://t.me/fakeids/42"}, "name": "Jane Doe", "email": "jane@example.org", "good_faith": true,
	}
	rc := h.expect(h.do("POST", "/api/v1/notices", "", notice), 201).json(t)
	if str(rc, "deadline") == "" {
		t.Fatalf("notice receipt: %v", rc)
	}
	c := h.expect(h.do("GET", "/api/v1/cases/"+str(rc, "case_id"), "agent", nil), 200).json(t)
	if str(c, "case", "regime") != "dsa-art16" || str(c, "case", "queue") != "notices" {
		t.Fatalf("notice case: %v", c["case"])
	}
	anonymous := map[string]any{"explanation": "Child abuse material.", "locations": []string{"https://example.net/m/1"}, "good_faith": true, "csam": true}
	h.expect(h.do("POST", "/api/v1/notices", "", anonymous), 201)
	noName := map[string]any{"explanation": "Hate speech.", "locations": []string{"https://example.net/m/2"}, "good_faith": true}
	r := h.expect(h.do("POST", "/api/v1/notices", "", noName), 422).json(t)
	if errs := r["errors"].(map[string]any); errs["name"] == nil || errs["email"] == nil {
		t.Fatalf("missing notifier: %v", r)
	}
	// Burst of 3 per client, 1 per minute after that: the third valid notice is refused.
	r2 := h.do("POST", "/api/v1/notices", "", notice)
	if r2.status != http.StatusTooManyRequests || r2.header.Get("Retry-After") == "" {
		t.Fatalf("rate limit: %d %s", r2.status, r2.body)
	}
}

// TestNeedInfoPausesClock: asking the requester pauses the TCO clock; the reply resumes it
// with the deadline moved by the pause.
func TestNeedInfoPausesClock(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	tco := map[string]any{"regime": "eu-tco-removal", "kind": "removal", "reference": "TCO-7", "legal_basis": "Regulation (EU) 2021/784, art. 3",
		"reasons": "Terrorist propaganda video", "targets": []map[string]string{{"kind": "message", "value": "https://t.me/chan/12"}}}
	rc := h.expect(h.do("POST", "/api/v1/requests", "authority", tco), 201).json(t)
	caseID, reqID := str(rc, "case_id"), str(rc, "id")
	deadline, _ := time.Parse(time.RFC3339Nano, str(rc, "deadline"))
	h.clock.Add(10 * time.Minute)
	h.expect(h.do("POST", "/api/v1/cases/"+caseID+"/events", "agent", map[string]any{"type": "decide", "outcome": "need_info", "statement": "The URL does not resolve."}), 201)
	h.expect(h.do("POST", "/api/v1/cases/"+caseID+"/events", "agent", map[string]any{"type": "answer", "text": "Which message do you mean? The link is broken."}), 201)
	st := h.expect(h.do("GET", "/api/v1/requests/"+reqID, "authority", nil), 200).json(t)
	if str(st, "state") != "awaiting_your_reply" || st["clock_paused"] != true {
		t.Fatalf("after the question: %v", st)
	}
	h.clock.Add(3 * time.Hour) // well past the original deadline, but paused
	if n, err := h.svc.MarkClocks(t.Context()); err != nil || n != 0 {
		t.Fatalf("paused clock marked %d events (%v)", n, err)
	}
	h.expect(h.do("POST", "/api/v1/requests/"+reqID+"/replies", "other", map[string]any{"text": "x"}), 404)
	rep := h.expect(h.do("POST", "/api/v1/requests/"+reqID+"/replies", "authority", map[string]any{"text": "It is https://t.me/chan/13."}), 201).json(t)
	newDeadline, _ := time.Parse(time.RFC3339Nano, str(rep, "deadline"))
	if got := newDeadline.Sub(deadline); got != 3*time.Hour {
		t.Fatalf("deadline moved by %v, want 3h (the pause)", got)
	}
	h.expect(h.do("POST", "/api/v1/requests/"+reqID+"/replies", "authority", map[string]any{"text": "again"}), 409)
	h.clock.Add(time.Hour) // now past the moved deadline
	if n, err := h.svc.MarkClocks(t.Context()); err != nil || n != 2 {
		t.Fatalf("MarkClocks after the moved deadline: %d events (%v), want due-soon and overdue", n, err)
	}
	st2 := h.expect(h.do("GET", "/api/v1/stats", "agent", nil), 200).json(t)
	if st2["overdue"].(float64) != 1 {
		t.Fatalf("stats: %v", st2)
	}
	over := h.expect(h.do("GET", "/api/v1/cases?overdue=true", "agent", nil), 200).json(t)["cases"].([]any)
	if len(over) != 1 || over[0].(map[string]any)["overdue"] != true {
		t.Fatalf("overdue list: %v", over)
	}
	metrics := h.do("GET", "/metrics", "", nil, "Authorization", "Bearer metrics-token")
	if !strings.Contains(string(metrics.body), "docket_cases_overdue 1") {
		t.Fatalf("metrics do not show the overdue case:\n%s", metrics.body)
	}
}

// TestOpenAPIListsEveryRoute keeps the OpenAPI document true: it lists exactly the routes the
// server serves.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	doc := h.expect(h.do("GET", "/api/v1/openapi.json", "", nil), 200).json(t)
	var documented []string
	for path, ops := range doc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var served []string
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, `{"GET", "/api`) || strings.HasPrefix(line, `{"POST", "/api`) {
			parts := strings.Split(line, `"`)
			served = append(served, parts[1]+" "+parts[3])
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if len(served) < 10 || !slices.Equal(documented, served) {
		t.Fatalf("OpenAPI paths and served routes differ:\ndocumented %v\nserved     %v", documented, served)
	}
	for _, r := range served {
		method, path, _ := strings.Cut(r, " ")
		if strings.Contains(path, "{") {
			continue
		}
		if resp := h.do(method, path, "admin", nil); resp.status == 404 && !strings.Contains(string(resp.body), "No such") {
			t.Errorf("%s answers 404", r)
		}
	}
}

// TestMergeAndSplitAPI: staff merge two cases of one authority and split a request back
// out through the events endpoint; the authority follows its request to the case that
// answers for it.
func TestMergeAndSplitAPI(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	send := func(ref, target string) (string, string) {
		body := map[string]any{"regime": "fr-requisition", "kind": "disclosure", "reference": ref, "legal_basis": "CPP art. 60-1",
			"targets": []map[string]string{{"kind": "username", "value": target}}}
		rc := h.expect(h.do("POST", "/api/v1/requests", "authority", body), 201).json(t)
		return str(rc, "case_id"), str(rc, "id")
	}
	caseA, _ := send("PV-1", "@one")
	caseB, reqB := send("PV-2", "@two")
	h.expect(h.do("POST", "/api/v1/cases/"+caseA+"/events", "agent", map[string]any{"type": "merge"}), 422)
	h.expect(h.do("POST", "/api/v1/cases/"+caseA+"/events", "auditor", map[string]any{"type": "merge", "case": caseB}), 403)
	out := h.expect(h.do("POST", "/api/v1/cases/"+caseA+"/events", "agent", map[string]any{"type": "merge", "case": caseB, "text": "same investigation"}), 201).json(t)
	if ev, _ := out["event"].(map[string]any); str(ev, "type") != "merged" {
		t.Fatalf("merge answered %v", out)
	}
	b := h.expect(h.do("GET", "/api/v1/cases/"+caseB, "agent", nil), 200).json(t)
	if c, _ := b["case"].(map[string]any); str(c, "state") != "merged" || str(c, "merged_into") != caseA {
		t.Fatalf("merged case: %v", b["case"])
	}
	if st := h.expect(h.do("GET", "/api/v1/requests/"+reqB, "authority", nil), 200).json(t); str(st, "case_id") != caseA {
		t.Fatalf("the authority's request now answers in case %s, want %s", str(st, "case_id"), caseA)
	}
	list := h.expect(h.do("GET", "/api/v1/cases?state=merged", "agent", nil), 200).json(t)
	if cs, _ := list["cases"].([]any); len(cs) != 1 {
		t.Fatalf("cases in state merged: %v", list)
	}
	h.expect(h.do("POST", "/api/v1/cases/"+caseB+"/events", "agent", map[string]any{"type": "comment", "text": "x"}), 409)
	out = h.expect(h.do("POST", "/api/v1/cases/"+caseA+"/events", "agent", map[string]any{"type": "split", "requests": []string{reqB}}), 201).json(t)
	ev, _ := out["event"].(map[string]any)
	data, _ := ev["data"].(map[string]any)
	if str(ev, "type") != "split" || str(data, "to") == "" {
		t.Fatalf("split answered %v", out)
	}
	if st := h.expect(h.do("GET", "/api/v1/requests/"+reqB, "authority", nil), 200).json(t); str(st, "case_id") != str(data, "to") {
		t.Fatalf("after the split the request is in case %s, want %s", str(st, "case_id"), str(data, "to"))
	}
}

// TestRequesterLimit: one authority sending faster than its limit gets 429 with a
// Retry-After of the time until its next request is allowed, and nothing is stored; another
// authority is not held back.
func TestRequesterLimit(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	h.srv = httptest.NewServer(api.New(api.Config{Service: h.svc, Store: h.store, RequestsPerSecond: 0.5, RequestBurst: 3}))
	t.Cleanup(h.srv.Close)
	count := func() int {
		n := 0
		if err := h.store.ScanRequests(context.Background(), func(*docket.Request) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var first string
	for range 3 {
		rc := h.expect(h.do("POST", "/api/v1/requests", "authority", frRequisition()), 201).json(t)
		first = cmp.Or(first, str(rc, "id"))
	}
	before := count()
	r := h.do("POST", "/api/v1/requests", "authority", frRequisition())
	if r.status != http.StatusTooManyRequests || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("over the limit: %d %s", r.status, r.body)
	}
	if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 2 {
		t.Errorf("Retry-After %q, want the 2 s until the next token", r.header.Get("Retry-After"))
	}
	if count() != before {
		t.Error("a refused request was stored")
	}
	// A reply is a submission too: the same limit.
	if r := h.do("POST", "/api/v1/requests/"+first+"/replies", "authority", map[string]any{"text": "More."}); r.status != http.StatusTooManyRequests {
		t.Errorf("a reply over the limit: %d %s", r.status, r.body)
	}
	h.expect(h.do("POST", "/api/v1/requests", "other", frRequisition()), 201)
}
