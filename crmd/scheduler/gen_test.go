package scheduler

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
)

// genExecDate is the execution-date of generated CIBs: crm_simulate and
// Vigil both schedule them at this time, so failure timeouts are decided
// the same way by both.
const genExecDate = 1700000000

// clusterGen writes a random small but realistic cluster: the kind of CIB
// a running Pacemaker cluster has, with nodes in every state, primitives,
// groups, clones and promotable clones, constraints of every kind, and the
// operation history the controller records (transition keys and magic,
// call ids, fail counts) including failures. Its output is fed to both
// Vigil and the real crm_simulate by TestDifferential.
type clusterGen struct {
	rng     *rand.Rand
	b       strings.Builder
	stonith bool
	nodes   []*genNode
	prims   []*genPrim
	// tops are the ids constraints may name: primitives, groups, clones.
	tops    []genTop
	nextID  int
	transID int
	// failTime is when the failures of the history being written
	// happened; failed is set once it has one.
	failTime int
	failed   bool
	// tickets adds rsc_ticket constraints and ticket states (only in the
	// ticket cases, so the draws of the other cases stay as they were).
	tickets     []string
	withTickets bool
}

type genNode struct {
	name  string
	state string // online, offline, unclean, nostate
	attrs []string
	ops   map[string][]string // lrm_resource id → ops XML
	slots []map[string]string // per lrm_resource: the recorded entries
	types map[string]string
	order []string
	call  int
}

type genTop struct {
	id         string
	promotable bool
}

// genPrim is one primitive of the configuration with the way its history
// is recorded: the lrm_resource id, and whether instances run on many
// nodes (clones).
type genPrim struct {
	id, histID string
	agent      string // "Dummy" or "Stateful"
	clone      bool
	promotable bool
	monitor    int // ms, 0 for none
	stonith    bool
}

func (g *clusterGen) id(prefix string) string {
	g.nextID++
	return fmt.Sprintf("%s-%d", prefix, g.nextID)
}

func (g *clusterGen) pick(xs ...string) string { return xs[g.rng.Intn(len(xs))] }

func (g *clusterGen) chance(p float64) bool { return g.rng.Float64() < p }

// genCluster returns the CIB for one seed.
func genCluster(seed int64) string {
	g := &clusterGen{rng: rand.New(rand.NewSource(seed))}
	return g.cib()
}

// genClusterTickets is genCluster with tickets: rsc_ticket constraints
// (with roles, every loss-policy, sets) and tickets granted, revoked, in
// standby or never granted.
func genClusterTickets(seed int64) string {
	g := &clusterGen{rng: rand.New(rand.NewSource(seed)), withTickets: true}
	return g.cib()
}

func (g *clusterGen) nv(name, value string) string {
	return fmt.Sprintf(`<nvpair id="%s" name="%s" value="%s"/>`, g.id("nv"), name, value)
}

func (g *clusterGen) cib() string {
	quorum := "1"
	if g.chance(0.1) {
		quorum = "0"
	}
	g.stonith = g.chance(0.3)
	nn := 2 + g.rng.Intn(4)
	for i := 1; i <= nn; i++ {
		n := &genNode{name: fmt.Sprintf("node%d", i), ops: map[string][]string{}, types: map[string]string{}}
		switch r := g.rng.Float64(); {
		case r < 0.72:
			n.state = "online"
		case r < 0.86:
			n.state = "offline"
		case r < 0.95:
			n.state = "unclean"
		default:
			n.state = "nostate"
		}
		g.nodes = append(g.nodes, n)
	}
	b := &g.b
	fmt.Fprintf(b, `<cib admin_epoch="0" epoch="10" num_updates="5" have-quorum="%s" dc-uuid="1" validate-with="pacemaker-3.7" crm_feature_set="3.16.1" execution-date="%d">`, quorum, genExecDate)
	b.WriteString("\n<configuration>\n<crm_config><cluster_property_set id=\"cib-bootstrap-options\">")
	b.WriteString(g.nv("stonith-enabled", fmt.Sprint(g.stonith)))
	if g.chance(0.3) {
		b.WriteString(g.nv("no-quorum-policy", g.pick("stop", "freeze", "ignore", "demote")))
	}
	if g.chance(0.15) {
		b.WriteString(g.nv("symmetric-cluster", "false"))
	}
	if g.chance(0.15) {
		b.WriteString(g.nv("start-failure-is-fatal", "false"))
	}
	if g.chance(0.03) {
		b.WriteString(g.nv("maintenance-mode", "true"))
	}
	b.WriteString("</cluster_property_set></crm_config>\n<nodes>")
	for i, n := range g.nodes {
		fmt.Fprintf(b, `<node id="%d" uname="%s">`, i+1, n.name)
		var attrs []string
		if g.chance(0.15) {
			attrs = append(attrs, g.nv("standby", "on"))
		}
		if g.chance(0.05) {
			attrs = append(attrs, g.nv("maintenance", "true"))
		}
		if g.chance(0.5) {
			attrs = append(attrs, g.nv("site", g.pick("a", "b")))
		}
		if len(attrs) > 0 {
			fmt.Fprintf(b, `<instance_attributes id="%s">%s</instance_attributes>`, g.id("na"), strings.Join(attrs, ""))
		}
		b.WriteString("</node>")
	}
	b.WriteString("</nodes>\n<resources>\n")
	g.resources()
	b.WriteString("</resources>\n<constraints>\n")
	g.constraints()
	if g.withTickets {
		g.ticketConstraints()
	}
	b.WriteString("</constraints>\n")
	if g.chance(0.3) {
		fmt.Fprintf(b, `<rsc_defaults><meta_attributes id="rd">%s</meta_attributes></rsc_defaults>`, g.nv("resource-stickiness", g.pick("0", "50", "100", "INFINITY")))
	}
	b.WriteString("</configuration>\n<status>\n")
	g.status()
	b.WriteString("</status>\n</cib>\n")
	return b.String()
}

func (g *clusterGen) meta(clone bool) string {
	var m []string
	if g.chance(0.25) {
		m = append(m, g.nv("resource-stickiness", g.pick("0", "10", "100", "INFINITY")))
	}
	if g.chance(0.2) {
		m = append(m, g.nv("migration-threshold", g.pick("1", "2", "3")))
	}
	if g.chance(0.08) {
		m = append(m, g.nv("target-role", g.pick("Stopped", "Started")))
	}
	if g.chance(0.04) {
		m = append(m, g.nv("is-managed", "false"))
	}
	if g.chance(0.08) {
		m = append(m, g.nv("failure-timeout", g.pick("60s", "10min")))
	}
	if g.chance(0.1) {
		m = append(m, g.nv("priority", g.pick("1", "10")))
	}
	if len(m) == 0 {
		return ""
	}
	return fmt.Sprintf(`<meta_attributes id="%s">%s</meta_attributes>`, g.id("ma"), strings.Join(m, ""))
}

func (g *clusterGen) primitive(id, agent string, clone, promotable bool, histID string) string {
	p := &genPrim{id: id, histID: histID, agent: agent, clone: clone, promotable: promotable}
	var ops []string
	if g.chance(0.85) {
		p.monitor = 10000
		if promotable {
			ops = append(ops, fmt.Sprintf(`<op id="%s" name="monitor" interval="10s" role="Unpromoted"/>`, g.id("op")),
				fmt.Sprintf(`<op id="%s" name="monitor" interval="9s" role="Promoted"/>`, g.id("op")))
		} else {
			onFail := ""
			if g.chance(0.1) {
				onFail = fmt.Sprintf(` on-fail="%s"`, g.pick("ignore", "block", "stop", "restart", "standby"))
			}
			ops = append(ops, fmt.Sprintf(`<op id="%s" name="monitor" interval="10s"%s/>`, g.id("op"), onFail))
		}
	}
	if g.chance(0.05) {
		ops = append(ops, fmt.Sprintf(`<op id="%s" name="stop" interval="0" on-fail="block"/>`, g.id("op")))
	}
	g.prims = append(g.prims, p)
	opsXML := ""
	if len(ops) > 0 {
		opsXML = "<operations>" + strings.Join(ops, "") + "</operations>"
	}
	meta := ""
	if !clone {
		meta = g.meta(false)
	}
	return fmt.Sprintf(`<primitive id="%s" class="ocf" provider="pacemaker" type="%s">%s%s</primitive>`, id, agent, meta, opsXML)
}

func (g *clusterGen) resources() {
	b := &g.b
	if g.stonith {
		id := "fencing"
		fmt.Fprintf(b, `<primitive id="%s" class="stonith" type="fence_dummy"/>`+"\n", id)
		g.prims = append(g.prims, &genPrim{id: id, histID: id, agent: "fence_dummy", stonith: true})
		g.tops = append(g.tops, genTop{id: id})
	}
	np := 1 + g.rng.Intn(4)
	for i := 1; i <= np; i++ {
		id := fmt.Sprintf("rsc%d", i)
		b.WriteString(g.primitive(id, "Dummy", false, false, id) + "\n")
		g.tops = append(g.tops, genTop{id: id})
	}
	for i := 1; i <= g.rng.Intn(3); i++ {
		gid := fmt.Sprintf("grp%d", i)
		fmt.Fprintf(b, `<group id="%s">%s`, gid, g.meta(false))
		for j := 1; j <= 2+g.rng.Intn(2); j++ {
			id := fmt.Sprintf("%s-m%d", gid, j)
			b.WriteString(g.primitive(id, "Dummy", false, false, id))
		}
		b.WriteString("</group>\n")
		g.tops = append(g.tops, genTop{id: gid})
	}
	if g.chance(0.6) {
		g.clone("cln1", "cln1-rsc", false)
	}
	if g.chance(0.45) {
		g.clone("ms1", "ms1-rsc", true)
	}
}

func (g *clusterGen) clone(id, child string, promotable bool) {
	b := &g.b
	var m []string
	unique := false
	if promotable {
		m = append(m, g.nv("promotable", "true"))
		if g.chance(0.3) {
			m = append(m, g.nv("promoted-max", g.pick("1", "2")))
		}
	} else if g.chance(0.15) {
		unique = true
		m = append(m, g.nv("globally-unique", "true"))
	}
	if g.chance(0.3) {
		m = append(m, g.nv("clone-max", g.pick("1", "2", "3")))
	}
	if unique && g.chance(0.5) {
		m = append(m, g.nv("clone-node-max", "2"))
	}
	if g.chance(0.2) {
		m = append(m, g.nv("interleave", "true"))
	}
	if g.chance(0.15) {
		m = append(m, g.nv("notify", "true"))
	}
	if g.chance(0.15) {
		m = append(m, g.nv("resource-stickiness", g.pick("0", "100")))
	}
	if g.chance(0.1) {
		m = append(m, g.nv("migration-threshold", "1"))
	}
	if g.chance(0.05) {
		m = append(m, g.nv("target-role", "Stopped"))
	}
	agent := "Dummy"
	if promotable {
		agent = "Stateful"
	}
	fmt.Fprintf(b, `<clone id="%s"><meta_attributes id="%s">%s</meta_attributes>`, id, g.id("ma"), strings.Join(m, ""))
	hist := child
	if unique {
		hist = "" // per instance, chosen in status
	}
	b.WriteString(g.primitive(child, agent, true, promotable, hist))
	b.WriteString("</clone>\n")
	g.tops = append(g.tops, genTop{id: id, promotable: promotable})
}

func (g *clusterGen) score() string {
	return g.pick("INFINITY", "-INFINITY", "100", "50", "-100", "0", "200")
}

func (g *clusterGen) node() string { return g.nodes[g.rng.Intn(len(g.nodes))].name }

func (g *clusterGen) top() genTop { return g.tops[g.rng.Intn(len(g.tops))] }

func (g *clusterGen) constraints() {
	b := &g.b
	if len(g.tops) == 0 {
		return
	}
	for i := 0; i < g.rng.Intn(7); i++ {
		switch g.rng.Intn(3) {
		case 0:
			t := g.top()
			switch g.rng.Intn(4) {
			case 0, 1:
				fmt.Fprintf(b, `<rsc_location id="%s" rsc="%s" node="%s" score="%s"/>`+"\n", g.id("loc"), t.id, g.node(), g.score())
			case 2:
				role := ""
				if t.promotable && g.chance(0.5) {
					role = ` role="Promoted"`
				}
				fmt.Fprintf(b, `<rsc_location id="%s" rsc="%s"><rule id="%s" score="%s"%s><expression id="%s" attribute="#uname" operation="%s" value="%s"/></rule></rsc_location>`+"\n",
					g.id("loc"), t.id, g.id("rule"), g.score(), role, g.id("ex"), g.pick("eq", "ne"), g.node())
			case 3:
				fmt.Fprintf(b, `<rsc_location id="%s" rsc="%s"><rule id="%s" score="%s" boolean-op="or"><expression id="%s" attribute="site" operation="%s" value="a"/><expression id="%s" attribute="site" operation="not_defined"/></rule></rsc_location>`+"\n",
					g.id("loc"), t.id, g.id("rule"), g.pick("INFINITY", "-INFINITY", "100"), g.id("ex"), g.pick("eq", "ne"), g.id("ex"))
			}
		case 1:
			d, p := g.top(), g.top()
			if d.id == p.id {
				continue
			}
			roles := ""
			if p.promotable && g.chance(0.6) {
				roles += ` with-rsc-role="Promoted"`
			}
			if d.promotable && g.chance(0.4) {
				roles += ` rsc-role="Promoted"`
			}
			fmt.Fprintf(b, `<rsc_colocation id="%s" rsc="%s" with-rsc="%s" score="%s"%s/>`+"\n", g.id("col"), d.id, p.id, g.pick("INFINITY", "-INFINITY", "100", "-100", "INFINITY"), roles)
		case 2:
			f, t := g.top(), g.top()
			if f.id == t.id {
				continue
			}
			acts := ""
			if f.promotable && g.chance(0.5) {
				acts += ` first-action="promote"`
				if g.chance(0.5) {
					acts += ` then-action="start"`
				}
			}
			kind := g.pick("Mandatory", "Mandatory", "Optional", "Serialize")
			sym := ""
			if g.chance(0.15) {
				sym = ` symmetrical="false"`
			}
			fmt.Fprintf(b, `<rsc_order id="%s" first="%s" then="%s" kind="%s"%s%s/>`+"\n", g.id("ord"), f.id, t.id, kind, acts, sym)
		}
	}
}

// status writes the node states with their histories.
func (g *clusterGen) status() {
	// Where each primitive is (was) active: one node for primitives, a
	// subset for clones.
	for _, p := range g.prims {
		g.history(p)
	}
	b := &g.b
	for i, n := range g.nodes {
		var attrs string
		switch n.state {
		case "nostate":
			continue
		case "online":
			attrs = `in_ccm="true" crmd="online" join="member" expected="member"`
		case "offline":
			attrs = `in_ccm="false" crmd="offline" join="down" expected="down"`
		case "unclean":
			attrs = `in_ccm="false" crmd="offline" join="down" expected="member"`
		}
		fmt.Fprintf(b, `<node_state id="%d" uname="%s" %s crm-debug-origin="do_update_resource">`+"\n", i+1, n.name, attrs)
		if len(n.attrs) > 0 {
			fmt.Fprintf(b, `<transient_attributes id="%d"><instance_attributes id="status-%d">%s</instance_attributes></transient_attributes>`+"\n", i+1, i+1, strings.Join(n.attrs, ""))
		}
		fmt.Fprintf(b, `<lrm id="%d"><lrm_resources>`+"\n", i+1)
		for _, rid := range n.order {
			agent := n.types[rid]
			class, prov := "ocf", ` provider="pacemaker"`
			if agent == "fence_dummy" {
				class, prov = "stonith", ""
			}
			fmt.Fprintf(b, `<lrm_resource id="%s" class="%s"%s type="%s">`+"\n", rid, class, prov, agent)
			for _, op := range n.ops[rid] {
				b.WriteString(op + "\n")
			}
			b.WriteString("</lrm_resource>\n")
		}
		b.WriteString("</lrm_resources></lrm>\n</node_state>\n")
	}
	if len(g.tickets) > 0 {
		b.WriteString("<tickets>")
		for _, t := range g.tickets {
			switch g.rng.Intn(4) {
			case 0:
				fmt.Fprintf(b, `<ticket_state id="%s" granted="true" last-granted="%d"/>`, t, genExecDate-3600)
			case 1:
				fmt.Fprintf(b, `<ticket_state id="%s" granted="false" last-granted="%d"/>`, t, genExecDate-3600)
			case 2:
				fmt.Fprintf(b, `<ticket_state id="%s" granted="true" standby="true" last-granted="%d"/>`, t, genExecDate-3600)
			case 3:
				// Never granted: no state at all.
			}
		}
		b.WriteString("</tickets>\n")
	}
}

// ticketConstraints writes one to three rsc_ticket constraints on one or
// two tickets.
func (g *clusterGen) ticketConstraints() {
	if len(g.tops) == 0 {
		return
	}
	b := &g.b
	g.tickets = []string{"ticketA"}
	if g.chance(0.4) {
		g.tickets = append(g.tickets, "ticketB")
	}
	for i := 0; i < 1+g.rng.Intn(3); i++ {
		t := g.top()
		ticket := g.tickets[g.rng.Intn(len(g.tickets))]
		role := ""
		if t.promotable && g.chance(0.6) {
			role = ` rsc-role="Promoted"`
		}
		loss := ""
		if g.chance(0.8) {
			policies := []string{"stop", "freeze", "demote"}
			if g.stonith {
				policies = append(policies, "fence")
			}
			loss = ` loss-policy="` + g.pick(policies...) + `"`
		}
		if g.chance(0.2) {
			u := g.top()
			fmt.Fprintf(b, `<rsc_ticket id="%s" ticket="%s"%s><resource_set id="%s"><resource_ref id="%s"/><resource_ref id="%s"/></resource_set></rsc_ticket>`+"\n",
				g.id("tkt"), ticket, loss, g.id("set"), t.id, u.id)
			continue
		}
		fmt.Fprintf(b, `<rsc_ticket id="%s" ticket="%s" rsc="%s"%s%s/>`+"\n", g.id("tkt"), ticket, t.id, role, loss)
	}
}

// op records one operation result on a node the way the controller does:
// the last non-recurring operation as RSC_last_0, the last failure as
// RSC_last_failure_0, each recurring monitor's last result as
// RSC_monitor_INTERVAL (removed when the resource stops).
func (g *clusterGen) op(n *genNode, p *genPrim, rid, task string, interval, rc, status, target int) {
	if _, ok := n.ops[rid]; !ok {
		n.order = append(n.order, rid)
		n.types[rid] = p.agent
		n.slots = append(n.slots, map[string]string{})
	}
	slots := n.slots[indexOf(n.order, rid)]
	n.call++
	g.transID++
	key := fmt.Sprintf("%d:%d:%d:6a4c6c5e-1f2d-4b1c-9a5e-0c1d2e3f4a5b", g.rng.Intn(40)+1, g.transID, target)
	call, magic := n.call, fmt.Sprintf("%d:%d;%s", status, rc, key)
	if status == -1 {
		call, magic = -1, "-1:193;"+key
	}
	failed := status != -1 && (status != 0 || rc != target && !(task == "monitor" && interval == 0 && (rc == 0 || rc == 8)))
	when := genExecDate - 3600 + n.call
	if failed || g.failed {
		// A failure, and what follows it, happen at the failure time
		// the fail count attributes record.
		g.failed = true
		when = g.failTime
	}
	// The digests the controller records for these parameters: md5 of
	// " <parameters/>\n", and for recurring operations of the
	// parameters with the op's timeout (the default 20s).
	digest := "f2317cad3d54cec5d7d7aa7d0bf35cf8"
	if interval > 0 {
		digest = "4811cef7f7f94e3a35a70be7916cb2fd"
	}
	rec := func(slot string) {
		slots[slot] = fmt.Sprintf(`<lrm_rsc_op id="%s_%s" operation_key="%s_%s_%d" operation="%s" crm-debug-origin="do_update_resource" crm_feature_set="3.16.1" transition-key="%s" transition-magic="%s" exit-reason="" on_node="%s" call-id="%d" rc-code="%d" op-status="%d" interval="%d" last-rc-change="%d" exec-time="20" queue-time="0" op-digest="%s"/>`,
			rid, slot, rid, task, interval, task, key, magic, n.name, call, rc, status, interval, when, digest)
	}
	if interval > 0 {
		rec(fmt.Sprintf("monitor_%d", interval))
	} else {
		rec("last_0")
		if task == "stop" && rc == 0 && status == 0 {
			for k := range slots {
				if strings.HasPrefix(k, "monitor_") {
					delete(slots, k)
				}
			}
		}
	}
	if failed {
		rec("last_failure_0")
	}
	n.ops[rid] = nil
	for _, k := range []string{"last_failure_0", "last_0"} {
		if v, ok := slots[k]; ok {
			n.ops[rid] = append(n.ops[rid], v)
		}
	}
	for _, k := range sortedKeys(slots) {
		if strings.HasPrefix(k, "monitor_") {
			n.ops[rid] = append(n.ops[rid], slots[k])
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (g *clusterGen) failCount(n *genNode, rid, task string, interval int, count string) {
	name := fmt.Sprintf("%s#%s_%d", rid, task, interval)
	last := g.failTime
	n.attrs = append(n.attrs, g.nv("fail-count-"+name, count), g.nv("last-failure-"+name, fmt.Sprint(last)))
}

// history writes what happened to primitive p on every node.
func (g *clusterGen) history(p *genPrim) {
	// The node it is active on (primitives); clones may be active on many.
	active := -1
	if !p.clone && g.chance(0.7) {
		active = g.rng.Intn(len(g.nodes))
	}
	inst := 0
	for i, n := range g.nodes {
		if n.state == "nostate" {
			continue
		}
		rid := p.histID
		if rid == "" {
			rid = fmt.Sprintf("%s:%d", p.id, inst)
		}
		var state string
		isActive := i == active || (p.clone && g.chance(0.6))
		if p.clone && isActive {
			inst++
		}
		switch {
		case n.state == "offline" && !isActive && g.chance(0.5):
			continue
		case isActive:
			state = g.pick("running", "running", "running", "running", "failed-monitor", "failed-stop", "probe-active", "pending-start")
			if p.promotable && g.chance(0.4) {
				state = g.pick("promoted", "promoted", "failed-promoted")
			}
			if n.state == "offline" && g.chance(0.7) {
				state = "stopped"
			}
		default:
			state = g.pick("none", "probed", "probed", "probed", "stopped", "failed-start", "probe-error")
		}
		if p.stonith && strings.HasPrefix(state, "failed") {
			state = "running"
		}
		g.nodeHistory(n, p, rid, state)
	}
}

func (g *clusterGen) nodeHistory(n *genNode, p *genPrim, rid, state string) {
	// Failures in this history happened recently or long ago (past any
	// failure-timeout).
	g.failed = false
	g.failTime = genExecDate - 30
	if g.chance(0.4) {
		g.failTime = genExecDate - 3000
	}
	mon := p.monitor
	monTarget := 0
	if state == "none" {
		return
	}
	g.op(n, p, rid, "monitor", 0, 7, 0, 7)
	start := func() {
		g.op(n, p, rid, "start", 0, 0, 0, 0)
	}
	switch state {
	case "probed":
	case "probe-error":
		g.op(n, p, rid, "monitor", 0, g.rngPick(5, 1), 0, 7)
		if g.chance(0.5) {
			g.failCount(n, rid, "monitor", 0, "1")
		}
	case "probe-active":
		// Found running by a probe (the first probe's result replaced).
		g.op(n, p, rid, "monitor", 0, 0, 0, 7)
	case "running", "promoted":
		start()
		if state == "promoted" {
			g.op(n, p, rid, "promote", 0, 0, 0, 0)
			monTarget = 8
		}
		if mon > 0 {
			iv := mon
			if monTarget == 8 {
				iv = 9000
			}
			g.op(n, p, rid, "monitor", iv, monTarget, 0, monTarget)
		}
	case "stopped":
		start()
		if mon > 0 {
			g.op(n, p, rid, "monitor", mon, 0, 0, 0)
		}
		g.op(n, p, rid, "stop", 0, 0, 0, 0)
	case "failed-start":
		if g.chance(0.5) {
			g.op(n, p, rid, "start", 0, 1, 0, 0)
		} else {
			g.op(n, p, rid, "start", 0, 1, 2, 0) // timed out
		}
		g.failCount(n, rid, "start", 0, "INFINITY")
		if g.chance(0.6) {
			// The cluster has already stopped it there.
			g.op(n, p, rid, "stop", 0, 0, 0, 0)
		}
	case "failed-monitor":
		start()
		if mon == 0 {
			mon = 10000
		}
		g.op(n, p, rid, "monitor", mon, g.rngPick(7, 1), 0, 0)
		g.failCount(n, rid, "monitor", mon, g.pick("1", "2", "3"))
	case "failed-promoted":
		start()
		g.op(n, p, rid, "promote", 0, 0, 0, 0)
		g.op(n, p, rid, "monitor", 9000, g.rngPick(9, 7, 1), 0, 8)
		g.failCount(n, rid, "monitor", 9000, "1")
	case "failed-stop":
		start()
		g.op(n, p, rid, "stop", 0, 1, g.rngPick(0, 2), 0)
		g.failCount(n, rid, "stop", 0, "INFINITY")
	case "pending-start":
		g.op(n, p, rid, "start", 0, 193, -1, 0)
	}
	if p.promotable && state != "none" && n.state == "online" {
		n.attrs = append(n.attrs, g.nv("master-"+p.id, g.pick("5", "10", "100")))
	}
}

func (g *clusterGen) rngPick(xs ...int) int { return xs[g.rng.Intn(len(xs))] }
