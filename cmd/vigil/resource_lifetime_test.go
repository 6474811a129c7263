package main

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/transition"
)

// TestMoveLifetime: move --lifetime writes crm_resource's rule (the node,
// and a date before which it holds); the scheduler honours it until then
// and not after.
func TestMoveLifetime(t *testing.T) {
	c := twoNodeCIB(t)
	until := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	putLocation(c, cliLocation("cli-prefer-d2", "cli-prefer-", "d2", "n1", "INFINITY", until))
	xml := strings.Join(strings.Fields(string(cib.Marshal(c))), "")
	for _, want := range []string{
		`<rsc_locationid="cli-prefer-d2"rsc="d2"role="Started"><ruleid="cli-prefer-rule-d2"score="INFINITY"boolean-op="and">`,
		`<expressionid="cli-prefer-expr-d2"attribute="#uname"operation="eq"value="n1"type="string"/>`,
		`<date_expressionid="cli-prefer-lifetime-end-d2"operation="lt"end="2026-11-2213:00:00+00:00"/>`,
	} {
		if !strings.Contains(xml, want) {
			t.Errorf("missing %s in\n%s", want, xml)
		}
	}
	for _, tc := range []struct{ when, want string }{
		{"2026-11-22T12:59:00Z", "d2 moves from n2 to n1"},
		{"2026-11-22T13:01:00Z", "d2 stays on n2"},
	} {
		var b strings.Builder
		if err := explain(&b, transition.WithNodes(c), tc.when, "d2"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("at %s: want %q:\n%s", tc.when, tc.want, b.String())
		}
	}
	ban := cliLocation("cli-ban-d2-on-n2", "cli-ban-d2-on-n2-", "d2", "n2", "-INFINITY", until)
	if ban.Rules[0].ID != "cli-ban-d2-on-n2-rule" || ban.Rules[0].Conditions[1].Date.ID != "cli-ban-d2-on-n2-lifetime" {
		t.Errorf("ban ids: %s %s", ban.Rules[0].ID, ban.Rules[0].Conditions[1].Date.ID)
	}
	if _, err := lifetimeEnd("soon"); err == nil {
		t.Error("--lifetime soon was accepted")
	}
}
