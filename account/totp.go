package account

import (
	"crypto/subtle"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Issuer names docket in authenticator apps.
const Issuer = "docket"

// NewTOTP returns a new TOTP key for an account: its secret is stored, its URL
// (otpauth://…) is what an authenticator app takes.
func NewTOTP(email string) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: Issuer, AccountName: email})
}

// TOTPURL returns the otpauth:// URL of a stored secret, for an authenticator app.
func TOTPURL(email, secret string) string {
	v := url.Values{"secret": {secret}, "issuer": {Issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + Issuer + ":" + email, RawQuery: v.Encode()}).String()
}

// Code returns the code of a secret at t (for tests and the demo).
func Code(secret string, t time.Time) string {
	c, _ := totp.GenerateCode(secret, t)
	return c
}

const period = 30

// checkCode reports whether code is the secret's code at now or one step either side, and
// at which step; a step at or before last is refused, so each code is good once.
func checkCode(secret, code string, now time.Time, last int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	step := now.Unix() / period
	for _, s := range []int64{step, step - 1, step + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, s > last
		}
	}
	return 0, false
}
