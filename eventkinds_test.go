package docket_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"

	"github.com/docket-dev/docket"
)

// TestEveryCaseEventTypeIsRegistered: each event type declared in event.go is registered
// (eventkinds.go), so that Apply and the audit's replay know it — except the events outside
// any case.
func TestEveryCaseEventTypeIsRegistered(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	outside := []string{"EventAuthorityRegistered", "EventUserAdded", "EventLoginChanged", "EventCredentialsBaseline", "EventSessionOpened", "EventUserChanged", "EventAuthorityChanged",
		"EventBankCreated", "EventBankChanged", "EventBankHashesAdded", "EventBankHashesWithdrawn", "EventRuleShadowed",
		"EventFlaggerRegistered", "EventFlaggerChanged", "EventNoticeAssessed", "EventNotifierWarned", "EventNotifierSuspended"}
	registered := docket.CaseEventTypes()
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "EventType" {
				continue
			}
			for i, name := range v.Names {
				n++
				lit := v.Values[i].(*ast.BasicLit).Value
				typ := docket.EventType(lit[1 : len(lit)-1])
				if slices.Contains(outside, name.Name) {
					if slices.Contains(registered, typ) {
						t.Errorf("%s is an event outside any case but is registered as a case event", name.Name)
					}
					continue
				}
				if !slices.Contains(registered, typ) {
					t.Errorf("%s (%q) is not registered in eventKinds", name.Name, typ)
				}
			}
		}
	}
	if n < 30 || len(registered) != n-len(outside) {
		t.Fatalf("%d event types declared, %d registered", n, len(registered))
	}
}

// TestEventDataDecodes: each registered type decodes its data, or declares it has none
// that Apply reads, and applies after a case_opened without panicking.
func TestEventDataDecodes(t *testing.T) {
	for _, typ := range docket.CaseEventTypes() {
		t.Run(string(typ), func(t *testing.T) {
			e := &docket.Event{Seq: 2, CaseID: "c", Type: typ, Actor: "user:u", Data: []byte(`{}`)}
			data, err := docket.DecodeEvent(e)
			if err != nil {
				t.Fatal(err)
			}
			c := &docket.Case{}
			if err := c.Apply(docket.NewEvent("c", docket.EventCaseOpened, "user:u", e.At, docket.CaseOpened{RequestID: "r"})); err != nil {
				t.Fatal(err)
			}
			if typ == docket.EventCaseOpened {
				return
			}
			// Some events need what came before (a decision, an action); an error is fine,
			// a panic is not.
			_ = c.ApplyDecoded(e, data)
		})
	}
}
