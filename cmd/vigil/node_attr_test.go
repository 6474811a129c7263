package main

import (
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/crmsh"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// TestNodeAttributes: permanent and transient node attributes are written
// where Pacemaker keeps them, read back, deleted, and a location rule on a
// transient attribute (as a ping resource would set it) moves a resource.
func TestNodeAttributes(t *testing.T) {
	c := twoNodeCIB(t)
	if err := setStatusAttr(c, "n2", "pingd", "0"); err != nil {
		t.Fatal(err)
	}
	if err := setStatusAttr(c, "n2", "pingd", "0"); err != errNoChange {
		t.Errorf("setting it again: %v, want errNoChange", err)
	}
	xml := strings.Join(strings.Fields(string(cib.Marshal(c))), "")
	if !strings.Contains(xml, `<transient_attributesid="2"><instance_attributesid="status-2"><nvpairid="status-2-pingd"name="pingd"value="0"/>`) {
		t.Errorf("no transient pingd as Pacemaker writes it:\n%s", xml)
	}
	if v, ok, err := nodeAttr(c, true, "n2", "pingd"); err != nil || !ok || v != "0" {
		t.Errorf("show pingd: %q %v %v", v, ok, err)
	}
	if _, ok, _ := nodeAttr(c, false, "n2", "pingd"); ok {
		t.Error("a transient attribute shows as permanent")
	}

	// d2 runs on n2; a rule that bans nodes without connectivity moves it.
	stmts, err := crmsh.Parse("location d2-connected d2 rule -inf: not_defined pingd or pingd lte 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if err := crmsh.Apply(c, stmts); err != nil {
		t.Fatal(err)
	}
	if err := setStatusAttr(c, "n1", "pingd", "100"); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := explain(&b, transition.WithNodes(c), "", "d2"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "d2 moves from n2 to n1") {
		t.Errorf("d2 does not leave n2 (pingd=0) for n1 (pingd=100):\n%s", b.String())
	}

	if err := deleteNodeAttr(c, true, "n2", "pingd"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := nodeAttr(c, true, "n2", "pingd"); ok {
		t.Error("pingd still set after delete")
	}
	if err := deleteNodeAttr(c, true, "n2", "pingd"); err != errNoChange {
		t.Errorf("deleting it again: %v, want errNoChange", err)
	}
	if err := setNodeAttr(c, "n1", "rack", "r1"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := nodeAttr(c, false, "n1", "rack"); !ok || v != "r1" {
		t.Errorf("permanent rack = %q %v", v, ok)
	}
	if err := deleteNodeAttr(c, false, "n1", "rack"); err != nil {
		t.Fatal(err)
	}
	if err := setStatusAttr(c, "n9", "x", "1"); err == nil {
		t.Error("an unknown node was accepted")
	}
}
