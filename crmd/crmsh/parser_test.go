package crmsh

import (
	"reflect"
	"strings"
	"testing"
)

// stripPos zeroes the positions of statements so that trees can be
// compared.
func stripPos(stmts []Statement) []Statement {
	for _, s := range stmts {
		v := reflect.ValueOf(s).Elem().FieldByName("At")
		v.Set(reflect.ValueOf(Pos{}))
	}
	return stmts
}

func mustParse1(t *testing.T, src string) Statement {
	t.Helper()
	stmts, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	if len(stmts) != 1 {
		t.Fatalf("Parse(%q): %d statements, want 1", src, len(stmts))
	}
	return stripPos(stmts)[0]
}

func TestParseStatements(t *testing.T) {
	inf := Score{Value: "INFINITY"}
	tests := []struct {
		src   string
		want  Statement
		canon string // Format of the parsed statement; "" means src
	}{
		{"property stonith-enabled=false", &Property{Section: SectionProperty, Attrs: []NVPair{{"stonith-enabled", "false"}}}, ""},
		{"property no-quorum-policy=ignore", &Property{Section: SectionProperty, Attrs: []NVPair{{"no-quorum-policy", "ignore"}}}, ""},
		{"property $id=cib-bootstrap-options a=1 b=", &Property{Section: SectionProperty, SetID: "cib-bootstrap-options", Attrs: []NVPair{{"a", "1"}, {"b", ""}}}, `property $id=cib-bootstrap-options a=1 b=""`},
		{"property cib-bootstrap-options: a=1", &Property{Section: SectionProperty, SetID: "cib-bootstrap-options", Attrs: []NVPair{{"a", "1"}}}, "property $id=cib-bootstrap-options a=1"},
		{"rsc_defaults resource-stickiness=100", &Property{Section: SectionRscDefaults, Attrs: []NVPair{{"resource-stickiness", "100"}}}, ""},
		{"op_defaults timeout=240s", &Property{Section: SectionOpDefaults, Attrs: []NVPair{{"timeout", "240s"}}}, ""},
		{"primitive webip ocf:heartbeat:IPaddr params ip=192.168.1.100",
			&Primitive{ID: "webip", Agent: Agent{"ocf", "heartbeat", "IPaddr"}, Params: []NVPair{{"ip", "192.168.1.100"}}}, ""},
		{"primitive webserver lsb:httpd", &Primitive{ID: "webserver", Agent: Agent{Class: "lsb", Type: "httpd"}}, ""},
		{"primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 cidr_netmask=32 op monitor interval=30s",
			&Primitive{ID: "ClusterIP", Agent: Agent{"ocf", "heartbeat", "IPaddr2"},
				Params: []NVPair{{"ip", "192.168.122.120"}, {"cidr_netmask", "32"}},
				Ops:    []Op{{Name: "monitor", Attrs: []NVPair{{"interval", "30s"}}}}}, ""},
		{`primitive d ocf:Dummy state=/tmp/s description="a b" meta target-role=Stopped utilization cpu=2 op start op monitor interval=10 role=Master PARAMS x=1`,
			&Primitive{ID: "d", Agent: Agent{"ocf", "heartbeat", "Dummy"}, Params: []NVPair{{"state", "/tmp/s"}, {"description", "a b"}, {"x", "1"}},
				Meta: []NVPair{{"target-role", "Stopped"}}, Utilization: []NVPair{{"cpu", "2"}},
				Ops: []Op{{Name: "start"}, {Name: "monitor", Attrs: []NVPair{{"interval", "10"}, {"role", "Master"}}}}},
			`primitive d ocf:heartbeat:Dummy params state=/tmp/s description="a b" x=1 meta target-role=Stopped utilization cpu=2 op start op monitor interval=10 role=Master`},
		{`primitive d ocf:pacemaker:Dummy description="my dummy" params state=x`,
			&Primitive{ID: "d", Agent: Agent{"ocf", "pacemaker", "Dummy"}, Description: "my dummy", Params: []NVPair{{"state", "x"}}}, ""},
		{"primitive fence stonith:fence_ipmilan params ip=10.0.0.1 'passwd=a b\\'c'",
			&Primitive{ID: "fence", Agent: Agent{Class: "stonith", Type: "fence_ipmilan"}, Params: []NVPair{{"ip", "10.0.0.1"}, {"passwd", "a b'c"}}},
			`primitive fence stonith:fence_ipmilan params ip=10.0.0.1 passwd="a b'c"`},
		{"group web webip webserver", &Group{ID: "web", Resources: []string{"webip", "webserver"}}, ""},
		{"group g a b meta target-role=Started params x=1", &Group{ID: "g", Resources: []string{"a", "b"}, Meta: []NVPair{{"target-role", "Started"}}, Params: []NVPair{{"x", "1"}}},
			"group g a b params x=1 meta target-role=Started"},
		{"clone c1 r1 meta clone-max=2 interleave=true", &Clone{ID: "c1", Resource: "r1", Meta: []NVPair{{"clone-max", "2"}, {"interleave", "true"}}}, ""},
		{"ms WebDataClone WebData meta master-max=1 master-node-max=1 clone-max=2 clone-node-max=1 notify=true",
			&Clone{Promotable: true, ID: "WebDataClone", Resource: "WebData", Meta: []NVPair{{"master-max", "1"}, {"master-node-max", "1"}, {"clone-max", "2"}, {"clone-node-max", "1"}, {"notify", "true"}}}, ""},
		{"master m r", &Clone{Promotable: true, ID: "m", Resource: "r"}, "ms m r"},
		{"location prefer-pcmk-1 WebSite 50: pcmk-1", &Location{ID: "prefer-pcmk-1", Resource: "WebSite", Score: Score{Value: "50"}, Node: "pcmk-1"}, ""},
		{"location l WebSite role=master -INFINITY: n1", &Location{ID: "l", Resource: "WebSite", Role: "Master", Score: Score{Value: "-INFINITY"}, Node: "n1"}, "location l WebSite role=Master -inf: n1"},
		{"location l1 r1 rule -inf: #uname eq node1 or defined pingd",
			&Location{ID: "l1", Resource: "r1", Rules: []Rule{{Score: Score{Value: "-INFINITY"}, BoolOp: "or", Exprs: []Expr{
				{Kind: ExprCompare, Attr: "#uname", Op: "eq", Value: "node1"}, {Kind: ExprDefined, Attr: "pingd"}}}}}, ""},
		{"location l r rule $id=r-1 $role=Promoted pingd: defined pingd rule id=r2 role=started 100: #uname string:NE n1 and not_defined x and v version:gte 1.2",
			&Location{ID: "l", Resource: "r", Rules: []Rule{
				{ID: "r-1", Role: "Promoted", Score: Score{Attribute: "pingd"}, Exprs: []Expr{{Kind: ExprDefined, Attr: "pingd"}}},
				{ID: "r2", Role: "Started", Score: Score{Value: "100"}, BoolOp: "and", Exprs: []Expr{
					{Kind: ExprCompare, Attr: "#uname", Op: "ne", Type: "string", Value: "n1"},
					{Kind: ExprNotDefined, Attr: "x"},
					{Kind: ExprCompare, Attr: "v", Op: "gte", Type: "version", Value: "1.2"}}}}},
			"location l r rule $id=r-1 $role=Promoted pingd: defined pingd rule $id=r2 $role=Started 100: #uname string:ne n1 and not_defined x and v version:gte 1.2"},
		{"location l r rule #uname eq n1", &Location{ID: "l", Resource: "r", Rules: []Rule{{Score: inf, Exprs: []Expr{{Kind: ExprCompare, Attr: "#uname", Op: "eq", Value: "n1"}}}}},
			"location l r rule inf: #uname eq n1"},
		{"location l r rule -inf: date lt 2030-01-01 or date gt 2020-01-01T00:00:00Z or date in start=2024-01-01 end=2024-12-31 or date in_range start=2024-01-01 years=1 or date spec hours=9-17 weekdays=1-5",
			&Location{ID: "l", Resource: "r", Rules: []Rule{{Score: Score{Value: "-INFINITY"}, BoolOp: "or", Exprs: []Expr{
				{Kind: ExprDate, Date: &DateExpr{Op: "lt", End: "2030-01-01"}},
				{Kind: ExprDate, Date: &DateExpr{Op: "gt", Start: "2020-01-01T00:00:00Z"}},
				{Kind: ExprDate, Date: &DateExpr{Op: "in_range", Start: "2024-01-01", End: "2024-12-31"}},
				{Kind: ExprDate, Date: &DateExpr{Op: "in_range", Start: "2024-01-01", Duration: []NVPair{{"years", "1"}}}},
				{Kind: ExprDate, Date: &DateExpr{Op: "date_spec", Spec: []NVPair{{"hours", "9-17"}, {"weekdays", "1-5"}}}}}}}},
			"location l r rule -inf: date lt 2030-01-01 or date gt 2020-01-01T00:00:00Z or date in_range start=2024-01-01 end=2024-12-31 or date in_range start=2024-01-01 years=1 or date date_spec hours=9-17 weekdays=1-5"},
		{"location l r resource-discovery=never -inf: n2", &Location{ID: "l", Resource: "r", ResourceDiscovery: "never", Score: Score{Value: "-INFINITY"}, Node: "n2"}, ""},
		{"colocation website-with-ip inf: WebSite ClusterIP", &Colocation{ID: "website-with-ip", Score: inf, Rsc: "WebSite", WithRsc: "ClusterIP"}, ""},
		{"colocation c +INFINITY: ms1:master fs", &Colocation{ID: "c", Score: inf, Rsc: "ms1", RscRole: "Master", WithRsc: "fs"}, "colocation c inf: ms1:Master fs"},
		{"colocation c mandatory: a b c", &Colocation{ID: "c", Score: inf, Sets: []ResourceSet{{Resources: []string{"a", "b", "c"}, Sequential: true, RequireAll: true}}}, "colocation c inf: a b c"},
		{"colocation c advisory: (a b) [c d] e:Promoted f:Promoted g node-attribute=site",
			&Colocation{ID: "c", Score: Score{Value: "0"}, NodeAttribute: "site", Sets: []ResourceSet{
				{Resources: []string{"a", "b"}, RequireAll: true},
				{Resources: []string{"c", "d"}},
				{Resources: []string{"e", "f"}, Sequential: true, RequireAll: true, Qualifier: "Promoted"},
				{Resources: []string{"g"}, Sequential: true, RequireAll: true}}},
			"colocation c 0: ( a b ) [ c d ] e:Promoted f:Promoted _rsc_set_ g node-attribute=site"},
		{"colocation c inf: _rsc_set_ a b", &Colocation{ID: "c", Score: inf, Sets: []ResourceSet{{Resources: []string{"a", "b"}, Sequential: true, RequireAll: true}}}, ""},
		{"order apache-after-ip Mandatory: ClusterIP WebSite", &Order{ID: "apache-after-ip", Kind: "Mandatory", First: "ClusterIP", Then: "WebSite"}, ""},
		{"order o inf: a:promote b:START", &Order{ID: "o", Kind: "Mandatory", First: "a", FirstAction: "promote", Then: "b", ThenAction: "start"}, "order o Mandatory: a:promote b:start"},
		{"order o 0: a b symmetrical=no", &Order{ID: "o", Kind: "Optional", First: "a", Then: "b", Symmetrical: "false"}, "order o Optional: a b symmetrical=false"},
		{"order o a b", &Order{ID: "o", First: "a", Then: "b"}, ""},
		{"order o serialize: a ( b c ) d", &Order{ID: "o", Kind: "Serialize", Sets: []ResourceSet{
			{Resources: []string{"a"}, Sequential: true, RequireAll: true},
			{Resources: []string{"b", "c"}, RequireAll: true},
			{Resources: []string{"d"}, Sequential: true, RequireAll: true}}}, "order o Serialize: a ( b c ) d"},
		{"node node1", &Node{Name: "node1"}, ""},
		{"node 1084783105: node1 attributes standby=off utilization memory=1024", &Node{ID: "1084783105", Name: "node1", Attributes: []NVPair{{"standby", "off"}}, Utilization: []NVPair{{"memory", "1024"}}},
			"node $id=1084783105 node1 attributes standby=off utilization memory=1024"},
		{"node n2:remote standby=on", &Node{Name: "n2", Type: "remote", Attributes: []NVPair{{"standby", "on"}}}, "node n2:remote attributes standby=on"},
		{"delete vip", &Delete{IDs: []string{"vip"}}, ""},
		{"delete a b", &Delete{IDs: []string{"a", "b"}}, ""},
		{"show", &ShowStmt{}, ""},
		{"show web", &ShowStmt{IDs: []string{"web"}}, ""},
		{"verify", &Verify{}, ""},
		{"COMMIT", &Commit{}, "commit"},
		{"# a comment", &Comment{Text: " a comment"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			got := mustParse1(t, tc.src)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse(%q)\n got %#v\nwant %#v", tc.src, got, tc.want)
			}
			canon := tc.canon
			if canon == "" {
				canon = tc.src
			}
			if f := Format(got); f != canon {
				t.Fatalf("Format:\n got %s\nwant %s", f, canon)
			}
			again := mustParse1(t, Format(got))
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("Format does not parse back:\n got %#v\nwant %#v", again, got)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	src := `# the web site
primitive ClusterIP ocf:heartbeat:IPaddr2 \
	params ip=192.168.122.120 cidr_netmask=32 \
	op monitor interval=30s

location l1 ClusterIP rule -inf: \
  #uname eq node1
property "stonith-enabled"=false
`
	stmts, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Print(&b, stmts); err != nil {
		t.Fatal(err)
	}
	want := `# the web site
primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.122.120 cidr_netmask=32 op monitor interval=30s
location l1 ClusterIP rule -inf: #uname eq node1
property stonith-enabled=false
`
	if b.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", b.String(), want)
	}
	if got := stmts[1].Pos(); got != (Pos{Line: 2, Col: 1}) {
		t.Errorf("primitive at %v", got)
	}
	if got := stmts[2].Pos(); got != (Pos{Line: 6, Col: 1}) {
		t.Errorf("location at %v", got)
	}
}

func TestParseArgs(t *testing.T) {
	s, err := ParseArgs([]string{"primitive", "webip", "ocf:heartbeat:IPaddr", "params", "ip=1.2.3.4", "description=a b"})
	if err != nil {
		t.Fatal(err)
	}
	want := `primitive webip ocf:heartbeat:IPaddr params ip=1.2.3.4 description="a b"`
	if got := Format(s); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	_, err = ParseArgs([]string{"primitive", "webip", "ocf:heartbeat:IPaddr", "params", "ip"})
	if err == nil || err.Error() != `line 1, column 47: expected "=" after parameter name "ip", got end of line` {
		t.Fatalf("err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"primitive webip ocf:heartbeat:IPaddr\\\n\t\\\n  params ip", `line 3, column 12: expected "=" after parameter name "ip", got end of line`},
		{"primitive webip ocf:heartbeat:IPaddr params ip 1.2.3.4", `line 1, column 47: expected "=" after parameter name "ip", got "1.2.3.4"`},
		{"primitive webip ocf:heartbeat:IPaddr params", `line 1, column 44: expected NAME=VALUE after params, got end of line`},
		{"primitive webip ocf:heartbeat:IPaddr parms ip=1", `line 1, column 38: expected meta, op, params or utilization, got "parms"`},
		{"primitive webip IPaddr", `line 1, column 17: expected a resource agent CLASS:[PROVIDER:]TYPE (e.g. ocf:heartbeat:IPaddr2, lsb:httpd, systemd:nginx, stonith:fence_ipmilan), got "IPaddr" (the class is needed: Vigil does not guess it)`},
		{"primitive 1web lsb:httpd", `line 1, column 11: expected a resource id after primitive, got "1web" (an id is a letter or _ followed by letters, digits, ., - or _)`},
		{"primitive", `line 1, column 10: expected a resource id after primitive, got end of line`},
		{"primitive w lsb:httpd params a=1 a=2", `line 1, column 34: parameter "a" is given twice`},
		{"primitive w lsb:httpd op", `line 1, column 25: expected an operation name (monitor, start, stop ...) after op, got end of line`},
		{"frobnicate x", `line 1, column 1: expected a statement (primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults, node, delete, show, verify, commit), got "frobnicate"`},
		{"group g", `line 1, column 8: expected a member resource id of group g, got end of line`},
		{"group g a a", `line 1, column 11: resource "a" is listed twice in group g`},
		{"location l r n1", `line 1, column 14: expected a score (a number, inf, -inf, mandatory or advisory) followed by ":" and a node, or rule, got "n1"`},
		{"location l r 50:", `line 1, column 17: expected a node name after the score, got end of line`},
		{"location l r 50: n1 n2", `line 1, column 21: expected end of line after the node name, got "n2"`},
		{"location l r role=Boss 50: n1", `line 1, column 14: expected a role (Started, Stopped, Master, Slave, Promoted, Unpromoted), got "Boss"`},
		{"location l r rule -inf: #uname eq n1 or a eq 1 and b eq 2", `line 1, column 48: expected "or" (a rule joins its expressions with one of and, or; write a second rule for the other), got "and"`},
		{"location l r rule -inf: #uname is n1", `line 1, column 32: expected a comparison (lt, gt, lte, gte, eq, ne; typed as string:eq, integer:, number:, version:) after "#uname", got "is"`},
		{"location l r rule -inf: #uname eq", `line 1, column 34: expected a value after "#uname" eq, got end of line`},
		{"location l r rule -inf:", `line 1, column 24: expected an expression (ATTR OP VALUE, defined ATTR, not_defined ATTR or date ...), got end of line`},
		{"location l r rule -inf: date soon", `line 1, column 30: expected a date operation (lt, gt, in_range or date_spec) after date, got "soon"`},
		{"location l r rule -inf: date spec", `line 1, column 34: expected a date_spec field (hours=, monthdays=, weekdays=, yeardays=, months=, weeks=, years=, weekyears=, moon=) after date date_spec, got end of line`},
		{"location l r rule -inf: defined a b", `line 1, column 35: expected and, or, rule or end of line after the expression, got "b"`},
		{"colocation c WebSite ClusterIP", `line 1, column 14: expected a score (a number, inf, -inf, mandatory or advisory) followed by ":", got "WebSite"`},
		{"colocation c inf: a:Boss b", `line 1, column 19: expected a role (Started, Stopped, Master, Slave, Promoted, Unpromoted), got "Boss"`},
		{"colocation c inf: ( a b", `line 1, column 24: expected ) to close the set opened at line 1, column 19, got end of line`},
		{"colocation c inf: ( a ( b ) )", `line 1, column 23: expected a resource or ) to close the set opened at line 1, column 19, got "(" (sets do not nest)`},
		{"colocation c inf: ( a ] b", `line 1, column 23: expected ) to close the set opened at line 1, column 19, got "]"`},
		{"colocation c inf: a ( ) b", `line 1, column 23: expected a resource in the set opened at line 1, column 21, got ")" (empty sets are not allowed)`},
		{"colocation c inf:", `line 1, column 18: expected resources (RSC[:ROLE] RSC[:ROLE] or resource sets), got end of line`},
		{"order o Sometimes: a b", `line 1, column 9: expected a kind (Mandatory:, Optional:, Serialize:) or a score, got "Sometimes:"`},
		{"order o a:run b", `line 1, column 9: expected an action (start, stop, promote, demote) after a:, got "run"`},
		{"order o a b symmetrical=maybe", `line 1, column 13: expected symmetrical=true or false, got "symmetrical=maybe"`},
		{"property", `line 1, column 9: expected NAME=VALUE after property, got end of line`},
		{"property stonith-enabled", `line 1, column 25: expected "=" after property name "stonith-enabled", got end of line`},
		{"delete", `line 1, column 7: expected an id to delete, got end of line`},
		{"verify now", `line 1, column 8: expected end of line after verify, got "now"`},
		{`primitive p lsb:x params a="b`, `line 1, column 28: expected a closing " for the quote opened here, got end of input`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			_, err := Parse(tc.src)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.src)
			}
			if err.Error() != tc.want {
				t.Fatalf("Parse(%q)\n got %s\nwant %s", tc.src, err, tc.want)
			}
		})
	}
}

func TestParseKeepsGoingAfterAnError(t *testing.T) {
	stmts, err := Parse("primitive a lsb:x\nprimitive b\nprimitive c lsb:y\ngroup")
	if len(stmts) != 2 {
		t.Fatalf("%d statements, want 2", len(stmts))
	}
	list, ok := err.(ErrorList)
	if !ok || len(list) != 2 || list[0].Pos.Line != 2 || list[1].Pos.Line != 4 {
		t.Fatalf("err = %#v", err)
	}
}

func TestQuotingRoundTrip(t *testing.T) {
	for _, src := range []string{
		`primitive p lsb:x params "a b"="c \"d\" \\ e" "op"=1 "x=y"=z "$id"=1`,
		`location l r rule inf: "date" eq "and" and "a:" eq ""`,
		`location l r rule "inf": defined a`,
		`location l r 1: "n 1"`,
		`node "a:normal"`,
		`group g "params" b`,
	} {
		stmts, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		f := Format(stmts[0])
		again, err := Parse(f)
		if err != nil {
			t.Fatalf("Parse(Format) of %q: %q: %v", src, f, err)
		}
		if !reflect.DeepEqual(stripPos(again), stripPos(stmts)) {
			t.Fatalf("%q printed as %q parses differently:\n%#v\n%#v", src, f, again[0], stmts[0])
		}
	}
}
