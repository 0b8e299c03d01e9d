package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/docket-dev/docket/storetest"
)

// TestLedgerCountsEffectsOnce: a page or mail delivered again under its key is a retry
// the receiver takes once; an action the platform carried out twice under one key is a
// double, which the campaign must report.
func TestLedgerCountsEffectsOnce(t *testing.T) {
	t.Parallel()
	l := newLedger()
	l.record(fxPage, "docket-c1/0", 0, false)
	l.record(fxPage, "docket-c1/0", 1, false) // the other node, after taking the job over
	l.record(fxPage, "docket-c2/0", 1, false)
	l.record(fxPlatform, "actions k1", 0, false)
	l.record(fxPlatform, "actions k1", 1, true) // answered from the platform's keys
	l.record(fxPlatform, "actions k2", 0, false)
	l.record(fxPlatform, "actions k2", 0, false) // acted twice
	if got, want := l.tally(fxPage), (tally{Effects: 2, Deliveries: 3, Deduped: 1, ByOther: 1}); got != want {
		t.Errorf("pages: %+v, want %+v", got, want)
	}
	if got, want := l.tally(fxPlatform), (tally{Effects: 2, Deliveries: 4, Deduped: 1, Twice: 1, ByOther: 1}); got != want {
		t.Errorf("platform: %+v, want %+v", got, want)
	}
	if !l.effected(fxPage, "docket-c2/0") || l.effected(fxMail, "docket.c.1@chaos.test") {
		t.Error("effected is wrong")
	}
}

// TestSORAnswer reads the Transparency Database double's answers: stored statements, and
// puids it refused because it holds them (a retry deduplicated by puid).
func TestSORAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status          int
		body            string
		stored, existed []string
	}{
		{201, `{"puid":"p1","uuid":"u"}`, []string{"p1"}, nil},
		{201, `{"statements":[{"puid":"p1"},{"puid":"p2"}]}`, []string{"p1", "p2"}, nil},
		{422, `{"message":"not unique","errors":{"puid":["x"]},"existing":{"puid":"p3"}}`, nil, []string{"p3"}},
		{422, `{"message":"not unique","errors":{"puid":["x"],"existing_puids":["p4","p5"]}}`, nil, []string{"p4", "p5"}},
		{422, `{"message":"bad","errors":{"decision_ground":["x"]}}`, nil, nil},
		{500, `{"message":"Server Error"}`, nil, nil},
	} {
		stored, existed := sorAnswer(tc.status, []byte(tc.body))
		if !slices.Equal(stored, tc.stored) || !slices.Equal(existed, tc.existed) {
			t.Errorf("%d %s: stored %v existing %v, want %v %v", tc.status, tc.body, stored, existed, tc.stored, tc.existed)
		}
	}
}

// TestChaosEffects runs a short two-node campaign with effects on PostgreSQL: one kill -9
// round, then the proof that every page, platform action, mail and statement of reasons
// due took place once at its receiver, and that the leases held at the kill were let go
// in time. chaos fails when a promise broke or when no effect of a kind was due.
func TestChaosEffects(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skipf("two-node effects campaign skipped: set %s=postgres://user@127.0.0.1:5432/test?sslmode=disable to run it", storetest.PostgresEnv)
	}
	if testing.Short() {
		t.Skip("builds docket and kills it")
	}
	bin := filepath.Join(t.TempDir(), "docket")
	if out, err := exec.Command("go", "build", "-o", bin, "../docket").CombinedOutput(); err != nil {
		t.Fatalf("build docket: %v\n%s", err, out)
	}
	if err := chaos([]string{"--docket", bin, "--rounds", "2", "--clients", "8", "--nodes", "2", "--effects", "--lease", "3s", "--db", base}); err != nil {
		t.Fatal(err)
	}
}
