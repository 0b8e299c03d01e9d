package triage_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/triage"
)

func newTriager(t testing.TB) *triage.Triager {
	t.Helper()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"fr": "Nous vous demandons de bien vouloir nous communiquer les informations relatives à ce compte.",
		"en": "We kindly ask you to provide the information related to this account as soon as possible.",
		"de": "Wir bitten Sie, uns die Informationen zu diesem Konto so bald wie möglich zu übermitteln.",
		"es": "Les solicitamos que nos proporcionen la información relativa a esta cuenta lo antes posible.",
		"it": "Vi chiediamo di fornirci le informazioni relative a questo account il prima possibile.",
		"pt": "Solicitamos que nos forneçam as informações relativas a esta conta o mais rápido possível.",
		"nl": "Wij verzoeken u ons de gegevens van dit account zo snel mogelijk te verstrekken.",
		"pl": "Prosimy o przekazanie informacji dotyczących tego konta tak szybko, jak to możliwe.",
		"ru": "Просим вас предоставить информацию об этом аккаунте как можно скорее.",
		"ar": "نطلب منكم تزويدنا بالمعلومات المتعلقة بهذا الحساب في أقرب وقت ممكن.",
		"fa": "از شما درخواست می‌کنیم اطلاعات مربوط به این حساب را هر چه سریع‌تر ارائه دهید.",
		"tr": "Bu hesapla ilgili bilgileri en kısa sürede bize iletmenizi rica ederiz.",
		"uk": "Просимо надати інформацію щодо цього облікового запису якнайшвидше.",
		"el": "Παρακαλούμε να μας παράσχετε τις πληροφορίες σχετικά με αυτόν τον λογαριασμό το συντομότερο δυνατό.",
		"ro": "Vă rugăm să ne furnizați informațiile privind acest cont cât mai curând posibil.",
		"sv": "Vi ber er att lämna ut uppgifterna om det här kontot så snart som möjligt.",
		"id": "Kami meminta Anda untuk memberikan informasi terkait akun ini sesegera mungkin.",
		"vi": "Chúng tôi đề nghị quý công ty cung cấp thông tin liên quan đến tài khoản này càng sớm càng tốt.",
		"hi": "कृपया इस खाते से संबंधित जानकारी जल्द से जल्द उपलब्ध कराएं।",
		"zh": "请尽快向我们提供与该账户有关的信息。",
		"ja": "このアカウントに関する情報をできるだけ早くご提供ください。",
		"ko": "이 계정과 관련된 정보를 가능한 한 빨리 제공해 주시기 바랍니다.",
	}
	for want, text := range tests {
		if got, _ := triage.Language(text); got != want {
			t.Errorf("Language(%q) = %s, want %s", text, got, want)
		}
	}
	// Romanised Hindi is Hindi.
	if got, _ := triage.Language("mera dost kal se ghar nahi aaya hai aur uska phone bhi band hai, kya aap madad kar sakte hain"); got != "hi" {
		t.Errorf("romanised Hindi: %s", got)
	}
	// Outside the set: an honest "und", never a neighbour.
	for name, text := range map[string]string{
		"Danish":    "Vi beder jer om at udlevere oplysningerne om denne konto hurtigst muligt, og ikke senere end fredag.",
		"Czech":     "Žádáme vás, abyste nám co nejdříve poskytli informace týkající se tohoto účtu, který byl použit.",
		"Bulgarian": "Молим ви да ни предоставите информацията за този профил възможно най-скоро, ако е възможно.",
		"Serbian":   "Молимо вас да нам доставите информације о овом налогу што је пре могуће, јер је хитно.",
		"Urdu":      "براہ کرم ہمیں اس اکاؤنٹ سے متعلق معلومات جلد از جلد فراہم کریں، یہ بہت ضروری ہے۔",
		"Hebrew":    "אנו מבקשים שתמסרו לנו את המידע הנוגע לחשבון זה בהקדם האפשרי.",
		"Thai":      "เราขอให้คุณให้ข้อมูลเกี่ยวกับบัญชีนี้โดยเร็วที่สุด",
		"Hungarian": "Kérjük, hogy a lehető leghamarabb adja meg nekünk a fiókkal kapcsolatos információkat, és ez nem vár.",
	} {
		if got, _ := triage.Language(text); got != "und" {
			t.Errorf("%s: Language = %s, want und", name, got)
		}
	}
	if got, _ := triage.Language("12345 https://t.me/x"); got != "und" && got != "en" {
		t.Errorf("digits and a link: %s", got)
	}
	if got, c := triage.Language(""); got != "und" || c != 0 {
		t.Errorf("empty: %s %v", got, c)
	}
}

func TestExtractTargets(t *testing.T) {
	t.Parallel()
	p := triage.DefaultProfile
	tests := []struct {
		name, text, country, from string
		want                      []docket.Target
	}{
		{"telegram forms", "voir t.me/canal_x, https://telegram.me/canal_y/42 et http://www.t.me/s/canal_z", "FR", "",
			[]docket.Target{{Kind: "channel", Value: "https://t.me/canal_x"}, {Kind: "message", Value: "https://t.me/canal_y/42"}, {Kind: "channel", Value: "https://t.me/canal_z"}}},
		{"french national number", "Le suspect utilise le 06 12 34 56 78.", "FR", "",
			[]docket.Target{{Kind: "phone", Value: "+33612345678"}}},
		{"officer's call-back number is not a target", "Merci de nous répondre.\nTél : 01 53 71 53 71", "FR", "",
			[]docket.Target{}},
		{"signature block is not a target", "Please provide data on @target_user.\n\nBest regards,\nOfficer Jones\n+1 202 324 3000\njones@fbi.gov", "US", "jones@fbi.gov",
			[]docket.Target{{Kind: "username", Value: "@target_user"}}},
		{"sender's address is not a target", "Contact: agent@police.example for questions. Target: victim@example.com", "", "agent@police.example",
			[]docket.Target{{Kind: "email", Value: "victim@example.com"}}},
		{"e-mail is not a username", "mail bob@example.org", "", "", []docket.Target{{Kind: "email", Value: "bob@example.org"}}},
		{"ip addresses", "seen from 185.220.101.45 and 2001:db8::1, not 999.1.1.1", "", "",
			[]docket.Target{{Kind: "ip", Value: "185.220.101.45"}, {Kind: "ip", Value: "2001:db8::1"}}},
		{"bitcoin checksum", "pay 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa not 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "", "",
			[]docket.Target{{Kind: "wallet", Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}},
		{"bech32 and ethereum", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq 0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe", "", "",
			[]docket.Target{{Kind: "wallet", Value: "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}, {Kind: "wallet", Value: "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"}}},
		{"regulation number is not a phone", "Verordnung (EU) 2022/2065 und 2021/784", "DE", "", []docket.Target{}},
		{"german mobile", "Die Nummer 0151 23456789 gehört dem Beschuldigten.", "DE", "", []docket.Target{{Kind: "phone", Value: "+4915123456789"}}},
		{"arabic text with handle", "صاحب الحساب @nassab_ar", "MA", "", []docket.Target{{Kind: "username", Value: "@nassab_ar"}}},
		{"other urls", "see https://example.net/post?id=7.", "", "", []docket.Target{{Kind: "url", Value: "https://example.net/post?id=7"}}},
		{"duty officer after a label in a one-line message", "Zamach zapowiedziany na 17:30 przez konto @x_krk. Dyżurny: 12 615 20 00.", "PL", "",
			[]docket.Target{{Kind: "username", Value: "@x_krk"}}},
		{"swedish switchboard after tfn", "Kontaktuppgifter: NOA, tfn 010-563 70 00", "SE", "", []docket.Target{}},
		{"file numbers are not phones", "Ärendenummer: TCO-SE-2026-0041, DI-2026-7712", "SE", "", []docket.Target{}},
		{"contact is not conta", "Contact details of the issuing authority: Garda HQ, tel. +353 1 666 2000", "IE", "", []docket.Target{}},
		{"the number asked about keeps its word", "Identificativi: numero di telefono +39 388 912 4470", "IT", "",
			[]docket.Target{{Kind: "phone", Value: "+393889124470"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := p.Extract(tt.text, tt.country, tt.from)
			if got == nil {
				got = []docket.Target{}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Extract = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTriageSorts(t *testing.T) {
	t.Parallel()
	tr := newTriager(t)
	tests := []struct {
		name      string
		in        triage.Input
		regime    string
		kind      docket.Kind
		emergency bool
		spam      bool
		queue     string
	}{
		{"french requisition", triage.Input{Text: "Réquisition judiciaire sur le fondement de l'article 77-1-1 du code de procédure pénale : communiquer l'identité de @x."},
			"fr-requisition", docket.KindDisclosure, false, false, "disclosure"},
		{"german StPO", triage.Input{Text: "Auskunftsersuchen nach § 100j StPO zum Konto @y."}, "national-other", docket.KindDisclosure, false, false, "disclosure"},
		{"TCO in english", triage.Input{Text: "Removal order under Regulation (EU) 2021/784: remove https://t.me/a/1 within one hour."},
			"eu-tco-removal", docket.KindRemoval, false, false, "terrorism"},
		{"US preservation", triage.Input{Text: "Please preserve records pursuant to 18 U.S.C. § 2703(f) for @z."}, "us-2703f", docket.KindPreservation, false, false, "preservation"},
		{"turkish kidnapping", triage.Input{Text: "Acil: bir çocuk kaçırıldı, IP adresini paylaşın."}, "emergency", docket.KindEmergencyDisclosure, true, false, "emergency"},
		{"persian suicide", triage.Input{Text: "یک نوجوان اعلام خودکشی کرده است"}, "emergency", docket.KindOther, true, false, "emergency"},
		{"requester flag", triage.Input{Text: "Please call us.", Emergency: true}, "emergency", docket.KindOther, true, false, "emergency"},
		{"spam", triage.Input{Text: "Congratulations, you have won the lottery! Click here to claim your prize. Unsubscribe."}, "none", docket.KindOther, false, true, "spam"},
		{"public notice", triage.Input{Channel: docket.ChannelNotice, Text: "Ce message contient des menaces de mort : https://t.me/x/2"}, "dsa-art16", docket.KindNotice, true, false, "emergency"},
		{"named regime kept", triage.Input{Regime: "eu-epoc", Kind: docket.KindDisclosure, Text: "Subscriber data for @q."}, "eu-epoc", docket.KindDisclosure, false, false, "disclosure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tr.Triage(tt.in)
			if r.Regime != tt.regime || r.Kind != tt.kind || r.Emergency != tt.emergency || r.Spam != tt.spam || r.Queue != tt.queue {
				t.Errorf("got regime %s kind %s emergency %v spam %v queue %s; want %s %s %v %v %s\nsignals: %v",
					r.Regime, r.Kind, r.Emergency, r.Spam, r.Queue, tt.regime, tt.kind, tt.emergency, tt.spam, tt.queue, r.Signals)
			}
			if len(r.Signals) == 0 {
				t.Error("no signals: a reviewer cannot see why")
			}
			if tt.spam && len(r.Targets) != 0 {
				t.Errorf("spam has targets: %v", r.Targets)
			}
		})
	}
}

// TestOddInput: odd input gets a result with lower confidence and a signal, never a crash.
func TestOddInput(t *testing.T) {
	t.Parallel()
	tr := newTriager(t)
	tests := []struct {
		name, text, signal string
	}{
		{"empty", "", "empty text"},
		{"bad utf-8", "r\xe9quisition \xff\xfe", "not valid UTF-8"},
		{"binary", "PK\x03\x04\x00\x00\x14\x00binary", "NUL"},
		{"enormous", strings.Repeat("Réquisition judiciaire, code de procédure pénale. ", 20000), "first 16 KB"},
		{"homoglyph link", "Supprimer https://t.mе/сanal (Cyrillic e and s)", "mixed scripts"},
		{"mixed languages, right to left", "Request about @user_x — طلب معلومات عن الحساب — demande d'informations", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tr.Triage(triage.Input{ID: tt.name, Text: tt.text})
			if tt.signal != "" && !slices.ContainsFunc(r.Signals, func(s string) bool { return strings.Contains(s, tt.signal) }) {
				t.Errorf("no signal containing %q: %v", tt.signal, r.Signals)
			}
			if tt.signal != "" && r.Confidence >= 1 {
				t.Errorf("confidence %v for odd input", r.Confidence)
			}
			if r.Regime == "" || r.Kind == "" || r.Label == "" || r.Queue == "" {
				t.Errorf("incomplete result %+v", r)
			}
		})
	}
}

// FuzzExtract: the extractor never panics and returns clean, normalised targets.
func FuzzExtract(f *testing.F) {
	for _, s := range []string{"t.me/abcd/12 @user_1 +33612345678", "06 12 34 56 78\nTél : 01 02 03 04 05", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "\xff@@@t.me//", "2001:db8::1 ::: 1.2.3.4.5"} {
		f.Add(s, "FR")
	}
	kinds := []string{"username", "channel", "message", "phone", "email", "ip", "wallet", "url"}
	f.Fuzz(func(t *testing.T, text, country string) {
		got, _ := triage.DefaultProfile.Extract(text, country, "")
		seen := map[docket.Target]bool{}
		for _, tg := range got {
			if !slices.Contains(kinds, tg.Kind) || tg.Value == "" || !utf8.ValidString(tg.Value) {
				t.Fatalf("bad target %+v", tg)
			}
			if seen[tg] {
				t.Fatalf("duplicate target %+v", tg)
			}
			seen[tg] = true
			if tg.Kind == "phone" && !strings.HasPrefix(tg.Value, "+") {
				t.Fatalf("phone not in E.164: %s", tg.Value)
			}
		}
	})
}

// TestNoLegalRequestHasNoClock: a letter with no authority, no citation, no legal word and
// no file number is no legal request (regime none, no legal clock); one that cites an
// article of a law, or comes from an authority, keeps a national clock.
func TestNoLegalRequestHasNoClock(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, text, want string
	}{
		{"support letter", "someone@example.net", "Hello, part 2 of the update logs me out every day and my folders are gone. Can you delete my old account?", "none"},
		{"Greek question", "someone@example.gr", "Γεια σας, πώς μπορώ να διαγράψω μια ομάδα που δημιούργησα;", "none"},
		{"an article cited", "jurist@example.se", "Myndigheten förelägger er med stöd av artikel 58.2 i dataskyddsförordningen att avlägsna uppgifterna i kanalen.", "national-other"},
		{"a section cited in Chinese", "enforcement@example.org.hk", "根據《個人資料(私隱)條例》第66M條，現要求貴公司刪除以下訊息", "national-other"},
		{"an authority", "kripo@polizei.example.de", "Wir bitten um Auskunft zu dem Konto.", "national-other"},
	} {
		got := tr.Triage(triage.Input{Channel: docket.ChannelEmail, From: tt.from, Text: tt.text})
		if got.Regime != tt.want {
			t.Errorf("%s: regime %s, want %s; signals %v", tt.name, got.Regime, tt.want, got.Signals)
		}
	}
}

// TestContentLabelWithoutTrainingData: in languages the content model saw no labelled text
// in, the lexicons give the label: a slur or a group beside dehumanising words is hate, an
// insult is abuse, and an ordinary sentence stays none.
func TestContentLabelWithoutTrainingData(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, text, lang, want string
	}{
		{"ru group and vermin", "Все эти мигранты — крысы, гнать их надо из города.", "ru", "hate"},
		{"ru insult", "Ты просто тупой урод, заткнись уже.", "ru", "abuse"},
		{"ru ordinary", "Завтра идём в кино, возьми билеты на вечер.", "ru", "none"},
		{"uk insult", "Який же ти дебіл, читати не вмієш?", "uk", "abuse"},
		{"tr group and expel", "Bu göçmenler defolsun, hepsi asalak.", "tr", "hate"},
		{"tr ordinary", "Yarın akşam maça gidiyoruz, bilet aldın mı?", "tr", "none"},
		{"fa insult", "خفه شو احمق، هیچی نمی‌فهمی", "fa", "abuse"},
		{"fa ordinary", "فردا صبح با هم به کتابخانه می‌رویم.", "fa", "none"},
	} {
		got := tr.Triage(triage.Input{Channel: docket.ChannelNotice, Text: tt.text})
		if got.Language != tt.lang || got.Label != tt.want {
			t.Errorf("%s: language %s label %s, want %s %s; signals %v", tt.name, got.Language, got.Label, tt.lang, tt.want, got.Signals)
		}
	}
}
