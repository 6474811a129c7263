package cib

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode checks that decoding and verifying never panic and that
// whatever decodes round-trips: encode, decode again, same model, same bytes.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`<cib admin_epoch="0" epoch="1" num_updates="2"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>`))
	f.Add([]byte(`<cib epoch="3"><configuration><crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
<nodes><node id="1" uname="n1"/></nodes><resources><clone id="c"><meta_attributes id="m"><nvpair id="p" name="promotable" value="true"/></meta_attributes><group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="a-m" name="monitor" interval="10s"/></operations></primitive></group></clone>
<primitive id="b" class="ocf" provider="pacemaker" type="Dummy"><meta_attributes id-ref="m"/></primitive></resources>
<constraints><rsc_location id="l" rsc="c"><rule id="r" score="-INFINITY" boolean-op="or"><expression id="e" attribute="#uname" operation="eq" value="n1"/><date_expression id="d" operation="date_spec"><date_spec id="ds" hours="9-16"/></date_expression></rule></rsc_location>
<rsc_order id="o1" kind="Mandatory"><resource_set id="s" sequential="false"><resource_ref id="a"/><resource_ref id="b"/></resource_set></rsc_order>
<rsc_colocation id="co" score="INFINITY" rsc="b" with-rsc="c" with-rsc-role="Promoted"/><rsc_ticket id="t" rsc="b" ticket="T"/></constraints>
<fencing-topology><fencing-level id="f" index="1" target="n1" devices="x"/></fencing-topology></configuration>
<status><node_state id="1" uname="n1" in_ccm="true"><lrm id="1"><lrm_resources><lrm_resource id="a" class="ocf" type="Dummy"><lrm_rsc_op id="a_last_0" operation="start" rc-code="0" call-id="3"/></lrm_resource></lrm_resources></lrm></node_state></status></cib>`))
	f.Add([]byte(`<cib><x:y xmlns:x="u" x:a="&amp;&lt;">text</x:y><configuration/></cib>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		c1, err := Unmarshal(in)
		if err != nil {
			return
		}
		Verify(c1)
		out := Marshal(c1)
		c2, err := Unmarshal(out)
		if err != nil {
			t.Fatalf("the encoding of a decoded CIB does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(c1, c2) {
			t.Fatalf("the model changed in a round trip:\n%s", out)
		}
		if again := Marshal(c2); !bytes.Equal(out, again) {
			t.Fatalf("encoding is not stable:\n%s\n%s", out, again)
		}
	})
}
