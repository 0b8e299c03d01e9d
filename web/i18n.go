package web

import (
	_ "embed"
	"encoding/json"
	"net/http"

	"golang.org/x/text/language"

	"github.com/docket-dev/docket"
)

// Pages are written in English; a catalog per other language maps each English text to
// its translation. A text missing from a catalog shows in English (a test keeps the French
// catalog complete for every text the templates use).

//go:embed i18n/fr.json
var frJSON []byte

// The English catalog only names the keys that are not English text (state:open…).
//
//go:embed i18n/en.json
var enJSON []byte

var catalogs = map[string]map[string]string{"en": mustCatalog(enJSON), "fr": mustCatalog(frJSON)}

func mustCatalog(b []byte) map[string]string {
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic("web: bad catalog: " + err.Error())
	}
	return m
}

// Languages lists the languages of the pages, the default first.
var Languages = []string{"en", "fr"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// pageLanguage is the page language: the one chosen (cookie "lang"), else the browser's.
func pageLanguage(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "en" || c.Value == "fr") {
		return c.Value
	}
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, i, _ := matcher.Match(tags...)
	return Languages[i]
}

func translate(lang, text string) string {
	if t, ok := catalogs[lang][text]; ok {
		return t
	}
	return text
}

// setLang switches the language (GET /lang?l=fr&next=/portal) and goes back.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request, p *page) error {
	l := r.URL.Query().Get("l")
	if l != "en" && l != "fr" {
		return docket.Errorf(docket.EINVALID, "Unknown language %q: en or fr.", l)
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, Secure: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
	return nil
}
