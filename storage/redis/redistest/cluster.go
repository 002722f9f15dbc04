package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a throw-away Redis Cluster, or a primary, its replica and a
// Sentinel, of redis-server processes on loopback ports, without
// persistence, removed when the test ends. Like the rest of the package it
// fails, never skips, when redis-server or redis-cli is missing.
type Cluster struct {
	t     testing.TB
	dir   string
	nodes []*clusterNode
	// URL names every node (redis+cluster://…), or the Sentinel
	// (redis+sentinel://…), as REDIS_URL would.
	URL      string
	sentinel int // the Sentinel's port, if it is one
}

type clusterNode struct {
	port int
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// NodeTimeout is the cluster's cluster-node-timeout: how long a primary
// may be unreachable before its replica takes over. Short, so that a
// failover test takes seconds.
const NodeTimeout = time.Second

// StartCluster starts primaries primary nodes, each with replicas replicas,
// and waits until the cluster serves every slot and each replica is in sync.
func StartCluster(t testing.TB, primaries, replicas int) *Cluster {
	t.Helper()
	c := newServers(t)
	n := primaries * (1 + replicas)
	addrs := make([]string, n)
	for i := range n {
		dir := c.nodeDir()
		node := c.startNode(dir, "", "--cluster-port", strconv.Itoa(freePort(t)), "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout.Milliseconds())))
		addrs[i] = "127.0.0.1:" + strconv.Itoa(node.port)
	}
	// redis-cli takes the first `primaries` addresses as primaries and
	// gives them the rest as replicas.
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.URL = "redis+cluster://" + addrs[0]
	for i, a := range addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		c.URL += sep + "addr=" + a
	}
	c.WaitHealthy()
	c.waitStreaming()
	return c
}

// StartSentinel starts a primary with one replica, watched by one Sentinel
// that names them "napad" and fails over a primary unreachable for
// NodeTimeout.
func StartSentinel(t testing.TB) *Cluster {
	t.Helper()
	c := newServers(t)
	primary := c.startNode(c.nodeDir(), "").port
	c.startNode(c.nodeDir(), "", "--replicaof", "127.0.0.1", strconv.Itoa(primary))
	dir := c.nodeDir()
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites its configuration
	if err := os.WriteFile(conf, fmt.Appendf(nil, "sentinel monitor napad 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds napad %d\nsentinel failover-timeout napad 5000\n", primary, NodeTimeout.Milliseconds()), 0o644); err != nil {
		t.Fatal(err)
	}
	c.sentinel = c.startNode(dir, conf, "--sentinel").port
	c.URL = fmt.Sprintf("redis+sentinel://127.0.0.1:%d/0?master_name=napad", c.sentinel)
	c.WaitHealthy()
	c.waitStreaming()
	return c
}

func newServers(t testing.TB) *Cluster {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("redistest: a Redis Cluster or Sentinel test needs %s on PATH (apt-get install redis-server): %v", bin, err)
		}
	}
	c := &Cluster{t: t, dir: t.TempDir()}
	t.Cleanup(c.stop)
	return c
}

// freePort is a loopback port nobody listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// nodeDir is a new directory for a node's files.
func (c *Cluster) nodeDir() string {
	dir := filepath.Join(c.dir, strconv.Itoa(len(c.nodes)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	return dir
}

// startNode starts redis-server with its files in dir, the configuration
// file conf if not "", and the options args, and waits until it answers.
// A port taken by someone else between choosing it and binding it (tests
// run in parallel) is given up for another, a few times.
func (c *Cluster) startNode(dir, conf string, args ...string) *clusterNode {
	c.t.Helper()
	for attempt := 1; ; attempt++ {
		node, log := c.tryNode(dir, conf, args...)
		if node != nil {
			return node
		}
		if attempt == 5 || !strings.Contains(log, "Address already in use") {
			c.t.Fatalf("redistest: redis-server stopped at start-up; its log:\n%s", log)
		}
		_ = os.Remove(filepath.Join(dir, "redis.log"))
		_ = os.Remove(filepath.Join(dir, "nodes.conf"))
	}
}

// tryNode is one attempt of startNode: the running node, or the log of one
// that stopped at start-up.
func (c *Cluster) tryNode(dir, conf string, args ...string) (*clusterNode, string) {
	t := c.t
	t.Helper()
	port := freePort(t)
	args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--repl-diskless-sync-delay", "0", // replicas in sync at once, not after 5 s
		"--enable-debug-command", "local", // DEBUG SLEEP: a replica that lags
		"--logfile", filepath.Join(dir, "redis.log")}, args...)
	if conf != "" {
		args = append([]string{conf}, args...)
	}
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	node := &clusterNode{port: port, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(node.done) }()
	c.nodes = append(c.nodes, node) // stopped at the end of the test, whatever happens
	client := c.nodeClient(port)
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for client.Ping(context.Background()).Err() != nil {
		select {
		case <-node.done:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			c.nodes = c.nodes[:len(c.nodes)-1]
			return nil, fmt.Sprintf("port %d:\n%s", port, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: redis-server on port %d did not answer within 10 s", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return node, ""
}

func (c *Cluster) nodeClient(port int) *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1, DialTimeout: time.Second})
}

// Ports are the nodes' ports, the running ones, in the order they started.
func (c *Cluster) Ports() []int {
	var ports []int
	for _, n := range c.nodes {
		select {
		case <-n.done:
		default:
			ports = append(ports, n.port)
		}
	}
	return ports
}

// PrimaryFor is the port of the primary that serves key now.
func (c *Cluster) PrimaryFor(key string) int {
	c.t.Helper()
	ctx := context.Background()
	for _, port := range c.Ports() {
		client := c.nodeClient(port)
		slot, err := client.ClusterKeySlot(ctx, key).Result()
		var shards []goredis.ClusterShard
		if err == nil {
			shards, err = client.ClusterShards(ctx).Result()
		}
		_ = client.Close()
		if err != nil {
			continue
		}
		for _, s := range shards {
			for _, r := range s.Slots {
				if r.Start > slot || slot > r.End {
					continue
				}
				for _, n := range s.Nodes {
					if n.Role == "master" && n.Health == "online" {
						return int(n.Port)
					}
				}
			}
		}
	}
	c.t.Fatalf("redistest: no node knows the primary of %q", key)
	return 0
}

// ReplicasOf are the ports of the running replicas of the primary on port.
func (c *Cluster) ReplicasOf(port int) []int {
	c.t.Helper()
	var replicas []int
	for _, p := range c.Ports() {
		if p == c.sentinel {
			continue
		}
		client := c.nodeClient(p)
		info, err := client.Info(context.Background(), "replication").Result()
		_ = client.Close()
		if err != nil {
			c.t.Fatalf("redistest: node %d: %v", p, err)
		}
		if f := infoFields(info); f["role"] == "slave" && f["master_port"] == strconv.Itoa(port) {
			replicas = append(replicas, p)
		}
	}
	return replicas
}

// Logs are the nodes' logs, for a test that failed.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, n := range c.nodes {
		log, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
		fmt.Fprintf(&b, "--- node %d:\n%s", n.port, log)
	}
	return b.String()
}

// Kill ends the node on port at once (SIGKILL): a primary that dies.
func (c *Cluster) Kill(port int) {
	c.t.Helper()
	for _, n := range c.nodes {
		if n.port == port {
			_ = n.cmd.Process.Kill()
			<-n.done
			return
		}
	}
	c.t.Fatalf("redistest: no node on port %d", port)
}

// KillPrimary kills the primary on port and waits until one of its replicas
// has taken over and the cluster is healthy again; it returns the new
// primary's port.
func (c *Cluster) KillPrimary(port int) int {
	c.t.Helper()
	replicas := c.ReplicasOf(port)
	if len(replicas) == 0 {
		c.t.Fatalf("redistest: the primary on port %d has no replica to take over", port)
	}
	c.Kill(port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range replicas {
			client := c.nodeClient(r)
			info, err := client.Info(context.Background(), "replication").Result()
			_ = client.Close()
			if err == nil && infoFields(info)["role"] == "master" && (c.sentinel == 0 || c.SentinelPrimary() == r) {
				c.WaitHealthy()
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("redistest: no replica of %d took over within 30 s", port)
	return 0
}

// WaitHealthy waits until every running node sees the cluster as ok, every
// slot has a reachable primary, and every replica is in sync with it.
func (c *Cluster) WaitHealthy() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var why string
	for time.Now().Before(deadline) {
		if why = c.unhealthy(); why == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("redistest: the cluster did not become healthy within 30 s: %s", why)
}

func (c *Cluster) unhealthy() string {
	ctx := context.Background()
	if c.sentinel != 0 {
		if p := c.SentinelPrimary(); !slices.Contains(c.Ports(), p) {
			return fmt.Sprintf("the Sentinel names %d as the primary", p)
		}
	}
	for _, port := range c.Ports() {
		if port == c.sentinel {
			continue
		}
		client := c.nodeClient(port)
		info, err := client.Info(ctx, "replication").Result()
		if err == nil && c.sentinel == 0 {
			var cluster string
			cluster, err = client.ClusterInfo(ctx).Result()
			info += cluster
		}
		_ = client.Close()
		if err != nil {
			return fmt.Sprintf("node %d: %v", port, err)
		}
		fields := infoFields(info)
		switch {
		case c.sentinel == 0 && fields["cluster_state"] != "ok":
			return fmt.Sprintf("node %d: cluster_state %s", port, fields["cluster_state"])
		case c.sentinel == 0 && fields["cluster_slots_ok"] != "16384":
			return fmt.Sprintf("node %d: %s slots ok", port, fields["cluster_slots_ok"])
		case fields["role"] == "slave" && fields["master_link_status"] != "up":
			return fmt.Sprintf("replica %d: link to its primary %s", port, fields["master_link_status"])
		case fields["role"] == "slave" && fields["master_sync_in_progress"] != "0":
			return fmt.Sprintf("replica %d: still syncing", port)
		}
	}
	return ""
}

// SentinelPrimary is the port of the primary that the Sentinel names (0 if
// it names none).
func (c *Cluster) SentinelPrimary() int {
	client := c.nodeClient(c.sentinel)
	defer client.Close()
	addr, err := client.Do(context.Background(), "SENTINEL", "get-master-addr-by-name", "napad").StringSlice()
	if err != nil || len(addr) != 2 {
		return 0
	}
	port, _ := strconv.Atoi(addr[1])
	return port
}

// waitStreaming waits until every primary passes its writes on to its
// replicas. After a full sync a primary sends a replica nothing until the
// replica's first acknowledgement, up to a second later, while both already
// call the link up: a write then, and a primary killed right after, would
// be lost whatever the test does. Each primary writes (FLUSHALL: nothing is
// stored yet) and WAITs until every replica has it.
func (c *Cluster) waitStreaming() {
	c.t.Helper()
	ctx := context.Background()
	for _, port := range c.Ports() {
		if port == c.sentinel {
			continue
		}
		client := c.nodeClient(port)
		info, err := client.Info(ctx, "replication").Result()
		replicas, _ := strconv.Atoi(infoFields(info)["connected_slaves"])
		if err != nil || infoFields(info)["role"] != "master" || replicas == 0 {
			_ = client.Close()
			continue
		}
		conn := client.Conn() // WAIT counts the writes of its own connection
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := conn.FlushAll(ctx).Err()
			var acked int64
			if err == nil {
				acked, err = conn.Wait(ctx, replicas, 200*time.Millisecond).Result()
			}
			if err == nil && acked >= int64(replicas) {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("redistest: the replicas of %d do not acknowledge its writes within 10 s (%d of %d, %v)", port, acked, replicas, err)
			}
		}
		_ = conn.Close()
		_ = client.Close()
	}
}

// infoFields reads the "name:value" lines of INFO and CLUSTER INFO.
func infoFields(s string) map[string]string {
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			fields[k] = v
		}
	}
	return fields
}

func (c *Cluster) stop() {
	for _, n := range c.nodes {
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}
