package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/workflow"
)

// TestCasePageShowsMatches: the case page lists the attachments' hash check — the bank,
// the distance and the quality of each match — and a picture found in a bank is not loaded
// until someone asks for it (no src; the script loads it, blurred, on a click), while
// another picture is shown blurred as always.
func TestCasePageShowsMatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Config{})
	ctx := context.Background()
	known, other := []byte("\xff\xd8 a known picture"), []byte("\xff\xd8 another picture")
	knownSum, otherSum := workflow.SHA256(known), workflow.SHA256(other)
	res, err := h.svc.Submit(ctx, &workflow.Submission{Channel: docket.ChannelNotice, Raw: []byte("notice"),
		Body: docket.RequestBody{Regime: "dsa-art16", Kind: docket.KindNotice, Description: "Abuse material.",
			Attachments: []docket.Attachment{{SHA256: knownSum, Filename: "known.jpg", ContentType: "image/jpeg", Size: 20},
				{SHA256: otherSum, Filename: "other.jpg", ContentType: "image/jpeg", Size: 20}}},
		Blobs: []docket.Blob{{SHA256: knownSum, Data: known}, {SHA256: otherSum, Data: other}}})
	if err != nil {
		t.Fatal(err)
	}
	err = h.svc.Change(ctx, res.Receipt.CaseID, docket.ActorMatch, func(_ docket.Tx, _ *docket.Case, rec func(docket.EventType, any) (*docket.Event, error)) error {
		if _, err := rec(docket.EventMediaHashed, docket.MediaHashed{RequestID: res.Receipt.ID, Media: []docket.MediaHash{
			{SHA256: knownSum, Filename: "known.jpg", PDQ: strings.Repeat("ab", 32), Quality: 87}, {SHA256: otherSum, Filename: "other.jpg", Error: "an unreadable picture"}}}); err != nil {
			return err
		}
		_, err := rec(docket.EventMediaMatched, docket.MediaMatched{RequestID: res.Receipt.ID, Matches: []docket.MediaMatch{
			{SHA256: knownSum, Filename: "known.jpg", Bank: "csam", Category: "csam", DSACategory: "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", Action: "review",
				Kind: "pdq", Hash: strings.Repeat("ab", 32), Distance: 12, Quality: 87}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	status, page := h.do("agent", "GET", "/console/cases/"+res.Receipt.CaseID, nil, nil)
	if status != http.StatusOK {
		t.Fatalf("case page: %d", status)
	}
	for _, want := range []string{`id="media"`, "bank csam", "PDQ distance <strong>12</strong>, quality 87", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
		"default action review", "an unreadable picture", "in no enabled bank", "known media: bank csam",
		`data-src="/console/attachments/` + knownSum + `?inline=1"`, `src="/console/attachments/` + otherSum + `?inline=1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	if strings.Contains(page, ` src="/console/attachments/`+knownSum) {
		t.Error("the page loads the picture found in a bank")
	}
}
