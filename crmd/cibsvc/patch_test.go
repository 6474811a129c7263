package cibsvc

import (
	"errors"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

func base(t *testing.T) *cib.CIB {
	t.Helper()
	c, err := cib.Unmarshal([]byte(cibWithIP))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApplyVersionRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change Change
		want   cib.Version
		has    string
		err    error
	}{
		{name: "configuration change bumps epoch",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpSetNVPair, Target: "cib-bootstrap-options", Name: "no-quorum-policy", Value: "stop"}}}},
			want:   cib.Version{Epoch: 6}, has: `<nvpair id="cib-bootstrap-options-no-quorum-policy" name="no-quorum-policy" value="stop"/>`},
		{name: "status change bumps num_updates",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, Target: "/cib/status", XML: []byte(`<node_state id="1" uname="n1" in_ccm="true" crmd="online"/>`)}}}},
			want:   cib.Version{Epoch: 5, NumUpdates: 1}, has: `<node_state id="1" uname="n1"`},
		{name: "no change keeps the version",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpDeleteNVPair, Target: "ip-instance_attributes", Name: "absent"}}}},
			want:   cib.Version{Epoch: 5}},
		{name: "create under a path, nvpair block created under its parent",
			change: Change{Patch: &Patch{Ops: []Op{
				{Kind: OpCreate, Target: "/cib/configuration/resources", XML: []byte(`<primitive id="d" class="ocf" provider="pacemaker" type="Dummy"/>`)},
				{Kind: OpSetNVPair, Target: "d-meta_attributes", Parent: "d", SetElement: "meta_attributes", Name: "target-role", Value: "Stopped"},
			}}},
			want: cib.Version{Epoch: 6}, has: `<nvpair id="d-meta_attributes-target-role" name="target-role" value="Stopped"/>`},
		{name: "set attributes by path",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpSetAttributes, Target: "//primitive[@id='ip']", Attrs: []cib.Attr{{Name: "description", Value: "the address"}}}}}},
			want:   cib.Version{Epoch: 6}, has: `description="the address"`},
		{name: "replace an element",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpReplace, Target: "ip", XML: []byte(`<primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr"/>`)}}}},
			want:   cib.Version{Epoch: 6}, has: `type="IPaddr"/>`},
		{name: "replace a section",
			change: Change{Replace: &Replacement{Section: "resources", XML: []byte(`<resources/>`)}},
			want:   cib.Version{Epoch: 6}},
		{name: "expected version matches",
			change: Change{Expected: &cib.Version{Epoch: 5}, Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "ip"}}}},
			want:   cib.Version{Epoch: 6}},
		{name: "expected version stale",
			change: Change{Expected: &cib.Version{Epoch: 4}, Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "ip"}}}},
			err:    ErrVersionMismatch},
		{name: "whole CIB newer keeps its version",
			change: Change{Replace: &Replacement{XML: []byte(strings.Replace(cibWithIP, `epoch="5"`, `epoch="9"`, 1))}},
			want:   cib.Version{Epoch: 9}},
		{name: "whole CIB at the same version bumps epoch",
			change: Change{Replace: &Replacement{XML: []byte(cibWithIP)}},
			want:   cib.Version{Epoch: 6}},
		{name: "whole CIB older refused",
			change: Change{Replace: &Replacement{XML: []byte(strings.Replace(cibWithIP, `epoch="5"`, `epoch="2"`, 1))}},
			err:    ErrOlder},
		{name: "whole CIB older forced",
			change: Change{Replace: &Replacement{Force: true, XML: []byte(strings.Replace(cibWithIP, `epoch="5"`, `epoch="2"`, 1))}},
			want:   cib.Version{Epoch: 6}},
		{name: "new Verify error refused",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, Target: "/cib/configuration/constraints", XML: []byte(`<rsc_order id="o" first="ghost" then="ip"/>`)}}}},
			err:    ErrInvalid},
		{name: "duplicate id refused",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, Target: "/cib/configuration/resources", XML: []byte(`<primitive id="ip" class="ocf" provider="pacemaker" type="Dummy"/>`)}}}},
			err:    ErrExists},
		{name: "duplicate id with if_missing is a no-op",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpCreate, IfMissing: true, Target: "/cib/configuration/resources", XML: []byte(`<primitive id="ip" class="ocf" provider="pacemaker" type="Dummy"/>`)}}}},
			want:   cib.Version{Epoch: 5}},
		{name: "delete of a missing id",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "nope"}}}},
			err:    ErrNotFound},
		{name: "delete of a missing id with if_exists",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "nope", IfExists: true}}}},
			want:   cib.Version{Epoch: 5}},
		{name: "version attributes are the service's",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpSetAttributes, Target: "/cib", Attrs: []cib.Attr{{Name: "epoch", Value: "99"}}}}}},
			err:    ErrBadPatch},
		{name: "a failing operation undoes the ones before",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "ip"}, {Kind: OpDelete, Target: "nope"}}}},
			err:    ErrNotFound},
		{name: "bad path",
			change: Change{Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "/cib/[x"}}}},
			err:    ErrBadPath},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur := base(t)
			before := string(cib.Marshal(cur))
			next, err := Apply(cur, tc.change)
			if string(cib.Marshal(cur)) != before {
				t.Fatal("Apply modified its input")
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if next.Version != tc.want {
				t.Errorf("version %s, want %s", next.Version, tc.want)
			}
			if xml := string(cib.Marshal(next)); !strings.Contains(xml, tc.has) {
				t.Errorf("result lacks %s:\n%s", tc.has, xml)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	root := base(t).Tree()
	for path, want := range map[string]int{
		"/cib":                         1,
		"/cib/configuration/resources": 1,
		"//nvpair":                     2,
		"//primitive[@id='ip']":        1,
		"//primitive[@id=\"ip\"][@type='IPaddr2']": 1,
		"//primitive[@id='ip'][@type='x']":         0,
		"/cib/*":                                   2,
		"/cib/configuration//nvpair[@name='ip']":   1,
	} {
		es, err := Select(root, path)
		if err != nil || len(es) != want {
			t.Errorf("%s: %d elements, %v; want %d", path, len(es), err, want)
		}
	}
	for _, bad := range []string{"cib", "/cib/", "///x", "/cib[@id]", "/cib[id='x']"} {
		if _, err := Select(root, bad); !errors.Is(err, ErrBadPath) {
			t.Errorf("%s: %v, want a bad path", bad, err)
		}
	}
}

func TestApplyStamps(t *testing.T) {
	st := &Stamp{When: "Sun Nov 22 08:22:49 2026", User: "admin", Client: "vigil-crmd", Origin: "n2"}
	next, err := Apply(base(t), Change{Stamp: st, Patch: &Patch{Ops: []Op{{Kind: OpDelete, Target: "ip"}}}})
	if err != nil {
		t.Fatal(err)
	}
	xml := string(cib.Marshal(next))
	for _, want := range []string{`cib-last-written="Sun Nov 22 08:22:49 2026"`, `update-origin="n2"`, `update-client="vigil-crmd"`, `update-user="admin"`} {
		if !strings.Contains(xml, want) {
			t.Errorf("lacks %s:\n%s", want, xml)
		}
	}
	same, err := Apply(base(t), Change{Stamp: st, Patch: &Patch{Ops: []Op{{Kind: OpDeleteNVPair, Target: "ip-instance_attributes", Name: "absent"}}}})
	if err != nil || strings.Contains(string(cib.Marshal(same)), "update-origin") {
		t.Errorf("a change that changes nothing was stamped: %v", err)
	}
}
