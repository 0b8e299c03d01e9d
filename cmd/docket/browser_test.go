package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/docket-dev/docket/account"
)

// chromium is Debian's browser, driven headless by the browser tests.
const chromium = "/usr/bin/chromium"

type signIn struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Secret   string `json:"totp_secret"`
}

func newSignIn(t *testing.T, out string) signIn {
	t.Helper()
	var s signIn
	if err := json.Unmarshal([]byte(out), &s); err != nil || s.Password == "" || s.Secret == "" {
		t.Fatalf("want a sign-in, got %q (%v)", out, err)
	}
	return s
}

// browser starts headless Chromium; each person gets a context of their own (own cookies).
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("the browser tests need Debian's chromium: apt-get install chromium")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	b, cancelB := chromedp.NewContext(alloc)
	t.Cleanup(cancelB)
	if err := chromedp.Do(b); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func person(t *testing.T, b context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// shots saves screenshots where DOCKET_SCREENSHOTS says (docs/screenshots to refresh
// the documentation's), else in the test's temporary folder.
func shots(t *testing.T) func(ctx context.Context, name string) {
	dir := os.Getenv("DOCKET_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	return func(ctx context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run1(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that reads something off the page.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func signInAs(t *testing.T, ctx context.Context, base, path string, s signIn) {
	t.Helper()
	run1(t, ctx, "sign in as "+s.Email,
		chromedp.Navigate(base+path),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), s.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), s.Password),
		chromedp.SendKeys(chromedp.CSS(`input[name=code]`), account.Code(s.Secret, time.Now())),
		chromedp.Submit(chromedp.CSS(`#signin`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#signin`)),
	)
}

// TestBrowser works a request through the portal and the console in Chromium: an officer
// submits an emergency; the agent sees it at the top of the queue and decides; a reviewer
// approves and answers; the officer reads the answer (in French); the public form files a
// notice.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	b := browser(t)
	shot := shots(t)
	env := map[string]string{"DOCKET_DATA": t.TempDir()}
	authority, _ := created(t, must(run(t, env, "authority", "add", "--name", "Police judiciaire de Lyon", "--country", "FR", "--domain", "police.example", "--json")))
	officer := newSignIn(t, must(run(t, env, "officer", "add", "--authority", authority, "--email", "ines.martin@lyon.police.example", "--name", "Inès Martin", "--json")))
	agent := newSignIn(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))
	reviewer := newSignIn(t, must(run(t, env, "user", "add", "--email", "legal@platform.example", "--role", "reviewer", "--json")))
	s := startServe(t, env)
	base := "http://" + s.addr

	// Some ordinary work in the queue first, so that "top of the queue" means something.
	_, apiToken := created(t, must(run(t, env, "authority", "add", "--name", "Parquet de Paris", "--country", "FR", "--json")))
	for _, ref := range []string{"PQ-2026-001", "PQ-2026-002"} {
		s.call("POST", "/api/v1/requests", apiToken, `{"regime":"fr-requisition","kind":"disclosure","reference":"`+ref+`",
			"legal_basis":"Art. 77-1-1 CPP","description":"Identification d'un compte","targets":[{"kind":"username","value":"@vendeur"}]}`, 201)
	}

	// The officer submits an emergency with a file.
	officerCtx := person(t, b)
	signInAs(t, officerCtx, base, "/portal/signin", officer)
	shot(officerCtx, "portal-requests")
	evidence := filepath.Join(t.TempDir(), "requisition.txt")
	os.WriteFile(evidence, []byte("Réquisition judiciaire — menace de passage à l'acte.\n"), 0o644)
	run1(t, officerCtx, "fill the request form",
		chromedp.Navigate(base+"/portal/new"),
		chromedp.WaitVisible(chromedp.CSS(`#request-form`)),
		chromedp.SetValue(chromedp.CSS(`#regime`), "fr-requisition"),
		chromedp.SetValue(chromedp.CSS(`#kind`), "emergency_disclosure"),
		chromedp.SendKeys(chromedp.CSS(`#reference`), "PJ-LYON-2026-118"),
		chromedp.SendKeys(chromedp.CSS(`input[name=legal_basis]`), "Art. 60-1 CPP"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "Un utilisateur annonce son suicide pour ce soir. Merci de communiquer les adresses IP de connexion."),
		chromedp.SendKeys(chromedp.CSS(`#targets`), "username: @nuit_noire"),
		chromedp.Click(chromedp.CSS(`#emergency`)),
		chromedp.SendKeys(chromedp.CSS(`#justification`), "Risque imminent pour la vie d'une personne."),
		chromedp.SetUploadFiles(chromedp.CSS(`#attachments`), []string{evidence}),
	)
	shot(officerCtx, "portal-new-request")
	run1(t, officerCtx, "send the request",
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt`)),
	)
	caseID := strings.TrimSpace(get(t, officerCtx, "read the receipt", chromedp.Text(chromedp.CSS(`#case-id`))))
	if caseID == "" {
		t.Fatal("no case id on the receipt")
	}
	shot(officerCtx, "portal-receipt")

	// The agent finds it at the top of the queue, takes it and decides.
	agentCtx := person(t, b)
	signInAs(t, agentCtx, base, "/console/signin", agent)
	run1(t, agentCtx, "read the queue", chromedp.WaitVisible(chromedp.CSS(`#queue`)))
	top := get(t, agentCtx, "top of the queue", chromedp.AttributeValue(chromedp.CSS(`#queue tbody tr`), "data-case")).Value
	if top != caseID {
		t.Fatalf("top of the queue is %q, want the emergency %s", top, caseID)
	}
	shot(agentCtx, "console-queue")
	run1(t, agentCtx, "open, take and decide",
		chromedp.Click(chromedp.CSS(`#queue tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`#take`)),
		chromedp.Click(chromedp.CSS(`#take`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
		chromedp.SetValue(chromedp.CSS(`#decide select[name=template]`), "comply"),
		chromedp.Click(chromedp.CSS(`#decide-btn`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome`)),
	)
	stateOf := func(ctx context.Context) string { return get(t, ctx, "state", chromedp.Text(chromedp.CSS(`#state`))) }
	if state := stateOf(agentCtx); state != "awaiting_approval" {
		t.Fatalf("after the decision the case is %q, want awaiting_approval", state)
	}
	if n := get(t, agentCtx, "look for approval", chromedp.Evaluate[int](`document.querySelectorAll("#approve").length`)); n != 0 {
		t.Error("the agent who decided is offered the approval")
	}
	shot(agentCtx, "console-case")

	// A reviewer approves (the four-eyes step) and answers.
	reviewerCtx := person(t, b)
	signInAs(t, reviewerCtx, base, "/console/signin", reviewer)
	run1(t, reviewerCtx, "approve and answer",
		chromedp.Navigate(base+"/console/cases/"+caseID),
		chromedp.WaitVisible(chromedp.CSS(`#approve`)),
		chromedp.Click(chromedp.CSS(`#approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
	)
	if state := stateOf(reviewerCtx); state != "decided" {
		t.Fatalf("after approval the case is %q", state)
	}
	run1(t, reviewerCtx, "answer",
		chromedp.Click(chromedp.CSS(`#answer-btn`)),
		chromedp.WaitVisible(chromedp.CSS(`#answer`)),
	)
	if state := stateOf(reviewerCtx); state != "answered" {
		t.Fatalf("after the answer the case is %q", state)
	}

	// The officer reads the answer, in French.
	run1(t, officerCtx, "read the answer",
		chromedp.Navigate(base+"/portal/cases/"+caseID),
		chromedp.WaitVisible(chromedp.CSS(`#answer`)),
		chromedp.Click(chromedp.CSS(`a[lang=fr]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=fr] #answer`)),
	)
	answer, frState := get(t, officerCtx, "answer", chromedp.Text(chromedp.CSS(`#answer`))), stateOf(officerCtx)
	if !strings.Contains(answer, "Nous avons donné suite") && !strings.Contains(answer, "We have complied") {
		t.Errorf("the officer reads %q", answer)
	}
	if frState != "répondue" {
		t.Errorf("state in French: %q", frState)
	}
	shot(officerCtx, "portal-answer-fr")

	// The public files a notice, no account.
	publicCtx := person(t, b)
	run1(t, publicCtx, "fill the notice form",
		chromedp.Navigate(base+"/notice"),
		chromedp.WaitVisible(chromedp.CSS(`#notice`)),
		chromedp.SendKeys(chromedp.CSS(`#locations`), "https://platform.example/m/4711"),
		chromedp.SendKeys(chromedp.CSS(`#explanation`), "This post calls for violence against a named person."),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Alex Doe"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "alex@example.org"),
		chromedp.Click(chromedp.CSS(`#good_faith`)),
	)
	shot(publicCtx, "notice-form")
	run1(t, publicCtx, "send the notice",
		chromedp.Click(chromedp.CSS(`#send`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt`)),
	)
	if get(t, publicCtx, "notice receipt", chromedp.Text(chromedp.CSS(`#case-id`))) == "" {
		t.Fatal("no receipt for the notice")
	}
	shot(publicCtx, "notice-receipt")

	// The dashboard counts it all.
	run1(t, agentCtx, "dashboard",
		chromedp.Navigate(base+"/console/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`)),
		chromedp.WaitVisible(chromedp.CSS(`#overdue-ok`)),
	)
	shot(agentCtx, "console-dashboard")
	// The Parquet's two requests joined one case (a shared target); the agent splits the
	// second off into a case of its own, then merges the first case into it again.
	run1(t, agentCtx, "split a joined request off",
		chromedp.Navigate(base+"/console?q=PQ-2026-002"),
		chromedp.WaitVisible(chromedp.CSS(`#queue tbody tr a`)),
		chromedp.Click(chromedp.CSS(`#queue tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`#split-btn`)),
	)
	parquet := get(t, agentCtx, "the Parquet's case", chromedp.Evaluate[string](`location.pathname.split("/").pop()`))
	shot(agentCtx, "console-merge-split")
	run1(t, agentCtx, "tick and split",
		chromedp.Click(chromedp.CSS(`input[form=split]`)),
		chromedp.Click(chromedp.CSS(`#split-btn`)),
		chromedp.WaitVisible(chromedp.CSS(`#lineage`)),
		chromedp.Click(chromedp.CSS(`#lineage a`)),
		chromedp.WaitVisible(chromedp.CSS(`.merge-related`)),
	)
	split := get(t, agentCtx, "the split case", chromedp.Evaluate[string](`location.pathname.split("/").pop()`))
	if split == parquet {
		t.Fatal("the split opened no new case")
	}
	run1(t, agentCtx, "merge the first case here",
		chromedp.Click(chromedp.CSS(`.merge-related`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
	)
	if n := get(t, agentCtx, "requests after the merge", chromedp.Evaluate[int](`document.querySelectorAll("article.request").length`)); n != 2 {
		t.Errorf("after the merge the case holds %d requests, want 2", n)
	}
	run1(t, agentCtx, "the merged case", chromedp.Navigate(base+"/console/cases/"+parquet), chromedp.WaitVisible(chromedp.CSS(`#merged-into`)))

	run1(t, publicCtx, "sign-in page", chromedp.Navigate(base+"/console/signin"), chromedp.WaitVisible(chromedp.CSS(`#signin`)))
	shot(publicCtx, "console-signin")

	// What happened in the browser is in the audit chain.
	s.stop()
	if out, err := run(t, env, "audit", "verify"); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
