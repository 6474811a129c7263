package cibsvc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// bus is an in-process process group: it delivers every multicast to every
// member of the sender's partition in one order, as the messaging daemon
// does, and configuration changes between them.
type bus struct {
	t        *testing.T
	replicas map[uint32]*Replica
	handles  map[uint32]uint64
	parts    [][]uint32 // partitions: node ids that see each other
	view     uint64
	queue    []pending
	results  map[uint32][]Result
	saved    map[uint32]int
}

type pending struct {
	from    Member
	payload []byte
}

func newBus(t *testing.T, cibs map[uint32]*cib.CIB) *bus {
	b := &bus{t: t, replicas: map[uint32]*Replica{}, handles: map[uint32]uint64{}, results: map[uint32][]Result{}, saved: map[uint32]int{}}
	var all []uint32
	for n := uint32(1); n <= uint32(len(cibs)); n++ {
		b.replicas[n] = NewReplica(n, cibs[n])
		b.handles[n] = uint64(100 + n)
		b.replicas[n].Joined(b.handles[n])
		all = append(all, n)
	}
	b.partition(all)
	return b
}

func (b *bus) member(n uint32) Member { return Member{Node: n, Handle: b.handles[n]} }

// partition sets the partitions and delivers their configuration changes.
func (b *bus) partition(parts ...[]uint32) {
	b.settle()
	b.parts = parts
	b.view++
	for _, p := range parts {
		var ms []Member
		for _, n := range p {
			ms = append(ms, b.member(n))
		}
		for _, n := range p {
			b.do(n, b.replicas[n].ConfigurationChange(ViewKey(b.view, p[0]), ms))
		}
	}
	b.settle()
}

func (b *bus) do(n uint32, rd Ready) {
	if rd.Save != nil {
		b.saved[n]++
	}
	b.results[n] = append(b.results[n], rd.Results...)
	for _, p := range rd.Send {
		b.queue = append(b.queue, pending{from: b.member(n), payload: p})
	}
}

func (b *bus) side(n uint32) []uint32 {
	for _, p := range b.parts {
		for _, m := range p {
			if m == n {
				return p
			}
		}
	}
	return nil
}

// settle delivers until nothing is queued.
func (b *bus) settle() {
	for len(b.queue) > 0 {
		p := b.queue[0]
		b.queue = b.queue[1:]
		for _, n := range b.side(p.from.Node) {
			rd, err := b.replicas[n].Deliver(p.from, p.payload)
			if err != nil {
				b.t.Fatalf("node %d: %v", n, err)
			}
			b.do(n, rd)
		}
	}
}

// propose sends a change from node n and returns its result.
func (b *bus) propose(n uint32, c Change) Result {
	b.t.Helper()
	req := uint64(len(b.results[n]) + 1000)
	ps, err := b.replicas[n].Propose(req, c)
	if err != nil {
		return Result{Req: req, Err: err}
	}
	for _, p := range ps {
		b.queue = append(b.queue, pending{from: b.member(n), payload: p})
	}
	b.settle()
	for _, r := range b.results[n] {
		if r.Req == req {
			return r
		}
	}
	b.t.Fatalf("no result for request %d of node %d", req, n)
	return Result{}
}

func (b *bus) requireSame(nodes ...uint32) {
	b.t.Helper()
	first := b.replicas[nodes[0]]
	for _, n := range nodes {
		r := b.replicas[n]
		if !r.Synced() {
			b.t.Fatalf("node %d not synced", n)
		}
		if r.Digest() != first.Digest() {
			b.t.Fatalf("node %d holds %s, node %d %s", n, r.CIB().Version, nodes[0], first.CIB().Version)
		}
	}
}

const cibWithIP = `<cib validate-with="pacemaker-3.7" epoch="5" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-instance_attributes">
          <nvpair id="ip-instance_attributes-ip" name="ip" value="10.0.0.1"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`

func fresh(n int) map[uint32]*cib.CIB {
	m := map[uint32]*cib.CIB{}
	for i := 1; i <= n; i++ {
		m[uint32(i)] = Empty()
	}
	return m
}

func TestReplicateAndConditional(t *testing.T) {
	b := newBus(t, fresh(3))
	b.requireSame(1, 2, 3)
	for n := uint32(1); n <= 3; n++ {
		if dc := b.replicas[n].DC(); dc != 1 {
			t.Fatalf("node %d: DC %d, want 1", n, dc)
		}
	}
	res := b.propose(2, Change{Replace: &Replacement{XML: []byte(cibWithIP)}})
	if res.Err != nil || res.Version != (cib.Version{Epoch: 5}) {
		t.Fatalf("replace: %+v", res)
	}
	b.requireSame(1, 2, 3)
	if b.saved[1] != 1 || b.saved[3] != 1 {
		t.Errorf("saves: %v", b.saved)
	}
	if len(b.results[1]) != 0 || len(b.results[3]) != 0 {
		t.Errorf("results went to members that did not ask: %v", b.results)
	}
	// Two clients read 0:5:0 and change it; the second fails.
	read := cib.Version{Epoch: 5}
	set := func(v string) Change {
		return Change{Expected: &read, Patch: &Patch{Ops: []Op{{Kind: OpSetNVPair, Target: "ip-instance_attributes", Name: "ip", Value: v}}}}
	}
	if res := b.propose(1, set("10.0.0.2")); res.Err != nil || res.Version != (cib.Version{Epoch: 6}) {
		t.Fatalf("first conditional change: %+v", res)
	}
	// Bypass the local check, as when both are sent before either applies.
	ps := b.replicas[3].encode(message{Change: &changeMsg{Req: 7, Change: set("10.0.0.3")}})
	for _, p := range ps {
		b.queue = append(b.queue, pending{from: b.member(3), payload: p})
	}
	b.settle()
	last := b.results[3][len(b.results[3])-1]
	if !errors.Is(last.Err, ErrVersionMismatch) || !strings.Contains(last.Err.Error(), "at version 0:6:0") {
		t.Fatalf("stale change: %+v", last)
	}
	// The local check refuses it too, before sending.
	if res := b.propose(2, set("10.0.0.4")); !errors.Is(res.Err, ErrVersionMismatch) {
		t.Fatalf("stale change from node 2: %+v", res)
	}
	b.requireSame(1, 2, 3)
	if v, _ := b.replicas[3].CIB().Configuration.Resource("ip").InstanceAttributes[0].Get("ip"); v != "10.0.0.2" {
		t.Errorf("ip = %s", v)
	}
}

func TestSyncOnJoinAndMerge(t *testing.T) {
	c := Empty()
	c2, err := cib.Unmarshal([]byte(cibWithIP))
	if err != nil {
		t.Fatal(err)
	}
	// Node 3 restarts with the newest CIB from its disk; 1 and 2 are fresh.
	b := newBus(t, map[uint32]*cib.CIB{1: c, 2: Empty(), 3: c2})
	b.requireSame(1, 2, 3)
	if v := b.replicas[1].CIB().Version; v != (cib.Version{Epoch: 5}) {
		t.Fatalf("after join: %s", v)
	}
	// A 2+1 partition: both sides change, the bigger side twice.
	b.partition([]uint32{1, 2}, []uint32{3})
	patch := func(id, v string) Change {
		return Change{Patch: &Patch{Ops: []Op{{Kind: OpSetNVPair, Target: id, Name: "ip", Value: v}}}}
	}
	if res := b.propose(1, patch("ip-instance_attributes", "10.0.0.7")); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := b.propose(2, patch("ip-instance_attributes", "10.0.0.8")); res.Err != nil {
		t.Fatal(res.Err)
	}
	if res := b.propose(3, patch("ip-instance_attributes", "10.0.0.9")); res.Err != nil {
		t.Fatal(res.Err)
	}
	if dc := b.replicas[3].DC(); dc != 3 {
		t.Errorf("lone node 3: DC %d", dc)
	}
	b.partition([]uint32{1, 2, 3})
	b.requireSame(1, 2, 3)
	if v := b.replicas[3].CIB().Version; v != (cib.Version{Epoch: 7}) {
		t.Fatalf("after merge: %s", v)
	}
	if v, _ := b.replicas[3].CIB().Configuration.Resource("ip").InstanceAttributes[0].Get("ip"); v != "10.0.0.8" {
		t.Errorf("ip = %s", v)
	}
	for n := uint32(1); n <= 3; n++ {
		if dc := b.replicas[n].DC(); dc != 1 {
			t.Errorf("node %d after merge: DC %d", n, dc)
		}
	}
}

func TestDCMovesOnlyWhenItLeaves(t *testing.T) {
	b := newBus(t, fresh(3))
	dcs := func() string {
		var s []string
		for n := uint32(1); n <= 3; n++ {
			if slicesContains(b.side(n), n) {
				s = append(s, fmt.Sprint(b.replicas[n].DC()))
			}
		}
		return strings.Join(s, ",")
	}
	// Node 2 leaves and returns: DC stays 1.
	b.partition([]uint32{1, 3}, []uint32{2})
	b.partition([]uint32{1, 2, 3})
	if got := dcs(); got != "1,1,1" {
		t.Fatalf("DCs %s", got)
	}
	// Node 1 (the DC) leaves: 2 takes over; when 1 returns, 2 stays.
	b.partition([]uint32{2, 3}, []uint32{1})
	if d := b.replicas[2].DC(); d != 2 {
		t.Fatalf("DC %d after the DC left", d)
	}
	b.handles[1]++ // a new crmd process on node 1
	b.replicas[1] = NewReplica(1, Empty())
	b.replicas[1].Joined(b.handles[1])
	b.partition([]uint32{1, 2, 3})
	if got := dcs(); got != "2,2,2" {
		t.Fatalf("DCs %s after node 1 returned", got)
	}
	b.requireSame(1, 2, 3)
}

func slicesContains(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestChangesDuringSyncAreRefused(t *testing.T) {
	b := newBus(t, fresh(2))
	r := b.replicas[1]
	b.do(1, r.ConfigurationChange(ViewKey(99, 1), []Member{b.member(1), b.member(2)}))
	if _, err := r.Propose(1, Change{Replace: &Replacement{XML: []byte(cibWithIP)}}); !errors.Is(err, ErrSyncing) {
		t.Fatalf("propose while syncing: %v", err)
	}
	// A change already sent and delivered in the round is refused by all.
	ps := r.encode(message{Change: &changeMsg{Req: 1, Change: Change{Replace: &Replacement{XML: []byte(cibWithIP)}}}})
	rd, err := r.Deliver(b.member(1), ps[0])
	if err != nil || len(rd.Results) != 1 || !errors.Is(rd.Results[0].Err, ErrSyncing) || rd.Save != nil {
		t.Fatalf("change in a round: %+v %v", rd, err)
	}
}

func TestLargeCIBIsChunked(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`<cib validate-with="pacemaker-3.7" epoch="3" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources>`)
	for i := range 12000 {
		fmt.Fprintf(&sb, `<primitive id="r%d" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="r%d-meta"><nvpair id="r%d-meta-t" name="target-role" value="Stopped"/></meta_attributes></primitive>`, i, i, i)
	}
	sb.WriteString(`</resources><constraints/></configuration><status/></cib>`)
	big, err := cib.Unmarshal([]byte(sb.String()))
	if err != nil {
		t.Fatal(err)
	}
	b := newBus(t, map[uint32]*cib.CIB{1: Empty(), 2: big, 3: Empty()})
	b.requireSame(1, 2, 3)
	if n := len(b.replicas[1].CIB().Configuration.Resources); n != 12000 {
		t.Fatalf("%d resources", n)
	}
	if len(cib.Marshal(big)) < 2*ChunkSize {
		t.Fatalf("test CIB too small to need chunks: %d bytes", len(cib.Marshal(big)))
	}
}

// TestMergeSeenAtDifferentPlaces: the messaging daemon shows a merge to the
// members of each side as configuration changes at different places of the
// order (node 3 sees node 1 join, an offer, then node 2 join; nodes 1 and 2
// see node 3 join at once). Offers that arrive before a member reached
// their round still count, and the round ends at the same message for all.
func TestMergeSeenAtDifferentPlaces(t *testing.T) {
	c2, err := cib.Unmarshal([]byte(cibWithIP))
	if err != nil {
		t.Fatal(err)
	}
	b := newBus(t, map[uint32]*cib.CIB{1: c2, 2: c2, 3: Empty()})
	b.partition([]uint32{1, 2}, []uint32{3})
	b.parts = [][]uint32{{1, 2, 3}}
	all := []Member{b.member(1), b.member(2), b.member(3)}
	b.do(1, b.replicas[1].ConfigurationChange("9.1", all))
	b.do(2, b.replicas[2].ConfigurationChange("9.1", all))
	b.do(3, b.replicas[3].ConfigurationChange("9.1", []Member{b.member(3), b.member(1)}))
	// The offers of 1, 2 and 3 (for [3 1]) are delivered before node 3
	// sees node 2 join.
	q := b.queue
	b.queue = nil
	for _, p := range q {
		for n := uint32(1); n <= 3; n++ {
			rd, err := b.replicas[n].Deliver(p.from, p.payload)
			if err != nil {
				t.Fatalf("node %d: %v", n, err)
			}
			b.do(n, rd)
		}
	}
	b.do(3, b.replicas[3].ConfigurationChange("9.1", all))
	b.settle()
	b.requireSame(1, 2, 3)
	if v := b.replicas[3].CIB().Version; v != (cib.Version{Epoch: 5}) {
		t.Fatalf("node 3 at %s", v)
	}
	if res := b.propose(3, Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "ip"}}}}); res.Err != nil {
		t.Fatal(res.Err)
	}
	b.requireSame(1, 2, 3)
}

// TestMergeTakesEachNodesOwnStatus: when partitions merge, the winning
// side's CIB is adopted, but each member's own node_state comes from that
// member: node 3 stopped d1 in its minority (its DC recorded it), which the
// majority's newer CIB does not know; the merged CIB must say d1 stopped on
// node 3, or the DC would see d1 active twice and restart it.
func TestMergeTakesEachNodesOwnStatus(t *testing.T) {
	b := newBus(t, fresh(3))
	for n := uint32(1); n <= 3; n++ {
		b.replicas[n].SetNodeName(fmt.Sprintf("n%d", n))
	}
	status := func(n3op string) Change {
		xml := `<status>` +
			`<node_state id="1" uname="n1" in_ccm="true" crmd="online"/>` +
			`<node_state id="3" uname="n3" in_ccm="true" crmd="online"><lrm id="3"><lrm_resources>` +
			`<lrm_resource id="d1" class="ocf" provider="pacemaker" type="Dummy">` +
			`<lrm_rsc_op id="d1_last_0" operation_key="d1_` + n3op + `_0" operation="` + n3op + `" call-id="4" rc-code="0" op-status="0" interval="0"/>` +
			`</lrm_resource></lrm_resources></lrm></node_state></status>`
		return Change{Patch: &Patch{Ops: []Op{{Kind: OpReplace, Target: "/cib/status", XML: []byte(xml)}}}}
	}
	if res := b.propose(1, status("start")); res.Err != nil {
		t.Fatal(res.Err)
	}
	// One round with everyone synchronised, so that their own states
	// count as current (a crmd that just started offers none).
	b.partition([]uint32{1, 2}, []uint32{3})
	if res := b.propose(3, status("stop")); res.Err != nil {
		t.Fatal(res.Err)
	}
	// The majority changes twice: its CIB is the newer one.
	for i, n := range []uint32{1, 2} {
		xml := fmt.Sprintf(`<primitive id="p%d" class="ocf" provider="pacemaker" type="Dummy"/>`, i)
		if res := b.propose(n, Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, Target: "/cib/configuration/resources", XML: []byte(xml)}}}}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	majority := b.replicas[1].CIB().Version
	b.partition([]uint32{1, 2, 3})
	b.requireSame(1, 2, 3)
	got := b.replicas[2].CIB()
	if !got.Version.Newer(majority) {
		t.Errorf("merged version %s is not newer than the majority's %s", got.Version, majority)
	}
	ns := got.Status.NodeState("n3")
	if ns == nil || ns.LRM == nil || len(ns.LRM.Resources) != 1 || ns.LRM.Resources[0].Ops[0].Operation != "stop" {
		t.Fatalf("node 3's own status was not kept:\n%s", cib.Marshal(got))
	}
	if got.Configuration.Resource("p1") == nil {
		t.Errorf("the majority's configuration was not kept:\n%s", cib.Marshal(got))
	}
}

// TestChangeAcknowledgedWhenAllApplied: the origin of a change answers its
// client only once every other member said it applied (and saved) the
// change, or once a new view makes it durable anyway (virtual synchrony).
func TestChangeAcknowledgedWhenAllApplied(t *testing.T) {
	b := newBus(t, fresh(3))
	change := Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, Target: "/cib/configuration/resources", XML: []byte(`<primitive id="p" class="ocf" provider="pacemaker" type="Dummy"/>`)}}}}
	payloads, err := b.replicas[1].Encode(7, change)
	if err != nil || len(payloads) != 1 {
		t.Fatal(payloads, err)
	}
	m1, m2, m3 := b.member(1), b.member(2), b.member(3)
	rd, err := b.replicas[1].Deliver(m1, payloads[0])
	if err != nil || len(rd.Results) != 0 || rd.Save == nil {
		t.Fatalf("the origin answered before the others applied the change: %+v %v", rd.Results, err)
	}
	var acks [][]byte
	for _, n := range []uint32{2, 3} {
		rd, err := b.replicas[n].Deliver(m1, payloads[0])
		if err != nil || rd.Save == nil || len(rd.Send) != 1 {
			t.Fatalf("member %d: %+v %v", n, rd, err)
		}
		acks = append(acks, rd.Send[0])
	}
	if rd, _ := b.replicas[1].Deliver(m2, acks[0]); len(rd.Results) != 0 {
		t.Fatalf("answered with one member of two: %+v", rd.Results)
	}
	rd, _ = b.replicas[1].Deliver(m3, acks[1])
	if len(rd.Results) != 1 || rd.Results[0].Req != 7 || rd.Results[0].Err != nil {
		t.Fatalf("no answer once all applied: %+v", rd.Results)
	}

	// A change still waiting when the view changes is answered then.
	payloads, _ = b.replicas[1].Encode(8, Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "p"}}}})
	for _, n := range []uint32{1, 2} {
		if _, err := b.replicas[n].Deliver(m1, payloads[0]); err != nil {
			t.Fatal(err)
		}
	}
	rd = b.replicas[1].ConfigurationChange(ViewKey(99, 1), []Member{m1, m2})
	if len(rd.Results) != 1 || rd.Results[0].Req != 8 || rd.Results[0].Err != nil {
		t.Fatalf("a waiting change not answered at the view change: %+v", rd.Results)
	}
}
