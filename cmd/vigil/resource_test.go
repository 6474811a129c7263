package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// twoNodeCIB has d1 started on n1 with a failed monitor counted there.
func twoNodeCIB(t *testing.T) *cib.CIB {
	t.Helper()
	c, err := cib.Unmarshal([]byte(`<cib validate-with="pacemaker-3.7" epoch="2" num_updates="3" admin_epoch="0">
  <configuration><crm_config><cluster_property_set id="o"><nvpair id="o-st" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources>
    <primitive id="d1" class="plugin" type="dummy"/>
    <primitive id="d2" class="plugin" type="dummy"/>
  </resources><constraints/></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	transition.UpdateNode(c, transition.Membership{ID: "1", Uname: "n1", Member: true})
	transition.UpdateNode(c, transition.Membership{ID: "2", Uname: "n2", Member: true})
	now := time.Unix(1700000000, 0)
	for _, r := range []transition.OpResult{
		{Node: "n1", NodeID: "1", Rsc: "d1", Class: "plugin", Type: "dummy", Task: "start", When: now},
		{Node: "n1", NodeID: "1", Rsc: "d1", Class: "plugin", Type: "dummy", Task: "monitor", IntervalMS: 2000, RC: 7, When: now},
		{Node: "n2", NodeID: "2", Rsc: "d2", Class: "plugin", Type: "dummy", Task: "start", When: now},
	} {
		transition.Record(c, r)
	}
	return c
}

func TestSetNodeAttr(t *testing.T) {
	c := twoNodeCIB(t)
	if err := setNodeAttr(c, "n1", "standby", "on"); err != nil {
		t.Fatal(err)
	}
	xml := string(cib.Marshal(c))
	want := `<node id="1" uname="n1" type="member"><instance_attributes id="nodes-1"><nvpair id="nodes-1-standby" name="standby" value="on"/>`
	if !strings.Contains(strings.Join(strings.Fields(xml), ""), strings.Join(strings.Fields(want), "")) {
		t.Errorf("no standby nvpair as crmsh writes it:\n%s", xml)
	}
	if err := setNodeAttr(c, "n1", "standby", "on"); err != errNoChange {
		t.Errorf("setting it again: %v, want errNoChange", err)
	}
	if err := setNodeAttr(c, "n1", "standby", "off"); err != nil {
		t.Fatal(err)
	}
	if v, _ := firstSetValue(c.Configuration.Node("n1").InstanceAttributes, "standby"); v != "off" {
		t.Errorf("standby=%q after online", v)
	}
	if err := setNodeAttr(c, "n9", "standby", "on"); err == nil {
		t.Error("an unknown node was accepted")
	}
}

func TestMoveBanClearLocate(t *testing.T) {
	c := twoNodeCIB(t)
	on, err := runningOn(c, "d2")
	if err != nil || len(on) != 1 || on[0] != "n2" {
		t.Fatalf("d2 runs on %v (%v), want [n2]", on, err)
	}
	var b strings.Builder
	writeLocate(&b, "d2", on)
	writeLocate(&b, "d3", nil)
	if got, want := b.String(), "resource d2 is running on: n2\nresource d3 is NOT running\n"; got != want {
		t.Errorf("locate:\n%s\nwant\n%s", got, want)
	}
	putLocation(c, &cib.Location{ID: "cli-prefer-d2", Rsc: "d2", Role: "Started", Node: "n1", Score: "INFINITY"})
	putLocation(c, &cib.Location{ID: "cli-prefer-d2", Rsc: "d2", Role: "Started", Node: "n2", Score: "INFINITY"})
	if n := len(c.Configuration.Constraints); n != 1 {
		t.Fatalf("%d constraints after moving twice, want 1", n)
	}
	xml := string(cib.Marshal(c))
	if !strings.Contains(xml, `<rsc_location id="cli-prefer-d2" rsc="d2" role="Started" score="INFINITY" node="n2"/>`) {
		t.Errorf("cli-prefer-d2 not as crm_resource writes it:\n%s", xml)
	}
}

func TestCleanupAndFailCount(t *testing.T) {
	c := twoNodeCIB(t)
	var b strings.Builder
	writeFailCounts(&b, c, "d1", "")
	if got, want := b.String(), "scope=status  node=n1  name=fail-count-d1 value=1\nscope=status  node=n2  name=fail-count-d1 value=0\n"; got != want {
		t.Errorf("failcount:\n%s\nwant\n%s", got, want)
	}
	got := cleanupResource(c, "d1", "")
	if len(got) != 1 || got[0] != "n1" {
		t.Errorf("cleaned up on %v, want [n1]", got)
	}
	if n := failCounts(c, "d1")["n1"]; n != 0 {
		t.Errorf("fail count %d after cleanup", n)
	}
	if c.Status.NodeState("n1").Resource("d1") != nil {
		t.Error("d1's history on n1 is still there")
	}
	if c.Status.NodeState("n2").Resource("d2") == nil {
		t.Error("cleanup of d1 removed d2's history")
	}
	if got := cleanupResource(c, "d1", ""); len(got) != 0 {
		t.Errorf("a second cleanup found %v", got)
	}
}

func TestStatusJSON(t *testing.T) {
	c := twoNodeCIB(t)
	now := time.Unix(1700000000, 0)
	j := statusJSON(c, cibclient.Status{DC: "n1", Quorate: true}, "n1", now)
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"last_updated":"2023-11-14T22:13:20Z","dc":"n1","quorate":true,"local":"n1"`,
		`{"name":"n1","id":"1","online":true,"standby":false`,
		`{"id":"d1","agent":"plugin:dummy","role":"Started","nodes":["n1"],"failed":true,"managed":true,"fail_counts":{"n1":1}}`,
		`{"id":"d2","agent":"plugin:dummy","role":"Started","nodes":["n2"],"failed":false`,
		`"failed_actions":[{"operation":"d1_monitor_2000","node":"n1","rc":7,"rc_text":"not running","status":"complete"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("status JSON lacks %s:\n%s", want, b)
		}
	}
	if j := statusJSON(c, cibclient.Status{}, "", time.Time{}); j.LastUpdated != "" {
		t.Errorf("a zero time gives last_updated %q", j.LastUpdated)
	}
}
