package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything a run measured; it is printed as a table and as JSON.
type report struct {
	Mode              string           `json:"mode"`
	Students          int              `json:"students"`       // simultaneous
	StudentsTotal     int              `json:"students_total"` // including replacements (-duration)
	IdeasPerStudent   int              `json:"ideas_per_student"`
	Path              string           `json:"path"` // -path: random, shortest, longest
	ThinkMeanMS       float64          `json:"think_mean_ms,omitempty"`
	RampS             float64          `json:"ramp_s,omitempty"`
	DurationS         float64          `json:"duration_s,omitempty"`
	Seed              uint64           `json:"seed"`
	Forum             string           `json:"forum"`
	WebhookConns      int              `json:"webhook_connections"`
	WallS             float64          `json:"wall_s"`
	Updates           int64            `json:"updates"`
	UpdatesPerS       float64          `json:"updates_per_s"`
	SteadyUpdatesPerS float64          `json:"updates_per_s_within_duration,omitempty"`
	Redeliveries      int64            `json:"redeliveries"`
	WebhookNetErrors  int64            `json:"webhook_network_errors"`
	WebhookStatus     map[string]int64 `json:"webhook_status,omitempty"`
	StudentsCompleted int              `json:"students_completed"`
	StudentsLost      int              `json:"students_lost"`
	IdeasConfirmed    int              `json:"conversations_completed"`
	IdeasLost         int              `json:"conversations_lost"`
	LostWhy           map[string]int   `json:"lost_why,omitempty"`
	IdeasStored       *int64           `json:"ideas_stored,omitempty"`
	IdeaAuthors       *int64           `json:"idea_authors,omitempty"`
	Duplicates        *int64           `json:"duplicates,omitempty"` // stored beyond the confirmations

	// What an idea costs in the chat: the messages the bot sent (sendMessage,
	// sendPhoto, sendDocument, sendLocation taken by the fake, not refused
	// ones) and its edits of messages, during the whole run; and the
	// students' updates (first deliveries), by kind. Per idea: ÷ confirmed
	// ideas, so lost conversations make them look dearer.
	MessagesSent    int64          `json:"messages_sent"`
	MessagesPerIdea float64        `json:"messages_per_idea"`
	Edits           int64          `json:"edits"`
	EditsPerIdea    float64        `json:"edits_per_idea"`
	Actions         map[string]int `json:"actions"`
	ActionsPerIdea  float64        `json:"actions_per_idea"`

	ReplyLatency latency `json:"latency_post_to_reply"`
	// Timeline is the POST→reply latency per second of the run.
	Timeline       []second `json:"timeline"`
	Busiest        *second  `json:"busiest_second,omitempty"`
	EndToEnd       latency  `json:"latency_sent_to_reply"`
	WebhookLatency latency  `json:"latency_webhook_response"`

	Bot      *botReport      `json:"bot,omitempty"`
	Bench    benchReport     `json:"bench"`
	Redis    *redisReport    `json:"redis,omitempty"`
	Postgres *postgresReport `json:"postgres,omitempty"`

	APICalls          map[string]int64 `json:"api_calls"`
	APICallsPerUpdate float64          `json:"api_calls_per_update"`
	BadAPICalls       int64            `json:"bad_api_calls"`
	BotSaid           map[string]int   `json:"bot_said,omitempty"` // complaints and errors, by message key
	Unsolicited       int              `json:"unsolicited_messages"`
	Rerendered        int              `json:"questions_edited_again"` // the question just answered, edited in again: not acted on
	LateMessages      int64            `json:"late_messages"`
	StrangerMessages  int64            `json:"stranger_messages"`
	BotLog            string           `json:"bot_log,omitempty"`
	RedisPrefix       string           `json:"redis_key_prefix"`
	RedisKeysRemoved  *int64           `json:"redis_keys_removed,omitempty"`
	Problems          []string         `json:"problems,omitempty"`

	Assembly *assemblyReport `json:"assembly,omitempty"`      // -mode assembly
	Notify   *notifyReport   `json:"notifications,omitempty"` // -mode notify
	Vote     *voteReport     `json:"vote,omitempty"`          // -mode vote
	Web      *webReport      `json:"web,omitempty"`           // -mode web
}

// second is what happened in one second of the run.
type second struct {
	T       int     `json:"t"`       // seconds since the start
	Replies int     `json:"replies"` // answers that arrived in it
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
}

// timeline groups the latencies by the second they arrived in.
func timeline(lat []uint32, at []uint16) []second {
	var bySec [][]uint32
	for i, l := range lat {
		t := int(at[i])
		for len(bySec) <= t {
			bySec = append(bySec, nil)
		}
		bySec[t] = append(bySec[t], l)
	}
	out := make([]second, len(bySec))
	for t, ls := range bySec {
		s := summarize(ls)
		out[t] = second{T: t, Replies: s.N, P50: s.P50, P99: s.P99, Max: s.Max}
	}
	return out
}

type botReport struct {
	PID              int     `json:"pid"`
	CPUSeconds       float64 `json:"cpu_s"`
	CPUMsPerUpdate   float64 `json:"cpu_ms_per_update"`
	CPUSecPer1000    float64 `json:"cpu_s_per_1000_updates"`
	PeakRSSMB        float64 `json:"peak_rss_mb"` // VmHWM
	MaxSampledRSSMB  float64 `json:"max_sampled_rss_mb"`
	PeakSinceStartup string  `json:"peak_rss_covers"`
}

type benchReport struct {
	CPUSeconds     float64 `json:"cpu_s"`
	CPUMsPerUpdate float64 `json:"cpu_ms_per_update"`
	MachineBusyPct float64 `json:"machine_busy_pct"` // all CPUs, everything running
	CPUs           float64 `json:"cpus"`
}

type redisReport struct {
	Commands          int64              `json:"commands"`
	CommandsPerUpdate float64            `json:"commands_per_update"`
	PerUpdate         map[string]float64 `json:"per_update_by_command"`
	CPUSeconds        float64            `json:"redis_cpu_s"`
	Measured          string             `json:"measured"`
}

type postgresReport struct {
	Database        string  `json:"database"`
	Delta           pgSnap  `json:"delta"`
	XactsPerIdea    float64 `json:"transactions_per_idea"`
	XactsPerUpdate  float64 `json:"transactions_per_update"`
	InsertedPerIdea float64 `json:"rows_inserted_per_idea"`
	UpdatedPerIdea  float64 `json:"rows_updated_per_idea"`
	Measured        string  `json:"measured"`
}

func newReport(o *options, p *population, d *deliverer, api *fakeAPI, conns int, wall time.Duration) *report {
	r := &report{
		Mode: o.mode.String(), Students: o.students, IdeasPerStudent: o.ideas, Seed: o.seed, Path: o.path,
		WebhookConns: conns, WallS: wall.Seconds(), APICalls: api.counts(), BadAPICalls: api.badCalls.Load(),
		LateMessages: p.late.Load(), StrangerMessages: p.strangers.Load(), WebhookStatus: map[string]int64{},
	}
	if o.mode.thinks() {
		r.ThinkMeanMS = float64(o.think) / float64(time.Millisecond)
		r.RampS = o.ramp.Seconds()
	}
	r.DurationS = o.duration.Seconds()
	var lat, e2e []uint32
	var latAt []uint16
	for _, s := range p.slots {
		s.mu.Lock()
		st := s.st
		r.StudentsTotal += st.students
		r.StudentsCompleted += st.studentsDone
		r.StudentsLost += st.studentsLost
		r.IdeasConfirmed += st.ideasDone
		r.IdeasLost += st.ideasLost
		r.Unsolicited += st.unsolicited
		r.Rerendered += st.rerendered
		for k, n := range st.actions {
			if n > 0 {
				if r.Actions == nil {
					r.Actions = map[string]int{}
				}
				r.Actions[actNames[k]] += n
			}
		}
		for k, v := range st.lostWhy {
			if r.LostWhy == nil {
				r.LostWhy = map[string]int{}
			}
			r.LostWhy[k] += v
		}
		for k, v := range st.notes {
			if r.BotSaid == nil {
				r.BotSaid = map[string]int{}
			}
			r.BotSaid[k] += v
		}
		lat = append(lat, s.lat...)
		latAt = append(latAt, s.latAt...)
		e2e = append(e2e, s.e2e...)
		s.mu.Unlock()
	}
	posts, retries, netErrs, status, resp, lastErr := d.stats()
	r.Updates, r.Redeliveries, r.WebhookNetErrors = posts, retries, netErrs
	if lastErr != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%d webhook deliveries failed on the network; the last: %v", netErrs, lastErr))
	}
	for k, v := range status {
		r.WebhookStatus[fmt.Sprint(k)] = v
	}
	if wall > 0 {
		r.UpdatesPerS = float64(posts) / wall.Seconds()
	}
	r.Timeline = timeline(lat, latAt)
	for i := range r.Timeline {
		if r.Busiest == nil || r.Timeline[i].Replies > r.Busiest.Replies {
			r.Busiest = &r.Timeline[i]
		}
	}
	r.ReplyLatency, r.EndToEnd, r.WebhookLatency = summarize(lat), summarize(e2e), summarize(resp)
	var calls int64
	for m, n := range r.APICalls {
		if m != "getMe" && m != "setWebhook" && m != "setMyCommands" && m != "deleteWebhook" {
			calls += n
		}
	}
	r.APICallsPerUpdate = ratio(float64(calls), float64(posts))
	ideas := float64(r.IdeasConfirmed)
	r.MessagesSent, r.Edits = api.sent.Load(), api.edited.Load()
	r.MessagesPerIdea, r.EditsPerIdea = ratio(float64(r.MessagesSent), ideas), ratio(float64(r.Edits), ideas)
	r.ActionsPerIdea = ratio(float64(posts), ideas)
	return r
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (r *report) setIdeas(ideas, authors int64) {
	r.IdeasStored, r.IdeaAuthors = &ideas, &authors
	dup := max(0, ideas-int64(r.IdeasConfirmed))
	r.Duplicates = &dup
	if dup > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("%d more ideas stored than confirmed (duplicates, or confirmations lost)", dup))
	}
	if ideas < int64(r.IdeasConfirmed) {
		r.Problems = append(r.Problems, fmt.Sprintf("%d ideas confirmed but only %d stored", r.IdeasConfirmed, ideas))
	}
	if r.IdeasPerStudent == 1 && authors != ideas {
		r.Problems = append(r.Problems, fmt.Sprintf("%d ideas from %d students, who each sent one", ideas, authors))
	}
}

func (r *report) setPostgres(w *pgWatch, delta pgSnap, how string) {
	ideas := float64(r.IdeasConfirmed)
	xacts := float64(delta.XactCommit + delta.XactRollback)
	measured := "pg_stat_database of " + w.dbName + ": transactions (xact_commit + xact_rollback; each statement outside " +
		"BEGIN…COMMIT is a transaction of its own, a pgx batch one per Sync) and rows, for the whole database during the run, " +
		"including the bot's status notifier polling every NOTIFY_INTERVAL"
	if how != "" {
		measured += "; read " + how
	}
	if w.sameDB {
		measured += "; read over a connection to that database (the postgres database was unreachable), which adds its own few transactions"
	}
	r.Postgres = &postgresReport{
		Database: w.dbName, Delta: delta, XactsPerIdea: ratio(xacts, ideas), XactsPerUpdate: ratio(xacts, float64(r.Updates)),
		InsertedPerIdea: ratio(float64(delta.TupInserted), ideas), UpdatedPerIdea: ratio(float64(delta.TupUpdated), ideas),
		Measured: measured,
	}
}

func (r *report) setRedis(before, after redisSnap) {
	rr := &redisReport{PerUpdate: map[string]float64{}, CPUSeconds: after.cpu - before.cpu,
		Measured: "INFO stats total_commands_processed and INFO commandstats deltas of the whole Redis server " +
			"(other clients add to them; the bench's one INFO is taken out); commands run inside Lua scripts are counted by commandstats too"}
	rr.Commands = after.total - before.total - 1 // the INFO that took the first snapshot
	rr.CommandsPerUpdate = ratio(float64(rr.Commands), float64(r.Updates))
	for cmd, n := range after.cmds {
		if delta := n - before.cmds[cmd]; delta > 0 && cmd != "info" {
			rr.PerUpdate[cmd] = ratio(float64(delta), float64(r.Updates))
		}
	}
	r.Redis = rr
}

func (r *report) setBot(pid int, cpu time.Duration, hwmKB, maxRSSKB int64, spawned bool) {
	b := &botReport{
		PID: pid, CPUSeconds: cpu.Seconds(), CPUMsPerUpdate: ratio(float64(cpu)/float64(time.Millisecond), float64(r.Updates)),
		PeakRSSMB: float64(hwmKB) / 1024, MaxSampledRSSMB: float64(maxRSSKB) / 1024,
		PeakSinceStartup: "VmHWM: the peak since the bot started",
	}
	b.CPUSecPer1000 = b.CPUMsPerUpdate // ms per update = s per 1,000 updates
	if spawned {
		b.PeakSinceStartup = "VmHWM: the peak since the bench started the bot (start-up and this run)"
	}
	r.Bot = b
}

func (r *report) setBench(cpu, busy, total time.Duration) {
	r.Bench = benchReport{
		CPUSeconds: cpu.Seconds(), CPUMsPerUpdate: ratio(float64(cpu)/float64(time.Millisecond), float64(r.Updates)),
		MachineBusyPct: 100 * ratio(float64(busy), float64(total)),
	}
	if r.WallS > 0 {
		r.Bench.CPUs = total.Seconds() / r.WallS
	}
}

func (r *report) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...)) }
	load := fmt.Sprintf("%s loop, %d simultaneous students, %d idea(s) each", r.Mode, r.Students, r.IdeasPerStudent)
	switch r.Mode {
	case "think":
		load = fmt.Sprintf("think time (mean %.0f ms), %d simultaneous students starting over %.0f s, %d idea(s) each",
			r.ThinkMeanMS, r.Students, r.RampS, r.IdeasPerStudent)
	case "assembly":
		load = fmt.Sprintf("assembly: %d students joining at random within %.0f s, think time (mean %.0f ms), %d idea(s) each, Telegram's limits",
			r.Students, r.RampS, r.ThinkMeanMS, r.IdeasPerStudent)
	}
	if r.Path != "" && r.Path != "random" {
		load += ", the " + r.Path + " path"
	}
	if r.DurationS > 0 {
		load += fmt.Sprintf(", replaced for %.0f s", r.DurationS)
	}
	fmt.Fprintf(tw, "napad-bench\n")
	row("load", "%s; seed %d; %d webhook connections", load, r.Seed, r.WebhookConns)
	row("throughput", "%d updates in %.2f s = %.0f updates/s (%d redelivered, %d network errors, HTTP %v)",
		r.Updates, r.WallS, r.UpdatesPerS, r.Redeliveries, r.WebhookNetErrors, statusText(r.WebhookStatus))
	if r.SteadyUpdatesPerS > 0 {
		row("  within -duration", "%.0f updates/s (the updates sent in the first %.0f s; afterwards the last students only finish)",
			r.SteadyUpdatesPerS, r.DurationS)
	}
	row("conversations", "%d completed, %d lost; students %d (%d finished, %d lost)%s",
		r.IdeasConfirmed, r.IdeasLost, r.StudentsTotal, r.StudentsCompleted, r.StudentsLost, whyText(r.LostWhy))
	if r.IdeasStored != nil {
		row("ideas in PostgreSQL", "%d for forum %s, from %d students; %d beyond the confirmations (duplicates)",
			*r.IdeasStored, r.Forum, *r.IdeaAuthors, *r.Duplicates)
	}
	lat := func(name string, l latency) {
		row(name, "p50 %.2f  p95 %.2f  p99 %.2f  max %.2f ms  (n=%d)", l.P50, l.P95, l.P99, l.Max, l.N)
	}
	row("per idea", "%.2f messages sent, %.2f edits, %.2f actions (%s; over %d confirmed ideas)",
		r.MessagesPerIdea, r.EditsPerIdea, r.ActionsPerIdea, actionsText(r.Actions, r.IdeasConfirmed), r.IdeasConfirmed)
	lat("latency POST→reply", r.ReplyLatency)
	if b := r.Busiest; b != nil {
		row("  busiest second", "%d replies in second %d: p50 %.2f  p99 %.2f  max %.2f ms (the JSON has every second)", b.Replies, b.T, b.P50, b.P99, b.Max)
	}
	lat("  incl. queue", r.EndToEnd)
	lat("  webhook answer", r.WebhookLatency)
	r.printAssembly(row)
	if b := r.Bot; b != nil {
		row("bot CPU", "%.2f s = %.3f ms/update = %.3f s per 1,000 updates (pid %d)", b.CPUSeconds, b.CPUMsPerUpdate, b.CPUSecPer1000, b.PID)
		row("bot memory", "peak RSS %.1f MB (VmHWM), max sampled VmRSS during the run %.1f MB", b.PeakRSSMB, b.MaxSampledRSSMB)
	} else {
		row("bot CPU, memory", "not measured (give -bot-pid, or use -spawn)")
	}
	row("bench", "%.2f s CPU = %.3f ms/update; machine busy %.0f%% of %.0f CPUs", r.Bench.CPUSeconds, r.Bench.CPUMsPerUpdate,
		r.Bench.MachineBusyPct, r.Bench.CPUs)
	if rr := r.Redis; rr != nil {
		row("Redis", "%.2f commands/update (%d; %s); Redis CPU %.2f s", rr.CommandsPerUpdate, rr.Commands, perUpdateText(rr.PerUpdate), rr.CPUSeconds)
	}
	if pg := r.Postgres; pg != nil {
		row("PostgreSQL", "%.2f transactions/idea, %.3f/update; rows inserted %.2f/idea, updated %.2f/idea (%d commits, %d rollbacks)",
			pg.XactsPerIdea, pg.XactsPerUpdate, pg.InsertedPerIdea, pg.UpdatedPerIdea, pg.Delta.XactCommit, pg.Delta.XactRollback)
	}
	row("Bot API calls", "%.2f/update: %s", r.APICallsPerUpdate, callsText(r.APICalls))
	if len(r.BotSaid) > 0 {
		row("bot complained", "%s", whyText(r.BotSaid))
	}
	if r.Unsolicited+r.Rerendered+int(r.LateMessages+r.StrangerMessages+r.BadAPICalls) > 0 {
		row("odd messages", "%d unsolicited, %d questions edited in again, %d late, %d to unknown chats, %d bad API calls",
			r.Unsolicited, r.Rerendered, r.LateMessages, r.StrangerMessages, r.BadAPICalls)
	}
	if r.BotLog != "" {
		row("bot log", "%s", r.BotLog)
	}
	if r.RedisKeysRemoved != nil {
		row("Redis keys", "%d under %s removed after the run (-keep-redis keeps them)", *r.RedisKeysRemoved, r.RedisPrefix)
	}
	tw.Flush()
	if r.Redis != nil {
		fmt.Fprintf(w, "Redis measured: %s.\n", r.Redis.Measured)
	}
	if r.Postgres != nil {
		fmt.Fprintf(w, "PostgreSQL measured: %s.\n", r.Postgres.Measured)
	}
	fmt.Fprintln(w, "Latency POST→reply: from the start of the webhook POST of an update to the arrival at the fake Bot API of the bot's message that asks the next question, new or edited in; \"incl. queue\" adds the wait for a free webhook connection.")
	fmt.Fprintln(w, "Per idea: the messages the bot sent (sendMessage, sendPhoto, sendDocument, sendLocation taken by the fake; not refused ones) and its edits during the run, and the students' updates, ÷ confirmed ideas.")
	for _, p := range r.Problems {
		fmt.Fprintln(w, "PROBLEM:", p)
	}
}

// actionsText says the actions by kind, per idea.
func actionsText(m map[string]int, ideas int) string {
	var parts []string
	for _, k := range actNames {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, ratio(float64(m[k]), float64(ideas))))
		}
	}
	return strings.Join(parts, ", ")
}

func statusText(m map[string]int64) string {
	if len(m) == 0 {
		return "200 only"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func whyText(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, m[k]))
	}
	return " — " + strings.Join(parts, "; ")
}

func perUpdateText(m map[string]float64) string {
	keys := slices.Collect(maps.Keys(m))
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	var parts []string
	for _, k := range keys {
		if m[k] >= 0.01 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func callsText(m map[string]int64) string {
	keys := slices.Collect(maps.Keys(m))
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// noteBotEnd records among the problems how the spawned bot ended and
// whether it logged errors.
func (r *report) noteBotEnd(bot *botProcess, stopErr error) {
	if stopErr != nil {
		r.Problems = append(r.Problems, "stopping the bot: "+stopErr.Error())
	}
	if n := countLogLevel(bot.logPath, "ERROR"); n > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("the bot logged %d errors (see %s)", n, bot.logPath))
	}
}

// output prints the table with print and writes the JSON if asked.
func (r *report) output(print func(io.Writer), o *options, table, stdout io.Writer) error {
	print(table)
	if o.jsonOut != "" {
		return r.writeJSON(o.jsonOut, stdout)
	}
	return nil
}

func (r *report) writeJSON(path string, stdout io.Writer) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
