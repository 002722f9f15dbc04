package bot

import (
	"context"
	"time"

	"github.com/healthycities/napad/flows"
)

// A forum's short code is short enough to type from the projector, and so
// short that it could be guessed if nothing stopped a guesser: each person
// may type wrongJoinCodes codes that lead nowhere per wrongJoinCodeWindow;
// after that, the bot asks them to wait and looks no code up, not even the
// right one. A right code does not count.
//
// That makes guessing hopeless. 5 codes per 10 minutes are at most 720 a
// day, 262,800 a year. A code is one of 32^8 = 2^40 ≈ 1.1 × 10^12; with
// 1,000 forums, one guess finds one of them with probability 1,000 / 1.1 ×
// 10^12 ≈ 9.1 × 10^-10, so a student guessing day and night for a whole
// year finds any forum with probability 262,800 × 9.1 × 10^-10 ≈ 2.4 ×
// 10^-4: 1 in 4,200. (And what they find is a way to send ideas to some
// class's forum, which staff read before anything happens.)
const (
	wrongJoinCodes      = 5
	wrongJoinCodeWindow = 10 * time.Minute
)

// lookUpJoinCode finds the forum of a code someone typed, unless they typed
// too many wrong ones lately, and counts it if it leads nowhere.
func (rt *Runtime) lookUpJoinCode(ctx context.Context, x effect, e flows.LookUpJoinCode) (flows.Input, bool) {
	if counter := rt.stores.JoinCodes; counter != nil {
		wrong, err := counter.WrongJoinCodes(ctx, x.pid)
		if err != nil {
			return rt.failed("count wrong join codes", err)
		}
		if wrong >= wrongJoinCodes {
			rt.log.Info("too many wrong join codes; not looking this one up")
			return outcome(flows.JoinCodeRefused{Code: e.Code, Limited: true})
		}
	}
	forum, found, err := rt.stores.Forums.ForumByShortCode(ctx, e.Code)
	if err != nil {
		return rt.failed("look up a short join code", err)
	}
	if found {
		return rt.joinLinkOpened(ctx, forum, true), true
	}
	if counter := rt.stores.JoinCodes; counter != nil {
		// A count that fails lets one guess through uncounted; the code is
		// wrong all the same, and the student is told so.
		if _, err := counter.CountWrongJoinCode(ctx, x.pid, wrongJoinCodeWindow); err != nil {
			rt.log.Error("count a wrong join code", "err", err)
		}
	}
	return outcome(flows.JoinCodeRefused{Code: e.Code})
}
