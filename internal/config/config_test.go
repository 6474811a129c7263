package config

import (
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, name string) *Config {
	t.Helper()
	c, err := Load("testdata/" + name)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return c
}

// ignoredKeys returns "key@line" for every ignored entry.
func ignoredKeys(c *Config) []string {
	var out []string
	for _, ig := range c.Ignored {
		out = append(out, ig.Key+"@"+strconv.Itoa(ig.Line))
	}
	return out
}

// exported returns a copy of c without its unexported bookkeeping.
func exported(c *Config) Config {
	out := *c
	out.lines, out.settled, out.consensusDerived = nil, nil, false
	return out
}

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.Totem.Consensus != c.TokenTimeout()*12/10 {
		t.Errorf("default consensus %v is not 1.2 * token %v", c.Totem.Consensus, c.TokenTimeout())
	}
}

func TestDecodeEmpty(t *testing.T) {
	c, err := Decode("empty.conf", nil)
	if err != nil {
		t.Fatalf("Decode(empty) = %v", err)
	}
	want := Default()
	want.File = "empty.conf"
	if got := exported(c); !reflect.DeepEqual(got, want) {
		t.Errorf("Decode(empty) =\n%+v\nwant Default()\n%+v", *c, want)
	}
}

func TestLoadCorosync1Whitetank(t *testing.T) {
	c := load(t, "corosync1-whitetank.conf")

	if len(c.Nodes) != 0 {
		t.Errorf("Nodes = %v, want none", c.Nodes)
	}
	wantIface := []Interface{{Link: 0, BindNetAddr: "192.168.1.0", McastAddr: "226.94.1.1", McastPort: 5405, Priority: 1, Line: 8}}
	if !reflect.DeepEqual(c.Totem.Interfaces, wantIface) {
		t.Errorf("Interfaces = %+v, want %+v", c.Totem.Interfaces, wantIface)
	}
	wantLog := Logging{ToStderr: false, ToLogfile: true, ToSyslog: true, Logfile: "/var/log/cluster/corosync.log", Debug: "off", Timestamp: true}
	if c.Logging != wantLog {
		t.Errorf("Logging = %+v, want %+v", c.Logging, wantLog)
	}
	if c.Totem.Token != time.Second || c.Totem.Transport != "knet" || c.Quorum.Provider != "" {
		t.Errorf("defaults not kept: token %v transport %q provider %q", c.Totem.Token, c.Totem.Transport, c.Quorum.Provider)
	}
	want := []string{
		"compatibility@2", "totem.secauth@6", "totem.threads@7", "totem.interface.ttl@13",
		"logging.fileline@18", "logging.logger_subsys@25", "amf@31", "service@35", "aisexec@41",
	}
	if got := ignoredKeys(c); !slices.Equal(got, want) {
		t.Errorf("Ignored = %v\nwant %v", got, want)
	}
	for _, ig := range c.Ignored {
		if ig.File != "testdata/corosync1-whitetank.conf" || ig.Why == "" || strings.HasPrefix(ig.Why, whyUnknownKey) {
			t.Errorf("ignored entry %+v: want a known corosync key with a reason", ig)
		}
	}
}

func TestLoadCorosync3(t *testing.T) {
	c := load(t, "corosync3.conf")

	wantNodes := []Node{
		{ID: 1, Name: "node1", Addrs: []string{"10.0.0.1"}, QuorumVotes: 1, Line: 12},
		{ID: 2, Name: "node2", Addrs: []string{"10.0.0.2"}, QuorumVotes: 1, Line: 18},
	}
	if !reflect.DeepEqual(c.Nodes, wantNodes) {
		t.Errorf("Nodes = %+v\nwant %+v", c.Nodes, wantNodes)
	}
	if !c.Quorum.TwoNode || !c.Quorum.WaitForAll {
		t.Errorf("two_node = %v, wait_for_all = %v; want both true (two_node implies wait_for_all)", c.Quorum.TwoNode, c.Quorum.WaitForAll)
	}
	if c.Quorum.Provider != "corosync_votequorum" || c.Quorum.Line != 25 {
		t.Errorf("Quorum = %+v", c.Quorum)
	}
	if c.Totem.ClusterName != "hacluster" || c.Totem.Token != 3*time.Second || c.Totem.Consensus != 3600*time.Millisecond {
		t.Errorf("Totem = %+v", c.Totem)
	}
	if want := []string{"totem.crypto_cipher@6", "totem.crypto_hash@7"}; !slices.Equal(ignoredKeys(c), want) {
		t.Errorf("Ignored = %v, want %v", ignoredKeys(c), want)
	}
	if n, ok := c.NodeByName("node2"); !ok || n.ID != 2 {
		t.Errorf("NodeByName(node2) = %+v, %v", n, ok)
	}
	if n, ok := c.NodeByID(1); !ok || n.Name != "node1" {
		t.Errorf("NodeByID(1) = %+v, %v", n, ok)
	}
	if _, ok := c.NodeByID(3); ok {
		t.Errorf("NodeByID(3) found a node")
	}
	if _, ok := c.NodeByName(""); ok {
		t.Errorf("NodeByName(\"\") found a node")
	}
}

func TestLoadCorosync2UdpuRRP(t *testing.T) {
	c := load(t, "corosync2-udpu-rrp.conf")

	// IDs derived from ring0_addr with the high bit cleared, as corosync does.
	wantNodes := []Node{
		{ID: 0xc0a8640b &^ (1 << 31), Addrs: []string{"192.168.100.11", "192.168.200.11"}, QuorumVotes: 1, Line: 32},
		{ID: 0xc0a8640c &^ (1 << 31), Addrs: []string{"192.168.100.12", "192.168.200.12"}, QuorumVotes: 1, Line: 36},
	}
	if !reflect.DeepEqual(c.Nodes, wantNodes) {
		t.Errorf("Nodes = %+v\nwant %+v", c.Nodes, wantNodes)
	}
	if len(c.Totem.Interfaces) != 2 || c.Totem.Interfaces[1].Link != 1 || c.Totem.Interfaces[1].McastPort != 5407 {
		t.Errorf("Interfaces = %+v", c.Totem.Interfaces)
	}
	if c.Totem.Token != 5*time.Second || c.Totem.Consensus != 6*time.Second || c.Totem.Join != 60*time.Millisecond {
		t.Errorf("Totem = %+v", c.Totem)
	}
	if !c.Quorum.TwoNode || !c.Quorum.WaitForAll || c.Quorum.ExpectedVotes != 2 {
		t.Errorf("Quorum = %+v", c.Quorum)
	}
	for _, ig := range c.Ignored {
		if strings.HasPrefix(ig.Why, whyUnknownKey) || strings.HasPrefix(ig.Why, whyUnknownSection) {
			t.Errorf("corosync key reported as unknown: %v", ig)
		}
	}
}

func TestLoadVigil(t *testing.T) {
	c := load(t, "vigil.conf")
	want := Config{
		File: "testdata/vigil.conf",
		Totem: Totem{
			Version: 2, ClusterName: "prod", Transport: "knet",
			Token: time.Second, TokenCoefficient: 500 * time.Millisecond,
			Consensus: 1800 * time.Millisecond, // 1.2 * (1000 + (3-2)*500)
			Join:      60 * time.Millisecond,
			Interfaces: []Interface{
				{Link: 0, McastPort: 5405, Priority: 10, Line: 8},
				{Link: 1, McastPort: 5406, Priority: 5, Line: 12},
			},
		},
		Nodes: []Node{
			{ID: 1, Name: "alpha", Addrs: []string{"10.0.0.1", "fd00::1"}, QuorumVotes: 1, Line: 19},
			{ID: 2, Name: "beta", Addrs: []string{"10.0.0.2", "fd00::2"}, QuorumVotes: 1, Line: 25},
			{ID: 3, Name: "gamma", Addrs: []string{"10.0.0.3", "fd00::3"}, QuorumVotes: 1, Line: 31},
		},
		Quorum: Quorum{
			Provider: "corosync_votequorum", WaitForAll: true, LastManStanding: true,
			LastManStandingWindow: 20 * time.Second, AutoTieBreaker: true, AutoTieBreakerNode: "3 1", Line: 40,
		},
		Logging: Logging{ToSyslog: true, ToLogfile: true, Logfile: "/var/log/vigil/vigil.log", Debug: "off", Timestamp: true},
		TLS:     TLS{CA: "/etc/vigil/pki/ca.crt", Cert: "/etc/vigil/pki/node.crt", Key: "/etc/vigil/pki/node.key"},
		Vigil: Vigil{
			LocalNode: "alpha", StateDir: "/var/lib/vigil", PluginDir: "/usr/lib/vigil/plugins",
			MessagingListen: "127.0.0.1:7441", QuorumListen: "127.0.0.1:7442", CRMListen: "127.0.0.1:7443",
			LRMListen: "127.0.0.1:7444", FenceListen: "127.0.0.1:7445", PeerPort: 5405,
		},
	}
	if got := exported(c); !reflect.DeepEqual(got, want) {
		t.Errorf("Load(vigil.conf) =\n%+v\nwant\n%+v", *c, want)
	}
	if got := c.TokenTimeout(); got != 1500*time.Millisecond {
		t.Errorf("TokenTimeout = %v, want 1.5s", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.conf")
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config: read ") {
		t.Errorf("Load(missing) = %v, want a wrapped fs.ErrNotExist", err)
	}
}

const twoNodes = `nodelist {
	node {
		nodeid: 1
		name: a
		ring0_addr: 10.0.0.1
	}
	node {
		nodeid: 2
		name: b
		ring0_addr: 10.0.0.2
	}
}
`

func TestDecodeValues(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(*Config) bool
	}{
		{"boolean yes", "logging {\nto_syslog: yes\n}", func(c *Config) bool { return c.Logging.ToSyslog }},
		{"boolean off", "logging {\nto_syslog: off\n}", func(c *Config) bool { return !c.Logging.ToSyslog }},
		{"boolean FALSE", "logging {\nto_syslog: FALSE\n}", func(c *Config) bool { return !c.Logging.ToSyslog }},
		{"boolean 0", "logging {\nto_stderr: 0\n}", func(c *Config) bool { return !c.Logging.ToStderr }},
		{"to_file is to_logfile", "logging {\nto_file: on\nlogfile: /x\n}", func(c *Config) bool { return c.Logging.ToLogfile }},
		{"timestamp hires", "logging {\ntimestamp: hires\n}", func(c *Config) bool { return c.Logging.Timestamp }},
		{"debug trace", "logging {\ndebug: trace\n}", func(c *Config) bool { return c.Logging.Debug == "trace" }},
		{"token 0 keeps the default", "totem {\ntoken: 0\n}", func(c *Config) bool { return c.Totem.Token == time.Second }},
		{"token_coefficient 0 is allowed", "totem {\ntoken_coefficient: 0\n}", func(c *Config) bool { return c.Totem.TokenCoefficient == 0 }},
		{"consensus derived from token", "totem {\ntoken: 5000\n}", func(c *Config) bool { return c.Totem.Consensus == 6*time.Second }},
		{"consensus 0 is derived", "totem {\ntoken: 1000\nconsensus: 0\n}", func(c *Config) bool { return c.Totem.Consensus == 1200*time.Millisecond }},
		{"explicit consensus wins", "totem {\ntoken: 1000\nconsensus: 900\n}", func(c *Config) bool { return c.Totem.Consensus == 900*time.Millisecond }},
		{"consensus uses the coefficient", "totem {\ntoken: 1000\ntoken_coefficient: 100\n}\nnodelist {\n" +
			"node {\nnodeid: 1\nring0_addr: a\n}\nnode {\nnodeid: 2\nring0_addr: b\n}\nnode {\nnodeid: 3\nring0_addr: c\n}\nnode {\nnodeid: 4\nring0_addr: d\n}\n}",
			func(c *Config) bool {
				return c.TokenTimeout() == 1200*time.Millisecond && c.Totem.Consensus == 1440*time.Millisecond
			}},
		{"ringnumber is linknumber", "totem {\ninterface {\nringnumber: 1\n}\n}", func(c *Config) bool {
			return len(c.Totem.Interfaces) == 1 && c.Totem.Interfaces[0].Link == 1 && c.Totem.Interfaces[0].McastPort == 5406
		}},
		{"the last value wins", "totem {\ntoken: 1000\n}\ntotem {\ntoken: 2000\n}", func(c *Config) bool {
			return c.Totem.Token == 2*time.Second && slices.ContainsFunc(c.Ignored, func(k IgnoredKey) bool {
				return k.Key == "totem.token" && k.Line == 2 && strings.Contains(k.Why, "line 5")
			})
		}},
		{"two_node implies wait_for_all", twoNodes + "quorum {\ntwo_node: 1\n}", func(c *Config) bool { return c.Quorum.WaitForAll }},
		{"explicit wait_for_all wins over two_node", twoNodes + "quorum {\nwait_for_all: 0\ntwo_node: 1\n}", func(c *Config) bool {
			return c.Quorum.TwoNode && !c.Quorum.WaitForAll
		}},
		{"two_node with expected_votes 2 and no nodelist", "quorum {\nexpected_votes: 2\ntwo_node: on\n}", func(c *Config) bool { return c.Quorum.TwoNode }},
		{"udpu derives node IDs from IPv4", "totem {\ntransport: udpu\n}\nnodelist {\nnode {\nring0_addr: 10.0.0.1\n}\nnode {\nring0_addr: 192.168.1.2\n}\n}",
			func(c *Config) bool { return c.Nodes[0].ID == 0x0a000001 && c.Nodes[1].ID == 0xc0a80102 }},
		{"clear_node_high_bit", "totem {\ntransport: udp\nclear_node_high_bit: yes\n}\nnodelist {\nnode {\nring0_addr: 192.168.1.2\n}\n}",
			func(c *Config) bool { return c.Nodes[0].ID == 0x40a80102 }},
		{"IPv6 and host name addresses", "nodelist {\nnode {\nnodeid: 1\nring0_addr: fd00::1\n}\nnode {\nnodeid: 2\nring0_addr: node-2.example.com\n}\n}",
			func(c *Config) bool {
				return c.Nodes[0].Addrs[0] == "fd00::1" && c.Nodes[1].Addrs[0] == "node-2.example.com"
			}},
		{"quorum_votes", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\nquorum_votes: 3\n}\n}", func(c *Config) bool { return c.Nodes[0].QuorumVotes == 3 }},
		{"partial nodelist is fine for two_node without nodes", "quorum {\ntwo_node: 1\n}", func(c *Config) bool { return c.Quorum.TwoNode }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode("t.conf", []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected result: %+v", *c)
			}
		})
	}
}

func TestDecodeIgnored(t *testing.T) {
	in := `totem {
	tokn: 3000
	interface {
		linknumber: 0
		ttl: 1
	}
	interface {
		linknumber: 1
		ttl: 1
	}
}
bogus {
	a: b
}
quorum {
	device {
		votes: 1
	}
}
`
	c, err := Decode("t.conf", []byte(in))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := []IgnoredKey{
		{File: "t.conf", Line: 2, Key: "totem.tokn", Why: "unknown key (did you mean totem.token?)"},
		{File: "t.conf", Line: 5, Key: "totem.interface.ttl", Why: whyMulticast},
		{File: "t.conf", Line: 12, Key: "bogus", Why: whyUnknownSection},
		{File: "t.conf", Line: 16, Key: "quorum.device", Why: whyQdevice},
	}
	if !reflect.DeepEqual(c.Ignored, want) {
		t.Errorf("Ignored =\n%+v\nwant\n%+v", c.Ignored, want)
	}
	if s := c.Ignored[0].String(); s != "t.conf:2: totem.tokn: ignored: unknown key (did you mean totem.token?)" {
		t.Errorf("String() = %q", s)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each must appear in the error text, in this order
	}{
		{"syntax error", "totem {\n", []string{`bad.conf:1: section "totem"`}},
		{"token not a number", "totem {\n\ttoken: abc\n}", []string{`bad.conf:2: totem.token: "abc" is not a number of milliseconds`}},
		{"token with a trailing comment", "totem {\ntoken: 3000 # ms\n}", []string{"bad.conf:2: totem.token:", "end-of-line comments"}},
		{"token negative", "totem {\ntoken: -5\n}", []string{"bad.conf:2: totem.token:"}},
		{"token too short", "totem {\ntoken: 10\n}", []string{"bad.conf:2: totem.token: 10 ms is too short"}},
		{"consensus shorter than join", "totem {\njoin: 500\nconsensus: 100\n}", []string{"bad.conf:3: totem.consensus: consensus (100 ms) may not be shorter than join (500 ms)"}},
		{"join longer than derived consensus", "totem {\ntoken: 100\njoin: 500\n}", []string{"bad.conf:3: totem.consensus:"}},
		{"bad version", "totem {\nversion: 1\n}", []string{"bad.conf:2: totem.version: version 1 is not supported"}},
		{"unknown boolean", "logging {\nto_syslog: maybe\n}", []string{`bad.conf:2: logging.to_syslog: "maybe" is not a boolean`}},
		{"bad debug", "logging {\ndebug: loud\n}", []string{`bad.conf:2: logging.debug: "loud"`}},
		{"logfile missing", "logging {\nto_logfile: yes\n}", []string{"bad.conf:2: logging.logfile: to_logfile is on but logfile is not set"}},
		{"link out of range", "totem {\ninterface {\nlinknumber: 8\n}\n}", []string{"bad.conf:3: totem.interface.linknumber: 8 is out of range 0..7"}},
		{"duplicate link", "totem {\ninterface {\nlinknumber: 1\n}\ninterface {\nringnumber: 1\n}\n}", []string{"bad.conf:6: totem.interface.linknumber: link 1 is already configured by the interface at line 2"}},
		{"linknumber and ringnumber disagree", "totem {\ninterface {\nlinknumber: 1\nringnumber: 0\n}\n}", []string{"bad.conf:4: totem.interface.ringnumber: link 0 conflicts with link 1 set at line 3"}},
		{"mcastport out of range", "totem {\ninterface {\nmcastport: 70000\n}\n}", []string{"bad.conf:3: totem.interface.mcastport: 70000 is out of range 0..65535"}},
		{"node without nodeid under knet", "nodelist {\nnode {\nname: a\nring0_addr: 10.0.0.1\n}\n}", []string{`bad.conf:2: nodelist.node.nodeid: node "a" has no nodeid: the knet transport needs one`}},
		{"node without nodeid and a host name under udpu", "totem {\ntransport: udpu\n}\nnodelist {\nnode {\nring0_addr: host-a\n}\n}", []string{"bad.conf:5: nodelist.node.nodeid: node has no nodeid and none can be derived"}},
		{"nodeid not a number", "nodelist {\nnode {\nnodeid: one\nring0_addr: a\n}\n}", []string{`bad.conf:3: nodelist.node.nodeid: "one" is not a whole number`}},
		{"nodeid zero", "nodelist {\nnode {\nnodeid: 0\nring0_addr: a\n}\n}", []string{"bad.conf:3: nodelist.node.nodeid: nodeid 0 is reserved"}},
		{"duplicate nodeid", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\n}\nnode {\nnodeid: 1\nring0_addr: b\n}\n}", []string{"bad.conf:7: nodelist.node.nodeid: nodeid 1 is also used by the node at line 2"}},
		{"duplicate name", "nodelist {\nnode {\nnodeid: 1\nname: x\nring0_addr: a\n}\nnode {\nnodeid: 2\nname: x\nring0_addr: b\n}\n}", []string{`bad.conf:9: nodelist.node.name: name "x" is also used by the node at line 2`}},
		{"duplicate address", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\n}\nnode {\nnodeid: 2\nring0_addr: a\n}\n}", []string{"bad.conf:8: nodelist.node.ring0_addr: address a is also link 0 of the node at line 2"}},
		{"node without ring0_addr", "nodelist {\nnode {\nnodeid: 1\n}\n}", []string{"bad.conf:2: nodelist.node.ring0_addr: node has no ring0_addr"}},
		{"gap in ring addresses", "nodelist {\nnode {\nnodeid: 1\nname: a\nring0_addr: a\nring2_addr: c\n}\n}", []string{"bad.conf:2: nodelist.node.ring1_addr: ring1_addr is missing"}},
		{"ring address beyond link 7", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\nring8_addr: c\n}\n}", []string{"bad.conf:5: nodelist.node.ring8_addr: link number 8 is out of range"}},
		{"bad address", "nodelist {\nnode {\nnodeid: 1\nring0_addr: not an address\n}\n}", []string{`bad.conf:4: nodelist.node.ring0_addr: "not an address" is neither an IP address nor a host name`}},
		{"uneven links", "nodelist {\nnode {\nnodeid: 1\nname: a\nring0_addr: a\nring1_addr: a1\n}\nnode {\nnodeid: 2\nname: b\nring0_addr: b\n}\n}", []string{"bad.conf:8: nodelist.node: node \"b\" has 1 links but the node at line 2 has 2"}},
		{"multi-link needs names", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\nring1_addr: a1\n}\n}", []string{"bad.conf:2: nodelist.node.name: node has no name"}},
		{"atb and lms in an odd cluster without wait_for_all", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\n}\n}\nquorum {\nauto_tie_breaker: 1\nlast_man_standing: 1\n}", []string{"bad.conf:8: quorum.auto_tie_breaker: auto_tie_breaker with last_man_standing in a cluster of 1 votes (odd) needs wait_for_all"}},
		{"atb node not in nodelist", twoNodes + "quorum {\nauto_tie_breaker: 1\nauto_tie_breaker_node: 7\n}", []string{"bad.conf:15: quorum.auto_tie_breaker_node: no node has nodeid 7"}},
		{"atb node garbage", "quorum {\nauto_tie_breaker_node: first\n}", []string{`bad.conf:2: quorum.auto_tie_breaker_node: "first" is not a node ID`}},
		{"unknown provider", "quorum {\nprovider: corosync_quorum_ykd\n}", []string{`bad.conf:2: quorum.provider: unknown quorum provider "corosync_quorum_ykd"`}},
		{"expected_votes not a number", "quorum {\nexpected_votes: two\n}", []string{`bad.conf:2: quorum.expected_votes: "two" is not a whole number`}},
		{"tls partly set", "tls {\nca: /etc/vigil/ca.crt\n}", []string{"bad.conf:1: tls: ca, cert and key go together, but cert and key are not set"}},
		{"tls relative path", "tls {\nca: ca.crt\ncert: /c\nkey: /k\n}", []string{`bad.conf:2: tls.ca: "ca.crt" is not an absolute path`}},
		{"unknown local node", twoNodes + "vigil {\nlocal_node: c\n}", []string{`bad.conf:14: vigil.local_node: no node in the nodelist is named "c"`}},
		{"relative state_dir", "vigil {\nstate_dir: var/lib\n}", []string{`bad.conf:2: vigil.state_dir: "var/lib" is not an absolute path`}},
		{"relative plugin_checksums", "vigil {\nplugin_checksums: SUMS\n}", []string{`bad.conf:2: vigil.plugin_checksums: "SUMS" is not an absolute path`}},
		{"listen without port", "vigil {\ncrm_listen: 127.0.0.1\n}", []string{`bad.conf:2: vigil.crm_listen: "127.0.0.1" is not host:port`}},
		{"listen port 0", "vigil {\nlrm_listen: 127.0.0.1:0\n}", []string{`bad.conf:2: vigil.lrm_listen: "127.0.0.1:0" has no valid port`}},
		{"listen address used twice", "vigil {\nfence_listen: 127.0.0.1:7441\n}", []string{"bad.conf:2: vigil.fence_listen: 127.0.0.1:7441 is also used by vigil.messaging_listen"}},
		{"peer_port out of range", "vigil {\npeer_port: 65536\n}", []string{"bad.conf:2: vigil.peer_port: 65536 is out of range 0..65535"}},
		{"peer_port zero", "vigil {\npeer_port: 0\n}", []string{"bad.conf:2: vigil.peer_port: port 0 is out of range 1..65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode("bad.conf", []byte(tt.in))
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", *c)
			}
			if c != nil {
				t.Errorf("Decode returned a Config with its error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error\n%s\ndoes not contain %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
			if n := len(unjoin(err)); n != 1 {
				t.Errorf("got %d errors, want 1:\n%s", n, msg)
			}
		})
	}
}

// TestValidateReportsEveryProblem checks that one bad file yields all of its
// problems at once, sorted by line, and that Validate alone does the same
// for a Config built in code.
func TestValidateReportsEveryProblem(t *testing.T) {
	in := `totem {
	token: abc
	version: 3
}
nodelist {
	node {
		ring0_addr: 10.0.0.1
	}
}
logging {
	to_syslog: perhaps
	debug: loud
}
tls {
	cert: /etc/vigil/node.crt
}
`
	_, err := Decode("multi.conf", []byte(in))
	if err == nil {
		t.Fatal("Decode succeeded")
	}
	want := []string{
		"multi.conf:2: totem.token:",
		"multi.conf:3: totem.version:",
		"multi.conf:6: nodelist.node.nodeid:",
		"multi.conf:11: logging.to_syslog:",
		"multi.conf:12: logging.debug:",
		"multi.conf:14: tls:",
	}
	errs := unjoin(err)
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
		var fe *FieldError
		if !errors.As(errs[i], &fe) {
			t.Errorf("error %d is %T, want *FieldError", i, errs[i])
		}
	}

	c := Default()
	c.File = ""
	c.Totem.Version = 3
	c.Totem.Join = 0
	c.Nodes = []Node{{ID: 1, Addrs: []string{"10.0.0.1"}}, {ID: 1, Addrs: []string{"10.0.0.2"}}}
	c.Quorum.Provider = "other"
	c.Vigil.PeerPort = 0
	err = c.Validate()
	var keys []string
	for _, e := range unjoin(err) {
		var fe *FieldError
		if errors.As(e, &fe) {
			keys = append(keys, fe.Key)
		}
	}
	slices.Sort(keys)
	wantKeys := []string{"nodelist.node.nodeid", "quorum.provider", "totem.join", "totem.version", "vigil.peer_port"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("Validate keys = %v\nwant %v\n%v", keys, wantKeys, err)
	}
	if !strings.HasPrefix(unjoin(err)[0].Error(), "totem.") && !strings.HasPrefix(unjoin(err)[0].Error(), "nodelist.") {
		t.Errorf("errors of a Config without a file should start with the key: %v", err)
	}
}

// TestContradictionsCorosyncToleratesAreWarnings keeps a corosync.conf that
// corosync runs loadable: where corosync switches a setting off instead of
// refusing to start, Vigil warns and goes on.
func TestContradictionsCorosyncToleratesAreWarnings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"unknown transport", "totem {\ntransport: iba\n}", `bad.conf:2: totem.transport: unknown transport "iba"`},
		{"two_node with expected_votes 3", "quorum {\nprovider: corosync_votequorum\nexpected_votes: 3\ntwo_node: 1\n}", "bad.conf:4: quorum.two_node: two_node needs a cluster of 2 votes, but expected_votes is 3"},
		{"two_node with three nodes", "nodelist {\nnode {\nnodeid: 1\nring0_addr: a\n}\nnode {\nnodeid: 2\nring0_addr: b\n}\nnode {\nnodeid: 3\nring0_addr: c\n}\n}\nquorum {\ntwo_node: 1\n}", "bad.conf:16: quorum.two_node: two_node needs a cluster of 2 votes, but the nodelist has 3 nodes with 3 votes"},
		{"two_node with auto_tie_breaker", twoNodes + "quorum {\ntwo_node: 1\nauto_tie_breaker: 1\n}", "bad.conf:15: quorum.auto_tie_breaker: auto_tie_breaker cannot be combined with two_node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode("bad.conf", []byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			var got []string
			for _, w := range c.Warnings {
				got = append(got, w.Error())
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tt.want) {
				t.Errorf("warnings %q, want one starting with %q", got, tt.want)
			}
		})
	}
}
