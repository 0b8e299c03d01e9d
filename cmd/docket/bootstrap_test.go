package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docket-dev/docket/account"
	"github.com/docket-dev/docket/sqlite"
)

// TestFirstStartAdmin: the first start prints an admin's sign-in, which works in the
// console; the second start prints none; reset-login replaces it.
func TestFirstStartAdmin(t *testing.T) {
	env := map[string]string{"DOCKET_DATA": t.TempDir(), "DOCKET_NO_TRIAGE": "true"}
	start := func() (string, func()) {
		out := &lockedBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		m := &Main{Stdout: out, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, Ready: func(a string) { ready <- a }}
		go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}) }()
		var addr string
		select {
		case addr = <-ready:
		case err := <-done:
			t.Fatalf("serve: %v", err)
		case <-time.After(20 * time.Second):
			t.Fatal("serve did not start")
		}
		return addr + "\n" + out.String(), func() { cancel(); <-done }
	}
	first, stop := start()
	addr, printed, _ := strings.Cut(first, "\n")
	email := regexp.MustCompile(`sign-in e-mail:\s+(\S+)`).FindStringSubmatch(printed)
	password := regexp.MustCompile(`password:\s+(\S+)`).FindStringSubmatch(printed)
	secret := regexp.MustCompile(`TOTP secret to an authenticator app: ([A-Z2-7]+)`).FindStringSubmatch(printed)
	if email == nil || password == nil || secret == nil || email[1] != "admin@docket.local" {
		t.Fatalf("first start printed no admin sign-in:\n%s", printed)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm("http://"+addr+"/console/signin", url.Values{"email": {email[1]}, "password": {password[1]}, "code": {account.Code(secret[1], time.Now())}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/console" {
		t.Fatalf("admin sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	stop()
	second, stop := start()
	if strings.Contains(second, "First start") {
		t.Error("the second start created another admin")
	}
	stop()
	out := must(run(t, env, "user", "reset-login", "--email", "ADMIN@docket.local", "--json"))
	if s := newSignIn(t, out); s.Password == password[1] || s.Secret == secret[1] {
		t.Error("reset-login kept the old password or secret")
	}
	if _, err := run(t, env, "user", "reset-login", "--email", "nobody@docket.local"); err == nil {
		t.Error("reset-login of an unknown address succeeded")
	}
}

// TestFirstStartBusyPort: the first admin's password and second factor used to be created
// and printed before the listener was bound; when the port was busy they were lost for
// good. Now the bind comes first: a failed start creates nothing, and the next start that
// binds prints the admin.
func TestFirstStartBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	env := map[string]string{"DOCKET_DATA": dir, "DOCKET_NO_TRIAGE": "true"}
	for _, addr := range []string{busy.Addr().String(), "127.0.0.1:notaport"} {
		out := &lockedBuffer{}
		m := &Main{Stdout: out, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }}
		if err := m.Run(context.Background(), []string{"serve", "--addr", addr}); err == nil {
			t.Fatalf("serve on %s started", addr)
		}
		if strings.Contains(out.String(), "First start") || strings.Contains(out.String(), "password") {
			t.Fatalf("a start that could not listen on %s printed the admin's sign-in:\n%s", addr, out)
		}
	}
	st, err := sqlite.Open(context.Background(), dir, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	users, err := st.Users(context.Background())
	st.Close()
	if err != nil || len(users) != 0 {
		t.Fatalf("failed starts left %d staff (%v): the admin's secret would be lost", len(users), err)
	}
	s := startServeOut(t, env)
	if !strings.Contains(s, "First start") || !regexp.MustCompile(`TOTP secret to an authenticator app: [A-Z2-7]+`).MatchString(s) {
		t.Fatalf("the first start that listened printed no admin:\n%s", s)
	}
}

// startServeOut runs serve on a free port until the end of the test and returns what it
// printed once listening.
func startServeOut(t *testing.T, env map[string]string) string {
	t.Helper()
	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	m := &Main{Stdout: out, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, Ready: func(a string) { ready <- a }}
	go func() { done <- m.Run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	return out.String()
}
