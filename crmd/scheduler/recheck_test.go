package scheduler

import (
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

func TestNextDateBoundary(t *testing.T) {
	c, err := cib.Unmarshal([]byte(`<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/>
<resources><primitive id="d1" class="ocf" provider="pacemaker" type="Dummy"/></resources>
<constraints>
  <rsc_location id="cli-prefer-d1" rsc="d1" role="Started">
    <rule id="cli-prefer-rule-d1" score="INFINITY" boolean-op="and">
      <expression id="cli-prefer-expr-d1" attribute="#uname" operation="eq" value="n2" type="string"/>
      <date_expression id="cli-prefer-lifetime-end-d1" operation="lt" end="2026-11-22 13:00:00 +00:00"/>
    </rule>
  </rsc_location>
  <rsc_location id="window" rsc="d1">
    <rule id="window-rule" score="100"><rule id="inner" score="0">
      <date_expression id="window-date" operation="in_range" start="2026-11-22T12:30:00Z"><duration id="window-d" hours="2"/></date_expression>
    </rule></rule>
  </rsc_location>
</constraints></configuration><status/></cib>`))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, ok := ParseTime(s)
		if !ok {
			t.Fatalf("bad time %s", s)
		}
		return v
	}
	for _, tc := range []struct{ now, want string }{
		{"2026-11-22T12:00:00Z", "2026-11-22T12:30:00Z"},
		{"2026-11-22T12:45:00Z", "2026-11-22T13:00:00Z"},
		{"2026-11-22T13:30:00Z", "2026-11-22T14:30:00Z"},
	} {
		got, ok := NextDateBoundary(c, at(tc.now))
		if !ok || !got.Equal(at(tc.want)) {
			t.Errorf("at %s: next boundary %v %v, want %s", tc.now, got, ok, tc.want)
		}
	}
	if got, ok := NextDateBoundary(c, at("2026-11-22T15:00:00Z")); ok {
		t.Errorf("after every boundary: %v", got)
	}
}
