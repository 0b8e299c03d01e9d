package sortest

import (
	"encoding/json"
	"strings"
	"testing"
)

func statement(puid string) map[string]any {
	return map[string]any{
		"decision_visibility": []string{"DECISION_VISIBILITY_CONTENT_REMOVED"}, "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
		"illegal_content_legal_ground": "law", "illegal_content_explanation": "why", "content_type": []string{"CONTENT_TYPE_TEXT"},
		"category": "STATEMENT_CATEGORY_VIOLENCE", "content_date": "2026-11-20", "application_date": "2026-11-22",
		"decision_facts": "facts", "source_type": "SOURCE_ARTICLE_16", "automated_detection": "No",
		"automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": puid,
	}
}

func js(v any) []byte { b, _ := json.Marshal(v); return b }

// TestDouble: the double answers as the database does.
func TestDouble(t *testing.T) {
	s := New(map[string]string{"tok-a": "Platform A", "tok-b": "Platform B"})
	defer s.Close()
	status, v, _ := s.Post("/api/v1/statement", "", js(statement("p1")))
	if status != 401 || v["message"] != "Unauthenticated." {
		t.Errorf("no token: %d %v", status, v)
	}
	if status, _, _ := s.Post("/api/v1/statement", "wrong", js(statement("p1"))); status != 401 {
		t.Errorf("wrong token: %d", status)
	}
	bad := statement("p1")
	delete(bad, "category")
	status, v, _ = s.Post("/api/v1/statement", "tok-a", js(bad))
	if status != 422 || v["message"] != "The category field is required." || v["errors"].(map[string]any)["category"] == nil {
		t.Errorf("invalid: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statement", "tok-a", js(statement("p1")))
	if status != 201 || v["puid"] != "p1" || v["uuid"] == "" || v["id"] == nil || v["uuid"] != s.UUID("Platform A", "p1") {
		t.Errorf("created: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statement", "tok-a", js(statement("p1")))
	if status != 422 || v["message"] != "The identifier given is not unique within this platform." || v["existing"].(map[string]any)["puid"] != "p1" {
		t.Errorf("puid again: %d %v", status, v)
	}
	if status, _, _ := s.Post("/api/v1/statement", "tok-b", js(statement("p1"))); status != 201 {
		t.Errorf("the same puid on another platform: %d", status)
	}
	// Batches: all or nothing.
	status, v, _ = s.Post("/api/v1/statements", "tok-a", js(map[string]any{"statements": []any{statement("p2"), bad, statement("p3")}}))
	if status != 422 || v["errors"].(map[string]any)["statement_1"] == nil || len(v["errors"].(map[string]any)) != 1 || s.UUID("Platform A", "p2") != "" {
		t.Errorf("a batch with one bad statement: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statements", "tok-a", js(map[string]any{"statements": []any{statement("p2"), statement("p1"), statement("p3")}}))
	if status != 422 || !strings.Contains(string(js(v["errors"])), `"existing_puids":["p1"]`) {
		t.Errorf("a batch with a used puid: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statements", "tok-a", js(map[string]any{"statements": []any{statement("p2"), statement("p2")}}))
	if status != 422 || !strings.Contains(string(js(v["errors"])), `"existing_puids":["p2"]`) {
		t.Errorf("a batch with a puid twice: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statements", "tok-a", js(map[string]any{"statements": []any{statement("p2"), statement("p3")}}))
	list, _ := v["statements"].([]any)
	if status != 201 || len(list) != 2 || list[1].(map[string]any)["puid"] != "p3" || list[1].(map[string]any)["uuid"] != s.UUID("Platform A", "p3") {
		t.Errorf("a batch: %d %v", status, v)
	}
	status, v, _ = s.Post("/api/v1/statements", "tok-a", js(map[string]any{}))
	if status != 422 || v["message"] != "The statements field is required." {
		t.Errorf("an empty batch: %d %v", status, v)
	}
	s.FailNext(503)
	if status, _, _ := s.Post("/api/v1/statement", "tok-a", js(statement("p4"))); status != 503 || s.UUID("Platform A", "p4") != "" {
		t.Errorf("a failure: %d", status)
	}
	if n := len(s.Stored()); n != 4 {
		t.Errorf("%d stored", n)
	}
	calls := s.Calls()
	if len(calls) != 12 || calls[6].Statements != 3 || calls[6].Status != 422 || calls[11].Status != 503 {
		t.Errorf("calls %+v", calls)
	}
}
