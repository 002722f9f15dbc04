package telegram

import (
	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

// The runtime stores each idea with the channel it came through, for the
// exports; this file is apart from telegram.go so that naming the channel
// does not touch the code that talks to Telegram.
var _ bot.NamedChannel = (*Bot)(nil)

// ChannelName says that ideas sent here came through Telegram
// (bot.NamedChannel).
func (b *Bot) ChannelName() string { return flows.ChannelTelegram }
