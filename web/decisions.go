package web

// decisionTemplate is a ready statement for a decision, in the requester's language.
type decisionTemplate struct {
	ID, Name, Outcome, Reason, Text string
}

// decisionTemplates holds statements by language; a case whose requester's language has
// none gets the English ones.
var decisionTemplates = map[string][]decisionTemplate{
	"en": {
		{"comply", "Complied", "comply", "", "We have complied with your request. The details of what was done are listed below."},
		{"need_info", "More information needed", "need_info", "", "We need more information before we can act on your request: please state the legal basis and identify the accounts concerned precisely."},
		{"refuse_basis", "Refused: no legal basis", "refuse", "no_legal_basis", "We cannot comply with your request: it does not state a legal basis that applies to us."},
		{"not_actionable", "Not actionable", "not_actionable", "not_actionable", "We found nothing we can act on in your request: the content or account named could not be found."},
	},
	"fr": {
		{"comply", "Exécutée", "comply", "", "Nous avons donné suite à votre demande. Le détail des mesures prises figure ci-dessous."},
		{"need_info", "Informations complémentaires", "need_info", "", "Nous avons besoin d'informations complémentaires avant de donner suite à votre demande : merci de préciser la base légale et d'identifier précisément les comptes concernés."},
		{"refuse_basis", "Refus : pas de base légale", "refuse", "no_legal_basis", "Nous ne pouvons pas donner suite à votre demande : elle n'indique aucune base légale qui nous soit applicable."},
		{"not_actionable", "Sans objet", "not_actionable", "not_actionable", "Votre demande ne contient rien sur quoi nous puissions agir : le contenu ou le compte indiqué est introuvable."},
	},
	"de": {
		{"comply", "Erledigt", "comply", "", "Wir sind Ihrem Ersuchen nachgekommen. Die getroffenen Maßnahmen sind unten aufgeführt."},
		{"need_info", "Weitere Angaben nötig", "need_info", "", "Bevor wir Ihrem Ersuchen nachkommen können, benötigen wir weitere Angaben: Bitte nennen Sie die Rechtsgrundlage und bezeichnen Sie die betroffenen Konten genau."},
		{"refuse_basis", "Abgelehnt: keine Rechtsgrundlage", "refuse", "no_legal_basis", "Wir können Ihrem Ersuchen nicht nachkommen: Es nennt keine auf uns anwendbare Rechtsgrundlage."},
		{"not_actionable", "Nicht bearbeitbar", "not_actionable", "not_actionable", "Ihr Ersuchen enthält nichts, worauf wir handeln können: Der genannte Inhalt oder das Konto wurde nicht gefunden."},
	},
}

func templatesFor(lang string) []decisionTemplate {
	if t, ok := decisionTemplates[lang]; ok {
		return t
	}
	return decisionTemplates["en"]
}
