package redis

import (
	"context"
	"errors"
	"io"
	"net"

	goredis "github.com/redis/go-redis/v9"
)

// newClusterClient is a cluster client that looks up which node serves
// which slots again as soon as a node cannot be reached. go-redis would
// otherwise keep sending a dead primary's slots to it until its periodic
// reload (ClusterStateReloadInterval, a minute by default), long after a
// replica has taken over.
func newClusterClient(opts *goredis.ClusterOptions) *goredis.ClusterClient {
	c := goredis.NewClusterClient(opts)
	c.AddHook(reloadHook{c})
	return c
}

type reloadHook struct{ c *goredis.ClusterClient }

func (h reloadHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h reloadHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		reloadIfUnreachable(h.c, err)
		return err
	}
}

func (h reloadHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		reloadIfUnreachable(h.c, err)
		return err
	}
}

// reloadIfUnreachable has c reload the cluster's layout (in the background,
// at most one reload at a time) if err says a node could not be reached.
func reloadIfUnreachable(c *goredis.ClusterClient, err error) {
	var netErr net.Error
	if err != nil && (errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		c.ReloadState(context.Background())
	}
}
