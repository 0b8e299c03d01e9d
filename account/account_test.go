package account

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/storetest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*Service, *clock, docket.Store) {
	s := storetest.Open(t, "sqlite")
	c := &clock{time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	return New(Config{Store: s, Now: c.now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), c, s
}

func TestPassword(t *testing.T) {
	h := HashPassword("correct horse battery")
	tests := []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterx", false},
		{h, "", false},
		{"", "", false},
		{"$argon2id$v=19$m=0,t=1,p=1$AAAA$AAAA", "x", false},
		{"$bcrypt$whatever", "x", false},
	}
	for _, tt := range tests {
		if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
			t.Errorf("CheckPassword(%q, %q) = %v", tt.hash, tt.pw, got)
		}
	}
	if err := CheckNewPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := setup(t)
	u := &docket.User{ID: docket.NewID(), Email: "Agent@Platform.example", Role: docket.RoleAgent}
	cred, err := svc.AddStaff(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string { return Code(cred.Secret, clk.t) }

	if _, _, err := svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", cred.Password, "000000"); err != ErrSignIn {
		t.Fatalf("wrong code: %v", err)
	}
	if _, _, err := svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", "not the password", code()); err != ErrSignIn {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := svc.SignIn(ctx, docket.LoginOfficer, "agent@platform.example", cred.Password, code()); err != ErrSignIn {
		t.Fatalf("staff account at the portal: %v", err)
	}
	l, token, err := svc.SignIn(ctx, docket.LoginStaff, "AGENT@platform.example", cred.Password, code())
	if err != nil || l.ID != u.ID || token == "" {
		t.Fatalf("good sign-in: %v", err)
	}
	if _, _, err := svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", cred.Password, code()); err != ErrSignIn {
		t.Fatalf("the same code twice: %v", err)
	}
	if got, err := svc.Session(ctx, token); err != nil || got.ID != u.ID {
		t.Fatalf("session: %v", err)
	}
	clk.t = clk.t.Add(8*time.Hour + time.Second)
	if _, err := svc.Session(ctx, token); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("expired session: %v", err)
	}
	if _, err := svc.Session(ctx, "forged"); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("forged session: %v", err)
	}

	// Lockout: five failures in a row (the reused code was the first), then even the right
	// password and code are refused.
	for range 4 {
		if _, _, err := svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", "guess", code()); err != ErrSignIn {
			t.Fatalf("guess: %v", err)
		}
	}
	clk.t = clk.t.Add(time.Minute)
	if _, _, err := svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", cred.Password, code()); docket.ErrorCode(err) != docket.ERATELIMIT {
		t.Fatalf("locked account: %v", err)
	}
	clk.t = clk.t.Add(15 * time.Minute)
	_, token, err = svc.SignIn(ctx, docket.LoginStaff, "agent@platform.example", cred.Password, code())
	if err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	if _, err := svc.AddStaff(ctx, u); err != nil { // a reset
		t.Fatal(err)
	}
	if _, err := svc.Session(ctx, token); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("a session outlived a reset of the account: %v", err)
	}
	if err := svc.SignOut(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Session(ctx, token); docket.ErrorCode(err) != docket.EUNAUTHORIZED {
		t.Fatalf("session after reset and sign-out: %v", err)
	}
}

func TestRegisterConfirmApprove(t *testing.T) {
	ctx := context.Background()
	svc, clk, _ := setup(t)
	a := &docket.Authority{ID: "a1", Name: "Police", Domains: []string{"police.example"}}
	if _, _, err := svc.Register(ctx, a, "ana@gmail.example", "Ana", "self"); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("address off the domain: %v", err)
	}
	if _, _, err := svc.Register(ctx, a, "ana@evilpolice.example", "Ana", "self"); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("look-alike domain: %v", err)
	}
	l, token, err := svc.Register(ctx, a, "Ana@Paris.Police.example", "Ana", "self")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Register(ctx, a, "ana@paris.police.example", "Ana", "self"); docket.ErrorCode(err) != docket.ECONFLICT {
		t.Fatalf("registered twice: %v", err)
	}
	if _, err := svc.Confirm(ctx, "wrong", "a long enough password", Code(l.TOTPSecret, clk.t)); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("wrong link: %v", err)
	}
	if _, err := svc.Confirm(ctx, token, "short", Code(l.TOTPSecret, clk.t)); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	if _, err := svc.Confirm(ctx, token, "a long enough password", "123456"); docket.ErrorCode(err) != docket.EINVALID {
		t.Fatalf("wrong code: %v", err)
	}
	l, err = svc.Confirm(ctx, token, "a long enough password", Code(l.TOTPSecret, clk.t))
	if err != nil || l.Status != docket.LoginAwaitingApproval {
		t.Fatalf("confirm: %v %+v", err, l)
	}
	if _, err := svc.Confirming(ctx, token); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("a link used twice: %v", err)
	}
	clk.t = clk.t.Add(time.Minute)
	if _, _, err := svc.SignIn(ctx, docket.LoginOfficer, l.Email, "a long enough password", Code(l.TOTPSecret, clk.t)); docket.ErrorCode(err) != docket.EFORBIDDEN {
		t.Fatalf("sign-in before approval: %v", err)
	}
	if err := svc.Approve(ctx, l.ID, "u1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Approve(ctx, l.ID, "u1"); docket.ErrorCode(err) != docket.ESTATE {
		t.Fatalf("approved twice: %v", err)
	}
	clk.t = clk.t.Add(time.Minute)
	if _, _, err := svc.SignIn(ctx, docket.LoginOfficer, l.Email, "a long enough password", Code(l.TOTPSecret, clk.t)); err != nil {
		t.Fatalf("sign-in after approval: %v", err)
	}

	// A delegate added by an officer is active once confirmed; an old link is dead.
	d, dtoken, err := svc.Register(ctx, a, "bo@police.example", "Bo", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	clk.t = clk.t.Add(49 * time.Hour)
	if _, err := svc.Confirm(ctx, dtoken, "a long enough password", Code(d.TOTPSecret, clk.t)); docket.ErrorCode(err) != docket.ENOTFOUND {
		t.Fatalf("expired link: %v", err)
	}
	d, dtoken, _ = svc.Register(ctx, a, "cy@police.example", "Cy", l.ID)
	d, err = svc.Confirm(ctx, dtoken, "a long enough password", Code(d.TOTPSecret, clk.t))
	if err != nil || d.Status != docket.LoginActive || d.ApprovedBy != l.ID {
		t.Fatalf("delegate: %v %+v", err, d)
	}
}
