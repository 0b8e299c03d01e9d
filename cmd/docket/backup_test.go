package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBackupWhileServing is the restore drill: while an authority keeps submitting, docket
// backup copies the database; the copy verifies (audit verify, read-only) and holds every
// request receipted before the backup began.
func TestBackupWhileServing(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"DOCKET_DATA": data}
	out, err := run(t, env, "authority", "add", "--name", "Police", "--country", "FR", "--json")
	if err != nil {
		t.Fatal(err)
	}
	_, token := created(t, out)
	s := startServe(t, env)
	var receipted atomic.Int64
	submit := func(i int) {
		s.call("POST", "/api/v1/requests", token, fmt.Sprintf(`{"regime":"fr-requisition","kind":"disclosure","reference":"PV %d","description":"Réquisition %d","legal_basis":"Art. 60-1 CPP","targets":[{"kind":"username","value":"@s%d"}]}`, i, i, i), 201)
		receipted.Add(1)
	}
	for i := range 20 {
		submit(i)
	}
	before := receipted.Load()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 20; ; i++ {
			select {
			case <-stop:
				return
			default:
				submit(i)
			}
		}
	})
	dest := filepath.Join(t.TempDir(), "copy")
	out, err = run(t, env, "backup", dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out, "backed up") {
		t.Errorf("backup printed %q", out)
	}
	out, err = run(t, map[string]string{"DOCKET_DATA": dest}, "audit", "verify", "--json")
	if err != nil {
		t.Fatalf("audit verify of the copy: %v\n%s", err, out)
	}
	var requests int64
	if _, err := fmt.Sscanf(out[strings.Index(out, `"requests":`)+len(`"requests":`):], "%d", &requests); err != nil {
		t.Fatalf("requests in %s: %v", out, err)
	}
	if requests < before {
		t.Errorf("the copy holds %d requests, %d were receipted before the backup", requests, before)
	}
	if _, err := run(t, env, "backup", dest); err == nil {
		t.Error("a backup over an existing copy was accepted")
	}
}
