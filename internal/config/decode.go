package config

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// decoder maps a parsed tree onto a Config. It collects value errors rather
// than stopping at the first, and records what has no effect in c.Ignored.
type decoder struct {
	c        *Config
	keys     map[string]rule
	sections map[string]sectionRule
	errs     []*FieldError

	reported map[string]bool // Ignored entries already listed, by key and reason
	seen     map[string]int  // line of each key already set in the current scope
	scope    string          // "" for top-level sections, else the line of the node or interface

	// node and iface are the nodelist.node or totem.interface section being
	// decoded, nil outside one.
	node   *Node
	iface  *Interface
	addrs  map[int]string // the node's ringN_addr values
	linkAt int            // line of the interface's linknumber/ringnumber, 0 if none

	nodeIDSet        []bool // per node: the file gave a nodeid
	consensusSet     bool   // the file gave a non-zero consensus
	waitForAllSet    bool   // the file gave wait_for_all
	clearNodeHighBit bool   // totem.clear_node_high_bit, used to derive node IDs
}

func newDecoder(c *Config) *decoder {
	c.lines = map[string]int{}
	c.settled = map[string]bool{}
	return &decoder{
		c:        c,
		keys:     keyRules(),
		sections: sectionRules(),
		reported: map[string]bool{},
		seen:     map[string]int{},
	}
}

// walk decodes the entries and sub-sections of s, whose dotted path is path.
func (d *decoder) walk(s *Section, path string) {
	for _, e := range s.Entries {
		d.entry(join(path, e.Key), e)
	}
	for _, sub := range s.Sections {
		p := join(path, sub.Name)
		r, ok := d.sections[p]
		if strings.Contains(sub.Name, ".") {
			ok = false // a dotted name would alias a nested section
		}
		switch {
		case !ok:
			d.unknown(sub.Line, p, whyUnknownSection, siblings(d.sections, p))
		case !r.read:
			d.ignore(sub.Line, p, r.why)
		default:
			if _, ok := d.c.lines[p]; !ok {
				d.c.lines[p] = sub.Line // the first section of that name
			}
			if r.enter != nil {
				r.enter(d, sub)
			}
			d.walk(sub, p)
			if r.leave != nil {
				r.leave(d, sub)
			}
		}
	}
}

// entry decodes one key whose dotted path is key.
func (d *decoder) entry(key string, e Entry) {
	if d.node != nil && strings.HasPrefix(key, "nodelist.node.") {
		if link, ok := ringAddrKey(e.Key); ok {
			d.setRingAddr(key, link, e)
			return
		}
	}
	r, ok := d.keys[key]
	if strings.Contains(e.Key, ".") {
		ok = false // a dotted key would alias a key of a nested section
	}
	switch {
	case !ok:
		d.unknown(e.Line, key, whyUnknownKey, siblings(d.keys, key))
	case r.set == nil:
		d.ignore(e.Line, key, r.why)
	default:
		d.noteDuplicate(key, e)
		r.set(d, key, e)
	}
}

// noteDuplicate reports an earlier setting of key in the same scope as
// ignored: as in corosync, the last value wins.
func (d *decoder) noteDuplicate(key string, e Entry) {
	id := d.scope + "\x00" + key
	if prev, ok := d.seen[id]; ok {
		d.ignore(prev, key, fmt.Sprintf("set again at line %d, which wins", e.Line))
	}
	d.seen[id] = e.Line
}

// finish derives what depends on the whole file.
func (d *decoder) finish() {
	c := d.c
	if c.Totem.Transport == "udp" || c.Totem.Transport == "udpu" {
		for i := range c.Nodes {
			n := &c.Nodes[i]
			if d.nodeIDSet[i] || len(n.Addrs) == 0 {
				continue
			}
			// corosync derives the ID from the IPv4 ring0 address.
			if a, err := netip.ParseAddr(n.Addrs[0]); err == nil && a.Is4() {
				b := a.As4()
				n.ID = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
				if d.clearNodeHighBit {
					n.ID &= 0x7fffffff
				}
			}
		}
	}
	if !d.consensusSet {
		c.Totem.Consensus = c.TokenTimeout() * 12 / 10
		c.Totem.Consensus -= c.Totem.Consensus % time.Millisecond
		c.consensusDerived = true
	}
	if !d.waitForAllSet {
		c.Quorum.WaitForAll = c.Quorum.TwoNode
	}
}

func (d *decoder) enterInterface(s *Section) {
	d.iface = &Interface{Priority: 1, McastPort: -1, Line: s.Line}
	d.linkAt = 0
	d.scope = strconv.Itoa(s.Line)
}

func (d *decoder) leaveInterface(*Section) {
	if d.iface.McastPort < 0 {
		d.iface.McastPort = 5405 + d.iface.Link
	}
	d.c.Totem.Interfaces = append(d.c.Totem.Interfaces, *d.iface)
	d.iface, d.scope = nil, ""
}

func (d *decoder) enterNode(s *Section) {
	d.node = &Node{QuorumVotes: 1, Line: s.Line}
	d.addrs = map[int]string{}
	d.nodeIDSet = append(d.nodeIDSet, false)
	d.scope = strconv.Itoa(s.Line)
}

func (d *decoder) leaveNode(*Section) {
	n := -1
	for link := range d.addrs {
		n = max(n, link)
	}
	// Gaps stay as empty strings for Validate to report.
	d.node.Addrs = make([]string, n+1)
	for link, a := range d.addrs {
		d.node.Addrs[link] = a
	}
	d.c.Nodes = append(d.c.Nodes, *d.node)
	d.node, d.addrs, d.scope = nil, nil, ""
}

func (d *decoder) enterQuorum(s *Section) {
	if d.c.Quorum.Line == 0 {
		d.c.Quorum.Line = s.Line
	}
}

func (d *decoder) setRingAddr(key string, link int, e Entry) {
	if link >= MaxLinks {
		d.mark(key, e.Line)
		d.fail(key, e, "link number %s is out of range: ring0_addr to ring%d_addr are allowed",
			strings.TrimSuffix(strings.TrimPrefix(e.Key, "ring"), "_addr"), MaxLinks-1)
		return
	}
	norm := fmt.Sprintf("nodelist.node.ring%d_addr", link)
	d.noteDuplicate(norm, e)
	d.mark(norm, e.Line)
	d.addrs[link] = e.Value
}

func (d *decoder) setNodeID(key string, e Entry) {
	d.mark(key, e.Line)
	d.nodeIDSet[len(d.nodeIDSet)-1] = true
	if v, ok := d.uint(key, e, 1<<32-1); ok {
		d.node.ID = uint32(v)
	}
}

func (d *decoder) setLinkNumber(key string, e Entry) {
	d.mark("totem.interface.linknumber", e.Line)
	v, ok := d.uint(key, e, MaxLinks-1)
	if !ok {
		d.c.settled[d.indexed("totem.interface.linknumber")] = true
		return
	}
	if d.linkAt != 0 && d.iface.Link != int(v) {
		d.fail(key, e, "link %d conflicts with link %d set at line %d", v, d.iface.Link, d.linkAt)
		return
	}
	d.iface.Link, d.linkAt = int(v), e.Line
}

func (d *decoder) setMcastPort(key string, e Entry) {
	d.mark(key, e.Line)
	if v, ok := d.uint(key, e, 65535); ok {
		d.iface.McastPort = int(v)
	}
}

func (d *decoder) setConsensus(key string, e Entry) {
	d.mark(key, e.Line)
	v, ok := d.millis(key, e)
	if !ok {
		d.consensusSet = true // keep the default rather than derive from a token that may be fine
		return
	}
	// 0 means "derive from token", as in corosync.
	d.consensusSet = v != 0
	if v != 0 {
		d.c.Totem.Consensus = v
	}
}

func (d *decoder) setWaitForAll(key string, e Entry) {
	d.mark(key, e.Line)
	v, ok := parseBool(e.Value)
	if !ok {
		d.fail(key, e, "%q is not a boolean (use yes/no, on/off, true/false or 1/0)", e.Value)
		return
	}
	d.c.Quorum.WaitForAll, d.waitForAllSet = v, true
}

func (d *decoder) setTimestamp(key string, e Entry) {
	d.mark(key, e.Line)
	if e.Value == "hires" { // corosync >= 3.1: timestamps with milliseconds
		d.c.Logging.Timestamp = true
		return
	}
	v, ok := parseBool(e.Value)
	if !ok {
		d.fail(key, e, "%q is not a boolean (use on/off, yes/no, true/false, 1/0 or hires)", e.Value)
		return
	}
	d.c.Logging.Timestamp = v
}

// uint parses a decimal integer in [0, max] and reports it if it is not.
func (d *decoder) uint(key string, e Entry, max uint64) (uint64, bool) {
	v, err := strconv.ParseUint(e.Value, 10, 64)
	if err == nil && v <= max {
		return v, true
	}
	if isDecimal(e.Value) || (strings.HasPrefix(e.Value, "-") && isDecimal(e.Value[1:])) {
		d.fail(key, e, "%s is out of range 0..%d", e.Value, max)
	} else {
		d.fail(key, e, "%q is not a whole number%s", e.Value, commentHint(e.Value))
	}
	return 0, false
}

// millis parses a whole number of milliseconds, up to 2^32-1 as in corosync.
func (d *decoder) millis(key string, e Entry) (time.Duration, bool) {
	v, err := strconv.ParseUint(e.Value, 10, 32)
	if err != nil {
		if isDecimal(e.Value) {
			d.fail(key, e, "%s milliseconds is out of range 0..%d", e.Value, uint32(1<<32-1))
		} else {
			d.fail(key, e, "%q is not a number of milliseconds%s", e.Value, commentHint(e.Value))
		}
		return 0, false
	}
	return time.Duration(v) * time.Millisecond, true
}

// fail records a problem with the value of e, and settles key so that
// Validate does not report the default left in its place.
func (d *decoder) fail(key string, e Entry, format string, args ...any) {
	d.c.settled[d.indexed(key)] = true
	d.errs = append(d.errs, &FieldError{
		File: d.c.File,
		Line: e.Line,
		Key:  key,
		Msg:  fmt.Sprintf(format, args...),
	})
}

// mark records the line that set key.
func (d *decoder) mark(key string, line int) {
	d.c.lines[d.indexed(key)] = line
}

// indexed turns a node or interface key into its cmap-style path with the
// section's index, e.g. "nodelist.node.2.nodeid".
func (d *decoder) indexed(key string) string {
	switch {
	case d.node != nil && strings.HasPrefix(key, "nodelist.node."):
		return nodeKey(len(d.c.Nodes), strings.TrimPrefix(key, "nodelist.node."))
	case d.iface != nil && strings.HasPrefix(key, "totem.interface."):
		return ifaceKey(len(d.c.Totem.Interfaces), strings.TrimPrefix(key, "totem.interface."))
	}
	return key
}

func nodeKey(i int, key string) string  { return fmt.Sprintf("nodelist.node.%d.%s", i, key) }
func ifaceKey(i int, key string) string { return fmt.Sprintf("totem.interface.%d.%s", i, key) }

// ignore lists key in Config.Ignored once per reason.
func (d *decoder) ignore(line int, key, why string) {
	id := key + "\x00" + why
	if d.reported[id] {
		return
	}
	d.reported[id] = true
	d.c.Ignored = append(d.c.Ignored, IgnoredKey{File: d.c.File, Line: line, Key: key, Why: why})
}

// unknown lists a key or section nobody knows in Config.Ignored, once.
// known lazily yields the names to suggest from.
func (d *decoder) unknown(line int, key, why string, known func() []string) {
	if d.reported[key+"\x00?"] {
		return
	}
	d.reported[key+"\x00?"] = true
	d.ignore(line, key, unknownWhy(why, key, known()))
}

// parseBool accepts the spellings corosync uses for booleans in its
// different sections: yes/no, on/off, 1/0, and also true/false, ignoring case.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "yes", "on", "true", "1":
		return true, true
	case "no", "off", "false", "0":
		return false, true
	}
	return false, false
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// commentHint explains a value that fails because of a trailing comment.
func commentHint(v string) string {
	if strings.Contains(v, "#") {
		return " (corosync.conf has no end-of-line comments: put the comment on its own line)"
	}
	return ""
}

// siblings returns a function listing the known names that share path's
// parent.
func siblings[V any](known map[string]V, path string) func() []string {
	return func() []string { return siblingsOf(known, path) }
}

func siblingsOf[V any](known map[string]V, path string) []string {
	parent := ""
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		parent = path[:i+1]
	}
	var out []string
	for k := range known {
		if strings.HasPrefix(k, parent) && !strings.Contains(k[len(parent):], ".") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
