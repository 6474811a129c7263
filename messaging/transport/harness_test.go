package transport

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/pki"
)

const clusterName = "test-cluster"

// testCluster is the configuration of n nodes with several links each on
// loopback addresses: node i has 127.X.(Y+k).i on link k.
type testCluster struct {
	pkiDir string
	port   int
	nodes  []config.Node
}

func newTestCluster(t *testing.T, n, links int) *testCluster {
	t.Helper()
	c := &testCluster{pkiDir: t.TempDir()}
	if err := pki.InitCA(c.pkiDir, pki.Options{ClusterName: clusterName}); err != nil {
		t.Fatal(err)
	}
	prefixes, port := freeAddresses(t, n, links)
	c.port = port
	for i := 1; i <= n; i++ {
		node := config.Node{ID: uint32(i), Name: "n" + strconv.Itoa(i)}
		for k := range links {
			node.Addrs = append(node.Addrs, prefixes[k]+strconv.Itoa(i))
		}
		c.nodes = append(c.nodes, node)
		if _, _, err := pki.Issue(c.pkiDir, pki.RoleNode, node.Name, pki.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// freeAddresses picks random 127.X.Y. prefixes, one per link, whose
// addresses .1 to .n have the returned port free. X stays above the range
// internal/localcluster uses.
func freeAddresses(t *testing.T, n, links int) ([]string, int) {
	t.Helper()
	var lastErr error
	for range 50 {
		x, y := 192+rand.IntN(62), rand.IntN(256-links)
		port := 20000 + rand.IntN(20000)
		var prefixes []string
		for k := range links {
			prefixes = append(prefixes, fmt.Sprintf("127.%d.%d.", x, y+k))
		}
		ok := true
		for _, pre := range prefixes {
			for i := 1; i <= n && ok; i++ {
				ln, err := net.Listen("tcp", net.JoinHostPort(pre+strconv.Itoa(i), strconv.Itoa(port)))
				if err != nil {
					lastErr, ok = err, false
					break
				}
				ln.Close()
			}
		}
		if ok {
			return prefixes, port
		}
	}
	t.Fatalf("no free loopback addresses: %v", lastErr)
	return nil, 0
}

// config returns the transport configuration of node id (1-based).
func (c *testCluster) config(id int, log *slog.Logger) Config {
	cfg := Default()
	cfg.ClusterName = clusterName
	cfg.Local = c.nodes[id-1]
	cfg.Nodes = c.nodes
	cfg.Port = c.port
	cfg.TLS = pki.FilesFor(c.pkiDir, pki.RoleNode, cfg.Local.Name)
	cfg.Incarnation = uint64(1000 + id)
	cfg.Logger = log
	return cfg
}

// addr returns host:port of node id on link k.
func (c *testCluster) addr(id, k int) string {
	return net.JoinHostPort(c.nodes[id-1].Addrs[k], strconv.Itoa(c.port))
}

// logBuffer collects a node's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// line returns the first log line that contains every one of parts.
func (b *logBuffer) line(parts ...string) (string, bool) {
	for l := range strings.SplitSeq(b.String(), "\n") {
		all := true
		for _, p := range parts {
			if !strings.Contains(l, p) {
				all = false
				break
			}
		}
		if all {
			return l, true
		}
	}
	return "", false
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// node is a running transport with what it received.
type node struct {
	*Transport
	log  *logBuffer
	stop func()

	mu       sync.Mutex
	received []Frame
}

// start runs tr until stop is called or the test ends, and collects what
// it receives.
func start(t *testing.T, tr *Transport, log *logBuffer) *node {
	t.Helper()
	n := &node{Transport: tr, log: log}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- tr.Run(ctx) }()
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for f := range tr.Recv() {
			n.mu.Lock()
			n.received = append(n.received, f)
			n.mu.Unlock()
		}
	}()
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-runErr; err != nil {
				t.Errorf("Run of %s: %v", tr.cfg.Local.Name, err)
			}
			<-collected
		})
	}
	t.Cleanup(n.stop)
	return n
}

// startCluster starts a transport for every node of c.
func startCluster(t *testing.T, c *testCluster, setup func(id int, tr *Transport)) []*node {
	t.Helper()
	var nodes []*node
	for id := 1; id <= len(c.nodes); id++ {
		log := &logBuffer{}
		tr, err := New(c.config(id, log.logger()))
		if err != nil {
			t.Fatal(err)
		}
		if setup != nil {
			setup(id, tr)
		}
		nodes = append(nodes, start(t, tr, log))
	}
	return nodes
}

func (n *node) frames() []Frame {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Frame(nil), n.received...)
}

// link returns n's view of link k to peer id.
func (n *node) link(id uint32, k int) (PeerLinks, LinkStatus) {
	for _, pl := range n.Links() {
		if pl.NodeID == id {
			return pl, pl.Links[k]
		}
	}
	panic(fmt.Sprintf("no peer %d", id))
}

// waitFor polls cond until it holds or the deadline passes. Deadlines are
// generous: they bound a failure, they do not measure speed.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// allConnected reports whether every node sees every link to every peer
// connected in both directions, with an RTT measured.
func allConnected(nodes []*node) bool {
	for _, n := range nodes {
		for _, pl := range n.Links() {
			for _, l := range pl.Links {
				if !l.Connected || !l.Inbound || l.RTTSamples == 0 {
					return false
				}
			}
		}
	}
	return true
}

// faults cuts the links a transport dials, as a pulled cable would: while
// a link is cut, its connection neither reads nor writes (bytes wait, as
// TCP's would), and it resumes when healed.
type faults struct {
	mu      sync.Mutex
	cut     map[faultKey]bool
	changed chan struct{}
}

type faultKey struct {
	peer uint32
	link int
}

func newFaults() *faults {
	return &faults{cut: map[faultKey]bool{}, changed: make(chan struct{})}
}

func (f *faults) set(peer uint32, link int, cut bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut[faultKey{peer, link}] = cut
	close(f.changed)
	f.changed = make(chan struct{})
}

// wait blocks while the link is cut; it fails once the connection closes.
func (f *faults) wait(k faultKey, closed <-chan struct{}) error {
	for {
		f.mu.Lock()
		cut, changed := f.cut[k], f.changed
		f.mu.Unlock()
		if !cut {
			return nil
		}
		select {
		case <-changed:
		case <-closed:
			return net.ErrClosed
		}
	}
}

func (f *faults) wrap(peer uint32, link int, c net.Conn) net.Conn {
	return &faultConn{Conn: c, f: f, key: faultKey{peer, link}, closed: make(chan struct{})}
}

type faultConn struct {
	net.Conn
	f      *faults
	key    faultKey
	once   sync.Once
	closed chan struct{}
}

func (c *faultConn) Read(b []byte) (int, error) {
	if err := c.f.wait(c.key, c.closed); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		// Bytes that arrive during a cut are held until it heals.
		if werr := c.f.wait(c.key, c.closed); werr != nil {
			return 0, werr
		}
	}
	return n, err
}

func (c *faultConn) Write(b []byte) (int, error) {
	if err := c.f.wait(c.key, c.closed); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

func (c *faultConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
