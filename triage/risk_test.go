package triage_test

import (
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/triage"
)

// TestRiskToLife: emergencies said in many languages and ways (with and without urgency
// words, from authorities and from the public), and the hard negatives: removal orders full
// of violent words, demands under national law, an angry notice, a scam dressed as a police
// letter. Every emergency says why.
func TestRiskToLife(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   triage.Input
		want bool
	}{
		{"US EDR", triage.Input{From: "duty@pd.example.gov", Text: "Emergency disclosure request pursuant to 18 U.S.C. 2702(b)(8) and (c)(4). A minor is at risk of imminent harm. Provide subscriber information for @x."}, true},
		{"Gefahr im Verzug", triage.Input{From: "lka@polizei.example.de", Text: "Gefahr im Verzug: wir bitten um sofortige Herausgabe der Bestandsdaten zu @y."}, true},
		{"perigo iminente", triage.Input{Text: "Há perigo iminente para a vida de uma mulher; solicitamos os dados do utilizador @z."}, true},
		{"угроза жизни", triage.Input{Text: "Существует угроза жизни несовершеннолетнего, просим срочно предоставить данные."}, true},
		{"pt threat tonight", triage.Input{Channel: docket.ChannelNotice, Text: "Ele escreveu que vai matar a ex-mulher hoje à noite: https://t.me/a/1"}, true},
		{"calm farewell with pills", triage.Input{From: "a@mail.example", Text: "My friend posted a photo of sleeping pills and wrote: thank you for everything, goodbye. https://t.me/b/2"}, true},
		{"zh suicide", triage.Input{Text: "我朋友在频道里说她不想活了，今晚就结束。"}, true},
		{"ja kidnapping", triage.Input{Text: "娘が誘拐され、身代金を要求されています。"}, true},
		{"ko school attack", triage.Input{Text: "내일 학교에서 총기 난사를 하겠다는 글이 올라왔습니다."}, true},
		{"hi threat", triage.Input{Text: "उसने लिखा है कि वह आज रात उसे जान से मार देगा।"}, true},
		{"uk grooming", triage.Input{Text: "Дорослий чоловік домовився зустрітися з 12-річною дитиною в суботу і просив нікому не казати."}, true},
		{"ro address and tonight", triage.Input{From: "x@mail.example", Text: "Cineva a publicat adresa ei cu mesajul: în seara asta venim la ea."}, true},
		{"fa bomb", triage.Input{Text: "او تهدید به بمب‌گذاری در مدرسه فردا کرده است."}, true},
		{"TCO order with attentat", triage.Input{From: "pharos@interieur.gouv.fr", Text: "Injonction de retrait au titre du règlement (UE) 2021/784 : vidéo faisant l'apologie d'un attentat à l'explosif. Retirer https://t.me/c/3 dans l'heure."}, false},
		{"TCO order with Anschlag", triage.Input{From: "bka@bka.example.de", Text: "Entfernungsanordnung nach Verordnung (EU) 2021/784: Video verherrlicht den Anschlag mit Sprengstoff, https://t.me/d/4 binnen einer Stunde entfernen."}, false},
		{"Russian federal law demand", triage.Input{From: "rkn@example.ru", Text: "На основании Федерального закона № 149-ФЗ требуем ограничить доступ к материалам экстремистского характера в канале https://t.me/e."}, false},
		{"angry notice", triage.Input{Channel: docket.ChannelNotice, Text: "This user keeps insulting me and calls me stupid in https://t.me/f/5. Please remove it."}, false},
		{"scam dressed as police", triage.Input{From: "fine@cyber-police-dept.com", Text: "CYBER POLICE. Your server hosts illegal content. Pay the fine of 3,000 USD in bitcoin within 48 hours to avoid prosecution."}, false},
	}
	for _, tt := range tests {
		res := tr.Triage(tt.in)
		if res.Emergency != tt.want {
			t.Errorf("%s: emergency %v, want %v; signals %v", tt.name, res.Emergency, tt.want, res.Signals)
			continue
		}
		if res.Emergency && !strings.Contains(strings.Join(res.Signals, "\n"), "emergency: ") {
			t.Errorf("%s: an emergency without its reason: %v", tt.name, res.Signals)
		}
	}
}

// TestSpamNeverAnAuthority: an official sender, a statute or a case reference outweighs
// marketing words; scams sent to the legal address are spam, with regime none.
func TestSpamNeverAnAuthority(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		in   triage.Input
		spam bool
	}{
		{"Home Office letter about crypto fraud", triage.Input{From: "unit@homeoffice.gov.uk", Text: "Investigation into a crypto investment fraud promising guaranteed returns and bitcoin bonuses: please provide subscriber data for @g."}, false},
		{"police letter from a webmail address", triage.Input{From: "si.kanpur@gmail.com", Text: "Police Station Kanpur, FIR No. 112/2026 under section 318 BNS: the accused advertised a lottery prize and discount offers; provide details of @h."}, false},
		{"phishing", triage.Input{From: "security@telegram-verify-center.com", Text: "Verify your account within 24 hours or it will be permanently deleted: https://telegram-verify-center.com/login"}, true},
		{"bulk accounts", triage.Input{From: "sales@accs.shop", Text: "Aged accounts in bulk, 100 accounts for 80 USDT, wholesale price list."}, true},
	} {
		res := tr.Triage(tt.in)
		if res.Spam != tt.spam {
			t.Errorf("%s: spam %v, want %v; signals %v", tt.name, res.Spam, tt.spam, res.Signals)
		}
		if res.Spam && (res.Regime != "none" || res.Kind != docket.KindOther) {
			t.Errorf("%s: spam with regime %s kind %s", tt.name, res.Regime, res.Kind)
		}
	}
}

// TestPastAndBenignWords: news of an attack that is over, and threatening words the sender
// says are a game or a quote, are no emergency — but a sender's "only a joke" never
// outweighs a posted address, a farewell or an attack announced for a time.
func TestPastAndBenignWords(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, text string
		want       bool
	}{
		{"en game talk", "In our clan chat someone wrote \"I'll kill you all tonight\", it was about the game at 9pm, not a real threat. https://t.me/clan_chat/12", false},
		{"en film line", "This channel posted the famous movie quote \"I will find you and I will kill you\". Just a movie quote, reported by a new member.", false},
		{"en news of last month", "This news channel keeps reposting the video of the shooting at the mall last month, with the wounded visible.", false},
		{"es noticia pasada", "El canal repite el vídeo del tiroteo en el centro comercial del año pasado.", false},
		{"en joke and an address", "He says it's just a joke but he posted her address, 14 Elm Street, and wrote he will kill her tonight.", true},
		{"en joke and a farewell", "They say it's just a joke but she wrote \"goodbye everyone, this is my last message\" next to a photo of pills.", true},
		{"en attack with a time", "Tomorrow at noon I will open fire at the mall, everyone will see.", true},
		{"en attack on a place", "He announced a shooting at the school, he has been collecting guns.", true},
	} {
		got := tr.Triage(triage.Input{Channel: docket.ChannelNotice, Text: tt.text})
		if got.Emergency != tt.want {
			t.Errorf("%s: emergency %v, want %v; signals %v", tt.name, got.Emergency, tt.want, got.Signals)
		}
	}
}
