package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/audit"
	"github.com/docket-dev/docket/storetest"
	"github.com/docket-dev/docket/translog"
)

// TestReceiptsProveThemselves: every receipt the API gives — a request, a reply, a public
// notice — verifies offline with the key GET /api/v1/log/key serves; its request's proof
// against later heads and the consistency proof between heads verify; the proof endpoint
// refuses what it cannot prove and another authority's request.
func TestReceiptsProveThemselves(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := setup(t, engine)
			keyLine := strings.TrimSpace(string(h.expect(h.do("GET", "/api/v1/log/key", "", nil), 200).body))
			key, err := translog.ParseKeyLine(keyLine)
			if err != nil || !key.Equal(h.logKey) {
				t.Fatalf("GET /api/v1/log/key: %q (%v)", keyLine, err)
			}
			receipt := func(r response) docket.Receipt {
				t.Helper()
				var rec docket.Receipt
				if err := json.Unmarshal(r.body, &rec); err != nil {
					t.Fatal(err)
				}
				if err := audit.VerifyReceipt(&rec, key); err != nil {
					t.Fatalf("%v\n%s", err, r.body)
				}
				return rec
			}
			first := receipt(h.expect(h.do("POST", "/api/v1/requests", "authority", frRequisition()), 201))
			notice := receipt(h.expect(h.do("POST", "/api/v1/notices", "", map[string]any{"explanation": "Forged identity papers for sale.",
				"locations": []string{"https://t.me/fakeids/42"}, "name": "Jane Doe", "email": "jane@example.org", "good_faith": true}), 201))
			if notice.Log.TreeHead.TreeSize <= first.Log.TreeHead.TreeSize {
				t.Fatalf("the notice's head (%d) does not follow the request's (%d)", notice.Log.TreeHead.TreeSize, first.Log.TreeHead.TreeSize)
			}
			for _, a := range []map[string]any{{"type": "decide", "outcome": "need_info", "statement": "Which account?"}, {"type": "answer", "text": "Which account?"}} {
				h.expect(h.do("POST", "/api/v1/cases/"+first.CaseID+"/events", "agent", a), 201)
			}
			reply := receipt(h.expect(h.do("POST", "/api/v1/requests/"+first.ID+"/replies", "authority", map[string]any{"text": "@suspect"}), 201))
			if reply.Log.Event.Type != docket.EventRequesterReplied {
				t.Fatalf("the reply is proven by a %s event", reply.Log.Event.Type)
			}

			var latest translog.SignedTreeHead
			json.Unmarshal(h.expect(h.do("GET", "/api/v1/log/head", "", nil), 200).body, &latest)
			if latest.Verify(key) != nil || latest.TreeSize < reply.Log.TreeHead.TreeSize {
				t.Fatalf("latest head %+v", latest)
			}
			// The first request's proof against the latest head (the default) and against an
			// earlier size, as its requester and as staff.
			for _, q := range []string{"", fmt.Sprintf("?tree_size=%d", notice.Log.TreeHead.TreeSize)} {
				for _, who := range []string{"authority", "auditor"} {
					var p docket.InclusionProof
					json.Unmarshal(h.expect(h.do("GET", "/api/v1/requests/"+first.ID+"/proof"+q, who, nil), 200).body, &p)
					if p.TreeHead == nil || p.Event.Hash != first.Log.Event.Hash || p.LeafIndex != first.Log.LeafIndex {
						t.Fatalf("proof%s as %s: %+v", q, who, p)
					}
					if err := audit.VerifyInclusionAt(&first, p.TreeHead, p.Inclusion, key); err != nil {
						t.Fatalf("proof%s as %s: %v", q, who, err)
					}
				}
			}
			var c docket.ConsistencyProof
			json.Unmarshal(h.expect(h.do("GET", fmt.Sprintf("/api/v1/log/consistency?from=%d", first.Log.TreeHead.TreeSize), "", nil), 200).body, &c)
			if c.To != latest.TreeSize || c.TreeHead == nil {
				t.Fatalf("consistency %+v", c)
			}
			if err := audit.VerifyGrowth(&first.Log.TreeHead, &latest, c.Consistency, key); err != nil {
				t.Fatal(err)
			}
			// What cannot be proven, and what is not the caller's.
			for _, tc := range []struct {
				path, who string
				status    int
			}{
				{fmt.Sprintf("/api/v1/requests/%s/proof?tree_size=%d", first.ID, first.Log.LeafIndex), "authority", 422},
				{fmt.Sprintf("/api/v1/requests/%s/proof?tree_size=%d", first.ID, latest.TreeSize+1000), "authority", 422},
				{"/api/v1/requests/" + first.ID + "/proof?tree_size=x", "authority", 422},
				{"/api/v1/requests/" + first.ID + "/proof", "other", 404},
				{"/api/v1/requests/" + first.ID + "/proof", "", 401},
				{"/api/v1/log/consistency", "", 422},
				{fmt.Sprintf("/api/v1/log/consistency?from=%d&to=%d", latest.TreeSize, latest.TreeSize-1), "", 422},
				{fmt.Sprintf("/api/v1/log/consistency?from=1&to=%d", latest.TreeSize+1), "", 422},
			} {
				if r := h.do("GET", tc.path, tc.who, nil); r.status != tc.status {
					t.Errorf("GET %s as %q: %d, want %d: %s", tc.path, tc.who, r.status, tc.status, r.body)
				}
			}
		})
	}
}
