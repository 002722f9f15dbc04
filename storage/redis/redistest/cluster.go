package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a throw-away Redis Cluster of redis-server processes on
// loopback ports, without persistence, removed when the test ends. Like the
// rest of the package it fails, never skips, when redis-server or redis-cli
// is missing.
type Cluster struct {
	t     testing.TB
	dir   string
	nodes []*clusterNode
	// URL names every node (redis+cluster://…), as REDIS_URL would.
	URL string
}

type clusterNode struct {
	port int
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
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("redistest: a Redis Cluster test needs %s on PATH (apt-get install redis-server): %v", bin, err)
		}
	}
	c := &Cluster{t: t, dir: t.TempDir()}
	t.Cleanup(c.stop)
	n := primaries * (1 + replicas)
	addrs := make([]string, n)
	for i := range n {
		node := c.startNode()
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

func (c *Cluster) startNode() *clusterNode {
	t := c.t
	t.Helper()
	port := freePort(t)
	dir := filepath.Join(c.dir, strconv.Itoa(port))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(port), "--cluster-port", strconv.Itoa(freePort(t)),
		"--bind", "127.0.0.1", "--cluster-enabled", "yes",
		"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
		"--cluster-node-timeout", strconv.Itoa(int(NodeTimeout.Milliseconds())),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--repl-diskless-sync-delay", "0", // replicas in sync at once, not after 5 s
		"--enable-debug-command", "local", // DEBUG SLEEP: a replica that lags
		"--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	node := &clusterNode{port: port, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(node.done) }()
	c.nodes = append(c.nodes, node)
	client := c.nodeClient(port)
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for client.Ping(context.Background()).Err() != nil {
		select {
		case <-node.done:
			t.Fatalf("redistest: redis-server on port %d stopped at start-up; its log:\n%s", port, c.log(port))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: redis-server on port %d did not answer within 10 s", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return node
}

func (c *Cluster) nodeClient(port int) *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1, DialTimeout: time.Second})
}

func (c *Cluster) log(port int) string {
	b, _ := os.ReadFile(filepath.Join(c.dir, strconv.Itoa(port), "redis.log"))
	return string(b)
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
			if err == nil && infoFields(info)["role"] == "master" {
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
	for _, port := range c.Ports() {
		client := c.nodeClient(port)
		info, err := client.ClusterInfo(ctx).Result()
		var repl string
		if err == nil {
			repl, err = client.Info(ctx, "replication").Result()
		}
		_ = client.Close()
		if err != nil {
			return fmt.Sprintf("node %d: %v", port, err)
		}
		fields := infoFields(info + repl)
		switch {
		case fields["cluster_state"] != "ok":
			return fmt.Sprintf("node %d: cluster_state %s", port, fields["cluster_state"])
		case fields["cluster_slots_ok"] != "16384":
			return fmt.Sprintf("node %d: %s slots ok", port, fields["cluster_slots_ok"])
		case fields["role"] == "slave" && fields["master_link_status"] != "up":
			return fmt.Sprintf("replica %d: link to its primary %s", port, fields["master_link_status"])
		case fields["role"] == "slave" && fields["master_sync_in_progress"] != "0":
			return fmt.Sprintf("replica %d: still syncing", port)
		}
	}
	return ""
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
