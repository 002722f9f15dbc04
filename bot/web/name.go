package web

import (
	"github.com/healthycities/napad/bot"
	"github.com/healthycities/napad/flows"
)

// The runtime stores each idea with the channel it came through, for the
// exports: without a name, an idea sent here would be taken for Telegram's.
var _ bot.NamedChannel = (*Server)(nil)

// ChannelName says that ideas sent here came through the browser
// (bot.NamedChannel).
func (s *Server) ChannelName() string { return flows.ChannelWeb }
