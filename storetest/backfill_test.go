package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
)

// TestSearchBackfill: the migration that keys search by request rebuilds the index of the
// requests already stored from the same fields docket.SearchText reads — run here for real,
// on each engine, over a request written before it.
func TestSearchBackfill(t *testing.T) {
	dialects := map[string]*sqlstore.Dialect{"sqlite": sqlite.Dialect(), "postgres": postgres.Dialect()}
	files := map[string]string{"sqlite": "004_moves.sql", "postgres": "005_moves.sql"}
	for _, engine := range Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			s := Open(t, engine).(*sqlstore.Store)
			c, _ := mustOpenCase(t, s, caseSpec{regime: "r", authority: "a"})
			raw := []byte(`{"n":2}`)
			sum := sha256.Sum256(raw)
			body := docket.RequestBody{Regime: "r", Kind: docket.KindNotice, Reference: "REF-1", Description: "Beschreibung",
				LegalBasis: "Artikel", Reasons: "Gründe", Targets: []docket.Target{{Kind: "url", Value: "https://target.example/zielwert"}},
				Notifier:    &docket.Notifier{Name: "Melderin", Email: "melderin@example.org"},
				Attachments: []docket.Attachment{{Filename: "anlage.pdf"}}, Extracted: "ausgelesen",
				Email: &docket.Email{Subject: "Betreff", From: "absender@example.org", FromName: "Absenderin"}}
			err := s.Update(ctx, func(tx docket.Tx) error {
				return tx.InsertRequest(ctx, &docket.Request{ID: docket.NewID(), CaseID: c.ID, Channel: docket.ChannelNotice,
					ReceivedAt: t0, SHA256: hex.EncodeToString(sum[:]), Raw: raw, ContentType: "application/json", Body: body})
			})
			if err != nil {
				t.Fatal(err)
			}
			mig, err := fs.ReadFile(dialects[engine].Migrations, files[engine])
			if err != nil {
				t.Fatal(err)
			}
			_, insert, ok := strings.Cut(string(mig), ");\nINSERT INTO request_search")
			if !ok {
				t.Fatal("the migration has no backfill")
			}
			insert, _, _ = strings.Cut("INSERT INTO request_search"+insert, ";\n")
			for _, q := range []string{`DELETE FROM request_search`, insert} {
				if _, err := s.DB().ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			b, _ := json.Marshal(body)
			for _, w := range strings.Fields(docket.SearchText(&docket.Request{Body: body})) {
				if strings.ContainsAny(w, ":/@") {
					continue // searched by their parts
				}
				found, err := s.Cases(ctx, docket.CaseFilter{Query: w})
				if err != nil || len(found) != 1 {
					t.Errorf("after the backfill, %q finds %d cases (%v); body %s", w, len(found), err, b)
				}
			}
		})
	}
}
