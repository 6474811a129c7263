package crmsh

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// FuzzParse checks that Parse never panics and that every statement it
// accepts prints to text that parses back to the same statement.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"property stonith-enabled=false",
		"primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 cidr_netmask=32 op monitor interval=30s",
		"primitive d ocf:Dummy state=1 description=\"x y\" meta a=b utilization c=d op start timeout=20",
		"group web webip webserver meta target-role=Stopped",
		"ms WebDataClone WebData meta master-max=1 notify=true",
		"clone c r params a=1",
		"location l1 r1 rule -inf: #uname eq node1 or defined pingd",
		"location l r rule $id=x $role=Master p: date in start=2020 years=1 and a string:lt 'b c' rule 5: date spec hours=1",
		"location prefer-pcmk-1 WebSite role=Started 50: pcmk-1",
		"colocation c inf: ( a b ) [ c:Master d:Master ] e f node-attribute=x",
		"colocation website-with-ip inf: WebSite ClusterIP",
		"order o Mandatory: a:start ( b c ) _rsc_set_ d symmetrical=false",
		"node 1: n1:normal attributes standby=on",
		"# comment\n\\\ndelete a b\nshow\nverify\ncommit",
		"primitive p lsb:x params \"a b\"='c\\'d' \\\n op monitor",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		stmts, _ := Parse(src)
		for _, s := range stmts {
			text := Format(s)
			again, err := Parse(text)
			if err != nil {
				t.Fatalf("%q printed as %q does not parse: %v", src, text, err)
			}
			if len(again) != 1 {
				t.Fatalf("%q printed as %q parses to %d statements", src, text, len(again))
			}
			want := stripPos([]Statement{s})[0]
			if got := stripPos(again)[0]; !reflect.DeepEqual(got, want) {
				t.Fatalf("%q printed as %q parses differently:\n got %#v\nwant %#v", src, text, got, want)
			}
		}
	})
}

// FuzzApplyShow checks that whatever statements apply to an empty CIB, the
// configuration shown and loaded into another empty CIB is the same XML.
func FuzzApplyShow(f *testing.F) {
	f.Add(tutorial)
	f.Add("primitive a lsb:a\nprimitive b lsb:b\ngroup g a b\nclone c g\nlocation l c rule 5: date in start=2020 years=1\nproperty $id=x y=z\nnode n:ping\ndelete l")
	f.Fuzz(func(t *testing.T, src string) {
		stmts, _ := Parse(src)
		c := NewCIB()
		for _, s := range stmts {
			_ = Apply(c, []Statement{s})
		}
		shown, err := Show(c)
		if err != nil {
			t.Fatal(err)
		}
		again := NewCIB()
		if err := Apply(again, shown); err != nil {
			t.Fatalf("loading show's output: %v", err)
		}
		if a, b := cib.Marshal(c), cib.Marshal(again); !bytes.Equal(a, b) {
			t.Fatalf("%q: show → load differs:\n%s\n---\n%s", src, a, b)
		}
	})
}
