package cib

import (
	"fmt"
	"strings"
	"testing"
)

// cibWith builds a CIB whose stonith is disabled (unless props says
// otherwise) with nodes n1 and n2, the resources, constraints and extra
// configuration sections given.
func cibWith(t *testing.T, props, resources, constraints, extra string) *CIB {
	t.Helper()
	if props == "" {
		props = `<nvpair id="o-st" name="stonith-enabled" value="false"/>`
	}
	x := fmt.Sprintf(`<cib admin_epoch="0" epoch="1" num_updates="0"><configuration>
<crm_config><cluster_property_set id="o">%s</cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources>%s</resources><constraints>%s</constraints>%s</configuration><status/></cib>`, props, resources, constraints, extra)
	c, err := Unmarshal([]byte(x))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, x)
	}
	return c
}

const dummyA = `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"/>`
const dummyB = `<primitive id="B" class="ocf" provider="heartbeat" type="Dummy"/>`
const fence1 = `<primitive id="F1" class="stonith" type="fence_dummy"/>`

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		props, rscs, constraints, extra string
		// want is "severity id substring"; empty means no problem at all.
		want []string
	}{
		{name: "clean", rscs: dummyA + dummyB, constraints: `<rsc_order id="o1" first="A" then="B"/><rsc_colocation id="c1" score="INFINITY" rsc="B" with-rsc="A"/><rsc_location id="l1" rsc="A" node="n1" score="100"/>`},
		{name: "clean with stonith", props: `<nvpair id="o-st" name="stonith-enabled" value="true"/>`, rscs: fence1 + dummyA,
			extra: `<fencing-topology><fencing-level id="fl" index="1" target="n1" devices="F1"/></fencing-topology>`},
		{name: "stonith enabled by default without a device", props: `<nvpair id="o-x" name="no-quorum-policy" value="stop"/>`, rscs: dummyA,
			want: []string{"error  no STONITH resources", "error  stonith-enabled=false"}},
		{name: "duplicate ids", rscs: dummyA + `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"/>`,
			want: []string{"error A is used by"}},
		{name: "duplicate id across kinds", rscs: dummyA, constraints: `<rsc_location id="A" rsc="A" node="n1" score="1"/>`,
			want: []string{"error A ids must be unique"}},
		{name: "member of two groups", rscs: `<group id="g1">` + dummyA + `</group><group id="g2">` + dummyA + `</group>`,
			want: []string{"error A in two places"}},
		{name: "group member also a clone child", rscs: `<group id="g1">` + dummyA + `</group><clone id="c">` + dummyA + `</clone>`,
			want: []string{"error A in two places"}},
		{name: "clone in a group", rscs: `<group id="g1"><clone id="c">` + dummyA + `</clone></group>`,
			want: []string{"error c group can hold only primitives", "error c clone cannot be a member"}},
		{name: "clone of two", rscs: `<clone id="c">` + dummyA + dummyB + `</clone>`, want: []string{"error c holds 2 resources"}},
		{name: "location to unknown resource", rscs: dummyA, constraints: `<rsc_location id="l1" rsc="nope" node="n1" score="1"/>`,
			want: []string{`error l1 rsc "nope" is not a resource`}},
		{name: "location to unknown node", rscs: dummyA, constraints: `<rsc_location id="l1" rsc="A" node="n9" score="1"/>`,
			want: []string{`warning l1 node "n9" is not in the nodes section`}},
		{name: "location without score", rscs: dummyA, constraints: `<rsc_location id="l1" rsc="A" node="n1"/>`,
			want: []string{"error l1 has no score"}},
		{name: "colocation on unknown resource", rscs: dummyA, constraints: `<rsc_colocation id="c1" score="INFINITY" rsc="A" with-rsc="ghost"/>`,
			want: []string{`error c1 with-rsc "ghost" is not a resource`}},
		{name: "order on unknown resources", rscs: dummyA, constraints: `<rsc_order id="o1" first="ghost" then="A" first-action="begin"/>`,
			want: []string{`error o1 first "ghost" is not a resource`, `error o1 first-action "begin"`}},
		{name: "set with unknown resource", rscs: dummyA, constraints: `<rsc_order id="o1"><resource_set id="s1" sequential="maybe"><resource_ref id="A"/><resource_ref id="Z"/></resource_set></rsc_order>`,
			want: []string{`error s1 resource_ref "Z" is not a resource`, `error s1 sequential "maybe"`}},
		{name: "invalid scores", rscs: dummyA + dummyB, constraints: `<rsc_colocation id="c1" score="lots" rsc="A" with-rsc="B"/><rsc_location id="l1" rsc="A" node="n1" score="10.5"/>`,
			want: []string{`error c1 score "lots" is not a score`, `warning l1 reads it as 10`}},
		{name: "invalid rule", rscs: dummyA, constraints: `<rsc_location id="l1" rsc="A"><rule id="r1" score="INF" boolean-op="xor"><expression id="e1" attribute="#uname" operation="equals" value="n1"/></rule></rsc_location>`,
			want: []string{`error r1 score "INF" is not a score`, `error r1 boolean-op "xor"`, `error e1 operation "equals"`}},
		{name: "invalid interval and timeout", rscs: `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="A-m" name="monitor" interval="10x" timeout="soon"/><op id="A-s" name="start" interval="0" timeout="PT1M"/><op id="A-t" name="stop" interval="0" timeout="1 min"/></operations></primitive>`,
			want: []string{`error A-m interval "10x" is not a duration`, `error A-m timeout "soon" is not a duration`}},
		{name: "unknown operation", rscs: `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="A-m" name="monitr" interval="10s"/></operations></primitive>`,
			want: []string{`error A-m unknown operation "monitr"`}},
		{name: "operation twice", rscs: `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="A-m" name="monitor" interval="10s"/><op id="A-m2" name="monitor" interval="10000ms"/></operations></primitive>`,
			want: []string{`error A-m2 defined twice`}},
		{name: "ocf without provider", rscs: `<primitive id="A" class="ocf" type="Dummy"/>`, want: []string{"error A has no provider"}},
		{name: "fencing level device not stonith", rscs: fence1 + dummyA,
			extra: `<fencing-topology><fencing-level id="fl" index="1" target="n1" devices="F1,A,G"/></fencing-topology>`,
			want:  []string{`error fl device "A" is a primitive ocf:heartbeat:Dummy, not a stonith resource`, `error fl device "G" is not a resource`}},
		{name: "fencing level target", rscs: fence1,
			extra: `<fencing-topology><fencing-level id="fl" index="0" devices="F1"/></fencing-topology>`,
			want:  []string{`error fl index "0"`, "error fl exactly one of target"}},
		{name: "bad property values", props: `<nvpair id="p1" name="stonith-enabled" value="nope"/><nvpair id="p2" name="no-quorum-policy" value="panic"/><nvpair id="p3" name="cluster-recheck-interval" value="15 minutes"/>`,
			want: []string{`error p1 not a boolean`, `error p2 no-quorum-policy="panic"`, `error p3 is not a duration`, "error  no STONITH"}},
		{name: "target-role", rscs: `<primitive id="A" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="A-m"><nvpair id="A-tr" name="target-role" value="Running"/><nvpair id="A-tr2" name="is-managed" value="started"/></meta_attributes></primitive>`,
			want: []string{`error A-tr target-role "Running"`, "error A-tr2 not a boolean"}},
		{name: "missing id", rscs: `<primitive class="ocf" provider="heartbeat" type="Dummy"/>`, want: []string{"error  has no id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cibWith(t, tc.props, tc.rscs, tc.constraints, tc.extra)
			got := Verify(c)
			var lines []string
			for _, p := range got {
				lines = append(lines, fmt.Sprintf("%s %s %s", p.Severity, p.ID, p.Message))
			}
			if len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("want no problem, got:\n%s", strings.Join(lines, "\n"))
			}
			for _, w := range tc.want {
				parts := strings.SplitN(w, " ", 3)
				found := false
				for _, p := range got {
					if p.Severity.String() == parts[0] && p.ID == parts[1] && strings.Contains(p.Message, parts[2]) {
						found = true
					}
				}
				if !found {
					t.Errorf("want %q among:\n%s", w, strings.Join(lines, "\n"))
				}
			}
			if wantErr := strings.Contains(strings.Join(tc.want, "\n"), "error "); HasErrors(got) != wantErr {
				t.Errorf("HasErrors = %v, want %v", HasErrors(got), wantErr)
			}
		})
	}
}

func TestVerifySchedulerCasesHaveNoUnexpectedErrors(t *testing.T) {
	// Pacemaker's own cases are valid configurations; the only errors
	// crm_verify reports on them are the missing stonith device of
	// stop-failure-no-fencing (and recovery limits, which are status).
	for _, f := range schedulerCases(t) {
		c := decodeFile(t, f)
		for _, p := range Verify(c) {
			if p.Severity == SeverityError && !strings.Contains(f, "stop-failure-no-fencing") {
				t.Errorf("%s: %s", f, p)
			}
		}
	}
}
