package main

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/foxcpp/go-mockdns"
	"golang.org/x/image/draw"

	"github.com/docket-dev/docket/pdq"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/storetest"
)

// shrunk returns a picture of the PDQ test set resized to 60% and re-encoded as a JPEG of
// quality 40: a re-upload of a known picture.
func shrunk(t *testing.T, name string) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "pdq", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()*6/10, b.Dy()*6/10))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 40}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// mailPicture delivers to abuse@ a notice with a picture attached and returns the case it
// opened.
func mailPicture(t *testing.T, srv *served, token, subject string, picture []byte) string {
	t.Helper()
	before := srv.call("GET", "/api/v1/cases?sort=-received&limit=1", token, "", 200)["cases"].([]any)
	var b64 strings.Builder
	enc := base64.StdEncoding.EncodeToString(picture)
	for len(enc) > 76 {
		b64.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b64.WriteString(enc + "\n")
	raw := crlf(fmt.Sprintf(`From: A user <someone@users.example>
To: abuse@docket.test
Subject: %s
Message-ID: <%s@users.example>
Date: Fri, 20 Nov 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

This post on the platform shares the picture attached: https://t.me/somechannel/%d

--b1
Content-Type: image/jpeg
Content-Disposition: attachment; filename="picture.jpg"
Content-Transfer-Encoding: base64

%s--b1--
`, subject, strings.ReplaceAll(subject, " ", "-"), len(picture), b64.String()))
	c, err := smtp.Dial(srv.listen["smtp"])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("someone@users.example", []string{"abuse@docket.test"}, bytes.NewReader(raw)); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	c.Quit()
	after := srv.call("GET", "/api/v1/cases?sort=-received&limit=1", token, "", 200)["cases"].([]any)
	id := after[0].(map[string]any)["id"].(string)
	if len(before) > 0 && before[0].(map[string]any)["id"] == id {
		t.Fatalf("the mail %q opened no case", subject)
	}
	waitEvent(t, srv.call, token, id, "media_hashed")
	return id
}

// TestBanksEndToEnd, on each engine, through the command and a running server: banks are
// created and filled from files with the CLI (a malformed file is refused whole, naming its
// line); a notice mailed to abuse@ with a resized, re-encoded copy of a banked picture is
// received, the job matches it, the case shows the match event and its media, and a CEL
// rule routes it to its queue; a picture of no bank does not match; a bank disabled from the
// command line while the server runs matches nothing more; audit verify covers the banks
// and catches a bank row edited behind docket's back.
func TestBanksEndToEnd(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dns, err := mockdns.NewServerWithLogger(map[string]mockdns.Zone{}, silentPrintf{}, false)
			if err != nil {
				t.Fatal(err)
			}
			defer dns.Close()
			dir := t.TempDir()
			write := func(name, content string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			cfg, _ := json.Marshal(map[string]any{"smtp_addr": "127.0.0.1:0", "smtp_domain": "docket.test", "dns": dns.LocalAddr().String()})
			rules := write("rules.json", `{"rules":[
				{"name":"known-child-abuse","when":"match.bank == \"csam\" && match.distance <= 31","queue":"csam","priority_at_least":99},
				{"name":"acknowledge-notices","when":"request.channel == 'notice'","action":"acknowledge"}]}`)
			env := map[string]string{"DOCKET_DATA": dir, "DOCKET_CONFIG": write("docket.json", string(cfg)), "DOCKET_RULES": rules, "DOCKET_NO_TRIAGE": "true"}
			if engine == "postgres" {
				env["DOCKET_DB"] = storetest.PostgresURL(t)
			}
			_, agent := created(t, must(run(t, env, "user", "add", "--email", "agent@platform.example", "--role", "agent", "--json")))

			hash := func(name string) string {
				r, err := (&pdq.Hasher{}).HashFile(filepath.Join("..", "..", "pdq", "testdata", name))
				if err != nil {
					t.Fatal(err)
				}
				return r.Hash.String()
			}
			must(run(t, env, "bank", "add", "csam", "--source", "A hotline's list", "--category", "csam"))
			out := must(run(t, env, "bank", "import", "csam", write("known.txt", "# known pictures\n"+hash("q1050.jpg")+"\n"+hash("q2821.jpg")+"\n")))
			if !strings.Contains(out, "2 hashes added to bank csam (0 already in the bank); 1 events") {
				t.Fatalf("import: %s", out)
			}
			// A file with a malformed line is refused whole: its good first line is not taken.
			_, err = run(t, env, "bank", "import", "csam", write("bad.csv", "hash,quality\n"+hash("q0746.jpg")+",90\n"+hash("q0122.jpg")[:40]+",80\n"), "--format", "csv")
			var exit exitError
			if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "bad.csv: line 3: ") || !strings.Contains(exit.msg, "nothing was imported") {
				t.Fatalf("a malformed file: %v", err)
			}
			if out := must(run(t, env, "bank", "export", "csam")); strings.Count(out, "\n") != 2 || strings.Contains(out, hash("q0746.jpg")) {
				t.Fatalf("export after the refused file:\n%s", out)
			}
			must(run(t, env, "bank", "add", "tve", "--source", "A counter-terrorism list", "--category", "terrorism", "--action", "remove"))
			out = must(run(t, env, "bank", "import", "tve", write("tve.csv", "collab,signal_type,signal_str,category,tags\nTVE,video_md5,d41d8cd98f00b204e9800998ecf8427e,TRUE_POSITIVE,\nTVE,pdq,"+hash("q0746.jpg")+",FALSE_POSITIVE,\n"), "--format", "hma"))
			if !strings.Contains(out, "1 hashes added to bank tve") || !strings.Contains(out, "1 false positives skipped") {
				t.Fatalf("HMA import: %s", out)
			}
			if out := must(run(t, env, "bank", "list")); !strings.Contains(out, "csam  enabled  2") || !strings.Contains(out, "tve   enabled  1") {
				t.Fatalf("list:\n%s", out)
			}

			srv := startServe(t, env)
			matched := mailPicture(t, srv, agent, "Known picture", shrunk(t, "q1050.jpg"))
			view := srv.call("GET", "/api/v1/cases/"+matched, agent, "", 200)
			c := view["case"].(map[string]any)
			if types := eventTypes(srv.call, agent, matched); !strings.Contains(types, "media_hashed media_matched") {
				t.Fatalf("events: %s", types)
			}
			media := c["media"].([]any)[0].(map[string]any)
			m := media["matches"].([]any)[0].(map[string]any)
			if m["bank"] != "csam" || m["kind"] != "pdq" || m["distance"].(float64) > 31 || m["hash"] != hash("q1050.jpg") || media["filename"] != "picture.jpg" {
				t.Fatalf("media %v", media)
			}
			if c["queue"] != "csam" || c["priority"].(float64) != 99 {
				t.Fatalf("routed to %v priority %v, want csam 99", c["queue"], c["priority"])
			}
			t.Logf("the resized copy matched at distance %v", m["distance"])

			other := mailPicture(t, srv, agent, "Another picture", shrunk(t, "q0291.jpg"))
			if types := eventTypes(srv.call, agent, other); strings.Contains(types, "media_matched") {
				t.Fatalf("a picture of no bank matched: %s", types)
			}
			if c := srv.call("GET", "/api/v1/cases/"+other, agent, "", 200)["case"].(map[string]any); c["queue"] == "csam" {
				t.Fatal("a picture of no bank was routed to csam")
			}

			// Disabled from the command line while the server runs: the next look-up sees it.
			if out := must(run(t, env, "bank", "disable", "csam")); !strings.Contains(out, "bank csam disabled") {
				t.Fatalf("disable: %s", out)
			}
			disabled := mailPicture(t, srv, agent, "Known picture again", shrunk(t, "q2821.jpg"))
			if types := eventTypes(srv.call, agent, disabled); strings.Contains(types, "media_matched") {
				t.Fatalf("a disabled bank matched: %s", types)
			}
			srv.stop()

			if out := must(run(t, env, "audit", "verify")); !strings.Contains(out, "2 banks, 3 bank hashes verified") {
				t.Fatalf("verify: %s", out)
			}
			var db *sql.DB
			if engine == "postgres" {
				db, err = sql.Open("pgx", env["DOCKET_DB"])
			} else {
				db, err = sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`UPDATE banks SET enabled = 1 WHERE name = 'csam'`); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, env, "audit", "verify")
			if !errors.As(err, &exit) || exit.code != 1 || !strings.Contains(exit.msg, "table banks: bank ") || !strings.Contains(exit.msg, "enabled is true but its events make it false") {
				t.Fatalf("verify after enabling the bank behind docket's back: %v", err)
			}
		})
	}
}

// TestBankCommands: withdraw, export in each format, enable and disable twice, and the
// refusals (an unknown bank, a bad name, a missing operand, flags before operands).
func TestBankCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DOCKET_DATA": dir}
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	a, b := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	must(run(t, env, "bank", "add", "--category", "csam", "--source", "test", "--json", "known"))
	must(run(t, env, "bank", "import", "--format", "csv", "known", file("k.csv", a+",90\n"+b+",\n")))
	out := must(run(t, env, "bank", "import", "known", file("k.txt", a+"\nsha256 "+strings.Repeat("ef", 32)+"\n"+a+"\n")))
	if !strings.Contains(out, "1 hashes added to bank known (1 already in the bank, 1 repeated in the file)") {
		t.Fatalf("second import: %s", out)
	}
	if out := must(run(t, env, "bank", "withdraw", "known", file("w.txt", b+"\n"+strings.Repeat("12", 32)+"\n"))); !strings.Contains(out, "1 hashes withdrawn from bank known (1 not in the bank)") {
		t.Fatalf("withdraw: %s", out)
	}
	exports := map[string]string{
		"lines": a + "\nsha256 " + strings.Repeat("ef", 32) + "\n",
		"csv":   "hash,quality,kind,added_at,added_by\n" + a + ",90,pdq,",
		"hma":   "collab,signal_type,signal_str,category,tags\nknown,pdq," + a + ",TRUE_POSITIVE,csam\nknown,video_sha256,",
	}
	for format, want := range exports {
		if out := must(run(t, env, "bank", "export", "known", "--format", format)); !strings.HasPrefix(out, want) {
			t.Errorf("export --format %s:\n%s", format, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bank", "disable", "known"}, "bank known disabled"},
		{[]string{"bank", "disable", "known"}, "bank known was disabled already"},
		{[]string{"bank", "enable", "known"}, "bank known enabled"},
	} {
		if out := must(run(t, env, c.args...)); !strings.Contains(out, c.want) {
			t.Errorf("%v: %s", c.args, out)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bank", "export", "nope"}, `no hash bank is named "nope"`},
		{[]string{"bank", "enable", "nope"}, "No such hash bank"},
		{[]string{"bank", "import", "nope", file("n.txt", a)}, "No such hash bank"},
		{[]string{"bank", "add", "Bad Name", "--source", "x", "--category", "csam"}, "A bank's name is 1 to 64 lower-case"},
		{[]string{"bank", "add", "other", "--source", "x", "--category", "spam"}, "Give the DSA category"},
		{[]string{"bank", "add", "known", "--source", "x", "--category", "csam"}, "exists already"},
		{[]string{"bank", "import", "known"}, "wants NAME FILE"},
		{[]string{"bank", "import", "known", file("x.txt", a), "--format", "xml"}, "unknown format"},
	} {
		if _, err := run(t, env, c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	if out := must(run(t, env, "audit", "verify")); !strings.Contains(out, "1 banks, 3 bank hashes verified") {
		t.Fatalf("verify: %s", out)
	}
}
