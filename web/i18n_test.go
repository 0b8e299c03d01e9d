package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/docket-dev/docket"
)

var translated = regexp.MustCompile(`\{\{tf? (?:\.L|\$L) "((?:[^"\\]|\\.)*)"`)

// templateTexts lists the texts the templates translate, with the state, kind and account
// names they translate by prefix and the titles of the public and portal pages.
func templateTexts(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range translated.FindAllStringSubmatch(string(b), -1) {
			add(m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range docket.CaseStates {
		add("state:" + string(s))
	}
	for _, k := range docket.Kinds {
		add("kind:" + string(k))
	}
	for _, s := range []string{docket.LoginActive, docket.LoginConfirmEmail, docket.LoginAwaitingApproval, docket.LoginDisabled} {
		add("account:" + s)
	}
	for _, title := range []string{"Sign in", "Your requests", "New request", "Receipt", "Register", "Confirm your account", "Delegates", "Report illegal content"} {
		add(title)
	}
	return out
}
