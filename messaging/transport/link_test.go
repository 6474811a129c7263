package transport

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/pki"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestOutStateUp(t *testing.T) {
	const timeout = 400 * time.Millisecond
	var o outState
	if o.up(t0, timeout) {
		t.Fatal("a link that never connected is up")
	}
	o = outState{established: true}
	o.pong(t0, timeout) // the hello answer
	if o.up(t0, timeout) {
		t.Fatal("up on the hello alone; it needs one pong more")
	}
	o.pong(t0.Add(ms(100)), timeout)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{ms(100), true}, {ms(500), true}, {ms(500) + 1, false}, {ms(2000), false}} {
		if got := o.up(t0.Add(tc.at), timeout); got != tc.want {
			t.Errorf("up at %v = %v, want %v", tc.at, got, tc.want)
		}
	}
	// A pong after a silence longer than the timeout starts the count over.
	o.pong(t0.Add(ms(2000)), timeout)
	if o.up(t0.Add(ms(2000)), timeout) {
		t.Error("up again on the first pong after a silence")
	}
	o.pong(t0.Add(ms(2100)), timeout)
	if !o.up(t0.Add(ms(2100)), timeout) {
		t.Error("not up after two pongs in a row")
	}
	o.established = false
	if o.up(t0.Add(ms(2100)), timeout) {
		t.Error("up after the stream closed")
	}
}

// setUp makes link l of p up at now, or down.
func setUp(p *peer, l int, now time.Time, up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !up {
		p.links[l].out = outState{}
		return
	}
	p.links[l].out = outState{established: true, pongs: upPongs, lastPong: now}
}

func testPeer(links int, queueLen int) *peer {
	local := config.Node{ID: 1, Name: "n1"}
	other := config.Node{ID: 2, Name: "n2"}
	for i := range links {
		local.Addrs = append(local.Addrs, fmt.Sprintf("10.0.%d.1", i))
		other.Addrs = append(other.Addrs, fmt.Sprintf("10.0.%d.2", i))
	}
	return newPeer(local, other, queueLen)
}

func TestBestLinkIsTheLowestUp(t *testing.T) {
	const timeout = 400 * time.Millisecond
	for _, tc := range []struct {
		up   []bool
		want int
	}{
		{[]bool{false, false, false}, -1},
		{[]bool{true, true, true}, 0},
		{[]bool{false, true, true}, 1},
		{[]bool{false, false, true}, 2},
		{[]bool{true, false, true}, 0},
	} {
		p := testPeer(3, 1)
		for i, up := range tc.up {
			setUp(p, i, t0, up)
		}
		p.mu.Lock()
		got := p.best(t0, timeout)
		p.mu.Unlock()
		if got != tc.want {
			t.Errorf("links up %v: best = %d, want %d", tc.up, got, tc.want)
		}
	}
	// The peer has fewer links than this node: only the common ones exist.
	local := config.Node{ID: 1, Name: "n1", Addrs: []string{"a", "b", "c"}}
	if p := newPeer(local, config.Node{ID: 2, Name: "n2", Addrs: []string{"x"}}, 1); len(p.links) != 1 {
		t.Errorf("%d links to a node with one address", len(p.links))
	}
}

func TestPullFollowsTheBestLink(t *testing.T) {
	const timeout = 400 * time.Millisecond
	p := testPeer(2, 4)
	setUp(p, 0, t0, true)
	setUp(p, 1, t0, true)
	p.evaluate(t0, t0, timeout)
	if q, _ := p.pull(0, t0, timeout); q == nil {
		t.Fatal("link 0 is up and first, but may not take frames")
	}
	q, changed := p.pull(1, t0, timeout)
	if q != nil {
		t.Fatal("link 1 takes frames while link 0 is up")
	}
	// Link 0 stops answering: once the timeout has passed, evaluate wakes
	// link 1's sender, which now takes the frames.
	later := t0.Add(timeout + time.Millisecond)
	setUp(p, 1, later, true)
	changes := p.evaluate(later, t0, timeout)
	select {
	case <-changed:
	default:
		t.Fatal("the senders were not woken")
	}
	if q, _ := p.pull(1, later, timeout); q == nil {
		t.Fatal("link 1 does not take frames after link 0 went down")
	}
	if len(changes) != 2 || changes[0].kind != changeLinkDown || changes[0].link != 0 ||
		changes[1].kind != changeActive || changes[1].from != 0 || changes[1].to != 1 {
		t.Errorf("changes = %+v", changes)
	}
	if !strings.Contains(changes[0].reason, "no pong for 401ms") {
		t.Errorf("down reason %q", changes[0].reason)
	}
	if p.links[0].downCount != 1 || p.links[0].upCount != 1 {
		t.Errorf("link 0 up %d down %d times", p.links[0].upCount, p.links[0].downCount)
	}
}

// unitTransport returns a Transport of node 1 of a three-node nodelist
// that is never run: its links are set by hand.
func unitTransport(t testing.TB, mod func(*Config)) *Transport {
	t.Helper()
	nodes := []config.Node{
		{ID: 1, Name: "n1", Addrs: []string{"10.0.0.1", "10.0.1.1"}},
		{ID: 2, Name: "n2", Addrs: []string{"10.0.0.2", "10.0.1.2"}},
		{ID: 3, Name: "n3", Addrs: []string{"10.0.0.3", "10.0.1.3"}},
	}
	cfg := Config{
		ClusterName: clusterName,
		Local:       nodes[0],
		Nodes:       nodes,
		Port:        5405,
		TLS:         pki.Files{CA: "ca.crt", Cert: "n1.crt", Key: "n1.key"},
		// Long enough that links set up by hand stay up for the test.
		LinkTimeout: time.Hour,
	}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSendAccounting(t *testing.T) {
	tr := unitTransport(t, func(c *Config) {
		c.QueueLen = 3
		c.QueueBytes = 1000
		c.MaxFrameSize = 100
	})
	if err := tr.Send(9, []byte("x")); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("to an unknown node: %v", err)
	}
	if err := tr.Send(1, []byte("x")); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("to this node: %v", err)
	}
	if err := tr.Send(2, []byte("x")); !errors.Is(err, ErrNoLink) {
		t.Errorf("with no link up: %v", err)
	}
	setUp(tr.peers[2], 1, time.Now(), true)
	for i := range 3 {
		if err := tr.Send(2, []byte("abcd")); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if err := tr.Send(2, []byte("abcd")); !errors.Is(err, ErrQueueFull) {
		t.Errorf("beyond QueueLen: %v", err)
	}
	if err := tr.Send(2, make([]byte, 101)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("beyond MaxFrameSize: %v", err)
	}
	if err := tr.Send(2, make([]byte, 100)); !errors.Is(err, ErrQueueFull) {
		t.Errorf("MaxFrameSize on a full queue: %v", err)
	}
	pl := tr.Links()[0]
	want := PeerLinks{NodeID: 2, Name: "n2", Reachable: true, ActiveLink: 1, Queued: 3, QueuedBytes: 12,
		DroppedNoLink: 1, DroppedQueueFull: 2, DroppedTooLarge: 1}
	if !equalPeerLinks(pl, want) {
		t.Errorf("Links()[0] = %+v\nwant %+v", pl, want)
	}
	if other := tr.Links()[1]; other.NodeID != 3 || other.Reachable || other.DroppedNoLink != 0 {
		t.Errorf("node 3 = %+v", other)
	}
}

func equalPeerLinks(a, b PeerLinks) bool {
	a.Links, b.Links = nil, nil
	return a.NodeID == b.NodeID && a.Name == b.Name && a.Reachable == b.Reachable && a.ActiveLink == b.ActiveLink &&
		a.Queued == b.Queued && a.QueuedBytes == b.QueuedBytes && a.DroppedNoLink == b.DroppedNoLink &&
		a.DroppedQueueFull == b.DroppedQueueFull && a.DroppedTooLarge == b.DroppedTooLarge && a.RecvDropped == b.RecvDropped
}

func TestSendQueueIsBoundedInBytes(t *testing.T) {
	tr := unitTransport(t, func(c *Config) {
		c.QueueLen = 100
		c.QueueBytes = 10
	})
	setUp(tr.peers[3], 0, time.Now(), true)
	for i, want := range []error{nil, nil, ErrQueueFull, nil} {
		size := 4
		if i == 3 {
			size = 2 // 4+4+2 = 10 still fits
		}
		if err := tr.Send(3, make([]byte, size)); !errors.Is(err, want) {
			t.Errorf("frame %d of %d bytes: got %v, want %v", i, size, err, want)
		}
	}
	// Taking a frame off the queue makes room again.
	p := tr.peers[3]
	p.dequeued(<-p.queue)
	if err := tr.Send(3, make([]byte, 4)); err != nil {
		t.Errorf("after one frame left the queue: %v", err)
	}
}

func TestUnreachablePeerQueueIsFlushed(t *testing.T) {
	log := &logBuffer{}
	tr := unitTransport(t, func(c *Config) {
		c.LinkTimeout = 400 * time.Millisecond
		c.Logger = log.logger()
	})
	p := tr.peers[2]
	now := time.Now()
	setUp(p, 0, now, true)
	tr.evaluate(p, now)
	for range 2 {
		if err := tr.Send(2, []byte("stale")); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	p.links[0].out.established = false
	p.links[0].setErr(now, "stream closed by the peer")
	p.mu.Unlock()
	tr.evaluate(p, now)
	pl := tr.Links()[0]
	if pl.Reachable || pl.Queued != 0 || pl.QueuedBytes != 0 || pl.DroppedNoLink != 2 {
		t.Errorf("after the last link went down: %+v", pl)
	}
	if l := pl.Links[0]; l.UpCount != 1 || l.DownCount != 1 || l.LastError != "stream closed by the peer" {
		t.Errorf("link 0: %+v", l)
	}
	for _, parts := range [][]string{
		{"link up", "node=n2", "link=0"},
		{"node reachable", "node=n2"},
		{"link down", "node=n2", "link=0", `reason="stream closed by the peer"`},
		{"node unreachable", "node=n2", "queued_frames_dropped=2"},
	} {
		if _, ok := log.line(parts...); !ok {
			t.Errorf("no log line with %q in:\n%s", parts, log)
		}
	}
}

func TestRTTStats(t *testing.T) {
	var r rttStats
	r.add(ms(8))
	if r.smoothed != ms(8) || r.min != ms(8) || r.max != ms(8) || r.samples != 1 {
		t.Fatalf("after one sample: %+v", r)
	}
	r.add(ms(16))
	r.add(ms(4))
	if r.min != ms(4) || r.max != ms(16) || r.samples != 3 {
		t.Errorf("extremes: %+v", r)
	}
	// 8 + (16-8)/8 = 9; 9 + (4-9)/8 = 8.375
	if r.smoothed != 8375*time.Microsecond {
		t.Errorf("smoothed = %v, want 8.375ms", r.smoothed)
	}
}

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		nodes := []config.Node{
			{ID: 1, Name: "n1", Addrs: []string{"10.0.0.1"}},
			{ID: 2, Name: "n2", Addrs: []string{"10.0.0.2"}},
		}
		c := Default()
		c.ClusterName, c.Local, c.Nodes, c.Port = "c", nodes[0], nodes, 5405
		c.TLS = pki.Files{CA: "ca", Cert: "crt", Key: "key"}
		return c
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no local id", func(c *Config) { c.Local.ID = 0 }, "Local.ID"},
		{"no local address", func(c *Config) { c.Local.Addrs = nil }, "Local.Addrs: 0 links"},
		{"nine links", func(c *Config) { c.Local.Addrs = make([]string, 9) }, "Local.Addrs: 9 links"},
		{"unnamed node", func(c *Config) { c.Nodes[1].Name = "" }, "every node needs a name"},
		{"duplicate id", func(c *Config) { c.Nodes[1].ID = 1 }, "duplicate node id"},
		{"duplicate name", func(c *Config) { c.Nodes[1].Name = "n1" }, `duplicate node name "n1"`},
		{"local not listed", func(c *Config) { c.Local = config.Node{ID: 7, Name: "n7", Addrs: []string{"x"}} }, "not in the nodelist"},
		{"local renamed", func(c *Config) { c.Local.Name = "other" }, `named "n1" in Nodes but "other"`},
		{"port", func(c *Config) { c.Port = 0 }, "Port"},
		{"tls", func(c *Config) { c.TLS.Key = "" }, "TLS"},
		{"timeout too short", func(c *Config) { c.LinkTimeout = c.PingInterval }, "LinkTimeout"},
		{"frame too large", func(c *Config) { c.MaxFrameSize = LimitFrameSize + 1 }, "MaxFrameSize"},
		{"queue", func(c *Config) { c.QueueLen = -1 }, "QueueLen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			c.Nodes = append([]config.Node(nil), c.Nodes...)
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
			if _, nerr := New(c); nerr == nil {
				t.Error("New accepted it")
			}
		})
	}
	// Zero tunables take the defaults.
	c := good()
	c.PingInterval, c.LinkTimeout, c.QueueLen, c.MaxFrameSize = 0, 0, 0, 0
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if tr.cfg.PingInterval != 100*time.Millisecond || tr.cfg.LinkTimeout != 400*time.Millisecond || tr.Incarnation() == 0 {
		t.Errorf("defaults not applied: %+v", tr.cfg)
	}
}
