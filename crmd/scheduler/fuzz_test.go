package scheduler

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// genCIB writes a small random cluster from a seed: nodes in various
// states, primitives, a group, a clone, location, colocation and order
// constraints (loops included) and operation histories with failures.
func genCIB(seed int64) string {
	rng := rand.New(rand.NewSource(seed))
	var b strings.Builder
	quorum := []string{"1", "0"}[rng.Intn(2)]
	fmt.Fprintf(&b, `<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="%s" validate-with="pacemaker-3.7"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options">`, quorum)
	fmt.Fprintf(&b, `<nvpair id="o1" name="stonith-enabled" value="%v"/>`, rng.Intn(2) == 0)
	fmt.Fprintf(&b, `<nvpair id="o2" name="no-quorum-policy" value="%s"/>`, []string{"stop", "freeze", "ignore", "suicide", "demote"}[rng.Intn(5)])
	fmt.Fprintf(&b, `<nvpair id="o3" name="symmetric-cluster" value="%v"/>`, rng.Intn(3) != 0)
	b.WriteString(`</cluster_property_set></crm_config><nodes>`)
	nn := 1 + rng.Intn(4)
	for i := 1; i <= nn; i++ {
		fmt.Fprintf(&b, `<node id="%d" uname="n%d"/>`, i, i)
	}
	b.WriteString(`</nodes><resources>`)
	np := 1 + rng.Intn(5)
	var ids []string
	for i := 1; i <= np; i++ {
		id := fmt.Sprintf("r%d", i)
		ids = append(ids, id)
		fmt.Fprintf(&b, `<primitive id="%s" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="%s-m"><nvpair id="%s-m1" name="resource-stickiness" value="%d"/><nvpair id="%s-m2" name="target-role" value="%s"/></meta_attributes><operations><op id="%s-mon" name="monitor" interval="10s" on-fail="%s"/></operations></primitive>`,
			id, id, id, rng.Intn(200), id, []string{"Started", "Stopped", "Promoted"}[rng.Intn(3)], id, []string{"restart", "ignore", "block", "stop", "fence", "standby"}[rng.Intn(6)])
	}
	b.WriteString(`<group id="g"><primitive id="g1" class="ocf" provider="pacemaker" type="Dummy"/><primitive id="g2" class="ocf" provider="pacemaker" type="Dummy"/></group>`)
	ids = append(ids, "g", "g1", "g2")
	fmt.Fprintf(&b, `<clone id="c"><meta_attributes id="c-m"><nvpair id="c-m1" name="promotable" value="%v"/><nvpair id="c-m2" name="clone-max" value="%d"/><nvpair id="c-m3" name="globally-unique" value="%v"/></meta_attributes><primitive id="ch" class="ocf" provider="pacemaker" type="Stateful"/></clone>`,
		rng.Intn(2) == 0, rng.Intn(5), rng.Intn(2) == 0)
	ids = append(ids, "c", "ch")
	b.WriteString(`</resources><constraints>`)
	pick := func() string { return ids[rng.Intn(len(ids))] }
	scores := []string{"INFINITY", "-INFINITY", "100", "-50", "0"}
	for i := 0; i < rng.Intn(8); i++ {
		switch rng.Intn(3) {
		case 0:
			fmt.Fprintf(&b, `<rsc_location id="l%d" rsc="%s" node="n%d" score="%s"/>`, i, pick(), 1+rng.Intn(nn), scores[rng.Intn(len(scores))])
		case 1:
			fmt.Fprintf(&b, `<rsc_colocation id="co%d" rsc="%s" with-rsc="%s" score="%s"/>`, i, pick(), pick(), scores[rng.Intn(len(scores))])
		case 2:
			fmt.Fprintf(&b, `<rsc_order id="or%d" first="%s" then="%s" kind="%s"/>`, i, pick(), pick(), []string{"Mandatory", "Optional", "Serialize"}[rng.Intn(3)])
		}
	}
	b.WriteString(`</constraints></configuration><status>`)
	for i := 1; i <= nn; i++ {
		if rng.Intn(5) == 0 {
			continue
		}
		fmt.Fprintf(&b, `<node_state id="%d" uname="n%d" in_ccm="%v" crmd="%s" join="%s" expected="%s">`, i, i, rng.Intn(4) != 0,
			[]string{"online", "offline"}[rng.Intn(2)], []string{"member", "down", "pending"}[rng.Intn(3)], []string{"member", "down"}[rng.Intn(2)])
		fmt.Fprintf(&b, `<transient_attributes id="%d"><instance_attributes id="s%d"><nvpair id="s%d-1" name="standby" value="%v"/><nvpair id="s%d-2" name="fail-count-r1#monitor_10000" value="%d"/><nvpair id="s%d-3" name="master-ch" value="%d"/></instance_attributes></transient_attributes>`,
			i, i, i, rng.Intn(4) == 0, i, rng.Intn(3), i, rng.Intn(20))
		b.WriteString(`<lrm id="x"><lrm_resources>`)
		for _, id := range append(append([]string(nil), ids...), "ch:0", "ch:1", "gone") {
			if rng.Intn(2) == 0 {
				continue
			}
			fmt.Fprintf(&b, `<lrm_resource id="%s" class="ocf" provider="pacemaker" type="Dummy">`, id)
			for k := 0; k < 1+rng.Intn(3); k++ {
				op := []string{"start", "stop", "monitor", "promote", "demote"}[rng.Intn(5)]
				iv := []int{0, 10000}[rng.Intn(2)]
				fmt.Fprintf(&b, `<lrm_rsc_op id="%s_%s_%d_%d" operation="%s" interval="%d" call-id="%d" rc-code="%d" op-status="%d" transition-key="1:1:%d:x"/>`,
					id, op, iv, k, op, iv, k+rng.Intn(3)-1, []int{0, 1, 7, 8, 9, 5}[rng.Intn(6)], []int{0, 0, 4, 1, -1}[rng.Intn(5)], []int{0, 7, 8}[rng.Intn(3)])
			}
			b.WriteString(`</lrm_resource>`)
		}
		b.WriteString(`</lrm_resources></lrm></node_state>`)
	}
	b.WriteString(`</status></cib>`)
	return b.String()
}

func scheduleOnce(t *testing.T, data []byte) {
	c, err := cib.Unmarshal(data)
	if err != nil {
		return
	}
	done := make(chan string, 1)
	go func() {
		done <- Schedule(Input{CIB: c, Now: time.Unix(1700000000, 0)}).Text()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("scheduler did not terminate on:\n%s", data)
	}
}

// TestGenerated schedules generated clusters: never a panic, always an
// answer.
func TestGenerated(t *testing.T) {
	for seed := int64(0); seed < 300; seed++ {
		scheduleOnce(t, []byte(genCIB(seed)))
	}
}

// fuzzValues are what FuzzSchedule writes into attribute values: scores,
// node and resource names, roles, booleans, on-fail and order kinds,
// return codes, transition magic and intervals, and some nonsense.
var fuzzValues = []string{
	"INFINITY", "-INFINITY", "+INFINITY", "0", "1", "-1", "100", "-50",
	"2147483647", "-2147483648", "99999999999", "", "abc",
	"n1", "n2", "n3", "n9", "node1", "node2", "node3",
	"r1", "r2", "g", "g1", "c", "ch", "ms1", "ms1-rsc", "grp1", "rsc1",
	"true", "false", "Promoted", "Unpromoted", "Master", "Slave", "Stopped", "Started",
	"restart", "ignore", "block", "stop", "fence", "standby", "demote",
	"Mandatory", "Optional", "Serialize", "start", "promote", "monitor",
	"0", "1", "2", "5", "7", "8", "9", "-1", "4", "1:1:0:x", "0:0;1:1:0:x", "0:7;1:1:7:x",
	"10s", "0s", "1ms", "-5", "P1D", "freeze", "suicide", "utilization", "balanced", "minimal",
}

// fuzzCIB is the CIB a FuzzSchedule input stands for: the generated
// cluster of seed (genCIB for seeds divisible by 3, the differential
// test's genCluster or genClusterTickets for the others) with attribute
// values replaced as edits say,
// two bytes an edit: which value (counted in the document), and what from
// fuzzValues. Inputs stay a few bytes long, so the fuzzer mutates and
// minimizes them quickly, and nearly every one is a valid CIB that reaches
// the scheduler (byte mutations of whole XML documents mostly stop at the
// decoder, which has FuzzDecode of its own).
func fuzzCIB(seed int64, edits []byte) []byte {
	var doc string
	switch ((seed % 3) + 3) % 3 {
	case 0:
		doc = genCIB(seed / 3)
	case 1:
		doc = genCluster(seed / 3)
	default:
		doc = genClusterTickets(seed / 3)
	}
	if len(edits) < 2 {
		return []byte(doc)
	}
	var spans [][2]int
	for i := 0; i < len(doc); i++ {
		if doc[i] == '=' && i+1 < len(doc) && doc[i+1] == '"' {
			end := strings.IndexByte(doc[i+2:], '"')
			if end < 0 {
				break
			}
			spans = append(spans, [2]int{i + 2, i + 2 + end})
			i += 2 + end
		}
	}
	if len(spans) == 0 {
		return []byte(doc)
	}
	repl := map[int]string{}
	for k := 0; k+1 < len(edits); k += 2 {
		repl[int(edits[k])*len(spans)/256] = fuzzValues[int(edits[k+1])%len(fuzzValues)]
	}
	var b strings.Builder
	last := 0
	for i, sp := range spans {
		v, ok := repl[i]
		if !ok {
			continue
		}
		b.WriteString(doc[last:sp[0]])
		b.WriteString(v)
		last = sp[1]
	}
	b.WriteString(doc[last:])
	return []byte(b.String())
}

// FuzzSchedule schedules generated clusters with fuzzed attribute values
// (fuzzCIB); the scheduler must neither panic nor loop.
func FuzzSchedule(f *testing.F) {
	for seed := int64(0); seed < 40; seed++ {
		f.Add(seed, []byte{})
		f.Add(seed, []byte{byte(seed * 37), byte(seed), byte(seed * 11), byte(seed * 3)})
	}
	f.Fuzz(func(t *testing.T, seed int64, edits []byte) {
		scheduleOnce(t, fuzzCIB(seed, edits))
	})
}

// TestScheduleHugeAnonymousClone is a case FuzzSchedule found (clone-max
// 2147483647, capped at maxInstances, with failed starts on every node):
// banning the anonymous clone once per failed instance (a fail count
// above migration-threshold counts for every instance) made the placement
// quadratic in the instances (half a second, seconds under the fuzzer's
// instrumentation). It takes about 30 ms now.
func TestScheduleHugeAnonymousClone(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="1" validate-with="pacemaker-3.7"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes>`)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, `<node id="%d" uname="n%d"/>`, i, i)
	}
	b.WriteString(`</nodes><resources><clone id="c"><meta_attributes id="c-m"><nvpair id="c-m1" name="clone-max" value="2147483647"/></meta_attributes><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="d-m"><nvpair id="d-m1" name="migration-threshold" value="2"/></meta_attributes></primitive></clone></resources><constraints/></configuration><status>`)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, `<node_state id="%d" uname="n%d" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="%d"><instance_attributes id="t%d"><nvpair id="t%d-1" name="fail-count-d#monitor_10000" value="3"/></instance_attributes></transient_attributes><lrm id="%d"><lrm_resources>`, i, i, i, i, i, i)
		for k := 0; k < 3; k++ {
			fmt.Fprintf(&b, `<lrm_resource id="d:%d" class="ocf" provider="pacemaker" type="Dummy"><lrm_rsc_op id="d:%d_last_0" operation="start" interval="0" call-id="%d" rc-code="1" op-status="0" transition-key="1:1:0:x"/></lrm_resource>`, k, k, k+1)
		}
		b.WriteString(`</lrm_resources></lrm></node_state>`)
	}
	b.WriteString(`</status></cib>`)
	c, err := cib.Unmarshal([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := Schedule(Input{CIB: c, Now: time.Unix(1700000000, 0)})
	if d := time.Since(start); d > time.Second {
		t.Errorf("scheduling %d clone instances took %v", len(res.Cluster.byID["c"].Children), d)
	}
}
