package cib

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Score
		ok   bool
	}{
		{"INFINITY", Infinity, true}, {"+INFINITY", Infinity, true}, {"-INFINITY", -Infinity, true},
		{"100", 100, true}, {"-5", -5, true}, {"+7", 7, true}, {"2000000", Infinity, true},
		{"-99999999999999999999", -Infinity, true}, {"red", 0, true}, {"Green", 0, true},
		{"infinity", 0, false}, {"1.0", 1, false}, {"abc", 0, false}, {"", 0, false}, {" 12x", 12, false},
	} {
		got, err := ParseScore(tc.in, nil)
		if (err == nil) != tc.ok {
			t.Errorf("ParseScore(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidScore) {
			t.Errorf("ParseScore(%q) error %v is not ErrInvalidScore", tc.in, err)
		}
		if tc.ok && got != tc.want {
			t.Errorf("ParseScore(%q) = %v, want %v", tc.in, got, tc.want)
		}
		if of := ScoreOf(tc.in, nil); of != tc.want {
			t.Errorf("ScoreOf(%q) = %v, want %v", tc.in, of, tc.want)
		}
	}
	colors := &NodeScoreColors{Red: -Infinity, Yellow: 10, Green: 20}
	if s, _ := ParseScore("yellow", colors); s != 10 {
		t.Errorf("yellow = %v, want 10", s)
	}
	for _, tc := range []struct{ a, b, want Score }{
		{-Infinity, Infinity, -Infinity}, {Infinity, -Infinity, -Infinity}, {Infinity, -5, Infinity},
		{-Infinity, 5, -Infinity}, {999999, 2, Infinity}, {-999999, -2, -Infinity}, {3, 4, 7}, {Infinity, Infinity, Infinity},
	} {
		if got := tc.a.Add(tc.b); got != tc.want {
			t.Errorf("%v + %v = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if Infinity.String() != "INFINITY" || (-Infinity).String() != "-INFINITY" || Score(5).String() != "5" {
		t.Error("Score.String")
	}
}

func TestVersionCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b Version
		want int
	}{
		{Version{1, 0, 0}, Version{0, 99, 99}, 1},
		{Version{0, 5, 0}, Version{0, 4, 100}, 1},
		{Version{0, 5, 1}, Version{0, 5, 2}, -1},
		{Version{2, 3, 4}, Version{2, 3, 4}, 0},
	} {
		if got := tc.a.Compare(tc.b); got != tc.want {
			t.Errorf("%v vs %v = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := tc.b.Compare(tc.a); got != -tc.want {
			t.Errorf("%v vs %v = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
	if !(Version{0, 2, 0}).Newer(Version{0, 1, 9}) || (Version{1, 2, 3}).String() != "1:2:3" {
		t.Error("Newer/String")
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"10", 10 * time.Second, true}, {"10s", 10 * time.Second, true}, {"500ms", 500 * time.Millisecond, true},
		{"2m", 2 * time.Minute, true}, {"1h", time.Hour, true}, {"3min", 3 * time.Minute, true}, {" 5 sec ", 5 * time.Second, true},
		{"10msec", 10 * time.Millisecond, true}, {"7us", 7 * time.Microsecond, true}, {"PT10S", 10 * time.Second, true},
		{"P1DT2H", 26 * time.Hour, true}, {"P2W", 14 * 24 * time.Hour, true}, {"PT1M30S", 90 * time.Second, true},
		{"0", 0, true}, {"", 0, false}, {"10x", 0, false}, {"-5s", 0, false}, {"P", 0, false}, {"PT", 0, false},
		{"P1H", 0, false}, {"soon", 0, false}, {"1.5s", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

const lookupCIB = `<cib epoch="1"><configuration>
<crm_config>
 <cluster_property_set id="other" score="10"><nvpair id="x1" name="no-quorum-policy" value="freeze"/></cluster_property_set>
 <cluster_property_set id="cib-bootstrap-options"><nvpair id="x2" name="no-quorum-policy" value="stop"/><nvpair id="x3" name="stonith-enabled" value="false"/></cluster_property_set>
</crm_config>
<nodes><node id="1" uname="n1"/></nodes>
<resources>
 <master id="ms"><meta_attributes id="ms-m"><nvpair id="ms-m1" name="notify" value="true"/></meta_attributes>
  <primitive id="p" class="ocf" provider="pacemaker" type="Stateful"><meta_attributes id="p-m"><nvpair id="p-m1" name="notify" value="false"/></meta_attributes></primitive></master>
 <clone id="c"><meta_attributes id="c-m"><nvpair id="c-m1" name="promotable" value="true"/></meta_attributes>
  <group id="g"><primitive id="q" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id-ref="ms-m"/></primitive></group></clone>
</resources>
<constraints><rsc_location id="l" rsc="c"><rule id-ref="r0"/></rsc_location><rsc_location id="l0" rsc="ms"><rule id="r0" score="5"><expression id="e" attribute="#uname" operation="eq" value="n1"/></rule></rsc_location></constraints>
<rsc_defaults><meta_attributes id="d"><nvpair id="d1" name="resource-stickiness" value="100"/></meta_attributes></rsc_defaults>
</configuration></cib>`

func TestLookupsAndReferences(t *testing.T) {
	c, err := Unmarshal([]byte(lookupCIB))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &c.Configuration
	if v, _ := cfg.Property("no-quorum-policy"); v != "stop" {
		t.Errorf("no-quorum-policy = %q, want stop (cib-bootstrap-options comes first)", v)
	}
	if cfg.StonithEnabled() {
		t.Error("stonith-enabled=false not seen")
	}
	if r := cfg.Resource("q"); r == nil || cfg.Parent("q").ID != "g" || cfg.Parent("g").ID != "c" {
		t.Fatal("resource lookup")
	}
	if !cfg.Resource("ms").IsPromotable() || !cfg.Resource("c").IsPromotable() || cfg.Resource("g").IsPromotable() {
		t.Error("IsPromotable")
	}
	meta := cfg.EffectiveMeta("p", nil)
	if meta["notify"] != "false" || meta["resource-stickiness"] != "100" {
		t.Errorf("EffectiveMeta(p) = %v", meta)
	}
	meta = cfg.EffectiveMeta("q", nil)
	if meta["notify"] != "true" || meta["promotable"] != "true" {
		t.Errorf("EffectiveMeta(q) = %v (the id-ref to ms-m and the clone's meta)", meta)
	}
	q := cfg.Resource("q")
	if q.MetaAttributes[0].IDRef != "ms-m" || len(q.MetaAttributes[0].Pairs) != 1 {
		t.Errorf("id-ref not resolved: %+v", q.MetaAttributes[0])
	}
	r := cfg.Locations()[0].Rules[0]
	if r.IDRef != "r0" || r.Score != "5" || len(r.Conditions) != 1 {
		t.Errorf("rule id-ref not resolved: %+v", r)
	}
	out := string(Marshal(c))
	if !strings.Contains(out, `<meta_attributes id-ref="ms-m"/>`) || !strings.Contains(out, `<rule id-ref="r0"/>`) {
		t.Errorf("references not kept on encode:\n%s", out)
	}
	if cfg.Node("n1") == nil || cfg.NodeByID("1") == nil || cfg.Node("n2") != nil {
		t.Error("node lookup")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`<cib><configuration>`, "the document ends before </configuration>"},
		{`<configuration/>`, "a CIB starts with <cib>"},
		{"<cib>\n<configuration>\n</status></cib>", "line 3 column 1: malformed XML: </status> closes <configuration> of line 2"},
		{`<cib epoch="x"/>`, `<cib>: epoch="x": want a whole number`},
		{"<cib><configuration><resources>\n  <primitive id=\"p\"><meta_attributes id-ref=\"nowhere\"/></primitive></resources></configuration></cib>",
			`line 2 column 21: <meta_attributes>: id-ref "nowhere": no element has this id`},
		{`<cib><configuration><constraints><rsc_location id="l"><rule id="a" id-ref="a"/></rsc_location></constraints></configuration></cib>`, `no element has this id`},
		{`<cib><configuration><constraints><rsc_location id="l"><rule id-ref="l"/></rsc_location></constraints></configuration></cib>`, `names a <rsc_location>`},
		{`<cib><configuration><nodes><primitive id="x"/></nodes></configuration></cib>`, `<primitive id="x">: unexpected element in <nodes>: want <node>`},
		{`<cib><configuration><nodes/><nodes/></configuration></cib>`, `a second <nodes>`},
		{``, "empty"},
	} {
		_, err := Unmarshal([]byte(tc.in))
		var de *DecodeError
		if err == nil || !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Unmarshal(%q) = %v, want a DecodeError with %q", tc.in, err, tc.want)
		}
	}
}

func TestUnknownXMLIsKept(t *testing.T) {
	in := `<cib epoch="1" future="yes"><configuration><resources><primitive id="p" class="ocf" provider="heartbeat" type="Dummy" new-attr="1"><future-child id="f" a="b"><x/></future-child></primitive><bundle id="b"><docker image="i"/></bundle></resources><constraints><rsc_ticket id="t" rsc="p" ticket="T"/></constraints><tags><tag id="tg"/></tags></configuration><status><node_state id="1" uname="n1" new="v"/></status><extra-section/></cib>`
	c, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out := string(Marshal(c))
	for _, w := range []string{`future="yes"`, `new-attr="1"`, `<future-child id="f" a="b">`, `<docker image="i"/>`, `<rsc_ticket id="t" rsc="p" ticket="T"/>`, `<tag id="tg"/>`, `new="v"`, `<extra-section/>`} {
		if !strings.Contains(out, w) {
			t.Errorf("%s lost:\n%s", w, out)
		}
	}
}
