package flows

// A deployment may let students take part on their own only from an age
// (the age of digital consent: 15 in Czechia, 13 in Norway), and may ask
// which age group a student is in, for breakdowns (never a birth date).
// Below the age, a student is told kindly what to do instead, and nothing
// about them is stored.

// AgeRule is the deployment's: Min is the age a student must have (0: no
// check); AskBand asks the age group even without one.
type AgeRule struct {
	Min     int
	AskBand bool
}

// Asks reports whether students are asked about their age.
func (r AgeRule) Asks() bool { return r.Min > 0 || r.AskBand }

// AgeBands are the age groups students pick from, youngest first: their
// bounds are the ages a deployment can require (MinAges).
var AgeBands = []string{"12-", "13-14", "15", "16-17", "18+"}

// MinAges are the ages AgeRule.Min may be.
var MinAges = []int{13, 15, 16, 18}

// ageBandTop is the oldest age in a band (for "18+", older than any minimum).
var ageBandTop = map[string]int{"12-": 12, "13-14": 14, "15": 15, "16-17": 17, "18+": 99}

// Answers to "are you Min or older?" when no age group is asked.
const (
	AgeOldEnough = "yes"
	AgeTooYoung  = "no"
)

// ageChoices are the buttons of the age question.
func (r AgeRule) choices() []string {
	if r.AskBand {
		return AgeBands
	}
	return []string{AgeOldEnough, AgeTooYoung}
}

// oldEnough reports whether the answer lets the student take part.
func (r AgeRule) oldEnough(answer string) bool {
	if top, ok := ageBandTop[answer]; ok {
		return top >= r.Min
	}
	return answer == AgeOldEnough
}

// ageAnswered takes the student in, or tells them kindly why not and
// forgets them.
func (c *conversation) ageAnswered(answer string) bool {
	rule := c.in.Age
	if !rule.oldEnough(answer) {
		c.forget = true
		c.edit = false
		c.say("age.too_young", map[string]any{"Min": rule.Min})
		return false
	}
	c.st.AgeOK = true
	if rule.AskBand {
		c.st.AgeBand = answer
	}
	c.do(CountJoin{Forum: Forum{ID: c.st.ForumID, Code: c.st.ForumCode, Name: c.st.ForumName}})
	return true
}
