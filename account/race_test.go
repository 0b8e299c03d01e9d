package account

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
)

// raceSetup is a Service on a fresh store of engine with one staff account.
func raceSetup(t *testing.T, s docket.Store) (*Service, *Credentials, *clock) {
	t.Helper()
	c := &clock{time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	svc := New(Config{Store: s, Now: c.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cred, err := svc.AddStaff(context.Background(), &docket.User{ID: docket.NewID(), Email: "agent@platform.example", Role: docket.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	return svc, cred, c
}

// parallel runs fn n times at once, each in its own goroutine, started together.
func parallel(n int, fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			fn(i)
		}()
	}
	start.Done()
	done.Wait()
}

// TestSignInLockoutRace replays the attack: 40 wrong passwords at once were all checked
// and left the account unlocked (failures=2). The count is one statement, so the account
// ends locked and even the right password and code are then refused.
func TestSignInLockoutRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s docket.Store) {
		ctx := context.Background()
		svc, cred, clk := raceSetup(t, s)
		code := Code(cred.Secret, clk.now())
		var mu sync.Mutex
		codes := map[string]int{}
		parallel(40, func(int) {
			_, _, err := svc.SignIn(ctx, docket.LoginStaff, cred.Email, "a wrong password", code)
			mu.Lock()
			codes[docket.ErrorCode(err)]++
			mu.Unlock()
		})
		if codes[""] != 0 {
			t.Fatalf("a wrong password signed in: %v", codes)
		}
		l, err := s.LoginByEmail(ctx, docket.LoginStaff, cred.Email)
		if err != nil {
			t.Fatal(err)
		}
		if !clk.now().Before(l.LockedUntil) {
			t.Fatalf("after 40 parallel wrong passwords the account is not locked (failures=%d, refusals %v)", l.Failures, codes)
		}
		clk.t = clk.t.Add(time.Minute)
		if _, _, err := svc.SignIn(ctx, docket.LoginStaff, cred.Email, cred.Password, Code(cred.Secret, clk.now())); docket.ErrorCode(err) != docket.ERATELIMIT {
			t.Fatalf("the right password on the locked account: %v", err)
		}
	})
}

// TestSignInCodeOnceRace replays the attack: 8 sign-ins at once with one TOTP code opened
// 8 sessions. The code's step is taken by compare-and-set: exactly one session opens.
func TestSignInCodeOnceRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s docket.Store) {
		ctx := context.Background()
		svc, cred, clk := raceSetup(t, s)
		code := Code(cred.Secret, clk.now())
		var mu sync.Mutex
		var tokens []string
		parallel(8, func(int) {
			if _, token, err := svc.SignIn(ctx, docket.LoginStaff, cred.Email, cred.Password, code); err == nil {
				mu.Lock()
				tokens = append(tokens, token)
				mu.Unlock()
			}
		})
		if len(tokens) != 1 {
			t.Fatalf("one code opened %d sessions, want 1", len(tokens))
		}
		if _, err := svc.Session(ctx, tokens[0]); err != nil {
			t.Fatalf("the one session: %v", err)
		}
	})
}
