package main

import (
	"strings"
	"testing"
)

func TestWriteAgentInfo(t *testing.T) {
	md := `<?xml version="1.0"?>
<resource-agent name="Dummy" version="1.0">
<version>1.0</version>
<longdesc lang="en">This is a dummy resource agent.</longdesc>
<shortdesc lang="en">Example stateless resource agent</shortdesc>
<parameters>
<parameter name="state" unique="1">
<longdesc lang="en">Location to store the resource state in.</longdesc>
<shortdesc lang="en">State file</shortdesc>
<content type="string" default="/run/Dummy.state" />
</parameter>
<parameter name="fake" required="1">
<longdesc lang="en">Fake attribute that can be changed to cause a reload</longdesc>
<shortdesc lang="en">Fake attribute</shortdesc>
<content type="string" />
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s" />
<action name="monitor" timeout="20s" interval="10s" depth="0" />
<action name="meta-data" timeout="5s" />
</actions>
</resource-agent>`
	var b strings.Builder
	if err := writeAgentInfo(&b, "ocf:heartbeat:Dummy", []byte(md)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Example stateless resource agent (ocf:heartbeat:Dummy)",
		"Parameters (*: required, []: default):",
		"state (string [/run/Dummy.state]): State file",
		"fake* (string): Fake attribute",
		"    start          timeout=20s\n",
		"    monitor        timeout=20s interval=10s\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "meta-data") {
		t.Errorf("meta-data action shown:\n%s", b.String())
	}
	if err := writeAgentInfo(&b, "x", []byte("<not xml")); err == nil {
		t.Error("bad meta-data accepted")
	}
}

func TestParseAgent(t *testing.T) {
	for _, tt := range []struct {
		in, class, provider, typ string
		ok                       bool
	}{
		{"ocf:heartbeat:IPaddr2", "ocf", "heartbeat", "IPaddr2", true},
		{"lsb:nginx", "lsb", "", "nginx", true},
		{"plugin::dummy", "plugin", "", "dummy", true},
		{"IPaddr2", "", "", "", false},
		{"ocf::", "", "", "", false},
	} {
		a, err := parseAgent(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("parseAgent(%q): %v", tt.in, err)
			continue
		}
		if tt.ok && (a.GetClass() != tt.class || a.GetProvider() != tt.provider || a.GetType() != tt.typ) {
			t.Errorf("parseAgent(%q) = %v", tt.in, a)
		}
	}
}
