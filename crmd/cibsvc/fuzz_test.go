package cibsvc

import (
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// FuzzPatch applies a patch of one operation built from fuzzed fields to a
// CIB: Apply must not panic, must leave its input alone, and a result must
// encode to XML that decodes to the same CIB.
func FuzzPatch(f *testing.F) {
	f.Add("create", "/cib/configuration/resources", `<primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>`, "", "")
	f.Add("set_nvpair", "x-meta", "", "target-role", "Stopped")
	f.Add("delete", "//primitive[@id='ip']", "", "", "")
	f.Add("set_attributes", "/cib/status", "", "a", "b")
	f.Add("replace", "ip-instance_attributes", `<instance_attributes id="ip-instance_attributes"/>`, "", "")
	f.Fuzz(func(t *testing.T, kind, target, xml, name, value string) {
		cur, err := cib.Unmarshal([]byte(cibWithIP))
		if err != nil {
			t.Fatal(err)
		}
		before := string(cib.Marshal(cur))
		op := Op{Kind: OpKind(kind), Target: target, XML: []byte(xml), Name: name, Value: value, Parent: "ip", SetElement: "meta_attributes"}
		if name != "" {
			op.Attrs = []cib.Attr{{Name: name, Value: value}}
		}
		next, err := Apply(cur, Change{Patch: &Patch{Ops: []Op{op}}})
		if string(cib.Marshal(cur)) != before {
			t.Fatal("Apply modified its input")
		}
		if err != nil {
			return
		}
		b := cib.Marshal(next)
		again, err := cib.Unmarshal(b)
		if err != nil {
			t.Fatalf("the result does not decode: %v\n%s", err, b)
		}
		if string(cib.Marshal(again)) != string(b) {
			t.Fatalf("the result does not round-trip:\n%s", b)
		}
	})
}
