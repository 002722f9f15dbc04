package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/healthycities/napad/bot/telegram/telegramtest"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/storage/postgres/pgtest"
)

const staffID = 4100

// staffApp is the program with one city staff member configured.
func staffApp(t *testing.T) *app {
	return newApp(t, false, func(a *app) { a.env["STAFF_TELEGRAM_IDS"] = strconv.Itoa(staffID) })
}

// invitedTeacher is staff (in staffLang) and a teacher (in lang) who
// accepted staff's invite for Kolín.
func (a *app) invitedTeacher(staffLang, lang string) (staff, teacher *student) {
	a.t.Helper()
	staff = &student{a: a, t: a.t, u: a.fake.NewUser(staffID, "Staff", staffLang), lang: staffLang}
	return staff, staff.inviteTeacher(lang)
}

// inviteTeacher is a new teacher (in lang) who accepted staff's invite.
func (staff *student) inviteTeacher(lang string) *student {
	staff.t.Helper()
	teacher := staff.a.student(lang)
	staff.u.SendText("/invite_teacher Kolín")
	invite := linkPattern.FindStringSubmatch(staff.expect("invite.created").Text)
	teacher.u.SendText("/start " + invite[1])
	teacher.expect("invite.accepted")
	return teacher
}

var linkPattern = regexp.MustCompile(`https://t\.me/` + telegramtest.BotUsername + `\?start=([A-Za-z0-9_-]+)`)

// The whole teacher story: staff invites a teacher, the teacher sets up a
// forum and gets its link and QR code, three students arrive, and the
// teacher's card counts them; a closed forum turns students away.
func TestE2ETeacherForum(t *testing.T) {
	a := staffApp(t)
	staff := &student{a: a, t: t, u: a.fake.NewUser(staffID, "Staff", "cs"), lang: "cs"}
	teacher := a.student("en")

	// Staff invites a teacher; the invite works once.
	staff.u.SendText("/invite_teacher Kolín")
	invite := staff.expect("invite.created")
	inviteLink := linkPattern.FindStringSubmatch(invite.Text)
	if inviteLink == nil || !strings.HasPrefix(inviteLink[1], "t_") {
		t.Fatalf("no invite link in %q", invite.Text)
	}
	teacher.u.SendText("/start " + inviteLink[1])
	teacher.expect("invite.accepted")
	menu := a.fake.CommandsForScope("chat:"+strconv.FormatInt(teacher.u.ID(), 10), "")
	if len(menu) == 0 || menu[0].Command != "newforum" {
		t.Errorf("the teacher's command menu: %v", menu)
	}
	teacher.u.SendText("/start " + inviteLink[1]) // their own link again: no error
	teacher.expect("invite.accepted")
	intruder := a.student("cs")
	intruder.u.SendText("/start " + inviteLink[1])
	intruder.expect("invite.used")
	intruder.u.SendText("/newforum")
	intruder.expect("about.help")

	// The teacher sets up a forum about the school only, in Czech and English.
	teacher.u.SendText("/newforum")
	teacher.expect("setup.name_ask")
	teacher.u.SendText("8.B – ZŠ Komenského")
	teacher.expect("setup.school_ask")
	teacher.u.SendText("ZŠ Komenského")
	town := teacher.expect("setup.town_ask")
	teacher.u.Tap(town, "Use “Kolín”")
	teacher.expect("setup.scope_ask")
	teacher.tap("scope.forum_school")
	teacher.expect("setup.closes_ask")
	teacher.u.SendText("31.2.2026")
	teacher.expect("error.date")
	teacher.tap("button.no_closing_date")
	langs := teacher.expect("setup.languages_ask")
	teacher.u.Tap(langs, "✅ 🇳🇴 Norsk")
	langs = a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool {
		_, ok := m.Button("⬜ 🇳🇴 Norsk")
		return ok && m.MessageID == langs.MessageID
	}, waitLong)
	teacher.u.Tap(langs, "✅ 🇺🇦 Українська")
	a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool {
		_, ok := m.Button("⬜ 🇺🇦 Українська")
		return ok
	}, waitLong)
	teacher.tap("button.done")
	summary := teacher.expect("setup.summary")
	if !strings.Contains(summary.Text, "CS, EN") || strings.Contains(summary.Text, "NB") {
		t.Errorf("summary languages: %q", summary.Text)
	}
	teacher.tap("button.create_forum")
	created := teacher.expect("setup.created")
	join := linkPattern.FindStringSubmatch(created.Text)
	if join == nil {
		t.Fatalf("no join link in %q", created.Text)
	}
	qr := a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool { return m.Photo != nil }, waitLong)
	if got := decodeQR(t, qr.Photo.Data); got != join[0] {
		t.Fatalf("QR code says %q, the link is %q", got, join[0])
	}
	if !strings.Contains(qr.Caption, "8.B – ZŠ Komenského") || !strings.Contains(qr.Caption, join[0]) {
		t.Errorf("QR caption %q", qr.Caption)
	}
	code := join[1]

	// Three students: one finishes, one stops halfway, one only opens the link.
	finisher := a.studentOnPhone("cs", "") // no phone language: asked, in Czech
	finisher.u.SendText("/start " + code)
	langAsk := finisher.expect("language.ask")
	if _, ok := langAsk.Button(finisher.render("lang.nb")); ok {
		t.Error("a language the forum does not offer is offered")
	}
	// The forum is about the school: no scope question.
	finisher.walk(flows.StepLanguage, flows.StepReview, map[flows.StepID]string{
		flows.StepImprove: "Málo laviček", flows.StepTitle: "Lavičky", flows.StepDescription: "Pět laviček na dvoře.",
	}, map[flows.StepID]string{flows.StepScope: notAsked, flows.StepWorksWell: skipIt, flows.StepCategory: "school",
		flows.StepPlace: skipIt, flows.StepPhoto: skipIt, flows.StepHelp: "yes"})
	finisher.tap("button.submit")
	ref := regexpRef.FindString(finisher.expectCount("submit.thanks", one()).Text)
	if row := a.suggestion(ref); row.Scope != "school" {
		t.Errorf("scope of an idea in a school-only forum: %q", row.Scope)
	}

	halfway := a.studentOnPhone("en", "de") // asked the language, in English
	halfway.u.SendText("/start " + code)
	halfway.expect("language.ask")
	halfway.tap("lang.en")
	halfway.expect("privacy.notice")
	halfway.tap("privacy.ok")
	halfway.expect("works.ask")
	halfway.u.SendText("The garden")
	halfway.expect("improve.ask")
	// …and the lesson ends.

	opener := a.student("uk")
	opener.lang = "cs" // Ukrainian is not offered: the forum's first language is used
	opener.u.SendText("/start " + code)
	opener.expect("join.welcome")
	opener.u.SendText("/start " + code) // opening it twice counts once
	opener.expect("join.welcome_back")

	// Students learn nothing about teachers' and staff commands.
	for _, cmd := range []string{"/forums", "/newforum", "/invite_teacher Kolín"} {
		halfway.u.SendText(cmd)
		halfway.expect("about.help")
	}
	teacher.u.SendText("/invite_teacher Kolín") // teachers cannot invite teachers
	teacher.expect("about.help")

	// The teacher's card.
	teacher.u.SendText("/forums")
	list := teacher.expectCount("forum.list", one())
	teacher.u.Tap(list, "📋 8.B – ZŠ Komenského")
	card := teacher.expect("forum.card")
	for _, want := range []string{"Joined: 3", "Joined, nothing sent yet: 2", "Sent an idea: 1", "🟢 Open", "Last idea: today", join[0]} {
		if !strings.Contains(card.Text, want) {
			t.Errorf("card lacks %q:\n%s", want, card.Text)
		}
	}
	// A fourth student joins; Refresh updates the card in place.
	late := a.student("cs")
	late.u.SendText("/start " + code)
	late.expect("privacy.notice") // the phone's Czech is offered: not asked the language
	teacher.u.Tap(card, "🔄 Refresh")
	refreshed := a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool {
		return m.MessageID == card.MessageID && strings.Contains(m.Text, "Joined: 4")
	}, waitLong)
	if !strings.Contains(refreshed.Text, "Joined, nothing sent yet: 3") {
		t.Errorf("refreshed card:\n%s", refreshed.Text)
	}
	// Show the QR code again, then close the forum.
	teacher.u.Tap(refreshed, "📷 QR code")
	again := a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool { return m.Photo != nil }, waitLong)
	if decodeQR(t, again.Photo.Data) != join[0] {
		t.Error("the QR code shown again is different")
	}
	teacher.u.Tap(refreshed, "🔒 Close")
	a.fake.WaitFor(t, teacher.u.ID(), func(m telegramtest.SentMessage) bool {
		return m.MessageID == card.MessageID && strings.Contains(m.Text, "🔴 Closed")
	}, waitLong)
	closedOut := a.student("en")
	closedOut.u.SendText("/start " + code)
	closedOut.expect("join.closed")

	// Another teacher's forum card is not this teacher's to manage.
	other, err := pgtest.CreateForum(context.Background(), a.db, "Someone else's", "", "")
	if err != nil {
		t.Fatal(err)
	}
	teacher.u.TapData(refreshed, "|fo|"+strconv.FormatInt(other.ID, 10)+":0")
	teacher.expect("forum.not_yours")
	if f, _, _ := a.db.ForumByCode(context.Background(), other.Code); f.Phase != flows.PhaseCollecting {
		t.Error("a teacher closed another teacher's forum")
	}

	// Every teacher and staff action is in the audit log.
	entries, err := pgtest.AuditLog(context.Background(), a.db, 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"teacher.invite", "teacher.invite_accepted", "forums.create", "forums.close"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %v", want, actions)
		}
	}
}

func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("QR picture is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(img)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("QR picture does not decode: %v", err)
	}
	return res.GetText()
}

// `napad forum create|list|close|reopen|qr` for staff and scripts.
func TestE2EForumCommands(t *testing.T) {
	a := newApp(t, false)
	cli := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if err := run(context.Background(), args, a.getenv, &out, &out); err != nil {
			t.Fatalf("napad %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	out := cli("forum", "create", "--name", "9.A – Gymnázium", "--town", "Kolín", "--scope", "town", "--languages", "cs,uk", "--closes", "2099-01-01")
	join := linkPattern.FindStringSubmatch(out)
	if join == nil {
		t.Fatalf("no link in %q", out)
	}
	code := join[1]
	f, _, err := a.db.ForumByCode(context.Background(), code)
	if err != nil || f.Scope != "town" || strings.Join(f.Languages, ",") != "cs,uk" || f.ClosesAt.IsZero() {
		t.Fatalf("created %+v, %v", f, err)
	}
	s := a.student("uk")
	s.u.SendText("/start " + code)
	s.expect("privacy.notice") // the forum offers the phone's Ukrainian: not asked the language

	list := cli("forum", "list")
	if !strings.Contains(list, code) || !strings.Contains(list, "9.A – Gymnázium") || !strings.Contains(list, "2099-01-01") {
		t.Errorf("list:\n%s", list)
	}
	if fields := strings.Fields(list[strings.Index(list, code):]); len(fields) < 9 {
		t.Errorf("list row: %v", fields)
	}

	cli("forum", "close", code)
	late := a.student("cs")
	late.u.SendText("/start " + code)
	late.expect("join.closed")
	cli("forum", "reopen", code)
	late.u.SendText("/start " + code)
	late.expect("join.welcome")

	file := t.TempDir() + "/forum.png"
	cli("forum", "qr", code, "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, data); got != join[0] {
		t.Errorf("QR file says %q, want %q", got, join[0])
	}
	var out2 strings.Builder
	if err := run(context.Background(), []string{"forum", "close", "NoSuchCode"}, a.getenv, &out2, &out2); err == nil {
		t.Error("closing an unknown forum succeeded")
	}
}

// Staff can see who is a teacher (by pseudonym) and take the role away
// from the command line; after that the teacher's commands are a
// student's, and a forum set-up they had begun cannot be finished.
func TestE2ERoleRevoke(t *testing.T) {
	a := staffApp(t)
	_, teacher := a.invitedTeacher("cs", "en")
	teacher.u.SendText("/newforum")
	teacher.expect("setup.name_ask")

	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"role", "list"}, a.getenv, &out, &errOut); err != nil {
		t.Fatalf("role list: %v %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "teacher") || !strings.Contains(lines[1], "Kolín") {
		t.Fatalf("role list:\n%s", out.String())
	}
	pseudonym := strings.Fields(lines[1])[0]
	out.Reset()
	if err := run(t.Context(), []string{"role", "revoke", pseudonym}, a.getenv, &out, &errOut); err != nil || !strings.Contains(out.String(), "Revoked") {
		t.Fatalf("role revoke: %v %s %s", err, out.String(), errOut.String())
	}
	if err := run(t.Context(), []string{"role", "revoke", pseudonym}, a.getenv, &out, &errOut); err == nil {
		t.Error("revoking again succeeded")
	}

	a.stop() // a restarted bot (a running one notices within its minute of role cache)
	a.start()
	teacher.u.SendText("8.B – ZŠ Komenského") // the set-up begun before ends here
	teacher.expect("error.not_allowed")
	teacher.u.SendText("/newforum") // and teachers' commands are gone
	teacher.expect("about.help")
	if forums, err := a.db.AllForums(t.Context()); err != nil || len(forums) != 0 {
		t.Errorf("forums %v, %v", forums, err)
	}
}
