package mailout

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// errAddress marks an address that cannot be written into an SMTP command or a header.
var errAddress = errors.New("address cannot be sent to")

// CheckAddress returns addr when it can go into RCPT TO:<…>, MAIL FROM:<…> and a To
// header as it is: a local part that is a dot-atom (letters, digits and
// !#$%&'*+-/=?^_`{|}~, dots between) and a domain of letters, digits and hyphens. Anything
// else — CR, LF, control characters, spaces, "<", ">", a quoted local part ("a>b"@x, which
// net/mail unquotes into a>b@x) — is refused: written into a command it would end the
// address early and send the mail elsewhere (RCPT TO:<attacker@evil.example>@police.example>).
func CheckAddress(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 || len(addr) > 254 {
		return "", fmt.Errorf("%w: %q is not local@domain", errAddress, addr)
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) > 64 || !dotAtom(local, isAtext) || !dotAtom(domain, isLDH) {
		return "", fmt.Errorf("%w: %q has characters that SMTP commands and headers cannot carry unquoted", errAddress, addr)
	}
	// net/mail must read it back as the same single address.
	if a, err := mail.ParseAddress("<" + addr + ">"); err != nil || a.Address != addr {
		return "", fmt.Errorf("%w: %q does not parse as one address", errAddress, addr)
	}
	return addr, nil
}

// dotAtom reports whether s is runs of ok characters separated by single dots.
func dotAtom(s string, ok func(byte) bool) bool {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !ok(part[i]) {
				return false
			}
		}
	}
	return true
}

func isAtext(c byte) bool {
	return isLDH(c) || strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0
}

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}
