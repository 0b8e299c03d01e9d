package triage_test

import (
	"strings"
	"testing"

	"github.com/docket-dev/docket"
	"github.com/docket-dev/docket/triage"
)

// TestThinClassesInEveryLanguage: the classes widened in the third pass of the lexicons
// (danger, missing, kidnap, child, means, time, address, form), one or two sentences a
// language written for this test as people and police say it, with and without diacritics;
// and ordinary sentences that share a word with them and must stay calm.
func TestThinClassesInEveryLanguage(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, text string
		want       bool
	}{
		{"en missing niece", "My niece (15) has not come home since Friday and her phone is switched off.", true},
		{"en high-risk missing", "Police appeal: a high-risk missing man, 80, left home without his medication.", true},
		{"en address with a time", "Someone posted: this is her house, we are going there after work.", true},
		{"en fears for her life", "Her mother fears for her life; the girl is being beaten by his friends.", true},
		{"de Enkelin", "Unsere Enkelin ist seit gestern nicht mehr erreichbar und ohne ihre Medikamente unterwegs.", true},
		{"de etwas anzutun", "Er hat heute gedroht, sich etwas anzutun.", true},
		{"fr nièce", "Ma nièce de 14 ans n'est pas rentrée depuis hier soir, son portable est éteint.", true},
		{"es sobrina", "Mi sobrina no ha llegado a casa y tiene el celular apagado.", true},
		{"es desaparición de alto riesgo", "Se trata de una desaparición de alto riesgo: el hombre padece demencia.", true},
		{"it quattordicenne", "La quattordicenne è scappata di casa ieri sera e non risponde al telefono.", true},
		{"pt sobrinho", "Meu sobrinho de 12 anos fugiu de casa e está sem os remédios.", true},
		{"pt tocar fogo", "O ex-marido mandou: vou tocar fogo na sua casa.", true},
		{"ro nepoata", "Nepoata mea de 13 ani nu a mai venit acasă de ieri și nu mai răspunde la telefon.", true},
		{"nl zorgwekkende vermissing", "Zorgwekkende vermissing: man van 80 vertrok zonder zijn medicijnen.", true},
		{"sv systerdotter", "Min systerdotter kom aldrig hem efter skolan igår.", true},
		{"pl córka", "Córka sąsiadów zaginęła, telefon wyłączony od rana.", true},
		{"ru сын", "Сын подруги ушёл из дома и не выходит на связь.", true},
		{"uk онука", "Онука не прийшла додому після уроків.", true},
		{"el ανιψιά", "Η ανιψιά μου δεν γύρισε σπίτι χθες το βράδυ.", true},
		{"tr yeğen", "Yeğenim dün akşamdan beri eve gelmedi, telefonu kapalı.", true},
		{"ar ابنتها", "ابنتها خرجت ولم تعد منذ أمس وهاتفها مغلق.", true},
		{"fa خواهرزاده", "خواهرزاده‌ام از دیروز خونه نیومده و گوشیش خاموشه.", true},
		{"hi भतीजी", "मेरी भतीजी कल से घर नहीं आई है।", true},
		{"hi romanised", "meri bhatiji kal se ghar nahi aayi, phone switch off hai", true},
		{"id keponakan", "Keponakan saya tidak bisa dihubungi sejak kemarin sore.", true},
		{"ja 中2", "中2の娘が昨日から音信不通です。", true},
		{"ja 車に連れ込", "友達が知らない男に車に連れ込まれた。", true},
		{"ko 조카", "조카가 어제부터 연락두절이에요.", true},
		{"vi không dấu", "Chau be 6 tuoi bo nha di tu hom qua.", true},
		{"zh 外甥", "我外甥昨天离家出走了，手机关机。", true},
		{"en ordinary: at a house now", "Yep, at derek's house now, see you Sunday <3", false},
		{"en ordinary: medical text", "Usually the person is unconscious, in children too. I'll call you now.", false},
		{"fr ordinary: fils", "Mon fils a trouvé un job d'été au balcon du théâtre, il commence demain.", false},
		{"pt ordinary: sumido", "Tá sumido, hein! Vamos marcar hoje?", false},
		{"es ordinary: niñera", "Se busca niñera para dos niños, de lunes a viernes.", false},
		{"ru ordinary: малыш", "Малыш, встретимся сегодня вечером?", false},
		{"ja ordinary: limelight", "新人に主役の座をさらわれた。ボーナスも出してもらえない。", false},
		{"ja ordinary: heat", "命に関わる危険な暑さです。今日は外出を控えてください。", false},
		{"zh ordinary: 今日头条", "今日头条：周末去哪儿玩", false},
		{"ko ordinary: privacy policy", "만 14세 미만 아동의 개인정보는 수집하지 않습니다.", false},
		{"ru ordinary: no threat", "Пострадавший в больнице, угрозы для жизни нет, сообщили сегодня.", false},
		{"pl ordinary: not life-threatening", "Kierowca trafił do szpitala, obrażenia nie zagrażające życiu.", false},
		{"es ordinary: prisons", "Informe sobre las personas privadas de la libertad en los penales del estado.", false},
		{"en ordinary: son at camp", "My son is unreachable this week, he's at summer camp until Sunday.", false},
		{"en ordinary: lives in", "She lives in London and works on the top floor, we meet tonight for dinner.", false},
		{"de ordinary: match", "Der Junge wird gefeiert, er schlägt ihn heute Abend im Elfmeterschießen.", false},
		{"uk ordinary: phone off", "Син сьогодні грає у футбол, телефон вимкнений до вечора.", false},
		{"pt ordinary: social services", "As crianças em situação de risco recebem apoio da prefeitura a partir de hoje.", false},
		{"de ordinary: Kita", "Die Kinder sind heute in der Kita, das Sommerfest ist am Samstag.", false},
	} {
		res := tr.Triage(triage.Input{Channel: docket.ChannelNotice, Text: tt.text})
		if res.Emergency != tt.want {
			t.Errorf("%s: emergency %v, want %v; signals %v", tt.name, res.Emergency, tt.want, res.Signals)
			continue
		}
		if res.Emergency && !strings.Contains(strings.Join(res.Signals, "\n"), "emergency: ") {
			t.Errorf("%s: an emergency without its reason: %v", tt.name, res.Signals)
		}
	}
}

// TestVietnameseWithoutMarks: Vietnamese typed without tone marks is read with the same
// lexicon (terms of more than one syllable), and a term written both ways counts once.
func TestVietnameseWithoutMarks(t *testing.T) {
	t.Parallel()
	tr, err := triage.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, text string
		want       bool
	}{
		{"two farewells", "ban em vua dang: xin loi vi tat ca, cam on moi nguoi. https://t.me/abc_hn/2", true},
		{"one farewell, listed both ways in the lexicon", "vinh biet! hen gap lai o tran sau nhe", false},
		{"ordinary", "cam on moi nguoi da ung ho shop, hen gap lai tuan sau", false},
	} {
		got := tr.Triage(triage.Input{Channel: docket.ChannelNotice, Text: tt.text})
		if got.Emergency != tt.want {
			t.Errorf("%s: emergency %v, want %v; signals %v", tt.name, got.Emergency, tt.want, got.Signals)
		}
	}
}
