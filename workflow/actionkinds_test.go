package workflow

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/docket-dev/docket"
)

// TestActionTable: every action the API documents is in the table, every entry either
// writes one event on one case or runs its own transaction, and the actions that can hand
// data over read the case's requests in their transaction (MayRelease needs them).
func TestActionTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/API.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Case actions")
	if !ok {
		t.Fatal("docs/API.md has no section Case actions")
	}
	section, _, _ = strings.Cut(section, "\n#") // up to the next heading
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| ((?:`[a-z_]+`(?:, )?)+) \\|").FindAllStringSubmatch(section, -1) {
		if m[1] == "`type`" {
			continue // the table's header
		}
		for _, n := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[1], -1) {
			documented = append(documented, n[1])
		}
	}
	if len(documented) < 15 {
		t.Fatalf("found only %d actions in docs/API.md: %v", len(documented), documented)
	}
	for _, name := range documented {
		if _, ok := actionKinds[name]; !ok {
			t.Errorf("docs/API.md documents %q, which is not in actionKinds", name)
		}
	}
	for name, k := range actionKinds {
		if !slices.Contains(documented, name) {
			t.Errorf("%q is in actionKinds but not in docs/API.md", name)
		}
		if (k.event == nil) == (k.run == nil) {
			t.Errorf("%q: want exactly one of event and run", name)
		}
	}
	for _, name := range []string{ActDecide, ActApprove, ActAnswer, docket.OpDisclose} {
		if !actionKinds[name].requests {
			t.Errorf("%q does not read the case's requests in its transaction", name)
		}
	}
}
