package triage

import (
	"path"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// undFiles are the lexicons of languages outside the set: their texts are "und", and these
// files are there so that an emergency in them still pages.
var undFiles = strings.Fields("bg bn ca cs da et fi he hr hu lt lv ms no sk sl sr sw th tl ur")

// undClasses are the only classes an out-of-set lexicon holds (no spam, official, kind or
// regime words: those need a language's own reading).
var undClasses = strings.Fields("form kill selfharm farewell means kidnap child meet time address threat missing danger weapon attack place removal")

// TestUndLexicons: per out-of-set language, short emergencies (a farewell with pills, a
// threat to kill tonight, an authority's letter saying a life is in danger) and an ordinary
// request (a complaint, a removal order quoting violent propaganda). Each text is "und",
// each emergency pages, each ordinary request does not — and each emergency is found by
// its own language's lexicon alone, not by a neighbour's words.
func TestUndLexicons(t *testing.T) {
	t.Parallel()
	tr, err := New()
	if err != nil {
		t.Fatal(err)
	}
	const police = "duty@police.example"
	tests := []struct {
		lang, name string
		in         Input
		want       bool
	}{
		// Danish
		{"da", "farewell with pills", Input{Text: "Min veninde har lagt et billede af en bunke sovepiller op med teksten: farvel til jer alle, I skal ikke lede efter mig."}, true},
		{"da", "police: life in danger", Input{From: police, Text: "Københavns Politi anmoder om øjeblikkelig udlevering af abonnentoplysninger for brugeren @mads_k. Der er overhængende fare for en ung kvindes liv, og vi kan ikke vente på en retskendelse."}, true},
		{"da", "removal order quoting an attack", Input{From: police, Text: "Påbud om fjernelse i henhold til forordning (EU) 2021/784: videoen på https://t.me/kanal_x/12 forherliger et angreb med bomber og skud mod en skole og skal fjernes inden for en time."}, false},
		// Norwegian
		{"no", "threat to kill tonight", Input{Text: "Eksen hennes skrev at han skal komme hjem til henne i kveld og drepe henne, og jeg er redd for at han mener det."}, true},
		{"no", "police: life in danger", Input{From: police, Text: "Oslo politidistrikt ber om umiddelbar utlevering av opplysninger om brukeren @x_oslo. Det er fare for livet til en 15 år gammel jente, og saken haster."}, true},
		{"no", "complaint", Input{Text: "Jeg vil klage på en bruker som har lagt ut bilder av bilen min uten tillatelse. Kan dere fjerne innlegget? Det er ikke første gang."}, false},
		// Finnish
		{"fi", "farewell with pills", Input{Text: "Ystäväni julkaisi kuvan, jossa on kasa unilääkkeitä, ja kirjoitti: hyvästi, en jaksa enää."}, true},
		{"fi", "threat to kill tonight", Input{Text: "Entinen poikaystävä uhkasi viestissä, että hän tulee tänä iltana ja tappaa hänet. Hän tietää missä me asumme."}, true},
		{"fi", "removal order quoting an attack", Input{From: police, Text: "Poistomääräys asetuksen (EU) 2021/784 nojalla: video osoitteessa https://t.me/kanava/5 ihannoi pommi-iskua kouluun, ja se on poistettava tunnin kuluessa."}, false},
		// Hungarian
		{"hu", "threat to kill tonight", Input{Text: "Az exférjem azt írta, hogy ma este megöl engem és a gyerekeket. Kérem, segítsenek!"}, true},
		{"hu", "police: life in danger", Input{From: police, Text: "A rendőrség sürgősen kéri a @x_bp felhasználó adatait, mert egy nő élete közvetlen veszélyben van."}, true},
		{"hu", "complaint", Input{Text: "Panaszt szeretnék tenni egy felhasználó ellen, aki hamis termékeket árul a csatornáján, és nem válaszol az üzeneteimre."}, false},
		// Czech
		{"cs", "farewell with pills", Input{Text: "Kamarádka dnes v noci napsala: sbohem, mám vás ráda. Na fotce je hromada prášků na spaní."}, true},
		{"cs", "police: life in danger", Input{From: police, Text: "Policie České republiky žádá o okamžité poskytnutí údajů o uživateli @x_cz. Jde o bezprostřední ohrožení života nezletilé dívky."}, true},
		{"cs", "removal order quoting an attack", Input{From: police, Text: "Příkaz k odstranění podle nařízení (EU) 2021/784: video na https://t.me/x/9 oslavuje útok na školu a střelbu, odstraňte ho do jedné hodiny."}, false},
		// Slovak
		{"sk", "threat to kill tonight", Input{Text: "Bývalý priateľ jej napísal, že dnes večer príde k nej domov a zabije ju. Prosím, pomôžte, je to vážne a ona sa bojí."}, true},
		{"sk", "farewell with pills", Input{Text: "Môj kamarát napísal na sieti: zbohom, ďakujem za všetko. Na fotke sú tabletky, ktoré si nazbieral."}, true},
		{"sk", "complaint", Input{Text: "Chcem sa sťažovať na používateľa, ktorý na svojom kanáli predáva falošné vstupenky a nereaguje na správy."}, false},
		// Bulgarian
		{"bg", "police: life in danger", Input{From: police, Text: "Столична дирекция на вътрешните работи моли за незабавно предоставяне на данни за потребителя @x_sof. Налице е пряка опасност за живота на непълнолетно момиче."}, true},
		{"bg", "threat to kill tonight", Input{Text: "Бившият ѝ приятел ѝ писа, че довечера ще дойде у тях и ще я убие."}, true},
		{"bg", "removal order quoting an attack", Input{From: police, Text: "Заповед за премахване съгласно Регламент (ЕС) 2021/784: видеото в https://t.me/x/3 възхвалява бомбен атентат и трябва да бъде премахнато до един час."}, false},
		// Serbian, Cyrillic and Latin
		{"sr", "threat to kill tonight (Cyrillic)", Input{Text: "Бивши момак јој је написао да ће вечерас доћи и да ће је убити."}, true},
		{"sr", "police: life in danger (Cyrillic)", Input{From: police, Text: "Полицијска управа за град Београд тражи хитно достављање података о кориснику @x_bg, јер постоји непосредна опасност по живот малолетне девојке."}, true},
		{"sr", "farewell with pills (Latin)", Input{Text: "Drugarica je noćas napisala: zbogom, volim vas sve. Na slici je gomila tableta za spavanje."}, true},
		{"sr", "complaint (Latin)", Input{Text: "Želim da prijavim korisnika koji na svom kanalu prodaje lažne karte za koncert i ne odgovara na poruke."}, false},
		// Croatian, Bosnian
		{"hr", "threat to kill tonight", Input{Text: "Bivši dečko joj je poslao poruku da će je večeras ubiti i da zna gdje živi."}, true},
		{"hr", "police: life in danger", Input{From: police, Text: "Policijska uprava zagrebačka traži hitnu dostavu podataka o korisniku @x_zg jer postoji opasnost po život maloljetne djevojke."}, true},
		{"hr", "removal order quoting an attack", Input{From: police, Text: "Nalog za uklanjanje prema Uredbi (EU) 2021/784: video na https://t.me/x/4 veliča teroristički napad na školu i mora se ukloniti u roku od jednog sata."}, false},
		// Slovenian
		{"sl", "farewell with pills", Input{Text: "Prijateljica je ponoči objavila: zbogom, rada vas imam. Na sliki je kup tablet za spanje."}, true},
		{"sl", "threat to kill tonight", Input{Text: "Nekdanji fant ji je napisal, da jo bo nocoj ubil, in zdaj se ne oglaša."}, true},
		{"sl", "complaint", Input{Text: "Rad bi se pritožil nad uporabnikom, ki na svojem kanalu prodaja ponarejene vstopnice in ne odgovarja na sporočila."}, false},
		// Hebrew
		{"he", "threat to kill tonight", Input{Text: "האקס שלה כתב לה שהוא יבוא הלילה ויהרוג אותה."}, true},
		{"he", "police: life in danger", Input{From: police, Text: "משטרת ישראל מבקשת מסירה מיידית של פרטי המשתמש @x_il. קיימת סכנת חיים ממשית לנערה בת 15."}, true},
		{"he", "complaint", Input{Text: "אני רוצה להתלונן על משתמש שמוכר כרטיסים מזויפים בערוץ שלו ולא עונה להודעות."}, false},
		// Catalan
		{"ca", "farewell with pills", Input{Text: "La meva amiga ha penjat una foto amb un grapat de pastilles i ha escrit: adéu a tothom, gràcies per tot."}, true},
		{"ca", "police: life in danger", Input{From: police, Text: "Els Mossos d'Esquadra sol·liciten les dades de l'usuari @x_bcn de manera immediata: hi ha un perill imminent per a la vida d'una menor."}, true},
		{"ca", "complaint", Input{Text: "Vull queixar-me d'un usuari que ven entrades falses al seu canal i no respon mai als missatges."}, false},
		// Thai
		{"th", "threat to kill tonight", Input{Text: "แฟนเก่าส่งข้อความมาว่าคืนนี้จะมาฆ่าเธอที่บ้าน"}, true},
		{"th", "farewell with pills", Input{Text: "เพื่อนโพสต์รูปยานอนหลับเต็มกำมือ แล้วเขียนว่า ลาก่อนนะทุกคน"}, true},
		{"th", "complaint", Input{Text: "ผมอยากร้องเรียนผู้ใช้ที่ขายบัตรคอนเสิร์ตปลอมในช่องของเขา และไม่ตอบข้อความ"}, false},
		// Malay
		{"ms", "farewell with pills", Input{Text: "Kawan saya muat naik gambar pil tidur dan tulis: bila korang baca ni, aku dah tak ada."}, true},
		{"ms", "police: life in danger", Input{From: police, Text: "Polis Diraja Malaysia memohon maklumat pengguna @x_kl dengan segera kerana terdapat ancaman terhadap nyawa seorang remaja perempuan."}, true},
		{"ms", "complaint", Input{Text: "Saya ingin membuat aduan tentang pengguna yang menjual tiket palsu di salurannya dan tidak membalas mesej saya."}, false},
		// Tagalog, Filipino
		{"tl", "threat to kill tonight", Input{Text: "Sabi ng dati niyang kasintahan sa mensahe: pupuntahan kita mamayang gabi at papatayin kita."}, true},
		{"tl", "farewell with pills", Input{Text: "Nag-post ang kaibigan ko ng litrato ng maraming tableta at sinulat: paalam na sa inyong lahat."}, true},
		{"tl", "complaint", Input{Text: "Gusto kong magreklamo tungkol sa isang user na nagbebenta ng pekeng tiket sa kanyang channel at hindi sumasagot sa mga mensahe."}, false},
		// Swahili
		{"sw", "police: life in danger", Input{From: police, Text: "Jeshi la Polisi linaomba taarifa za mtumiaji @x_dar mara moja kwa sababu kuna hatari kwa maisha ya msichana mdogo."}, true},
		{"sw", "threat to kill tonight", Input{Text: "Mpenzi wake wa zamani alimtumia ujumbe kwamba atakuja usiku wa leo na atamuua."}, true},
		{"sw", "complaint", Input{Text: "Nataka kulalamika kuhusu mtumiaji anayeuza tiketi bandia kwenye chaneli yake na hajibu ujumbe wangu."}, false},
		// Urdu
		{"ur", "farewell with pills", Input{Text: "میری دوست نے نیند کی گولیوں کی تصویر لگائی اور لکھا: سب کو الوداع، مجھے معاف کر دینا۔"}, true},
		{"ur", "threat to kill tonight", Input{Text: "اس کے سابق شوہر نے پیغام بھیجا کہ آج رات آ کر اسے جان سے مار دوں گا۔"}, true},
		{"ur", "complaint", Input{Text: "میں ایک صارف کی شکایت کرنا چاہتا ہوں جو اپنے چینل پر جعلی ٹکٹ بیچ رہا ہے اور پیغامات کا جواب نہیں دیتا۔"}, false},
		// Bengali
		{"bn", "threat to kill tonight", Input{Text: "ওর প্রাক্তন স্বামী মেসেজে লিখেছে, আজ রাতে এসে ওকে মেরে ফেলবে।"}, true},
		{"bn", "police: life in danger", Input{From: police, Text: "ঢাকা মেট্রোপলিটন পুলিশ ব্যবহারকারী @x_dhaka-এর তথ্য অবিলম্বে চাইছে, কারণ এক কিশোরীর জীবন বিপন্ন।"}, true},
		{"bn", "complaint", Input{Text: "আমি একজন ব্যবহারকারীর বিরুদ্ধে অভিযোগ করতে চাই, যে তার চ্যানেলে নকল টিকিট বিক্রি করছে এবং বার্তার উত্তর দেয় না।"}, false},
		// Lithuanian
		{"lt", "farewell with pills", Input{Text: "Draugė naktį parašė: sudie visiems, atleiskite man. Nuotraukoje matyti krūva migdomųjų tablečių."}, true},
		{"lt", "police: life in danger", Input{From: police, Text: "Lietuvos policija prašo nedelsiant pateikti naudotojo @x_vln duomenis, nes kyla tiesioginis pavojus nepilnametės gyvybei ir tai yra skubu."}, true},
		{"lt", "removal order quoting an attack", Input{From: police, Text: "Įsakymas pašalinti pagal Reglamentą (ES) 2021/784: vaizdo įraše https://t.me/x/5 šlovinamas išpuolis mokykloje, jį būtina pašalinti per valandą."}, false},
		// Latvian
		{"lv", "threat to kill tonight", Input{Text: "Viņas bijušais draugs viņai rakstīja, ka šovakar atbrauks un viņu nogalinās."}, true},
		{"lv", "farewell with pills", Input{Text: "Mans draugs ievietoja bildi ar miega zālēm un uzrakstīja: ardievas, piedodiet man."}, true},
		{"lv", "complaint", Input{Text: "Es vēlos sūdzēties par lietotāju, kurš savā kanālā pārdod viltotas biļetes un neatbild uz ziņām."}, false},
		// Estonian
		{"et", "police: life in danger", Input{From: police, Text: "Politsei- ja Piirivalveamet palub viivitamata kasutaja @x_tln andmeid, sest tegemist on eluohtliku olukorraga."}, true},
		{"et", "threat to kill tonight", Input{Text: "Tema endine poiss-sõber kirjutas, et tuleb täna õhtul ja tapab ta ära."}, true},
		{"et", "removal order quoting an attack", Input{From: police, Text: "Eemaldamismäärus määruse (EL) 2021/784 alusel: video aadressil https://t.me/x/6 ülistab pommirünnakut koolile ja see tuleb eemaldada ühe tunni jooksul."}, false},
		// Common words of these languages that are short terms of the set's lexicons (Dutch
		// "mes", a knife; Indonesian "bom", "gang"; Hindi "gali"; Polish "most", a bridge),
		// near the new time words: these texts are read without the set's other lexicons.
		{"lt", "police letter: mes, nedelsiant", Input{From: police, Text: "Mes prašome nedelsiant pateikti naudotojo @x_lt duomenis dėl sukčiavimo bylos."}, false},
		{"lt", "question: galite, šiandien", Input{Text: "Ar galite man padėti šiandien? Negaliu prisijungti prie paskyros."}, false},
		{"sl", "complaint: bom, jutri", Input{Text: "Jutri bom poklical policijo, če ne odgovorite na mojo pritožbo."}, false},
		{"da", "complaint: gang, i dag", Input{Text: "Det er tredje gang i dag, at han skriver grimme ting til mig. Kan I blokere ham?"}, false},
		{"no", "complaint: gang, i dag", Input{Text: "Dette er andre gang i dag jeg skriver til dere om kontoen min."}, false},
		{"ca", "complaint: mes, avui", Input{Text: "Aquest mes he pagat dues vegades i avui encara no tinc accés al compte."}, false},
		{"hu", "question: eltűnt, most", Input{Text: "Eltűnt a bejegyzésem, most mit tegyek? Segítsenek kérem."}, false},
	}
	seen := map[string]int{}
	for _, tt := range tests {
		seen[tt.lang]++
		res := tr.Triage(tt.in)
		if res.Language != "und" {
			t.Errorf("%s %s: language %s, want und", tt.lang, tt.name, res.Language)
		}
		if res.Emergency != tt.want {
			t.Errorf("%s %s: emergency %v, want %v; signals %v", tt.lang, tt.name, res.Emergency, tt.want, res.Signals)
			continue
		}
		if !tt.want {
			continue
		}
		// The language's own lexicon finds it, without its neighbours'.
		lower := strings.ToLower(strings.TrimSpace("\n" + tt.in.Text))
		sc := newScan(lower)
		own := assessRisk(book.match(sc, tt.lang), sc, "", false, tt.in.From != police)
		sc.release()
		if !own.emergency {
			t.Errorf("%s %s: the emergency is not found by lexicon/%s.txt alone (signals %v)", tt.lang, tt.name, tt.lang, res.Signals)
		}
	}
	for _, l := range undFiles {
		if seen[l] < 3 {
			t.Errorf("%s: %d texts in the table, want at least 3", l, seen[l])
		}
	}
}

// TestUndLanguage: texts outside the set are "und", with the language outside the set that
// a strong sign shows, so that they are read with the out-of-set lexicons; their neighbours
// in the set keep their language; and an "und" text that nothing places is read with every
// lexicon.
func TestUndLanguage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ text, lang, guess string }{
		{"Han sier at han skal drepe henne i kveld, og jeg er redd.", "und", "da"},
		{"Det er tredje gang i dag, at han skriver grimme ting til mig.", "und", "da"},
		{"Napísal, že ju dnes večer zabije.", "und", "latin"},
		{"Policijska uprava traži hitnu dostavu podataka o korisniku jer postoji opasnost po život.", "und", "latin"},
		{"Mans draugs ievietoja bildi ar miega zālēm un uzrakstīja: ardievas, piedodiet man.", "und", "latin"},
		{"Tema endine poiss-sõber kirjutas, et tuleb täna õhtul ja tapab ta ära.", "und", "et"},
		{"Els Mossos sol·liciten les dades de l'usuari: hi ha un perill imminent per a la vida d'una menor.", "und", "ca"},
		{"Polis memohon maklumat pengguna dengan segera kerana terdapat ancaman terhadap nyawa.", "und", "ms"},
		{"Sabi ng dati niyang kasintahan sa mensahe: pupuntahan kita mamayang gabi at papatayin kita.", "und", "tl"},
		{"Той писа, че довечера ще я убие.", "und", "bg"},
		{"Бивши момак јој је написао да ће вечерас доћи.", "und", "sr"},
		{"האקס שלה כתב לה שהוא יבוא הלילה.", "und", "he"},
		{"แฟนเก่าส่งข้อความมาว่าคืนนี้จะมาหาเธอที่บ้าน", "und", "th"},
		{"ওর প্রাক্তন স্বামী মেসেজে লিখেছে, আজ রাতে আসবে।", "und", "bn"},
		{"اس کے سابق شوہر نے پیغام بھیجا کہ آج رات آئے گا۔", "und", "ur"},
		// the neighbours in the set
		{"Han skriver att han ska döda henne i kväll och att han vet var hon bor.", "sv", ""},
		{"Dia bilang mau membunuh istrinya malam ini karena dia tidak tahan lagi.", "id", ""},
		{"Ha escrito que la matará esta noche y que sabe dónde vive.", "es", ""},
		{"Ha scritto che la ucciderà stasera e che sa dove abita.", "it", ""},
		{"Escreveu que a vai matar esta noite e que sabe onde ela mora.", "pt", ""},
		{"Napisał, że dziś wieczorem ją zabije, bo wie, gdzie mieszka.", "pl", ""},
		{"Он написал, что сегодня вечером убьёт её, потому что знает, где она живёт.", "ru", ""},
	} {
		lang, _, guess := detect(strings.ToLower(tt.text), true)
		if lang != tt.lang || guess != tt.guess {
			t.Errorf("%q: %s %q, want %s %q", tt.text, lang, guess, tt.lang, tt.guess)
		}
	}
	if got := undLexicons(""); !slices.Equal(got, allLexicons) {
		t.Errorf("an und text that nothing places reads %v, want every lexicon", got)
	}
	lt := undLexicons("lt")
	for _, l := range []string{"lt", "sl", "en", "xx"} {
		if !slices.Contains(lt, l) {
			t.Errorf("a Lithuanian text does not read %s.txt: %v", l, lt)
		}
	}
	for _, l := range []string{"nl", "id", "hi", "pl"} {
		if slices.Contains(lt, l) {
			t.Errorf("a Lithuanian text reads %s.txt", l)
		}
	}
	if ur := undLexicons("ur"); !slices.Contains(ur, "fa") || !slices.Contains(ur, "ar") {
		t.Errorf("an Urdu text does not read Persian and Arabic: %v", ur)
	}
	if !slices.Equal(outOfSetLexicons, undFiles) {
		t.Errorf("lexicons outside the set: %v, want %v", outOfSetLexicons, undFiles)
	}
}

// TestUndLexiconFiles: the out-of-set lexicons hold only risk classes, 8 to 30 terms a
// class; terms in alphabetic scripts are stems of four letters or more (or end a word);
// and none of their farewell or meeting terms contains another lexicon's (or its own) —
// two farewells, or two meeting words, page on their own, so that one phrase must not
// count twice.
func TestUndLexiconFiles(t *testing.T) {
	t.Parallel()
	type term struct {
		lang, class, s string
		t              lexTerm
	}
	var all []term
	for lang, terms := range book.byLang {
		for _, x := range terms {
			all = append(all, term{lang, book.classes[x.class], x.s, x})
		}
	}
	for _, lang := range undFiles {
		if slices.Contains(Languages, lang) {
			t.Errorf("%s is in the set: its lexicon is not read as an out-of-set one", lang)
		}
		data, err := lexiconFiles.ReadFile(path.Join("lexicon", lang+".txt"))
		if err != nil {
			t.Errorf("%s: %v", lang, err)
			continue
		}
		count := map[string]int{}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			class, rest, _ := strings.Cut(line, ":")
			if !slices.Contains(undClasses, class) && class != "unreachable" { // unreachable: optional, only beside a farewell
				t.Errorf("%s: class %q is not one of %v", lang, class, undClasses)
			}
			for _, s := range strings.Split(rest, "|") {
				s = strings.ToLower(strings.TrimSpace(s))
				if s == "" {
					continue
				}
				count[class]++
				r, _ := utf8.DecodeRuneInString(s)
				letters := 0
				for _, c := range s {
					if unicode.IsLetter(c) {
						letters++
					}
				}
				if spacedScript(r) && !strings.HasSuffix(s, "$") && !strings.Contains(s, " ") && letters < 4 {
					t.Errorf("%s %s: %q is a stem shorter than four letters (end it with $)", lang, class, s)
				}
			}
		}
		for _, c := range undClasses {
			if n := count[c]; n < 8 || n > 30 {
				t.Errorf("%s: class %s has %d terms, want 8 to 30", lang, c, n)
			}
		}
	}
	for _, a := range all {
		if !slices.Contains(undFiles, a.lang) || (a.class != "farewell" && a.class != "meet") {
			continue
		}
		for _, b := range all {
			if b.class != a.class || (a.lang == b.lang && a.s == b.s) {
				continue
			}
			// The same farewell in two lexicons is one term (distinct terms are counted);
			// the same meeting word in two counts twice.
			if a.s == b.s && a.class == "farewell" {
				continue
			}
			if twice(a.t, b.t) || twice(b.t, a.t) {
				t.Errorf("%s %s: %q (%s) and %q (%s): one phrase would count twice", a.class, a.lang, a.s, a.lang, b.s, b.lang)
			}
		}
	}
}

// twice reports whether a text that holds term a holds term b at the same place (b inside
// a, where a text would find it), so that one phrase counts as two terms.
func twice(a, b lexTerm) bool {
	for i := 0; i+len(b.s) <= len(a.s); i++ {
		if !strings.HasPrefix(a.s[i:], b.s) {
			continue
		}
		if b.wordStart && i > 0 {
			if r, _ := utf8.DecodeLastRuneInString(a.s[:i]); wordRune(r) {
				continue
			}
		}
		if b.wordEnd && i+len(b.s) < len(a.s) {
			if r, _ := utf8.DecodeRuneInString(a.s[i+len(b.s):]); wordRune(r) {
				continue
			}
		}
		return true
	}
	return false
}

// undCase is a text of a language outside the set and whether it is an emergency.
type undCase struct {
	lang string
	want bool
	from string
	text string
}

const undPolice = "duty@police.example"

// undMore are more texts per language outside the set, written for these tests: missing
// children, kidnappings, grooming, attacks announced, authorities' emergency wording, and
// ordinary requests (a police inquiry with a deadline, a support question, a copyright
// complaint).
var undMore = []undCase{
	// da
	{"da", true, "", "Min søn på 14 år har været savnet siden i går, og han har skrevet til en ven, at han vil tage sit eget liv."},
	{"da", true, "", "Nogen har skrevet i gruppen, at de vil skyde alle på skolen i morgen."},
	{"da", true, "", "Min datter er blevet bortført, og de kræver løsepenge."},
	{"da", false, undPolice, "Politiet efterforsker en sag om bedrageri og anmoder om oplysninger om brugeren @x inden 30 dage."},
	{"da", false, "", "Hej, jeg kan ikke logge ind på min konto og har ikke fået en kode. Kan I hjælpe mig?"},
	{"da", false, "", "Kanalen deler mine fotografier uden tilladelse. Det er en krænkelse af min ophavsret, og jeg beder jer fjerne dem."},
	// no
	{"no", true, "", "Venninnen min har skrevet at hun skal ta livet sitt i natt, og at dette er hennes siste melding."},
	{"no", true, "", "En 13 år gammel jente er savnet, og en voksen mann har bedt henne komme alene til et hotell i kveld."},
	{"no", false, undPolice, "Politiet etterforsker et bedrageri og ber om opplysninger om kontoen @x. Vi ber om svar innen 14 dager."},
	{"no", false, "", "Jeg har glemt passordet mitt og får ikke logget inn. Hva gjør jeg?"},
	// fi
	{"fi", true, "", "Kaverini kirjoitti ryhmään, että hän aikoo tappaa itsensä tänä yönä."},
	{"fi", true, "", "12-vuotias tyttö on kadonnut, ja aikuinen mies on sopinut tapaamisen hänen kanssaan huomenna koulun jälkeen."},
	{"fi", false, undPolice, "Poliisi tutkii petosta ja pyytää käyttäjän @x tunnistetietoja 30 päivän kuluessa."},
	{"fi", false, "", "En pääse kirjautumaan tililleni, koska vahvistuskoodi ei tule. Voitteko auttaa?"},
	{"fi", false, "", "Kanava julkaisee valokuviani ilman lupaa. Pyydän poistamaan ne tekijänoikeuden loukkauksena."},
	// hu
	{"hu", true, "", "A barátnőm azt írta, hogy ma éjjel öngyilkos lesz, és ez az utolsó üzenete."},
	{"hu", true, "", "Valaki azt írta a csoportban, hogy holnap lelövöldöz mindenkit az iskolában."},
	{"hu", false, undPolice, "A rendőrség csalás miatt nyomoz, és kéri a @x felhasználó adatait 30 napon belül."},
	{"hu", false, "", "Nem tudok bejelentkezni a fiókomba, mert nem kapom meg a kódot. Tudnának segíteni?"},
	// cs
	{"cs", true, "", "Můj syn (15 let) se pohřešuje od včerejška a kamarádům napsal, že chce umřít."},
	{"cs", true, "", "Někdo napsal do skupiny, že zítra postřílí všechny ve škole."},
	{"cs", true, "", "Moje dcera byla unesena a únosci chtějí výkupné."},
	{"cs", false, undPolice, "Policie ČR prošetřuje podvod a žádá o poskytnutí údajů o uživateli @x do 30 dnů."},
	{"cs", false, "", "Nemůžu se přihlásit ke svému účtu, nepřišel mi ověřovací kód. Můžete mi pomoct?"},
	{"cs", false, "", "Kanál zveřejňuje moje fotografie bez souhlasu. Žádám o jejich odstranění kvůli porušení autorských práv."},
	// sk
	{"sk", true, "", "Moja dcéra (14 rokov) je nezvestná od včera a kamarátke napísala, že sa chce zabiť."},
	{"sk", true, "", "Niekto napísal do skupiny, že zajtra postrieľa všetkých v škole."},
	{"sk", false, undPolice, "Polícia vyšetruje podvod a žiada o poskytnutie údajov o používateľovi @x do 30 dní."},
	{"sk", false, "", "Neviem sa prihlásiť do svojho účtu, neprišiel mi overovací kód. Môžete mi pomôcť?"},
	// bg
	{"bg", true, "", "Приятелката ми написа, че тази нощ ще се самоубие и че това е последното ѝ съобщение."},
	{"bg", true, "", "Някой написа в групата, че утре ще направи стрелба в училището."},
	{"bg", false, undPolice, "Полицията разследва измама и моли за данни за потребителя @x в срок от 30 дни."},
	{"bg", false, "", "Не мога да вляза в профила си, защото не получавам код. Можете ли да помогнете?"},
	// sr
	{"sr", true, "", "Ćerka mi je nestala juče, a drugarici je napisala da hoće da se ubije."},
	{"sr", true, "", "Неко је написао у групи да ће сутра бити пуцњава у школи."},
	{"sr", false, undPolice, "Полиција истражује превару и тражи податке о кориснику @x у року од 30 дана."},
	{"sr", false, "", "Ne mogu da se prijavim na svoj nalog jer mi ne stiže kod. Možete li da mi pomognete?"},
	// hr
	{"hr", true, "", "Moja kći (13) nestala je jučer, a prijateljici je napisala da se želi ubiti."},
	{"hr", true, "", "Netko je napisao u grupi da će sutra biti pucnjava u školi."},
	{"hr", false, undPolice, "Policija istražuje prijevaru i traži podatke o korisniku @x u roku od 30 dana."},
	{"hr", false, "", "Ne mogu se prijaviti na svoj račun jer mi ne dolazi kod. Možete li mi pomoći?"},
	// sl
	{"sl", true, "", "Hči je včeraj izginila in prijateljici napisala, da hoče umreti."},
	{"sl", true, "", "Nekdo je v skupini napisal, da bo jutri streljanje na šoli."},
	{"sl", false, undPolice, "Policija preiskuje goljufijo in prosi za podatke o uporabniku @x v 30 dneh."},
	{"sl", false, "", "Ne morem se prijaviti v svoj račun, ker ne dobim kode. Mi lahko pomagate?"},
	// he
	{"he", true, "", "חברה שלי כתבה שהיא רוצה למות ושזו ההודעה האחרונה שלה."},
	{"he", true, "", "מישהו כתב בקבוצה שמחר יהיה ירי בבית הספר."},
	{"he", true, "", "הבת שלי נחטפה והחוטפים דורשים דמי כופר."},
	{"he", false, undPolice, "משטרת ישראל חוקרת הונאה ומבקשת את פרטי המשתמש @x בתוך 30 יום."},
	{"he", false, "", "אני לא מצליח להתחבר לחשבון שלי כי לא מגיע לי קוד. אפשר עזרה?"},
	{"he", false, "", "הערוץ מפרסם את התמונות שלי בלי רשות. אני מבקש להסיר אותן בגלל הפרת זכויות יוצרים."},
	// ca
	{"ca", true, "", "La meva filla de 14 anys ha desaparegut des d'ahir i ha escrit a una amiga que es vol suïcidar."},
	{"ca", true, "", "Algú ha escrit al grup que demà farà un tiroteig a l'escola."},
	{"ca", false, undPolice, "Els Mossos investiguen una estafa i sol·liciten les dades de l'usuari @x en un termini de 30 dies."},
	{"ca", false, "", "No puc entrar al meu compte perquè no em arriba el codi. Em podeu ajudar?"},
	// th
	{"th", true, "", "ลูกสาวอายุ 13 ขวบหายตัวไปตั้งแต่เมื่อวาน และมีผู้ชายนัดเจอเธอคืนนี้"},
	{"th", true, "", "มีคนโพสต์ในกลุ่มว่าพรุ่งนี้จะกราดยิงที่โรงเรียน"},
	{"th", false, undPolice, "ตำรวจกำลังสอบสวนคดีฉ้อโกงและขอข้อมูลผู้ใช้ @x ภายใน 30 วัน"},
	{"th", false, "", "ผมเข้าสู่ระบบบัญชีไม่ได้ เพราะไม่ได้รับรหัสยืนยัน ช่วยหน่อยครับ"},
	// ms
	{"ms", true, "", "Anak perempuan saya berumur 13 tahun hilang sejak semalam dan dia tulis kepada kawan bahawa dia nak bunuh diri."},
	{"ms", true, "", "Seseorang tulis dalam kumpulan bahawa esok dia akan menembak semua orang di sekolah."},
	{"ms", false, undPolice, "Polis sedang menyiasat penipuan dan memohon maklumat pengguna @x dalam tempoh 30 hari kerana ia diperlukan."},
	{"ms", false, "", "Saya tak boleh log masuk ke akaun saya kerana kod tidak sampai. Boleh tolong?"},
	// tl
	{"tl", true, "", "Nawawala ang anak kong babae na 13 taong gulang at sinabi niya sa kaibigan na magpapakamatay siya."},
	{"tl", true, "", "May nag-post sa grupo na bukas ay mamamaril siya sa paaralan."},
	{"tl", false, undPolice, "Iniimbestigahan ng pulisya ang isang panloloko at hinihingi ang impormasyon ng user @x sa loob ng 30 araw."},
	{"tl", false, "", "Hindi ako makapag-login sa account ko dahil hindi dumarating ang code. Pwede po bang tumulong?"},
	// sw
	{"sw", true, "", "Binti yangu wa miaka 13 amepotea tangu jana na alimwandikia rafiki yake kwamba anataka kujiua."},
	{"sw", true, "", "Mtu ameandika kwenye kikundi kwamba kesho atawapiga risasi wote shuleni."},
	{"sw", false, undPolice, "Polisi wanachunguza udanganyifu na wanaomba taarifa za mtumiaji @x ndani ya siku 30."},
	{"sw", false, "", "Siwezi kuingia kwenye akaunti yangu kwa sababu sipati nambari ya uthibitisho. Mnaweza kunisaidia?"},
	// ur
	{"ur", true, "", "میری 13 سالہ بیٹی کل سے لاپتہ ہے اور اس نے سہیلی کو لکھا کہ وہ خودکشی کرنا چاہتی ہے۔"},
	{"ur", true, "", "کسی نے گروپ میں لکھا ہے کہ کل وہ اسکول میں فائرنگ کرے گا۔"},
	{"ur", false, undPolice, "پولیس دھوکہ دہی کی تحقیقات کر رہی ہے اور صارف @x کی معلومات 30 دن کے اندر فراہم کرنے کی درخواست کرتی ہے۔"},
	{"ur", false, "", "میں اپنے اکاؤنٹ میں لاگ ان نہیں کر پا رہا کیونکہ کوڈ نہیں آ رہا۔ براہ کرم مدد کریں۔"},
	// bn
	{"bn", true, "", "আমার ১৩ বছরের মেয়ে গতকাল থেকে নিখোঁজ, আর সে বান্ধবীকে লিখেছে যে সে আত্মহত্যা করবে।"},
	{"bn", true, "", "কেউ গ্রুপে লিখেছে যে আগামীকাল সে স্কুলে গুলি চালাবে।"},
	{"bn", false, undPolice, "পুলিশ একটি প্রতারণার তদন্ত করছে এবং ৩০ দিনের মধ্যে ব্যবহারকারী @x-এর তথ্য চাইছে।"},
	{"bn", false, "", "আমি আমার অ্যাকাউন্টে লগ ইন করতে পারছি না, কারণ কোড আসছে না। সাহায্য করবেন?"},
	// lt
	{"lt", true, "", "Mano dukra (13 m.) dingo vakar ir draugei parašė, kad nori mirti."},
	{"lt", true, "", "Kažkas grupėje parašė, kad rytoj šaudys mokykloje."},
	{"lt", false, undPolice, "Policija tiria sukčiavimą ir prašo pateikti naudotojo @x duomenis per 30 dienų."},
	{"lt", false, "", "Negaliu prisijungti prie savo paskyros, nes negaunu kodo. Ar galite padėti?"},
	// lv
	{"lv", true, "", "Mana meita (13 gadi) ir pazudusi kopš vakardienas un draudzenei uzrakstīja, ka grib nomirt."},
	{"lv", true, "", "Kāds grupā uzrakstīja, ka rīt skolā būs apšaude."},
	{"lv", false, undPolice, "Policija izmeklē krāpšanu un lūdz lietotāja @x datus 30 dienu laikā."},
	{"lv", false, "", "Es nevaru pieteikties savā kontā, jo nesaņemu kodu. Vai varat palīdzēt?"},
	// et
	{"et", true, "", "Mu tütar (13) on eilsest saadik kadunud ja kirjutas sõbrannale, et tahab surra."},
	{"et", true, "", "Keegi kirjutas grupis, et homme tulistab ta koolis kõiki."},
	{"et", false, undPolice, "Politsei uurib pettust ja palub kasutaja @x andmeid 30 päeva jooksul."},
	{"et", false, "", "Ma ei saa oma kontole sisse logida, sest kood ei tule. Kas saate aidata?"},

	{"da", true, "", "En voksen mand skriver til min datter på 12 og vil mødes med hende efter skole. Han siger, hun ikke må fortælle det til nogen."},
	{"da", true, "", "Nogen har lagt hendes adresse ud og skriver, at de kommer i aften."},
	{"da", true, "", "Han har en kniv og siger, han kommer hjem til hende i nat."},
	{"da", true, undPolice, "Nødsituation: en person er i akut livsfare. Vi anmoder om øjeblikkelig udlevering af data."},
	{"no", true, "", "Kjæresten min er bortført, og de krever løsepenger innen i morgen."},
	{"no", true, "", "Han skriver at han vil ta livet av seg i kveld og har lagt ut bilde av et tau."},
	{"fi", true, "", "Siskoni on siepattu ja sieppaajat vaativat lunnaita."},
	{"fi", true, "", "Joku kirjoitti, että huomenna koulussa räjähtää pommi."},
	{"fi", true, undPolice, "Kyseessä on hätätilanne: henkilö on välittömässä hengenvaarassa. Pyydämme tietoja heti."},
	{"hu", true, "", "Elrabolták a húgomat, és váltságdíjat követelnek."},
	{"hu", true, "", "Egy felnőtt férfi azt írta a 12 éves lányomnak, hogy találkozzanak holnap iskola után, és ne mondja el senkinek."},
	{"cs", true, "", "Dospělý muž píše mé dvanáctileté dceři, že se s ní chce sejít po škole, a ať to nikomu neříká."},
	{"cs", true, "", "Někdo zveřejnil její adresu a píše, že tam dnes večer přijde a zabije ji."},
	{"sk", true, "", "Moju sestru uniesli a únoscovia žiadajú výkupné za jej prepustenie."},
	{"sk", true, undPolice, "Ide o bezprostredné ohrozenie života maloletej osoby. Žiadame o okamžité poskytnutie údajov."},
	{"bg", true, "", "Сестра ми беше отвлечена и похитителите искат откуп."},
	{"bg", true, "", "Някой е публикувал адреса ѝ и пише, че довечера ще отиде там с нож."},
	{"sr", true, "", "Моја сестра је отета и отмичари траже откупнину."},
	{"sr", true, "", "Neko je objavio njenu adresu i piše da će večeras doći sa nožem."},
	{"hr", true, "", "Moja sestra je oteta, otmičari traže otkupninu."},
	{"hr", true, "", "Odrasli muškarac piše mojoj kćeri od 12 godina da se nađu sutra poslije škole i da ne govori nikome."},
	{"sl", true, "", "Mojo sestro so ugrabili in ugrabitelji zahtevajo odkupnino."},
	{"sl", true, undPolice, "Gre za neposredno nevarnost za življenje mladoletnice. Prosimo za takojšnje posredovanje podatkov."},
	{"he", true, "", "מישהו פרסם את הכתובת שלה וכתב שהוא יבוא הערב עם סכין."},
	{"he", true, "", "חבר שלי כתב שהוא הולך להתאבד הלילה."},
	{"ca", true, "", "Han segrestat la meva germana i demanen un rescat."},
	{"ca", true, "", "Algú ha publicat la seva adreça i diu que aquesta nit hi anirà amb un ganivet."},
	{"th", true, "", "น้องสาวถูกลักพาตัวและคนร้ายเรียกค่าไถ่"},
	{"th", true, undPolice, "เป็นกรณีฉุกเฉิน มีอันตรายต่อชีวิตของผู้เยาว์ ขอข้อมูลผู้ใช้โดยด่วน"},
	{"ms", true, "", "Adik perempuan saya diculik dan penculik minta wang tebusan."},
	{"ms", true, "", "Kawan saya kata dia nak bunuh diri malam ni sebab tak tahan lagi."},
	{"tl", true, "", "Dinukot ang kapatid ko at humihingi sila ng pantubos."},
	{"tl", true, undPolice, "May agarang panganib sa buhay ng isang menor de edad. Hinihiling namin ang impormasyon ng user."},
	{"sw", true, "", "Dada yangu ametekwa nyara na watekaji wanadai pesa."},
	{"sw", true, "", "Rafiki yangu ameandika kwamba atajiua usiku wa leo."},
	{"ur", true, "", "میری بہن کو اغوا کر لیا گیا ہے اور اغوا کار تاوان مانگ رہے ہیں۔"},
	{"ur", true, undPolice, "ایک نابالغ لڑکی کی جان کو خطرہ ہے، براہ کرم فوری طور پر معلومات فراہم کریں۔"},
	{"bn", true, "", "আমার বোনকে অপহরণ করা হয়েছে এবং তারা মুক্তিপণ চাইছে।"},
	{"bn", true, "", "আমার বন্ধু লিখেছে সে আজ রাতে আত্মহত্যা করবে।"},
	{"lt", true, "", "Mano sesuo buvo pagrobta, pagrobėjai reikalauja išpirkos."},
	{"lt", true, "", "Kažkas paskelbė jos adresą ir rašo, kad šįvakar ateis su peiliu."},
	{"lv", true, "", "Manu māsu nolaupīja, un nolaupītāji pieprasa izpirkuma maksu."},
	{"lv", true, undPolice, "Pastāv tieši draudi nepilngadīgās dzīvībai. Lūdzam nekavējoties sniegt datus."},
	{"et", true, "", "Sõber kirjutas, et tahab surra ja on kogunud tablette."},

	{"et", true, "", "Mu õde on pantvangis ja nad nõuavad lunaraha."},
}

// TestUndLexiconsMore: each of undMore is "und", and pages when it should.
func TestUndLexiconsMore(t *testing.T) {
	t.Parallel()
	tr, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range undMore {
		res := tr.Triage(Input{From: c.from, Text: c.text})
		if res.Language != "und" || res.Emergency != c.want {
			t.Errorf("%s %q: language %s emergency %v, want und %v; signals %v", c.lang, c.text, res.Language, res.Emergency, c.want, res.Signals)
		}
	}
}
