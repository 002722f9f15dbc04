package main

// What simulated students write, per language: short, ordinary answers of
// the lengths real ones have (a title of a few words, a description of one
// to four sentences).
type answerPool struct {
	works, improve, titles, sentences, places []string
}

var answers = map[string]answerPool{
	"cs": {
		works: []string{
			"Nová knihovna a učitelé, kteří poslouchají.",
			"Školní jídelna vaří lépe než loni.",
			"Cyklostezka podél řeky je super.",
			"Kroužky po škole a hřiště u sokolovny.",
		},
		improve: []string{
			"Venku není kde sedět o přestávkách.",
			"Na přechodu u školy auta jezdí moc rychle.",
			"V parku je málo košů a všude je nepořádek.",
			"Autobus ráno jezdí plný a často pozdě.",
		},
		titles: []string{
			"Lavičky na školním dvoře", "Bezpečný přechod u školy", "Více košů v parku",
			"Pítko na náměstí", "Stojany na kola u gymnázia", "Zelená střecha na tělocvičně",
		},
		sentences: []string{
			"Pět laviček a trochu stínu pod velkou lípou, abychom mohli sedět venku mezi hodinami.",
			"Pomohlo by to všem žákům i lidem, kteří chodí kolem.",
			"Mohli bychom pomoct s výsadbou a s malováním.",
			"Stačilo by pár věcí a místo by bylo úplně jiné.",
			"Hodně spolužáků o tom mluví už dlouho.",
		},
		places: []string{"Školní dvůr", "Náměstí Republiky", "Park u nádraží", "Ulice Havlíčkova"},
	},
	"en": {
		works: []string{
			"The new library and the teachers who listen.",
			"The canteen food got better this year.",
			"The cycle path along the river is great.",
			"After-school clubs and the playground.",
		},
		improve: []string{
			"There is nowhere to sit outside during breaks.",
			"Cars drive too fast at the crossing near school.",
			"The park has too few bins and there is litter everywhere.",
			"The morning bus is always full and often late.",
		},
		titles: []string{
			"Benches in the school yard", "A safe crossing near school", "More bins in the park",
			"A drinking fountain on the square", "Bike racks at the school", "A green roof on the gym",
		},
		sentences: []string{
			"Put five benches and a little shade under the big linden tree, so we can sit outside between lessons.",
			"It would help all the students and the people who walk by.",
			"We could help with the planting and the painting.",
			"A few small things would make the place completely different.",
			"Many of my classmates have talked about this for a long time.",
		},
		places: []string{"School yard", "Main square", "Park by the station", "River Street"},
	},
	"nb": {
		works: []string{
			"Det nye biblioteket og lærerne som lytter.",
			"Maten i kantina er blitt bedre i år.",
			"Sykkelveien langs elva er kjempefin.",
			"Aktivitetene etter skolen og ballbanen.",
		},
		improve: []string{
			"Ingen steder å sitte ute i friminuttene.",
			"Bilene kjører for fort ved overgangen nær skolen.",
			"Det er for få søppelkasser i parken.",
			"Morgenbussen er alltid full og ofte forsinket.",
		},
		titles: []string{
			"Benker i skolegården", "Trygg overgang ved skolen", "Flere søppelkasser i parken",
			"Drikkefontene på torget", "Sykkelstativ ved skolen", "Grønt tak på gymsalen",
		},
		sentences: []string{
			"Fem benker under det store lindetreet, så vi kan sitte ute i friminuttene.",
			"Det ville hjelpe alle elevene og folk som går forbi.",
			"Vi kan hjelpe til med planting og maling.",
			"Noen få ting ville gjort stedet helt annerledes.",
			"Mange i klassen har snakket om dette lenge.",
		},
		places: []string{"Skolegården", "Torget", "Parken ved stasjonen", "Elvegata"},
	},
	"uk": {
		works: []string{
			"Нова бібліотека і вчителі, які слухають.",
			"У їдальні цього року готують краще.",
			"Велодоріжка вздовж річки чудова.",
			"Гуртки після уроків і спортивний майданчик.",
		},
		improve: []string{
			"Ніде сидіти надворі на перервах.",
			"Біля школи на переході машини їздять надто швидко.",
			"У парку мало смітників і всюди сміття.",
			"Ранковий автобус завжди повний і часто запізнюється.",
		},
		titles: []string{
			"Лавки у шкільному дворі", "Безпечний перехід біля школи", "Більше смітників у парку",
			"Фонтанчик на площі", "Велопарковка біля школи", "Зелений дах на спортзалі",
		},
		sentences: []string{
			"П'ять лавок під великою липою, щоб можна було сидіти надворі між уроками.",
			"Це допомогло б усім учням і людям, які проходять повз.",
			"Ми могли б допомогти з посадкою і фарбуванням.",
			"Кілька простих речей зробили б це місце зовсім іншим.",
			"Багато однокласників давно про це говорять.",
		},
		places: []string{"Шкільний двір", "Центральна площа", "Парк біля вокзалу", "Річкова вулиця"},
	},
}
