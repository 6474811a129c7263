package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// digestCIB is one node running d, started with the parameters whose
// digest is startDigest.
func digestCIB(params, startDigest string) string {
	return `<cib admin_epoch="0" epoch="1" num_updates="1" have-quorum="1" validate-with="pacemaker-3.7"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes><node id="1" uname="n1"/></nodes><resources>` +
		`<primitive id="d" class="ocf" provider="pacemaker" type="Dummy"><instance_attributes id="d-i">` + params + `</instance_attributes><operations><op id="d-mon" name="monitor" interval="10s"/></operations></primitive></resources><constraints/></configuration><status>` +
		`<node_state id="1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"><lrm id="1"><lrm_resources><lrm_resource id="d" class="ocf" provider="pacemaker" type="Dummy">` +
		`<lrm_rsc_op id="d_last_0" operation_key="d_start_0" operation="start" transition-key="1:1:0:x" transition-magic="0:0;1:1:0:x" call-id="1" rc-code="0" op-status="0" interval="0" op-digest="` + startDigest + `"/>` +
		`<lrm_rsc_op id="d_monitor_10000" operation_key="d_monitor_10000" operation="monitor" transition-key="2:1:0:x" transition-magic="0:0;2:1:0:x" call-id="2" rc-code="0" op-status="0" interval="10000" op-digest="4811cef7f7f94e3a35a70be7916cb2fd"/>` +
		`</lrm_resource></lrm_resources></lrm></node_state></status></cib>`
}

// TestOpDigest checks the digests against ones the controller recorded:
// no parameters, a recurring monitor (its timeout counts), and group11's
// target_role parameter.
func TestOpDigest(t *testing.T) {
	for _, tc := range []struct {
		params string
		task   string
		ms     int
		want   string
	}{
		{"", "start", 0, "f2317cad3d54cec5d7d7aa7d0bf35cf8"},
		{"", "monitor", 10000, "4811cef7f7f94e3a35a70be7916cb2fd"},
		{`<nvpair id="p1" name="target_role" value="started"/>`, "start", 0, "08b7001b97ccdaa1ca23a9f165256bc1"},
	} {
		c, err := cib.Unmarshal([]byte(digestCIB(tc.params, "x")))
		if err != nil {
			t.Fatal(err)
		}
		cl := Unpack(c, time.Unix(1700000000, 0))
		if got := cl.opDigest(cl.byID["d"], tc.task, tc.ms); got != tc.want {
			t.Errorf("digest of %q %s %d = %s, want %s", tc.params, tc.task, tc.ms, got, tc.want)
		}
	}
}

// TestDefinitionChange: a resource started with other parameters restarts;
// with the same ones nothing happens.
func TestDefinitionChange(t *testing.T) {
	param := `<nvpair id="p1" name="target_role" value="started"/>`
	for _, tc := range []struct {
		digest string
		want   string
	}{
		{"08b7001b97ccdaa1ca23a9f165256bc1", ""},
		{"f2317cad3d54cec5d7d7aa7d0bf35cf8", "Restart    d ( n1 )  due to resource definition change"},
	} {
		c, err := cib.Unmarshal([]byte(digestCIB(param, tc.digest)))
		if err != nil {
			t.Fatal(err)
		}
		res := Schedule(Input{CIB: c, Now: time.Unix(1700000000, 0)})
		if got := strings.Join(res.Summary, "\n"); got != tc.want {
			t.Errorf("recorded digest %s: summary %q, want %q", tc.digest, got, tc.want)
		}
	}
}
