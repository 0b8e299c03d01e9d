package mailin

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// SessionLimit caps the SMTP and LMTP sessions open at once: each holds a connection, and
// the work of a message (parsing, PDF text) happens while it is open. Connections beyond
// the cap are answered 421 and closed at once, before any SMTP dialogue.
type SessionLimit struct {
	slots chan struct{}
	log   *slog.Logger
}

// NewSessionLimit returns a cap of max sessions at once (default 100).
func NewSessionLimit(max int, log *slog.Logger) *SessionLimit {
	if max <= 0 {
		max = 100
	}
	if log == nil {
		log = slog.Default()
	}
	return &SessionLimit{slots: make(chan struct{}, max), log: log}
}

// Active is the number of sessions open.
func (l *SessionLimit) Active() int { return len(l.slots) }

// Listener returns ln whose connections count against the cap.
func (l *SessionLimit) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, l: l}
}

type limitedListener struct {
	net.Listener
	l *SessionLimit
}

// Accept returns the next connection within the cap; those beyond it are refused.
func (ll *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case ll.l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: sync.OnceFunc(func() { <-ll.l.slots })}, nil
		default:
			ll.l.log.Warn("mail session refused: too many open", slog.String("remote", c.RemoteAddr().String()), slog.Int("max", cap(ll.l.slots)))
			go refuse(c)
		}
	}
}

func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "421 4.3.2 Too many connections; try again later\r\n")
	_ = c.Close()
}

// limitedConn gives its place back when it is closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	defer c.release()
	return c.Conn.Close()
}
