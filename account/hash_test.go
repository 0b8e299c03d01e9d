package account

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
)

// TestHashBound: however many sign-ins arrive at once, at most MaxHashes password hashes
// run together; the others wait, and a wait whose context ends is refused with ErrBusy
// (503) instead of taking 19 MiB more. Counted through the hook, without timing.
func TestHashBound(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "sqlite")
	svc := New(Config{Store: s, MaxHashes: 2, HashWait: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	dummyHash() // made once, outside the bound

	var inside, most atomic.Int64
	entered := make(chan struct{}, 16)
	release := make(chan struct{})
	svc.hashHook = func() {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		entered <- struct{}{}
		<-release
		inside.Add(-1)
	}
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, err := svc.SignIn(ctx, docket.LoginStaff, "nobody@platform.example", "a wrong password", "123456")
			errs <- err
		}()
	}
	<-entered
	<-entered
	for svc.waiting.Load() != n-2 {
		runtime.Gosched() // until the other six wait for a slot
	}
	if got := inside.Load(); got != 2 {
		t.Fatalf("%d hashes at once, want 2", got)
	}

	// A sign-in whose request ends while it waits is refused, and frees its place.
	cctx, cancel := context.WithCancel(ctx)
	refused := make(chan error, 1)
	go func() {
		_, _, err := svc.SignIn(cctx, docket.LoginStaff, "nobody@platform.example", "a wrong password", "123456")
		refused <- err
	}()
	for svc.waiting.Load() != n-1 {
		runtime.Gosched()
	}
	cancel()
	if err := <-refused; err != ErrBusy {
		t.Fatalf("a wait whose context ended: %v, want ErrBusy", err)
	}
	if got := docket.HTTPStatus(docket.ErrorCode(ErrBusy)); got != 503 {
		t.Errorf("ErrBusy answers %d, want 503", got)
	}

	close(release)
	for range n {
		if err := <-errs; err != ErrSignIn {
			t.Errorf("sign-in to an unknown account: %v", err)
		}
	}
	if got := most.Load(); got != 2 {
		t.Errorf("at most %d hashes ran at once, want 2", got)
	}
}

// TestLockoutChecksAtMostMax: of 40 parallel wrong passwords, at most MaxFailures are
// hashed; the others are refused by the count before any work.
func TestLockoutChecksAtMostMax(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s docket.Store) {
		ctx := context.Background()
		svc, cred, clk := raceSetup(t, s)
		var checked atomic.Int64
		svc.hashHook = func() { checked.Add(1) }
		code := Code(cred.Secret, clk.now())
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() { svc.SignIn(ctx, docket.LoginStaff, cred.Email, "a wrong password", code) })
		}
		wg.Wait()
		if got := checked.Load(); got > int64(svc.cfg.MaxFailures) {
			t.Errorf("%d passwords checked, want at most %d", got, svc.cfg.MaxFailures)
		}
	})
}
