package crmsh

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// tutorial is a crmsh session in show order, so that Show prints it back
// line for line.
const tutorial = `node node1 attributes standby=off
node node2
primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 cidr_netmask=32 op monitor interval=30s
primitive WebSite ocf:heartbeat:apache params configfile=/etc/apache2/apache2.conf op monitor interval=1min timeout=20s op start timeout=40s
primitive WebData ocf:linbit:drbd params drbd_resource=wwwdata op monitor interval=60s role=Promoted op monitor interval=59s role=Unpromoted
primitive WebFS ocf:heartbeat:Filesystem params device=/dev/drbd1 directory=/var/www/html fstype=ext4
primitive webip ocf:heartbeat:IPaddr params ip=192.168.1.100
primitive webserver lsb:httpd
primitive ping ocf:pacemaker:ping params host_list=192.168.122.1 meta target-role=Started op monitor interval=10s
group web webip webserver meta target-role=Started
ms WebDataClone WebData meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true
clone ping-clone ping meta interleave=true
location prefer-pcmk-1 WebSite 50: node1
location l1 WebSite rule -inf: #uname eq node2 or not_defined pingd
location l2 web rule $role=Started pingd: defined pingd rule -inf: date date_spec hours=0-6 weekdays=6-7
colocation website-with-ip inf: WebSite ClusterIP
colocation fs-on-drbd inf: WebFS WebDataClone:Promoted
colocation web-set inf: ( webip WebFS ) ClusterIP
order apache-after-ip Mandatory: ClusterIP WebSite
order fs-after-drbd Mandatory: WebDataClone:promote WebFS:start
order web-order Optional: ClusterIP ( WebFS web ) symmetrical=false
property stonith-enabled=false no-quorum-policy=ignore
rsc_defaults resource-stickiness=100
op_defaults timeout=240s
`

func applyText(t *testing.T, c *cib.CIB, src string) {
	t.Helper()
	stmts, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(c, stmts); err != nil {
		t.Fatal(err)
	}
}

func showText(t *testing.T, c *cib.CIB, ids ...string) string {
	t.Helper()
	stmts, err := Show(c, ids...)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Print(&b, stmts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestApplyShowRoundTrip(t *testing.T) {
	c := NewCIB()
	applyText(t, c, tutorial)
	if got := showText(t, c); got != tutorial {
		t.Fatalf("show:\n%s\nwant:\n%s", got, tutorial)
	}
	// Loading what show prints into an empty CIB gives the same XML.
	again := NewCIB()
	applyText(t, again, showText(t, c))
	if a, b := cib.Marshal(c), cib.Marshal(again); !bytes.Equal(a, b) {
		t.Fatalf("show → load differs:\n%s\n---\n%s", a, b)
	}
	if ps := cib.Verify(c); cib.HasErrors(ps) {
		t.Fatalf("cib.Verify: %v", ps)
	}
	if got := showText(t, c, "web", "node1"); got != "node node1 attributes standby=off\ngroup web webip webserver meta target-role=Started\n" {
		t.Fatalf("show web node1:\n%s", got)
	}
}

func TestApplyIDs(t *testing.T) {
	c := NewCIB()
	applyText(t, c, `primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 op monitor interval=30s op start
property stonith-enabled=false
location l1 ClusterIP rule -inf: #uname eq n1 and date gt 2020-01-01
ms m ClusterIP
order o ( m ) ClusterIP`)
	x := string(cib.Marshal(c))
	for _, id := range []string{
		`<primitive id="ClusterIP" class="ocf" provider="heartbeat" type="IPaddr2"`,
		`<instance_attributes id="ClusterIP-instance_attributes">`,
		`<nvpair id="ClusterIP-instance_attributes-ip" name="ip" value="192.168.122.120"/>`,
		`<op id="ClusterIP-monitor-30s" name="monitor" interval="30s"/>`,
		`<op id="ClusterIP-start-0" name="start" interval="0"/>`,
		`<cluster_property_set id="cib-bootstrap-options">`,
		`<nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/>`,
		`<rule id="l1-rule" score="-INFINITY">`,
		`<expression id="l1-rule-expression" attribute="#uname" operation="eq" value="n1"/>`,
		`<date_expression id="l1-rule-expression-1" operation="gt" start="2020-01-01"/>`,
		`<clone id="m">`,
		`<nvpair id="m-meta_attributes-promotable" name="promotable" value="true"/>`,
		`<resource_set id="o-0" sequential="false">`,
		`<resource_set id="o-1">`,
	} {
		if !strings.Contains(x, id) {
			t.Errorf("CIB lacks %s:\n%s", id, x)
		}
	}
}

func TestApplyErrors(t *testing.T) {
	base := `primitive a lsb:a
primitive b lsb:b
primitive c lsb:c
group g a b
colocation col inf: c g
`
	tests := []struct {
		src  string
		want error
		msg  string
	}{
		{"primitive a lsb:x", ErrExists, `line 1, column 1: crmsh: id already in use: primitive a: the id "a" is already used in the configuration (delete it first, or choose another id)`},
		{"delete c", ErrReferenced, `line 1, column 1: crmsh: object still referenced: delete c: constraints [col] refer to it (delete them first)`},
		{"delete g", ErrReferenced, ""},
		{"delete zz", ErrNotFound, ""},
		{"group h a", ErrInvalid, "line 1, column 1: crmsh: invalid: group h: resource a is already in group g"},
		{"group h zz", ErrNotFound, ""},
		{"clone k a", ErrInvalid, ""},
		{"location l zz 1: n", ErrNotFound, ""},
		{"order o c zz", ErrNotFound, ""},
		{"colocation x inf: ( c zz )", ErrNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			c := NewCIB()
			applyText(t, c, base)
			stmts, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			err = Apply(c, stmts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("err = %s\nwant  %s", err, tc.msg)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	c := NewCIB()
	applyText(t, c, `primitive a lsb:a
primitive b lsb:b
primitive c lsb:c
group g a b
location l c 1: n1
property x=1
delete l b
delete g`)
	if got, want := showText(t, c), "primitive a lsb:a\nprimitive c lsb:c\nproperty x=1\n"; got != want {
		t.Fatalf("show:\n%s\nwant:\n%s", got, want)
	}
	if order := []string{c.Configuration.Resources[0].ID, c.Configuration.Resources[1].ID}; order[0] != "a" || order[1] != "c" {
		t.Fatalf("resources in order %v", order)
	}
}

func TestShowFallsBackToComment(t *testing.T) {
	c := NewCIB()
	applyText(t, c, "primitive a lsb:a")
	c.Configuration.Resources[0].Template = "tmpl"
	got := showText(t, c)
	if !strings.HasPrefix(got, "# vigil: a cannot be shown in crmsh syntax") {
		t.Fatalf("show: %s", got)
	}
	if _, err := Show(c, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Show(nope) = %v", err)
	}
}
