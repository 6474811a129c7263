package transport

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAllToAllOnEveryLink(t *testing.T) {
	c := newTestCluster(t, 3, 2)
	nodes := startCluster(t, c, nil)
	waitFor(t, 10*time.Second, "every link up with an RTT", func() bool { return allConnected(nodes) })

	const perPair = 50
	want := map[string]bool{}
	for _, from := range nodes {
		for _, to := range nodes {
			if from == to {
				continue
			}
			for k := range perPair {
				msg := fmt.Sprintf("%d->%d #%d", from.cfg.Local.ID, to.cfg.Local.ID, k)
				want[msg] = true
				if err := from.Send(to.cfg.Local.ID, []byte(msg)); err != nil {
					t.Fatalf("Send %s: %v", msg, err)
				}
			}
		}
	}
	waitFor(t, 10*time.Second, "every frame delivered", func() bool {
		total := 0
		for _, n := range nodes {
			total += len(n.frames())
		}
		return total >= len(want)
	})
	for _, n := range nodes {
		for _, f := range n.frames() {
			msg := string(f.Data)
			if !want[msg] {
				t.Errorf("node %d received %q, not sent or twice", n.cfg.Local.ID, msg)
			}
			delete(want, msg)
			if !strings.HasPrefix(msg, fmt.Sprintf("%d->%d ", f.From, n.cfg.Local.ID)) {
				t.Errorf("node %d received %q labelled from node %d", n.cfg.Local.ID, msg, f.From)
			}
			if f.Link != 0 && !linkWentDown(nodes, f.From, n.cfg.Local.ID) {
				t.Errorf("%q arrived on link %d; link 0 is up and preferred", msg, f.Link)
			}
		}
	}
	for _, n := range nodes {
		for _, pl := range n.Links() {
			if !pl.Reachable || pl.ActiveLink != 0 {
				t.Errorf("node %d sees node %d reachable=%v on link %d", n.cfg.Local.ID, pl.NodeID, pl.Reachable, pl.ActiveLink)
			}
			if pl.Incarnation != uint64(1000+pl.NodeID) {
				t.Errorf("node %d sees incarnation %d of node %d", n.cfg.Local.ID, pl.Incarnation, pl.NodeID)
			}
			var tx, rx uint64
			for _, l := range pl.Links {
				tx += l.TxFrames
				rx += l.RxFrames
				if l.RTT <= 0 || l.RTTMax < l.RTTMin || l.TxPings == 0 || l.RxPongs == 0 || l.RxPings == 0 || l.TxPongs == 0 {
					t.Errorf("node %d, link %d to node %d: %+v", n.cfg.Local.ID, l.Link, pl.NodeID, l)
				}
			}
			if tx != perPair || rx != perPair {
				t.Errorf("node %d to node %d: %d frames sent, %d received; want %d", n.cfg.Local.ID, pl.NodeID, tx, rx, perPair)
			}
			for _, l := range pl.Links {
				t.Logf("node %d -> node %d link %d (%s -> %s): connected=%v out=%v in=%v rtt=%v pings=%d pongs=%d",
					n.cfg.Local.ID, pl.NodeID, l.Link, l.LocalAddr, l.PeerAddr, l.Connected, l.Outbound, l.Inbound, l.RTT, l.TxPings, l.RxPongs)
			}
		}
	}

	// The largest frame crosses; one byte more is refused and counted.
	big := make([]byte, nodes[0].cfg.MaxFrameSize)
	big[len(big)-1] = 'z'
	if err := nodes[0].Send(2, big); err != nil {
		t.Fatalf("Send of MaxFrameSize bytes: %v", err)
	}
	if err := nodes[0].Send(2, make([]byte, len(big)+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send of MaxFrameSize+1 bytes: got %v, want ErrTooLarge", err)
	}
	waitFor(t, 10*time.Second, "the largest frame delivered", func() bool {
		return slices.ContainsFunc(nodes[1].frames(), func(f Frame) bool { return len(f.Data) == len(big) && f.Data[len(big)-1] == 'z' })
	})
	if pl, _ := nodes[0].link(2, 0); pl.DroppedTooLarge != 1 {
		t.Errorf("DroppedTooLarge = %d, want 1", pl.DroppedTooLarge)
	}
	if err := nodes[0].Send(1, []byte("self")); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("Send to self: got %v, want ErrUnknownNode", err)
	}
}

// linkWentDown reports whether node from saw its link 0 to node to go
// down at some point (on a badly overloaded machine a pong can be late),
// which excuses frames on link 1.
func linkWentDown(nodes []*node, from, to uint32) bool {
	_, l0 := nodes[from-1].link(to, 0)
	return l0.DownCount > 0
}

// TestLinkFailover cuts link 0 between nodes 1 and 2 while node 1 sends a
// steady stream of frames to node 2: the frames move to link 1 without the
// node ever being unreachable, link 0 shows down, and after the cut heals
// link 0 comes back and carries the traffic again.
func TestLinkFailover(t *testing.T) {
	c := newTestCluster(t, 2, 2)
	f := map[int]*faults{1: newFaults(), 2: newFaults()}
	nodes := startCluster(t, c, func(id int, tr *Transport) { tr.wrapConn = f[id].wrap })
	n1, n2 := nodes[0], nodes[1]
	waitFor(t, 10*time.Second, "every link up", func() bool { return allConnected(nodes) })

	stopSending := make(chan struct{})
	sent := make(chan int)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		k := 0
		for {
			select {
			case <-stopSending:
				sent <- k
				return
			case <-tick.C:
				n1.Send(2, []byte(fmt.Sprintf("frame %d", k)))
				k++
			}
		}
	}()
	defer func() {
		if stopSending != nil {
			close(stopSending)
			<-sent
		}
	}()

	waitFor(t, 10*time.Second, "frames on link 0", func() bool { return lastLink(n2) == 0 })
	cutAt := time.Now()
	f[1].set(2, 0, true)
	f[2].set(1, 0, true)
	waitFor(t, 10*time.Second, "frames on link 1 after link 0 is cut", func() bool { return lastLink(n2) == 1 })
	t.Logf("failover: frames arrive on link 1 %v after the cut", time.Since(cutAt).Round(time.Millisecond))
	waitFor(t, 10*time.Second, "link 0 shown down on both nodes", func() bool {
		_, l1 := n1.link(2, 0)
		_, l2 := n2.link(1, 0)
		return !l1.Connected && !l2.Connected && !l1.Inbound && !l2.Inbound
	})
	pl, l0 := n1.link(2, 0)
	if pl.ActiveLink != 1 || !pl.Reachable || l0.DownCount == 0 {
		t.Errorf("after the cut node 1 sees node 2: active link %d, reachable %v, link 0 %+v", pl.ActiveLink, pl.Reachable, l0)
	}
	if _, ok := n1.log.line("link down", "link=0", "no pong"); !ok {
		t.Errorf("no link-down line in node 1's log:\n%s", n1.log)
	}

	f[1].set(2, 0, false)
	f[2].set(1, 0, false)
	waitFor(t, 10*time.Second, "link 0 back on both nodes", func() bool {
		_, l1 := n1.link(2, 0)
		_, l2 := n2.link(1, 0)
		return l1.Connected && l2.Connected && l1.Inbound && l2.Inbound
	})
	waitFor(t, 10*time.Second, "frames on link 0 again", func() bool { return lastLink(n2) == 0 })

	close(stopSending)
	total := <-sent
	stopSending = nil
	pl, l0 = n1.link(2, 0)
	if l0.UpCount < 2 || l0.DownCount < 1 {
		t.Errorf("link 0 up %d times, down %d times; want at least 2 and 1", l0.UpCount, l0.DownCount)
	}
	// Connectivity was never lost: node 2 stayed reachable and Send never
	// found it without a link.
	if line, ok := n1.log.line("node unreachable"); ok {
		t.Errorf("node 2 became unreachable during a single link failure: %s", line)
	}
	if pl.DroppedNoLink != 0 {
		t.Errorf("%d frames dropped for want of a link during a single link failure", pl.DroppedNoLink)
	}
	t.Logf("sent %d frames, node 2 received %d", total, len(n2.frames()))
}

// lastLink returns the link of the last frame n received, -1 if none.
func lastLink(n *node) int {
	fs := n.frames()
	if len(fs) == 0 {
		return -1
	}
	return fs[len(fs)-1].Link
}

// TestPeerRestart stops node 2 and starts it again with a new
// incarnation: node 1 sees its links go down and come back, logs the
// restart, and frames flow again.
func TestPeerRestart(t *testing.T) {
	c := newTestCluster(t, 2, 2)
	nodes := startCluster(t, c, nil)
	n1 := nodes[0]
	waitFor(t, 10*time.Second, "every link up", func() bool { return allConnected(nodes) })

	nodes[1].stop()
	waitFor(t, 10*time.Second, "node 2 unreachable", func() bool {
		pl, _ := n1.link(2, 0)
		return !pl.Reachable
	})
	if err := n1.Send(2, []byte("into the void")); !errors.Is(err, ErrNoLink) {
		t.Errorf("Send to a stopped node: got %v, want ErrNoLink", err)
	}
	pl, l0 := n1.link(2, 0)
	if pl.DroppedNoLink == 0 || l0.Outbound || l0.LastError == "" {
		t.Errorf("after node 2 stopped: %+v", pl)
	}

	log2 := &logBuffer{}
	cfg := c.config(2, log2.logger())
	cfg.Incarnation = 4242
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n2 := start(t, tr, log2)
	waitFor(t, 10*time.Second, "every link up again", func() bool { return allConnected([]*node{n1, n2}) })
	if _, ok := n1.log.line("node restarted", "old_incarnation=1002", "incarnation=4242"); !ok {
		t.Errorf("no restart line in node 1's log:\n%s", n1.log)
	}
	if err := n1.Send(2, []byte("hello again")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a frame to the restarted node", func() bool { return len(n2.frames()) == 1 })
	if pl, _ := n1.link(2, 0); pl.Incarnation != 4242 {
		t.Errorf("incarnation of node 2 = %d, want 4242", pl.Incarnation)
	}
}
