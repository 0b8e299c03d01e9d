package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docket-dev/docket/pdq"
	"github.com/docket-dev/docket/refplatform"
	"github.com/docket-dev/docket/rules"
)

// noticesBench is the end-to-end run of issue 15: the reference platform and docket serve
// wired to it, a hash bank of generated pictures, and a flood of public notices through
// POST /api/v1/notices, a share of them carrying an edited copy of a banked picture and
// pointing at a message of the platform; an automated rule removes what matches and sends a
// sample to review. Meanwhile an authority sends requests at a steady rate, first alone (the
// baseline) and then during the flood; their receipt times are compared.
//
//	docket-load notices --docket ./docket --notices 100000 --banked 0.2 [--json]
func noticesBench(args []string, out io.Writer) error {
	cfg, err := parseNoticesFlags(args, out)
	if err != nil {
		return err
	}
	return runNotices(cfg, out)
}

type noticesConfig struct {
	docket        string
	notices       int
	banked        float64 // share of notices with an edited copy of a banked picture
	pictures      float64 // share of the other notices with a picture of their own
	bankSize      int     // pictures in the bank
	crop          float64 // most cut from each side of a copy
	concurrency   int
	authorityRate float64
	baseline      time.Duration
	sample        float64
	reviewAbove   int
	drainTimeout  time.Duration
	seed          uint64
	asJSON        bool
}

func parseNoticesFlags(args []string, out io.Writer) (*noticesConfig, error) {
	fs := flag.NewFlagSet("notices", flag.ContinueOnError)
	fs.SetOutput(out)
	c := &noticesConfig{}
	fs.StringVar(&c.docket, "docket", "./docket", "the docket binary")
	fs.IntVar(&c.notices, "notices", 100_000, "notices to post")
	fs.Float64Var(&c.banked, "banked", 0.2, "share of the notices that carry an edited copy of a banked picture")
	fs.Float64Var(&c.pictures, "pictures", 0.25, "share of the other notices that carry a picture of their own (not banked)")
	fs.IntVar(&c.bankSize, "bank-size", 500, "distinct pictures in the bank")
	fs.Float64Var(&c.crop, "crop", 0.01, "most cut from each side of a copy (0.01: 1 %)")
	fs.IntVar(&c.concurrency, "concurrency", 16, "connections posting notices")
	fs.Float64Var(&c.authorityRate, "authority-rate", 20, "requests per second the authority sends meanwhile")
	fs.DurationVar(&c.baseline, "baseline", 30*time.Second, "how long the authority sends alone first")
	fs.Float64Var(&c.sample, "sample", 0.02, "share of the automated removals a person reviews")
	fs.IntVar(&c.reviewAbove, "review-above", 20, "every match farther than this goes to review too")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 20*time.Minute, "how long to wait for the jobs to drain")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the pictures, edits and notices")
	fs.BoolVar(&c.asJSON, "json", false, "print one JSON line")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case c.notices < 1 || c.bankSize < 1 || c.concurrency < 1:
		return nil, errors.New("notices: --notices, --bank-size and --concurrency must be positive")
	case c.banked < 0 || c.banked > 1 || c.pictures < 0 || c.pictures > 1 || c.sample < 0 || c.sample > 1:
		return nil, errors.New("notices: --banked, --pictures and --sample are shares from 0 to 1")
	case c.crop < 0 || c.crop >= 0.25:
		return nil, errors.New("notices: --crop must be from 0 to 0.25")
	case c.authorityRate <= 0:
		return nil, errors.New("notices: --authority-rate must be positive")
	}
	return c, nil
}

// Picture sizes: the originals in the bank, and the seeds of pictures nobody banked.
const (
	pictureW, pictureH = 320, 240
	unbankedSeeds      = 1 << 40
	firstMessage       = 1000 // message ids of the notices start after the seeded ones
)

// noticePlan is what notice i carries: an edited copy of banked picture Banked (when
// IsBanked), a picture of its own (Own), or nothing; it points at message Message.
type noticePlan struct {
	IsBanked bool
	Banked   int
	Own      bool
	Edit     edit
	Message  int
}

// planNotice draws notice i's plan: the same seed gives the same run.
func (c *noticesConfig) planNotice(i int) noticePlan {
	rng := mrand.New(mrand.NewPCG(c.seed, uint64(i)))
	p := noticePlan{Message: firstMessage + i}
	if rng.Float64() < c.banked {
		p.IsBanked, p.Banked = true, rng.IntN(c.bankSize)
	} else {
		p.Own = rng.Float64() < c.pictures
	}
	p.Edit = randomEdit(rng, c.crop)
	return p
}

// attachment is the file notice i carries, or nil.
func (c *noticesConfig) attachment(i int, p noticePlan) ([]byte, error) {
	switch {
	case p.IsBanked:
		return p.Edit.apply(picture(c.seed<<20+uint64(p.Banked), pictureW, pictureH))
	case p.Own:
		// A picture of its own, saved as a JPEG as found, with no edit.
		return edit{Scale: 1, Quality: p.Edit.Quality}.apply(picture(unbankedSeeds+c.seed<<24+uint64(i), pictureW, pictureH))
	}
	return nil, nil
}

// noticeJSON is the body of notice i.
func noticeJSON(i int, platformURL string, p noticePlan, file []byte) ([]byte, error) {
	type attachment struct {
		Filename string `json:"filename"`
		Data     []byte `json:"data"`
	}
	var desc strings.Builder
	desc.WriteString("This message shares a picture that is illegal here: ")
	for k := range 8 { // words of its own, so that no two notices read alike
		desc.WriteString(matters[(i*7919+k*104729+k*k*i)%len(matters)])
		desc.WriteByte(' ')
	}
	for k := uint64(0); k < 10; k++ {
		fmt.Fprintf(&desc, "%x ", (uint64(i)*0x9E3779B97F4A7C15+k*0xBF58476D1CE4E5B9)>>40)
	}
	v := struct {
		Explanation string       `json:"explanation"`
		Locations   []string     `json:"locations"`
		Name        string       `json:"name"`
		Email       string       `json:"email"`
		GoodFaith   bool         `json:"good_faith"`
		Attachments []attachment `json:"attachments,omitempty"`
	}{strings.TrimSpace(desc.String()), []string{fmt.Sprintf("%s/m/%d", platformURL, p.Message)},
		fmt.Sprintf("Notifier %d", i), fmt.Sprintf("notifier%d@mail.example", i), true, nil}
	if file != nil {
		v.Attachments = []attachment{{Filename: fmt.Sprintf("copy-%d.jpg", i), Data: file}}
	}
	return json.Marshal(v)
}

// automatedRule is the rule of the run: remove what a bank match makes true, with a sample
// for people to review.
func automatedRule(bank string, sample float64, reviewAbove int) map[string]any {
	return map[string]any{"name": "known-media-remove", "when": fmt.Sprintf("match.bank == '%s' && match.distance <= 31", bank),
		"action": "remove", "ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "Criminal code: known illegal pictures",
		"explanation": "A copy of a picture known to be illegal, found in a hash bank.",
		"sample":      sample, "review_above": reviewAbove, "min_precision": 0.9, "min_reviews": 50}
}

// noticesReport is what the run measured.
type noticesReport struct {
	Notices          int     `json:"notices"`
	Banked           int     `json:"banked"`
	WithPicture      int     `json:"unbanked_with_picture"`
	Accepted         int64   `json:"accepted"`
	Refused          int64   `json:"refused"`
	PostS            float64 `json:"post_s"`
	NoticesPerS      float64 `json:"notices_per_s"`
	DrainS           float64 `json:"drain_s"`
	WallS            float64 `json:"wall_s"`
	Matched          int     `json:"matched"`
	Recall           float64 `json:"recall"`
	OracleWithin31   int     `json:"oracle_within_31"`
	MissedWithin31   int     `json:"missed_within_31"`
	FalseMatches     int     `json:"false_matches"`
	Removed          int     `json:"removed_on_platform"`
	ActionsFailed    int     `json:"actions_failed"`
	ToReview         int     `json:"to_review"`
	ReviewSampled    int     `json:"review_sampled"`
	ReviewDistance   int     `json:"review_distance"`
	LeftForPeople    int     `json:"left_for_people"`
	AuthorityBaseP50 float64 `json:"authority_baseline_p50_ms"`
	AuthorityBaseP99 float64 `json:"authority_baseline_p99_ms"`
	AuthorityP50     float64 `json:"authority_flood_p50_ms"`
	AuthorityP99     float64 `json:"authority_flood_p99_ms"`
	AuthoritySent    int64   `json:"authority_requests"`
	AuthorityFailed  int64   `json:"authority_failed"`
	Overdue          int     `json:"overdue"`
	JobsFailed       int     `json:"jobs_failed"`
	RSSMB            float64 `json:"docket_rss_mb"`
}

func runNotices(c *noticesConfig, out io.Writer) error {
	began := time.Now()
	logf := func(format string, a ...any) {
		if !c.asJSON {
			fmt.Fprintf(out, format+"\n", a...)
		}
	}
	dir, err := os.MkdirTemp("", "docket-notices-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dataDir, platformDir := filepath.Join(dir, "docket"), filepath.Join(dir, "platform")
	if err := os.MkdirAll(platformDir, 0o755); err != nil {
		return err
	}
	secret := make([]byte, 16)
	rand.Read(secret)

	// The platform, with a message for every notice to point at.
	if err := seedPlatform(platformDir, c.notices); err != nil {
		return err
	}
	plat, err := start(c.docket, []string{"refplatform", "--addr", "127.0.0.1:0", "--data", platformDir, "--secret", hex.EncodeToString(secret)}, nil)
	if err != nil {
		return err
	}
	defer plat.stop()
	platformURL := "http://" + plat.addr

	// docket's configuration: the platform, the rules with the automated one, no limit on
	// notices from this one address.
	ruleFile := filepath.Join(dir, "rules.json")
	var rs struct {
		Rules []map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(rules.DefaultJSON(), &rs); err != nil {
		return fmt.Errorf("the embedded rules: %w", err)
	}
	rs.Rules = append(rs.Rules, automatedRule("e2e", c.sample, c.reviewAbove))
	if err := writeJSON(ruleFile, rs); err != nil {
		return err
	}
	cfgFile := filepath.Join(dir, "docket.json")
	if err := writeJSON(cfgFile, map[string]any{"data": dataDir, "platform_url": platformURL, "platform_secret": hex.EncodeToString(secret),
		"rules": ruleFile, "log_level": "warn", "notices_per_minute": 1e9, "notice_burst": 1_000_000}); err != nil {
		return err
	}
	env := []string{"DOCKET_CONFIG=" + cfgFile}

	// The bank: the originals hashed by `docket hash pdq`, imported by `docket bank import`.
	t0 := time.Now()
	if err := makeBank(c, dir, env); err != nil {
		return err
	}
	logf("bank e2e: %d pictures hashed and imported in %.1f s", c.bankSize, time.Since(t0).Seconds())
	auth, err := registerAuthority(c.docket, env)
	if err != nil {
		return err
	}
	staff, err := runJSON(c.docket, env, "user", "add", "--email", "e2e-agent@platform.example", "--role", "agent", "--json")
	if err != nil {
		return err
	}
	srv, err := start(c.docket, []string{"serve", "--addr", "127.0.0.1:0"}, append(env, "DOCKET_DATA="+dataDir))
	if err != nil {
		return err
	}
	defer srv.stop()
	base := "http://" + srv.addr
	api := &apiClient{base: base, token: staff.Token, client: &http.Client{Timeout: time.Minute}}
	logf("machine: %d CPUs, %s; docket (SQLite) and the reference platform as processes, load in this process", runtime.NumCPU(), runtime.Version())

	// The authority alone first.
	reqURL := base + "/api/v1/requests"
	load(reqURL, auth.Token, 8, c.authorityRate, 3*time.Second) // warm up
	baseline := load(reqURL, auth.Token, 16, c.authorityRate, c.baseline)
	logf("authority alone at %.0f/s: p50 %.1f ms, p99 %.1f ms (%d requests, statuses %v)", c.authorityRate, ms(baseline.pct(0.5)), ms(baseline.pct(0.99)), baseline.ok, baseline.statuses)
	st0, err := api.stats()
	if err != nil {
		return err
	}

	// The flood, with the authority at its steady rate meanwhile.
	stop := make(chan struct{})
	steadyDone := make(chan *result)
	go func() { steadyDone <- steadyLoad(reqURL, auth.Token, c.authorityRate, stop) }()
	t0 = time.Now()
	caseOf, posted := postNotices(c, base+"/api/v1/notices", platformURL)
	postTime := time.Since(t0)
	logf("notices: %d accepted in %.1f s (%.0f/s), statuses %v", posted.ok, postTime.Seconds(), float64(posted.ok)/postTime.Seconds(), posted.statuses)

	// Wait for the hash checks and platform actions to drain; the authority goes on.
	t1 := time.Now()
	drained := false
	for deadline := time.Now().Add(c.drainTimeout); time.Now().Before(deadline); {
		st, err := api.stats()
		if err == nil && st.JobsWaiting <= st0.JobsWaiting {
			drained = true
			break
		}
		time.Sleep(2 * time.Second)
	}
	drain := time.Since(t1)
	close(stop)
	during := <-steadyDone
	if !drained {
		logf("jobs did not drain within %s", c.drainTimeout)
	}
	logf("jobs drained %.1f s after the last notice; authority during the flood: p50 %.1f ms, p99 %.1f ms (%d requests, statuses %v)",
		drain.Seconds(), ms(during.pct(0.5)), ms(during.pct(0.99)), during.ok, during.statuses)

	rep := noticesReport{Notices: c.notices, Accepted: posted.ok, Refused: posted.failed, PostS: round(postTime.Seconds(), 1),
		NoticesPerS: round(float64(posted.ok)/postTime.Seconds(), 1), DrainS: round(drain.Seconds(), 1),
		AuthorityBaseP50: ms(baseline.pct(0.5)), AuthorityBaseP99: ms(baseline.pct(0.99)),
		AuthorityP50: ms(during.pct(0.5)), AuthorityP99: ms(during.pct(0.99)),
		AuthoritySent: baseline.ok + during.ok, AuthorityFailed: baseline.failed + during.failed, RSSMB: peakRSS(srv.cmd.Process.Pid)}
	if err := tallyNotices(c, api, platformDir, caseOf, &rep); err != nil {
		return err
	}
	rep.WallS = round(time.Since(began).Seconds(), 1)
	if c.asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	fmt.Fprintf(out, "notices            %d posted (%d with a banked copy, %d others with a picture of their own), %d accepted, %d refused\n", rep.Notices, rep.Banked, rep.WithPicture, rep.Accepted, rep.Refused)
	fmt.Fprintf(out, "intake             %.1f s at %.0f notices/s; jobs drained %.1f s later; whole run %.1f s\n", rep.PostS, rep.NoticesPerS, rep.DrainS, rep.WallS)
	fmt.Fprintf(out, "matches            %d of %d banked copies (recall %.4f); %d copies within 31 bits of their original by this tool's own PDQ, %d of them missed; %d false matches on the rest\n",
		rep.Matched, rep.Banked, rep.Recall, rep.OracleWithin31, rep.MissedWithin31, rep.FalseMatches)
	fmt.Fprintf(out, "platform           %d messages removed by the rule, %d actions failed\n", rep.Removed, rep.ActionsFailed)
	fmt.Fprintf(out, "people             %d automated removals to review (%d sampled, %d farther than %d bits); %d notices left for people\n",
		rep.ToReview, rep.ReviewSampled, rep.ReviewDistance, c.reviewAbove, rep.LeftForPeople)
	fmt.Fprintf(out, "authority          alone p50 %.1f ms p99 %.1f ms; during the flood p50 %.1f ms p99 %.1f ms; %d requests, %d failed; %d cases overdue\n",
		rep.AuthorityBaseP50, rep.AuthorityBaseP99, rep.AuthorityP50, rep.AuthorityP99, rep.AuthoritySent, rep.AuthorityFailed, rep.Overdue)
	fmt.Fprintf(out, "docket             peak RSS %.0f MiB, %d jobs failed\n", rep.RSSMB, rep.JobsFailed)
	return nil
}

func writeJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, b, 0o600)
}

// runJSON runs a docket command that prints {"id","token"}.
func runJSON(docketBin string, env []string, args ...string) (authority, error) {
	cmd := exec.Command(docketBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return authority{}, fmt.Errorf("docket %s: %w", strings.Join(args[:2], " "), err)
	}
	var a authority
	return a, json.Unmarshal(out, &a)
}

// seedPlatform fills the reference platform's database: its seed, and one message for each
// notice (ids from firstMessage), with a picture.
func seedPlatform(dir string, n int) error {
	ctx := context.Background()
	db, err := refplatform.Open(ctx, dir)
	if err != nil {
		return err
	}
	if _, err := db.Seed(ctx, time.Now()); err != nil {
		db.Close()
		return err
	}
	db.Close()
	sdb, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "refplatform.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return err
	}
	defer sdb.Close()
	tx, err := sdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (id, channel_id, author_id, text, media_sha256, created_at) VALUES (?, 2, 2, ?, '', ?)`)
	if err != nil {
		return err
	}
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for i := range n {
		if _, err := stmt.ExecContext(ctx, firstMessage+i, fmt.Sprintf("A picture, message %d.", i), at); err != nil {
			return fmt.Errorf("seed the platform: %w", err)
		}
	}
	return tx.Commit()
}

// makeBank writes the bank's pictures, hashes them with `docket hash pdq` and imports the
// hashes into a new bank e2e.
func makeBank(c *noticesConfig, dir string, env []string) error {
	picDir := filepath.Join(dir, "bank")
	if err := os.MkdirAll(picDir, 0o755); err != nil {
		return err
	}
	files := make([]string, c.bankSize)
	for i := range c.bankSize {
		files[i] = filepath.Join(picDir, fmt.Sprintf("%05d.png", i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, picture(c.seed<<20+uint64(i), pictureW, pictureH)); err != nil {
			return err
		}
		if err := os.WriteFile(files[i], buf.Bytes(), 0o600); err != nil {
			return err
		}
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(c.docket, args...)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("docket %s: %w: %s", strings.Join(args[:2], " "), err, stderr.String())
		}
		return out, nil
	}
	hashes, err := run(append([]string{"hash", "pdq"}, files...)...)
	if err != nil {
		return err
	}
	csv := filepath.Join(dir, "bank.csv")
	if err := os.WriteFile(csv, hashes, 0o600); err != nil {
		return err
	}
	if _, err := run("bank", "add", "e2e", "--source", "docket-load notices: generated pictures", "--category", "csam"); err != nil {
		return err
	}
	_, err = run("bank", "import", "e2e", csv, "--format", "csv")
	return err
}

// postNotices posts every notice over c.concurrency connections as fast as they go, and
// returns the case of each accepted one by its number.
func postNotices(c *noticesConfig, url, platformURL string) ([]string, *result) {
	tr := &http.Transport{MaxIdleConnsPerHost: c.concurrency * 2, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	defer tr.CloseIdleConnections()
	caseOf := make([]string, c.notices)
	res := &result{statuses: map[int]int64{}}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range c.concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= c.notices {
					return
				}
				p := c.planNotice(i)
				file, err := c.attachment(i, p)
				var body []byte
				if err == nil {
					body, err = noticeJSON(i, platformURL, p, file)
				}
				status, caseID := 0, ""
				if err == nil {
					status, caseID = postReceipt(client, url, "", body)
				}
				mu.Lock()
				res.sent++
				res.statuses[status]++
				if status == http.StatusCreated {
					res.ok++
					caseOf[i] = caseID
				} else {
					res.failed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return caseOf, res
}

// postReceipt posts a JSON body and returns the status and the receipt's case.
func postReceipt(client *http.Client, url, token string, body []byte) (int, string) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var rc struct {
		CaseID string `json:"case_id"`
	}
	json.NewDecoder(resp.Body).Decode(&rc)
	return resp.StatusCode, rc.CaseID
}

// steadyLoad sends the authority's requests at rate until stop is closed (open loop: the
// latency counts from when each was due).
func steadyLoad(url, token string, rate float64, stop <-chan struct{}) *result {
	client := &http.Client{Timeout: time.Minute}
	res := &result{statuses: map[int]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	begin := time.Now()
	for i := int64(0); ; i++ {
		due := begin.Add(time.Duration(i) * interval)
		select {
		case <-stop:
			wg.Wait()
			res.elapsed = time.Since(begin)
			return res
		case <-time.After(time.Until(due)):
		}
		wg.Go(func() {
			status, _ := postReceipt(client, url, token, requestBody(1_000_000_000+i))
			lat := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			res.sent++
			res.statuses[status]++
			if status == http.StatusCreated {
				res.ok++
				res.lat = append(res.lat, lat)
			} else {
				res.failed++
			}
		})
	}
}

// apiClient reads docket's API as a staff member.
type apiClient struct {
	base, token string
	client      *http.Client
}

func (a *apiClient) get(path string, v any) error {
	req, _ := http.NewRequest("GET", a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

type statsView struct {
	Open        int            `json:"open"`
	ByState     map[string]int `json:"by_state"`
	Overdue     int            `json:"overdue"`
	JobsWaiting int            `json:"jobs_waiting"`
	JobsFailed  int            `json:"jobs_failed"`
}

func (a *apiClient) stats() (*statsView, error) {
	var st statsView
	return &st, a.get("/api/v1/stats", &st)
}

// caseRow is what the tally reads of a case.
type caseRow struct {
	ID          string `json:"id"`
	State       string `json:"state"`
	Channel     string `json:"channel"`
	Queue       string `json:"queue"`
	AuthorityID string `json:"authority_id"`
	Overdue     bool   `json:"overdue"`
	Media       []struct {
		Matches []struct {
			Bank     string `json:"bank"`
			Distance int    `json:"distance"`
		} `json:"matches"`
	} `json:"media"`
	Actions []struct {
		Op     string `json:"op"`
		Rule   string `json:"rule"`
		Status string `json:"status"`
	} `json:"actions"`
}

// tallyNotices reads every case and the platform's removed messages, and fills the report.
func tallyNotices(c *noticesConfig, api *apiClient, platformDir string, caseOf []string, rep *noticesReport) error {
	cases := map[string]*caseRow{}
	for offset := 0; ; offset += 1000 {
		var page struct {
			Cases []*caseRow `json:"cases"`
		}
		if err := api.get(fmt.Sprintf("/api/v1/cases?sort=received&limit=1000&offset=%d", offset), &page); err != nil {
			return err
		}
		for _, cs := range page.Cases {
			cases[cs.ID] = cs
		}
		if len(page.Cases) < 1000 {
			break
		}
	}
	removed, err := removedMessages(platformDir)
	if err != nil {
		return err
	}
	hasher := &pdq.Hasher{}
	for i, id := range caseOf {
		p := c.planNotice(i)
		switch {
		case p.IsBanked:
			rep.Banked++
		case p.Own:
			rep.WithPicture++
		}
		cs := cases[id]
		if id == "" || cs == nil {
			continue
		}
		matched := false
		for _, m := range cs.Media {
			for _, mm := range m.Matches {
				matched = matched || mm.Bank == "e2e"
			}
		}
		if removed[p.Message] {
			rep.Removed++
		}
		for _, a := range cs.Actions {
			if a.Rule != "" && a.Status == "failed" {
				rep.ActionsFailed++
			}
		}
		switch {
		case matched && p.IsBanked:
			rep.Matched++
		case matched:
			rep.FalseMatches++
		}
		if p.IsBanked {
			// Would PDQ itself put the copy within 31 bits of its original? Hashed here, so
			// that a copy the edit took too far is told apart from a match docket missed.
			file, err := c.attachment(i, p)
			if err != nil {
				return err
			}
			h, err := hasher.Hash(bytes.NewReader(file))
			if err != nil {
				return err
			}
			orig := pdq.HashImage(picture(c.seed<<20+uint64(p.Banked), pictureW, pictureH))
			if h.Hash.Distance(orig.Hash) <= 31 {
				rep.OracleWithin31++
				if !matched {
					rep.MissedWithin31++
				}
			}
		}
	}
	if rep.Banked > 0 {
		rep.Recall = round(float64(rep.Matched)/float64(rep.Banked), 4)
	}
	for _, cs := range cases {
		if cs.Overdue {
			rep.Overdue++
		}
		if cs.Channel != "notice" {
			continue
		}
		switch {
		case cs.Queue == "automation-review":
			rep.ToReview++
			if nearestE2E(cs) > c.reviewAbove {
				rep.ReviewDistance++
			} else {
				rep.ReviewSampled++
			}
		case cs.State == "open":
			rep.LeftForPeople++
		}
	}
	st, err := api.stats()
	if err != nil {
		return err
	}
	rep.Overdue = max(rep.Overdue, st.Overdue)
	rep.JobsFailed = st.JobsFailed
	return nil
}

// removedMessages reads which messages the platform has removed.
func removedMessages(dir string) (map[int]bool, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "refplatform.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM messages WHERE removed_at <> ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// nearestE2E is the distance of the case's nearest match in the bank e2e (-1: none).
func nearestE2E(cs *caseRow) int {
	d := -1
	for _, m := range cs.Media {
		for _, mm := range m.Matches {
			if mm.Bank == "e2e" && (d < 0 || mm.Distance < d) {
				d = mm.Distance
			}
		}
	}
	return d
}
