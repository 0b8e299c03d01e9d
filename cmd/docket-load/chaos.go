package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/postgres"
	"github.com/docket-dev/docket/sqlite"
	"github.com/docket-dev/docket/sqlstore"
)

// chaos is the crash campaign: HTTP load from many clients, the server killed with SIGKILL
// at a random moment, restarted, and again, N times; requests whose outcome the crash hid are
// sent again with their Idempotency-Key. Then it proves that every receipt given exists,
// exactly once, with its hash, and that `docket audit verify` passes. With --effects (on
// PostgreSQL) the rounds also make docket page, act on the platform, answer by mail and
// submit statements of reasons, and the campaign proves that each of these effects took
// place exactly once at its receiver and that the jobs of a killed node were taken over
// within their lease (effects.go).
//
//	docket-load chaos --docket ./docket [--rounds 10] [--clients 16] [--db postgres://… [--nodes 2] [--effects]]
func chaos(args []string) error {
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	docketBin := fs.String("docket", "./docket", "the docket binary")
	db := fs.String("db", "", "postgres://… (an empty schema) to run on PostgreSQL instead of SQLite")
	rounds := fs.Int("rounds", 10, "crashes")
	clients := fs.Int("clients", 16, "concurrent clients")
	nodeCount := fs.Int("nodes", 1, "docket serve processes on the one database (PostgreSQL for more than one); each round kills one")
	asJSON := fs.Bool("json", false, "end with one JSON line")
	withMail := fs.Bool("smtp", false, "half the clients send e-mail to docket's SMTP listener instead (every 250 must exist once)")
	withEffects := fs.Bool("effects", false, "also page, act on the reference platform, answer by mail and submit statements of reasons, and prove each effect took place once (PostgreSQL, in a fresh schema of the --db database; implies --smtp)")
	lease := fs.Duration("lease", 5*time.Second, "with --effects: the nodes' job lease (job_lease)")
	slowEvery := fs.Int("slow", 0, "with --effects: one receiver's answer in N comes after the lease has run out (0: none)")
	fs.Parse(args)
	if *nodeCount > 1 && *db == "" {
		return fmt.Errorf("several nodes share a PostgreSQL database: give --db")
	}
	keepSchema := true // until the proof is done
	if *withEffects {
		if *db == "" {
			return fmt.Errorf("--effects runs on PostgreSQL: give --db")
		}
		if *clients < 4 {
			return fmt.Errorf("--effects needs at least 4 clients")
		}
		*withMail = true
		fresh, drop, err := freshSchema(*db)
		if err != nil {
			return err
		}
		*db = fresh
		defer func() {
			if keepSchema {
				fmt.Printf("the campaign's schema is kept for a look: %s\n", fresh)
				return
			}
			drop()
		}()
	}

	dir, env, engine, err := benchData("docket-chaos-", *db)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	serveArgs := []string{"serve", "--addr", "127.0.0.1:0"}
	if *withMail {
		// Sender checks go to a resolver that does not answer: every sender is unverified,
		// and nothing leaves the machine.
		env = append(env, "DOCKET_DNS=127.0.0.1:9")
		serveArgs = append(serveArgs, "--smtp-addr", "127.0.0.1:0", "--smtp-domain", "chaos.test")
	}
	auth, err := registerAuthority(*docketBin, env)
	if err != nil {
		return err
	}
	nodeEnv := make([][]string, *nodeCount)
	for i := range nodeEnv {
		nodeEnv[i] = env
	}
	var (
		rc    *receivers
		crew  *staff
		watch *leaseWatch
		sqlDB *sql.DB
		ro    *sqlstore.Store // the store read-only, to find an e-mail's case
	)
	if *withEffects {
		if rc, err = startReceivers(*docketBin, dir, *nodeCount, *lease, *slowEvery); err != nil {
			return err
		}
		defer rc.close()
		for i := range nodeEnv {
			nodeEnv[i] = append(slices.Clip(env), rc.env[i]...)
		}
		agent, err := addUser(*docketBin, env, "agent@chaos.test", "agent")
		if err != nil {
			return err
		}
		if sqlDB, err = sql.Open("pgx", *db); err != nil {
			return err
		}
		defer sqlDB.Close()
		watch = &leaseWatch{db: sqlDB, lease: *lease}
		crew = &staff{token: agent, client: &http.Client{Timeout: 30 * time.Second}, done: map[string]int{}}
	}

	type receipt struct {
		ID     string
		CaseID string `json:"case_id"`
		SHA256 string
	}
	var (
		mu       sync.Mutex
		bodies   = map[string][]byte{}  // every key sent, with its body
		receipts = map[string]receipt{} // the receipts given, by key
		unsure   []string               // keys whose outcome a crash hid
		changed  int                    // a key answered with two different receipts
		next     int64
		work     = map[string]*workItem{} // keys whose case staff work on once received
	)
	client := &http.Client{Timeout: 30 * time.Second}
	// A mail's key is "sha256:" and the hash of its bytes, as docket keys it; a request's
	// is "chaos-N".
	isMail := func(key string) bool { return strings.HasPrefix(key, "sha256:") }
	sendMail := func(mx, key string, raw []byte) bool {
		if err := smtp.SendMail(mx, nil, "officer@police.example", []string{"legal@chaos.test"}, raw); err != nil {
			return false
		}
		mu.Lock()
		receipts[key] = receipt{SHA256: strings.TrimPrefix(key, "sha256:")}
		it := work[key]
		delete(work, key)
		mu.Unlock()
		if it != nil {
			crew.add(it)
		}
		return true
	}
	send := func(n *node, key string, body []byte) (ok bool) {
		if n == nil {
			return false
		}
		if isMail(key) {
			return sendMail(n.mx, key, body)
		}
		req, _ := http.NewRequest("POST", n.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+auth.Token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return false
		}
		var r receipt
		if json.Unmarshal(b, &r) != nil || r.ID == "" {
			return false
		}
		mu.Lock()
		if prev, seen := receipts[key]; seen && prev != r {
			changed++
		}
		receipts[key] = r
		it := work[key]
		delete(work, key)
		mu.Unlock()
		if it != nil {
			it.caseID = r.CaseID
			crew.add(it)
		}
		return true
	}
	var restarts []time.Duration
	startNode := func(i int, restart bool) (*node, error) {
		t0 := time.Now()
		srv, err := start(*docketBin, serveArgs, nodeEnv[i])
		if err != nil {
			return nil, err
		}
		if restart { // the first starts are no restart after a crash
			restarts = append(restarts, time.Since(t0))
		}
		n := &node{server: srv, base: "http://" + srv.addr, url: "http://" + srv.addr + "/api/v1/requests", mx: srv.smtpAddr()}
		if *withMail && n.mx == "" {
			return nil, fmt.Errorf("docket did not say where it listens for SMTP: %q", srv.lines)
		}
		return n, nil
	}
	// settle sends again, with the same key and body, what a crash left unsure.
	settle := func(n *node) {
		mu.Lock()
		retry := unsure
		unsure = nil
		mu.Unlock()
		for _, key := range retry {
			mu.Lock()
			body := bodies[key]
			mu.Unlock()
			if !send(n, key, body) {
				mu.Lock()
				unsure = append(unsure, key)
				mu.Unlock()
			}
		}
	}
	nodes := make([]*node, *nodeCount)
	for i := range nodes {
		if nodes[i], err = startNode(i, false); err != nil {
			return err
		}
	}
	// Staff work on every node that is up: up[i] is nodes[i] while it serves.
	var upMu sync.Mutex
	up := slices.Clone(nodes)
	setUp := func(i int, n *node) {
		upMu.Lock()
		up[i] = n
		upMu.Unlock()
	}
	crewStop := make(chan struct{})
	var crewWG sync.WaitGroup
	if crew != nil {
		if ro, err = postgres.OpenReadOnly(context.Background(), *db); err != nil {
			return err
		}
		defer ro.Close()
		crew.lookup = func(ctx context.Context, key string) (string, error) {
			r, err := ro.RequestByIdempotencyKey(ctx, "", key)
			if err != nil {
				return "", err
			}
			return r.CaseID, nil
		}
		crew.node = func(k int) *node {
			upMu.Lock()
			defer upMu.Unlock()
			for j := range up {
				if n := up[(k+j)%len(up)]; n != nil {
					return n
				}
			}
			return nil
		}
		for k := range 2 {
			crewWG.Go(func() { crew.run(crewStop, k) })
		}
		crewWG.Go(func() { watch.run(crewStop) })
	}
	stopCrew := func() {
		close(crewStop)
		crewWG.Wait()
	}
	start0 := time.Now()
	for r := range *rounds {
		settle(nodes[0])
		var live sync.Map // node index → *node, while it serves
		for i, n := range nodes {
			live.Store(i, n)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range *clients {
			wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					u, ok := live.Load((c + k) % len(nodes))
					if !ok {
						u, _ = live.Load((c + k + 1) % len(nodes))
					}
					n, _ := u.(*node)
					mu.Lock()
					next++
					i := next
					key := fmt.Sprintf("chaos-%d", i)
					body := requestBody(i)
					switch {
					case *withEffects && c == 0: // an emergency: a page
						body = fmt.Appendf(nil, `{"regime":"us-emergency","kind":"emergency_disclosure","emergency":true,"reference":"EMERGENCY-%d","description":"Imminent threat to life: a user announced a shooting at a school tomorrow morning.","targets":[{"kind":"username","value":"@threat%d"}]}`, i, i)
					case *withEffects && c == 2: // a removal order: staff act on the platform
						op := []string{"remove", "restrict"}[i%2]
						target := fmt.Sprintf("http://%s/m/%d?order=%d", rc.platform.addr, 1+i%5, i)
						body = fmt.Appendf(nil, `{"regime":"eu-tco-removal","kind":"removal","reference":"TCO-%d","legal_basis":"Regulation (EU) 2021/784, art. 3","reasons":"Incitement to an attack.","targets":[{"kind":"message","value":%q}]}`, i, target)
						work[key] = &workItem{kind: op, target: target}
					}
					if *withMail && c%2 == 1 {
						body = fmt.Appendf(nil, "From: officer@police.example\r\nTo: legal@chaos.test\r\nSubject: Requisition %d\r\nMessage-ID: <chaos-%d@police.example>\r\n\r\nPlease identify the holder of @suspect%d (art. 60-1 CPP), matter %d.\r\n", i, i, i, i)
						sum := sha256.Sum256(body)
						key = "sha256:" + hex.EncodeToString(sum[:])
						if *withEffects && c%4 == 1 { // staff answer it: a mail
							work[key] = &workItem{kind: "answer", mailKey: key}
						}
					}
					bodies[key] = body
					mu.Unlock()
					if !send(n, key, body) {
						mu.Lock()
						unsure = append(unsure, key)
						mu.Unlock()
						time.Sleep(10 * time.Millisecond) // the node is down: do not spin
					}
				}
			})
		}
		time.Sleep(time.Second + time.Duration(rand.Int64N(int64(3*time.Second))))
		victim := rand.IntN(len(nodes))
		setUp(victim, nil)
		nodes[victim].cmd.Process.Kill() // SIGKILL: no shutdown, no flush
		killedAt := time.Now()
		nodes[victim].cmd.Wait()
		if watch != nil {
			if err := watch.snapshot(context.Background(), killedAt); err != nil {
				return fmt.Errorf("round %d: the leases held: %w", r+1, err)
			}
		}
		if len(nodes) > 1 {
			// The others keep serving while the victim is down.
			time.Sleep(time.Second)
			live.Delete(victim)
			time.Sleep(time.Second)
		}
		close(stop)
		wg.Wait()
		if nodes[victim], err = startNode(victim, true); err != nil {
			return fmt.Errorf("round %d: restart: %w", r+1, err)
		}
		setUp(victim, nodes[victim])
	}
	for range 3 { // settle what is still unsure
		settle(nodes[0])
		if len(unsure) == 0 {
			break
		}
	}
	var fx *effectsRun
	if crew != nil {
		fx = &effectsRun{}
		// Staff finish what they started, then the jobs carry out every effect due.
		for end := time.Now().Add(2 * time.Minute); !crew.idle() && time.Now().Before(end); {
			time.Sleep(100 * time.Millisecond)
		}
		fx.left, fx.failed, err = quietJobs(context.Background(), sqlDB, 3*time.Minute)
		if err != nil {
			return err
		}
		watch.poll(context.Background())
		stopCrew()
	}
	for _, n := range nodes {
		n.stop()
	}

	// The proof, from the store itself, read-only.
	ctx := context.Background()
	var store *sqlstore.Store
	if *db != "" {
		store, err = postgres.OpenReadOnly(ctx, *db)
	} else {
		store, err = sqlite.OpenReadOnly(ctx, dir)
	}
	if err != nil {
		return err
	}
	lost, wrongHash := 0, 0
	for key, r := range receipts {
		owner := auth.ID
		if isMail(key) {
			owner = "" // unverified mail belongs to no authority
		}
		got, err := store.RequestByIdempotencyKey(ctx, owner, key)
		switch {
		case errors.Is(err, docket.ErrNotFound) || (err == nil && r.ID != "" && got.ID != r.ID):
			lost++
		case err != nil:
			store.Close()
			return err
		default:
			sum := sha256.Sum256(got.Raw)
			if hex.EncodeToString(sum[:]) != r.SHA256 || got.SHA256 != r.SHA256 || !bytes.Equal(got.Raw, bodies[key]) {
				wrongHash++
			}
		}
	}
	stored := 0
	if err := store.ScanRequests(ctx, func(*docket.Request) error { stored++; return nil }); err != nil {
		store.Close()
		return err
	}
	store.Close()
	duplicates := stored - len(receipts)
	verify := exec.Command(*docketBin, "audit", "verify")
	verify.Env = append(os.Environ(), env...)
	vout, verr := verify.CombinedOutput()
	auditOK := verr == nil
	slices.Sort(restarts)
	fmt.Printf("chaos on %s, %d node(s): %d kill -9 rounds, %d clients, %s; %d receipts given (%d of them mails answered 250), %d lost, %d duplicates, %d with a wrong hash, %d keys answered with two receipts, %d unsure at the end\n",
		engine, *nodeCount, *rounds, *clients, time.Since(start0).Round(time.Second), len(receipts), countMails(receipts, isMail), lost, duplicates, wrongHash, changed, len(unsure))
	fmt.Printf("restart to listening: min %s, max %s; audit verify: %s\n", restarts[0].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond), strings.TrimSpace(string(vout)))
	if *asJSON {
		js, _ := json.Marshal(map[string]any{"engine": engine, "nodes": *nodeCount, "rounds": *rounds, "receipts": len(receipts), "lost": lost, "duplicates": duplicates,
			"wrong_hash": wrongHash, "changed": changed, "unsure": len(unsure), "audit_ok": auditOK,
			"restart_ms_max": restarts[len(restarts)-1].Milliseconds()})
		fmt.Println(string(js))
	}
	broken := lost+duplicates+wrongHash+changed > 0 || !auditOK
	if fx != nil {
		rc.platform.stop() // its history is read from its database
		fx.counts, err = proveEffects(context.Background(), sqlDB, rc.ledger, rc.platData)
		if err != nil {
			return err
		}
		fx.slow = rc.slow
		fx.leases = watch.sum(time.Second + 2*time.Second) // the runner's poll, the watch's, a margin
		fx.staff = crew
		broken = fx.report(os.Stdout, *asJSON, *lease) || broken
	}
	if broken {
		return fmt.Errorf("the campaign found a broken promise")
	}
	keepSchema = false
	return nil
}

// node is one docket serve of the campaign.
type node struct {
	*server
	base string // http://ADDR
	url  string // the API's requests endpoint
	mx   string // the SMTP listener, with --smtp
}

// countMails counts the mails among the receipts.
func countMails[R any](receipts map[string]R, isMail func(string) bool) int {
	n := 0
	for k := range receipts {
		if isMail(k) {
			n++
		}
	}
	return n
}
