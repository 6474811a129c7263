package config

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// minTimeout is corosync's MINIMUM_TIMEOUT with HZ=100: no token, join or
// consensus timeout may be shorter.
const minTimeout = 30 * time.Millisecond

// Validate checks the configuration as a whole and returns every problem it
// finds, joined with errors.Join and sorted by line. Each is a *FieldError
// naming the dotted key and, for values read by Decode, the file and line.
//
// Validate does not demand a nodelist, a quorum section or a tls section,
// so that any corosync.conf corosync accepts validates; callers that need
// them (the daemons) check for them.
func (c *Config) Validate() error {
	v := &validator{c: c}
	c.Warnings = nil
	v.totem()
	v.nodes()
	v.quorum()
	v.logging()
	v.tls()
	v.vigil()
	if len(v.errs) == 0 {
		return nil
	}
	return joinSorted(v.errs)
}

type validator struct {
	c    *Config
	errs []*FieldError
}

// at returns the line that set the first of keys the file set, or 0.
func (v *validator) at(keys ...string) int {
	for _, k := range keys {
		if l := v.c.lines[k]; l != 0 {
			return l
		}
	}
	return 0
}

// fail records a problem with key, located at line.
func (v *validator) fail(line int, key, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.c.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// warn records a contradiction that corosync tolerates by switching
// something off: reported, never fatal.
func (v *validator) warn(line int, key, format string, args ...any) {
	v.c.Warnings = append(v.c.Warnings, &FieldError{File: v.c.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// settled reports whether key already had its problem reported by Decode.
func (v *validator) settled(key string) bool { return v.c.settled[key] }

func (v *validator) totem() {
	t := &v.c.Totem
	if t.Version != 2 && !v.settled("totem.version") {
		v.fail(v.at("totem.version", "totem"), "totem.version", "version %d is not supported: the only valid version is 2", t.Version)
	}
	switch t.Transport {
	case "knet", "udp", "udpu":
	default:
		v.warn(v.at("totem.transport", "totem"), "totem.transport", "unknown transport %q: knet is used, as corosync does (use knet, udp or udpu)", t.Transport)
	}
	v.timeout("totem.token", t.Token)
	v.timeout("totem.join", t.Join)
	if !v.c.consensusDerived { // else derived from a token checked above
		v.timeout("totem.consensus", t.Consensus)
	}
	derivedFromBadToken := v.c.consensusDerived && (t.Token < minTimeout || v.settled("totem.token"))
	if t.Consensus < t.Join && !v.settled("totem.consensus") && !v.settled("totem.join") && !derivedFromBadToken {
		how := ""
		if v.c.consensusDerived {
			how = ", derived as 1.2 times the token timeout,"
		}
		v.fail(v.at("totem.consensus", "totem.join", "totem.token", "totem"), "totem.consensus",
			"consensus (%d ms)%s may not be shorter than join (%d ms)", t.Consensus.Milliseconds(), how, t.Join.Milliseconds())
	}
	if t.TokenCoefficient < 0 {
		v.fail(v.at("totem.token_coefficient", "totem"), "totem.token_coefficient", "may not be negative")
	}

	links := map[int]int{} // link -> index of the interface that configures it
	for i, in := range t.Interfaces {
		line := v.lineOr(ifaceKey(i, "linknumber"), in.Line)
		switch {
		case v.settled(ifaceKey(i, "linknumber")):
		case in.Link < 0 || in.Link >= MaxLinks:
			v.fail(line, "totem.interface.linknumber", "link %d is out of range 0..%d", in.Link, MaxLinks-1)
		default:
			if j, dup := links[in.Link]; dup {
				by := "another interface"
				if l := t.Interfaces[j].Line; l != 0 {
					by = fmt.Sprintf("the interface at line %d", l)
				}
				v.fail(line, "totem.interface.linknumber", "link %d is already configured by %s", in.Link, by)
			} else {
				links[in.Link] = i
			}
		}
		if in.McastPort < 0 || in.McastPort > 65535 {
			v.fail(v.lineOr(ifaceKey(i, "mcastport"), in.Line), "totem.interface.mcastport", "port %d is out of range 0..65535", in.McastPort)
		}
		if in.Priority < 0 || in.Priority > 255 {
			v.fail(v.lineOr(ifaceKey(i, "knet_link_priority"), in.Line), "totem.interface.knet_link_priority",
				"priority %d is out of range 0..255", in.Priority)
		}
	}
}

// timeout checks one of the totem timeouts against corosync's minimum.
func (v *validator) timeout(key string, d time.Duration) {
	if d < minTimeout && !v.settled(key) {
		v.fail(v.at(key, "totem"), key, "%d ms is too short: the minimum is %d ms", d.Milliseconds(), minTimeout.Milliseconds())
	}
}

func (v *validator) nodes() {
	c := v.c
	byID := map[uint32]int{}
	byName := map[string]int{}
	byAddr := map[string]int{} // "link/address" -> node index
	mostLinks, mostIdx := 0, 0
	for i, n := range c.Nodes {
		idLine := v.lineOr(nodeKey(i, "nodeid"), n.Line)
		switch {
		case v.settled(nodeKey(i, "nodeid")):
		case n.ID == 0 && v.at(nodeKey(i, "nodeid")) != 0:
			v.fail(idLine, "nodelist.node.nodeid", "nodeid 0 is reserved")
		case n.ID == 0 && c.Totem.Transport == "knet":
			v.fail(idLine, "nodelist.node.nodeid", "node%s has no nodeid: the knet transport needs one for every node", nameSuffix(n))
		case n.ID == 0:
			v.fail(idLine, "nodelist.node.nodeid",
				"node%s has no nodeid and none can be derived: corosync derives it only from an IPv4 ring0_addr", nameSuffix(n))
		default:
			if j, dup := byID[n.ID]; dup {
				v.fail(idLine, "nodelist.node.nodeid", "nodeid %d is also used by %s", n.ID, describeNode(j, c.Nodes[j]))
			} else {
				byID[n.ID] = i
			}
		}

		if n.Name != "" {
			nameLine := v.lineOr(nodeKey(i, "name"), n.Line)
			if j, dup := byName[n.Name]; dup {
				v.fail(nameLine, "nodelist.node.name", "name %q is also used by %s", n.Name, describeNode(j, c.Nodes[j]))
			} else {
				byName[n.Name] = i
			}
		}

		if n.QuorumVotes < 0 {
			v.fail(v.lineOr(nodeKey(i, "quorum_votes"), n.Line), "nodelist.node.quorum_votes", "may not be negative")
		}

		switch {
		case len(n.Addrs) == 0:
			v.fail(n.Line, "nodelist.node.ring0_addr", "node%s has no ring0_addr", nameSuffix(n))
		case len(n.Addrs) > MaxLinks:
			v.fail(n.Line, "nodelist.node", "node%s has %d links: at most %d are allowed", nameSuffix(n), len(n.Addrs), MaxLinks)
		}
		for link, a := range n.Addrs {
			key := fmt.Sprintf("nodelist.node.ring%d_addr", link)
			line := v.lineOr(nodeKey(i, fmt.Sprintf("ring%d_addr", link)), n.Line)
			if a == "" {
				v.fail(line, key, "ring%d_addr is missing: a node's links are numbered from 0 without gaps, and ring%d_addr is set",
					link, len(n.Addrs)-1)
				continue
			}
			if !validHost(a) {
				v.fail(line, key, "%q is neither an IP address nor a host name", a)
				continue
			}
			id := strconv.Itoa(link) + "/" + a
			if j, dup := byAddr[id]; dup {
				v.fail(line, key, "address %s is also link %d of %s", a, link, describeNode(j, c.Nodes[j]))
			} else {
				byAddr[id] = i
			}
		}
		if len(n.Addrs) > mostLinks {
			mostLinks, mostIdx = len(n.Addrs), i
		}
	}

	// Rules corosync applies to multi-link configurations.
	if mostLinks > 1 {
		for _, n := range c.Nodes {
			if len(n.Addrs) != mostLinks && len(n.Addrs) > 0 {
				v.fail(n.Line, "nodelist.node", "node%s has %d links but %s has %d: every node needs an address on every link",
					nameSuffix(n), len(n.Addrs), describeNode(mostIdx, c.Nodes[mostIdx]), mostLinks)
			}
			if n.Name == "" && c.Totem.Transport == "knet" {
				v.fail(n.Line, "nodelist.node.name", "node has no name: with several links every node needs one")
			}
		}
	}
}

func (v *validator) quorum() {
	q := &v.c.Quorum
	at := func(keys ...string) int {
		if l := v.at(keys...); l != 0 {
			return l
		}
		return q.Line
	}
	switch q.Provider {
	case "", "corosync_votequorum":
	default:
		v.fail(at("quorum.provider"), "quorum.provider", "unknown quorum provider %q: the only one is corosync_votequorum", q.Provider)
	}
	if q.ExpectedVotes < 0 {
		v.fail(at("quorum.expected_votes"), "quorum.expected_votes", "may not be negative")
	}
	if q.LastManStandingWindow < 0 {
		v.fail(at("quorum.last_man_standing_window"), "quorum.last_man_standing_window", "may not be negative")
	}

	nodeVotes := 0
	for _, n := range v.c.Nodes {
		nodeVotes += n.QuorumVotes
	}
	if q.TwoNode && !v.settled("quorum.expected_votes") {
		switch {
		case q.ExpectedVotes != 0 && q.ExpectedVotes != 2:
			v.warn(at("quorum.two_node"), "quorum.two_node", "two_node needs a cluster of 2 votes, but expected_votes is %d: vigil-quorumd refuses to start with it (docs/quorum.md)", q.ExpectedVotes)
		case q.ExpectedVotes == 0 && len(v.c.Nodes) > 0 && nodeVotes != 2:
			v.warn(at("quorum.two_node"), "quorum.two_node", "two_node needs a cluster of 2 votes, but the nodelist has %d nodes with %d votes: vigil-quorumd refuses to start with it (docs/quorum.md)",
				len(v.c.Nodes), nodeVotes)
		}
	}
	if q.TwoNode && q.AutoTieBreaker {
		v.warn(at("quorum.auto_tie_breaker", "quorum.two_node"), "quorum.auto_tie_breaker",
			"auto_tie_breaker cannot be combined with two_node: two_node is disabled, as corosync does")
	}
	if q.AutoTieBreaker && nodeVotes%2 == 1 && !q.WaitForAll {
		if q.LastManStanding {
			v.fail(at("quorum.auto_tie_breaker"), "quorum.auto_tie_breaker",
				"auto_tie_breaker with last_man_standing in a cluster of %d votes (odd) needs wait_for_all: 1 (corosync refuses to start)", nodeVotes)
		} else {
			v.warn(at("quorum.auto_tie_breaker"), "quorum.auto_tie_breaker",
				"auto_tie_breaker in a cluster of %d votes (odd) needs wait_for_all: 1: auto_tie_breaker is disabled, as corosync does", nodeVotes)
		}
	}
	switch q.AutoTieBreakerNode {
	case "lowest", "highest":
	default:
		fields := strings.Fields(q.AutoTieBreakerNode)
		if len(fields) == 0 {
			v.fail(at("quorum.auto_tie_breaker_node"), "quorum.auto_tie_breaker_node", "empty: use lowest, highest or a list of node IDs")
		}
		for _, f := range fields {
			id, err := strconv.ParseUint(f, 10, 32)
			switch {
			case err != nil || id == 0:
				v.fail(at("quorum.auto_tie_breaker_node"), "quorum.auto_tie_breaker_node",
					"%q is not a node ID: use lowest, highest or a list of node IDs", f)
			case len(v.c.Nodes) > 0:
				if _, ok := v.c.NodeByID(uint32(id)); !ok {
					v.fail(at("quorum.auto_tie_breaker_node"), "quorum.auto_tie_breaker_node", "no node has nodeid %d", id)
				}
			}
		}
	}
}

func (v *validator) logging() {
	l := &v.c.Logging
	switch l.Debug {
	case "off", "on", "trace":
	default:
		v.fail(v.at("logging.debug", "logging"), "logging.debug", "%q is not one of off, on or trace", l.Debug)
	}
	if l.ToLogfile && l.Logfile == "" && !v.settled("logging.to_logfile") {
		v.fail(v.at("logging.to_logfile", "logging.to_file", "logging"), "logging.logfile", "to_logfile is on but logfile is not set")
	}
}

func (v *validator) tls() {
	t := &v.c.TLS
	fields := []struct{ key, val string }{{"tls.ca", t.CA}, {"tls.cert", t.Cert}, {"tls.key", t.Key}}
	var missing []string
	for _, f := range fields {
		if f.val == "" {
			missing = append(missing, strings.TrimPrefix(f.key, "tls."))
		} else if !filepath.IsAbs(f.val) {
			v.fail(v.at(f.key, "tls"), f.key, "%q is not an absolute path", f.val)
		}
	}
	if len(missing) > 0 && len(missing) < len(fields) {
		v.fail(v.at("tls", "tls.ca", "tls.cert", "tls.key"), "tls",
			"ca, cert and key go together, but %s %s not set", strings.Join(missing, " and "), plural(len(missing), "is", "are"))
	}
}

func (v *validator) vigil() {
	g := &v.c.Vigil
	if g.LocalNode != "" {
		if _, ok := v.c.NodeByName(g.LocalNode); !ok {
			v.fail(v.at("vigil.local_node", "vigil"), "vigil.local_node", "no node in the nodelist is named %q", g.LocalNode)
		}
	}
	for _, d := range []struct{ key, val string }{{"vigil.state_dir", g.StateDir}, {"vigil.plugin_dir", g.PluginDir}} {
		if !filepath.IsAbs(d.val) {
			v.fail(v.at(d.key, "vigil"), d.key, "%q is not an absolute path", d.val)
		}
	}
	if g.PluginChecksums != "" && !filepath.IsAbs(g.PluginChecksums) {
		v.fail(v.at("vigil.plugin_checksums", "vigil"), "vigil.plugin_checksums", "%q is not an absolute path", g.PluginChecksums)
	}
	listens := []struct{ key, val string }{
		{"vigil.messaging_listen", g.MessagingListen},
		{"vigil.quorum_listen", g.QuorumListen},
		{"vigil.crm_listen", g.CRMListen},
		{"vigil.lrm_listen", g.LRMListen},
		{"vigil.fence_listen", g.FenceListen},
	}
	used := map[string]string{} // host:port -> key
	for _, l := range listens {
		line := v.at(l.key, "vigil")
		host, port, err := net.SplitHostPort(l.val)
		if err != nil {
			v.fail(line, l.key, "%q is not host:port", l.val)
			continue
		}
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			v.fail(line, l.key, "%q has no valid port (1..65535)", l.val)
			continue
		}
		if host != "" && !validHost(host) {
			v.fail(line, l.key, "%q: %q is neither an IP address nor a host name", l.val, host)
			continue
		}
		if other, dup := used[l.val]; dup {
			// Point at whichever of the two the file set.
			v.fail(v.at(l.key, other, "vigil"), l.key, "%s is also used by %s", l.val, other)
			continue
		}
		used[l.val] = l.key
	}
	if g.PeerPort < 1 || g.PeerPort > 65535 {
		v.fail(v.at("vigil.peer_port", "vigil"), "vigil.peer_port", "port %d is out of range 1..65535", g.PeerPort)
	}
}

func (v *validator) lineOr(key string, fallback int) int {
	if l := v.at(key); l != 0 {
		return l
	}
	return fallback
}

// validHost reports whether s is an IP address or a syntactically valid host
// name (corosync resolves names; Vigil leaves that to the daemons).
func validHost(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// describeNode names the i-th node for a message about another node.
func describeNode(i int, n Node) string {
	switch {
	case n.Line != 0:
		return fmt.Sprintf("the node at line %d", n.Line)
	case n.Name != "":
		return fmt.Sprintf("node %q", n.Name)
	default:
		return fmt.Sprintf("node %d of the nodelist", i+1)
	}
}

func nameSuffix(n Node) string {
	if n.Name == "" {
		return ""
	}
	return fmt.Sprintf(" %q", n.Name)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
