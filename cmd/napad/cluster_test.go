package main

import (
	"sync"
	"testing"
	"time"

	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/bot/telegram"
	"github.com/healthycities/napad/flows"
	"github.com/healthycities/napad/flows/flowtest"
	"github.com/healthycities/napad/storage/redis/redistest"
)

// onCluster points the program at the Redis Cluster c, under a key prefix
// of its own.
func onCluster(c *redistest.Cluster) func(*app) {
	return func(a *app) {
		a.env["REDIS_URL"] = c.URL
		a.env["REDIS_KEY_PREFIX"] = redistest.NewPrefix(a.t)
	}
}

// Nápad on a Redis Cluster of three primaries, each with a replica: the
// whole idea, two replicas behind one webhook, and then a primary that dies
// while students are writing (before hash tags, every turn failed there with
// CROSSSLOT, and REDIS_URL could not name a cluster).
func TestE2EOnARedisCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3, 1)
	t.Run("whole idea", func(t *testing.T) { wholeIdeaInEveryLanguage(t, false, onCluster(c)) })
	t.Run("two replicas behind one webhook", func(t *testing.T) { twoReplicasBehindOneWebhook(t, onCluster(c)) })
	t.Run("a primary fails over", func(t *testing.T) { primaryFailsOver(t, c) })
}

// Students write their ideas to two replicas while the primary that holds
// the first student's conversation is killed; its replica takes over. Every
// student is thanked, and every idea is stored exactly once with every
// answer in its place: updates that failed meanwhile were delivered again.
func primaryFailsOver(t *testing.T, c *redistest.Cluster) {
	lb, first, _ := twoReplicas(t, onCluster(c))
	f := first.forum("9.C")
	langs := []string{"cs", "en", "nb", "uk", "cs", "en"}
	students := make([]*student, len(langs))
	for i, lang := range langs {
		students[i] = first.student(lang)
	}
	pid := bot.Pseudonym([]byte(first.env["PARTICIPANT_KEY"]), telegram.UserKey(students[0].u.ID()))
	primary := c.PrimaryFor(first.env["REDIS_KEY_PREFIX"] + "{" + pid + "}")

	var wg sync.WaitGroup
	var writing sync.WaitGroup
	writing.Add(len(students))
	for _, s := range students {
		wg.Go(func() {
			s.toFirstQuestion(f.Code, "both")
			writing.Done()
			s.walk(flows.StepWorksWell, flows.StepReview, flowtest.AnswersIn(s.lang), nil)
			s.tap("button.submit")
			s.expectCount("submit.thanks", one())
		})
	}
	writing.Wait()
	killed := time.Now()
	c.KillPrimary(primary)
	t.Logf("a replica took over %v after the primary was killed", time.Since(killed).Round(time.Millisecond))
	wg.Wait()
	lb.settle()

	rows := first.suggestions(f)
	if len(rows) != len(students) {
		t.Fatalf("%d ideas stored, want %d", len(rows), len(students))
	}
	byStudent := map[string]int{}
	for _, row := range rows {
		byStudent[row.ParticipantID]++
		checkRow(t, row, f, row.Language, flowtest.AnswersIn(row.Language))
	}
	if len(byStudent) != len(students) {
		t.Errorf("ideas by student: %v", byStudent)
	}
}
