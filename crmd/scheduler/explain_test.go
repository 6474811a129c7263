package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// TestExplain explains a resource pulled to n2 by a location constraint,
// away from n1 where it failed past its migration-threshold, with n3 in
// standby.
func TestExplain(t *testing.T) {
	doc := `<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="1" validate-with="pacemaker-3.7"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>` +
		`<nodes><node id="1" uname="n1"/><node id="2" uname="n2"/><node id="3" uname="n3"><instance_attributes id="n3-a"><nvpair id="n3-s" name="standby" value="on"/></instance_attributes></node></nodes>` +
		`<resources><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id="d-m"><nvpair id="d-m1" name="migration-threshold" value="2"/></meta_attributes></primitive></resources>` +
		`<constraints><rsc_location id="prefer-n2" rsc="d" node="n2" score="50"/></constraints></configuration><status>` +
		`<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><transient_attributes id="1"><instance_attributes id="t1"><nvpair id="t1-1" name="fail-count-d#monitor_10000" value="3"/></instance_attributes></transient_attributes></node_state>` +
		`<node_state id="2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>` +
		`<node_state id="3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>` +
		`</status></cib>`
	c, err := cib.Unmarshal([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	res := Schedule(Input{CIB: c, Now: time.Unix(1700000000, 0)})
	ex, err := res.Explain("d")
	if err != nil {
		t.Fatal(err)
	}
	text := ex.Text()
	for _, want := range []string{
		"d starts on n2.",
		"n1: score -INFINITY, cannot run it",
		"3 failures here reached migration-threshold=2",
		"n2: score 50, can run it",
		"location constraint prefer-n2: +50 (it prefers this node)",
		"chosen: the highest score",
		"n3: score 0, cannot run it",
		"the node is in standby",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("explanation lacks %q:\n%s", want, text)
		}
	}
	if _, err := res.Explain("nope"); !errors.Is(err, ErrNoSuchResource) {
		t.Errorf("Explain(nope) = %v, want ErrNoSuchResource", err)
	}
}

// TestNoFencingDevice: with stonith-enabled (the default) and no stonith
// resource, Pacemaker starts and stops nothing (probes still run); the
// result warns and the explanation says why.
func TestNoFencingDevice(t *testing.T) {
	doc := func(props, rscs string) string {
		return `<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="1" validate-with="pacemaker-3.7"><configuration><crm_config><cluster_property_set id="o">` + props + `</cluster_property_set></crm_config>` +
			`<nodes><node id="1" uname="n1"/></nodes><resources><primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>` + rscs + `</resources><constraints/></configuration><status>` +
			`<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status></cib>`
	}
	for _, tc := range []struct {
		name, props, rscs string
		starts            bool
	}{
		{"default stonith-enabled, no device", "", "", false},
		{"stonith-enabled=false", `<nvpair id="o1" name="stonith-enabled" value="false"/>`, "", true},
		{"with a device", "", `<primitive id="f" class="stonith" type="fence_dummy"/>`, true},
	} {
		c, err := cib.Unmarshal([]byte(doc(tc.props, tc.rscs)))
		if err != nil {
			t.Fatal(err)
		}
		res := Schedule(Input{CIB: c, Now: time.Unix(1700000000, 0)})
		started, probed := false, false
		for _, a := range res.Graph.Executed() {
			if a.Name == "d" && a.Task == "start" {
				started = true
			}
			if a.Name == "d" && a.Task == "monitor" && a.Interval == 0 {
				probed = true
			}
		}
		if started != tc.starts || !probed {
			t.Errorf("%s: d started=%v probed=%v, want started=%v probed=true", tc.name, started, probed, tc.starts)
		}
		warned := strings.Contains(strings.Join(res.Warnings, "\n"), "no STONITH resources")
		if warned == tc.starts {
			t.Errorf("%s: warning given=%v: %q", tc.name, warned, res.Warnings)
		}
		ex, err := res.Explain("d")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ex.Text(), "no stonith resource is configured") == tc.starts {
			t.Errorf("%s: explanation:\n%s", tc.name, ex.Text())
		}
	}
}
