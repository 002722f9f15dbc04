package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// The forms of Redis URL that Open takes (REDIS_URL). The query options are
// go-redis's (dial_timeout, pool_size, …); rediss instead of redis means TLS.
//
//	redis://[user:password@]host:port/db
//	    one server;
//	redis+cluster://[user:password@]host:port?addr=host2:port2&addr=…
//	    a Redis Cluster: any of its nodes, the others are found from them;
//	redis+sentinel://[user:password@]sentinel:port/db?master_name=NAME&addr=sentinel2:port&password=…
//	    the primary that the Sentinels name NAME, followed when they fail
//	    over; the URL's user and password are the Sentinels', the query's
//	    username and password the primary's.

// target is a parsed Redis URL: how to make its client, and what to call it
// in errors (never with the password).
type target struct {
	newClient func() goredis.UniversalClient
	name      string
}

// CheckURL says whether Open can use redisURL, without connecting. Its
// errors complete a sentence that starts with the setting's name, and never
// contain the password.
func CheckURL(redisURL string) error {
	_, err := parseURL(redisURL)
	return err
}

// NewClient makes the client for redisURL (see Open) without connecting,
// for tools and tests that look at Redis beside the Store.
func NewClient(redisURL string) (goredis.UniversalClient, error) {
	tgt, err := parseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("redis: URL %w", err)
	}
	return tgt.newClient(), nil
}

func parseURL(redisURL string) (target, error) {
	u, err := url.Parse(redisURL)
	if err != nil || u.Host == "" {
		// url.Parse's error quotes the URL, password and all.
		return target{}, errors.New("is not a valid URL")
	}
	base, kind, _ := strings.Cut(u.Scheme, "+")
	plain := *u
	plain.Scheme = base
	switch {
	case base != "redis" && base != "rediss":
	case kind == "":
		opts, err := goredis.ParseURL(plain.String())
		if err != nil {
			return target{}, fmt.Errorf("is not a usable Redis URL: %w", err)
		}
		return target{name: fmt.Sprintf("%s db %d", opts.Addr, opts.DB), newClient: func() goredis.UniversalClient { return goredis.NewClient(opts) }}, nil
	case kind == "cluster":
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return target{}, errors.New("names a database, but a Redis Cluster has only database 0")
		}
		plain.Path = ""
		opts, err := goredis.ParseClusterURL(plain.String())
		if err != nil {
			return target{}, fmt.Errorf("is not a usable Redis Cluster URL: %w", err)
		}
		return target{
			name:      fmt.Sprintf("the cluster at %s", strings.Join(opts.Addrs, ",")),
			newClient: func() goredis.UniversalClient { return newClusterClient(opts) },
		}, nil
	case kind == "sentinel":
		opts, err := goredis.ParseFailoverURL(plain.String())
		if err != nil {
			return target{}, fmt.Errorf("is not a usable Redis Sentinel URL: %w", err)
		}
		if opts.MasterName == "" {
			return target{}, errors.New("needs ?master_name=NAME, the primary's name in the Sentinels' configuration")
		}
		return target{
			name:      fmt.Sprintf("primary %q of the Sentinels at %s db %d", opts.MasterName, strings.Join(opts.SentinelAddrs, ","), opts.DB),
			newClient: func() goredis.UniversalClient { return goredis.NewFailoverClient(opts) },
		}, nil
	}
	return target{}, fmt.Errorf("must start with redis://, rediss://, redis+cluster:// or redis+sentinel:// (got %q)", u.Scheme)
}

// ForEachPrimary calls fn with every primary of a cluster (at once), or
// with the one server, or Sentinel's primary, of any other client from
// NewClient: for tools that read INFO or scan keys.
func ForEachPrimary(ctx context.Context, client goredis.UniversalClient, fn func(context.Context, *goredis.Client) error) error {
	switch c := client.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *goredis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("redis: unexpected client %T", client)
}
