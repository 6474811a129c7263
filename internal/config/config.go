// Package config loads Vigil's cluster configuration, /etc/vigil/vigil.conf.
//
// The file uses corosync.conf syntax and meaning, so an existing corosync.conf
// (corosync 1.x to 3.x) loads unchanged: totem, nodelist, quorum and logging
// are read as corosync(5) and votequorum(5) describe them, with corosync's
// defaults. Vigil adds a tls section and a vigil section. Keys that corosync
// knows but Vigil does not use, and keys nobody knows, are listed in
// Config.Ignored and are never fatal. Every other problem is an error that
// names the file, the line and the dotted key.
//
// Parse gives the syntax tree; Decode maps it onto Default() and validates;
// Load reads a file and decodes it. docs/configuration.md describes every key.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"
)

// DefaultPath is where the daemons look for the configuration file.
const DefaultPath = "/etc/vigil/vigil.conf"

// MaxLinks is the number of links (ring0_addr..ring7_addr) a node may have,
// as with knet.
const MaxLinks = 8

// Config is the decoded configuration. The zero value is not useful: start
// from Default() or Decode.
type Config struct {
	File    string // path it was loaded from
	Totem   Totem
	Nodes   []Node // nodelist { node { ... } } in file order
	Quorum  Quorum
	Logging Logging
	TLS     TLS
	Vigil   Vigil
	// Ignored lists the keys and sections that were read but have no effect,
	// each reported once, in file order. Callers should log them.
	Ignored []IgnoredKey

	// Warnings are settings that contradict each other where corosync runs
	// on anyway, switching one of them off (two_node in a cluster of more
	// than 2 votes, for example). They are not fatal, so a corosync.conf
	// that corosync runs still loads; callers should log them. Validate
	// recomputes them.
	Warnings []*FieldError

	// lines maps a dotted key ("totem.token", "nodelist.node.2.nodeid") to
	// the line that set it, so that Validate can point at the file.
	lines map[string]int
	// settled holds the keys whose value already produced a decode error,
	// or that were derived rather than read, so Validate does not report
	// them a second time.
	settled map[string]bool
	// consensusDerived is set when Decode computed Totem.Consensus from the
	// token timeout because the file did not set it.
	consensusDerived bool
}

// Totem holds the totem section: membership protocol identity and timing.
type Totem struct {
	Version     int    // only 2 is valid, as in corosync
	ClusterName string // cluster_name; empty if not set
	Transport   string // knet (default), udp or udpu; Vigil's own peer streams carry the traffic either way

	// Token is the base token timeout (totem.token). With more than two
	// nodes the timeout in force is Token + (nodes-2)*TokenCoefficient; see
	// Config.TokenTimeout.
	Token            time.Duration
	TokenCoefficient time.Duration
	// Consensus is how long to wait for consensus before a new membership
	// round. Decode sets it to 1.2 times Config.TokenTimeout() when the file
	// leaves it out or sets it to 0, as corosync does.
	Consensus time.Duration
	Join      time.Duration // how long to wait for join messages

	Interfaces []Interface // totem { interface { ... } } in file order
}

// Interface is one totem.interface section, describing one link.
type Interface struct {
	Link        int    // linknumber (or corosync 1/2 ringnumber), 0..7
	BindNetAddr string // bindnetaddr, verbatim; informational in Vigil
	McastAddr   string // mcastaddr, verbatim; Vigil does not multicast
	McastPort   int    // mcastport; default 5405 + Link as in corosync
	Priority    int    // knet_link_priority, 0..255, default 1; the higher is preferred
	Line        int
}

// Node is one nodelist.node section.
type Node struct {
	ID   uint32 // nodeid; with udp/udpu and no nodeid it is derived from the IPv4 ring0_addr as corosync does
	Name string // name; empty if not set
	// Addrs holds ring0_addr..ringN_addr: the index is the link number.
	// Decode rejects gaps, so every element is set.
	Addrs       []string
	QuorumVotes int // quorum_votes, default 1
	Line        int
}

// Quorum holds the quorum section (votequorum(5)).
type Quorum struct {
	// Provider is "corosync_votequorum", or "" when the file configures no
	// quorum provider (corosync then never loses quorum).
	Provider      string
	ExpectedVotes int // 0: the sum of the nodes' quorum_votes
	TwoNode       bool
	// WaitForAll defaults to TwoNode, as in votequorum: two_node implies
	// wait_for_all unless the file sets wait_for_all explicitly.
	WaitForAll            bool
	LastManStanding       bool
	LastManStandingWindow time.Duration // default 10 s
	AutoTieBreaker        bool
	// AutoTieBreakerNode is "lowest" (default), "highest", or node IDs
	// separated by spaces, in order of preference.
	AutoTieBreakerNode string
	AllowDownscale     bool
	Line               int // line of the quorum section; 0 if the file has none
}

// Logging holds the top-level logging section.
type Logging struct {
	ToStderr  bool   // default true
	ToLogfile bool   // default false; needs Logfile
	ToSyslog  bool   // default true
	Logfile   string // no default
	Debug     string // off (default), on or trace
	Timestamp bool   // default false; corosync's "hires" counts as on
}

// TLS is Vigil's tls section: the PEM files every daemon uses for mutual
// TLS. All three are set or none is; callers that need TLS check for that.
type TLS struct {
	CA   string // cluster CA certificate
	Cert string // this node's certificate
	Key  string // this node's private key
}

// Vigil is Vigil's own vigil section.
type Vigil struct {
	// LocalNode is the name of this node in the nodelist. Empty means the
	// node whose ring address is a local interface address; callers resolve
	// that, this package does not look at the network.
	LocalNode string
	StateDir  string // default /var/lib/vigil
	PluginDir string // default /usr/lib/vigil/plugins
	// PluginChecksums, when set, is a SHA256SUMS file: plugins (resource
	// agents and STONITH drivers) not listed with their digest are refused.
	PluginChecksums string
	// The host:port of each daemon's node-local gRPC API.
	MessagingListen string // default 127.0.0.1:7441
	QuorumListen    string // default 127.0.0.1:7442
	CRMListen       string // default 127.0.0.1:7443
	LRMListen       string // default 127.0.0.1:7444
	FenceListen     string // default 127.0.0.1:7445
	PeerPort        int    // TCP port of messaging between nodes, default 5405
}

// IgnoredKey is a key or section that was read but has no effect.
type IgnoredKey struct {
	File string
	Line int
	Key  string // dotted path, e.g. "totem.secauth", or "amf" for a whole section
	Why  string
}

// String returns "FILE:LINE: KEY: WHY", ready to log.
func (k IgnoredKey) String() string {
	return fmt.Sprintf("%s: %s: ignored: %s", position(k.File, k.Line), k.Key, k.Why)
}

// FieldError is a problem with the value of one key. Decode and Validate
// return them joined with errors.Join; use errors.As to inspect them.
type FieldError struct {
	File string
	Line int    // 0 when the value did not come from a file
	Key  string // dotted path, e.g. "totem.token" or "nodelist.node.nodeid"
	Msg  string
}

// Error returns "FILE:LINE: KEY: message".
func (e *FieldError) Error() string {
	if e.File == "" && e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", position(e.File, e.Line), e.Key, e.Msg)
}

func position(file string, line int) string {
	switch {
	case line == 0:
		return file
	case file == "":
		return fmt.Sprintf("line %d", line)
	default:
		return fmt.Sprintf("%s:%d", file, line)
	}
}

// Default returns the configuration of a file that sets nothing: corosync 3
// defaults for totem, quorum and logging, and Vigil's own defaults.
func Default() Config {
	return Config{
		File: DefaultPath,
		Totem: Totem{
			Version:   2,
			Transport: "knet",
			// Vigil's default, not corosync's 3000 ms: its failure detector
			// is per-peer heartbeats ten times per token, not a token ring,
			// and 1 s notices a dead node within the 1.5 s Vigil promises
			// (docs/configuration.md). A corosync.conf that sets token
			// keeps its value.
			Token: 1000 * time.Millisecond,
			// corosync grows the token by 650 ms per node beyond two because
			// its token must go round the ring; heartbeats do not.
			TokenCoefficient: 0,
			Consensus:        1200 * time.Millisecond, // 1.2 * Token
			Join:             50 * time.Millisecond,
		},
		Quorum: Quorum{
			LastManStandingWindow: 10 * time.Second,
			AutoTieBreakerNode:    "lowest",
		},
		Logging: Logging{
			ToStderr: true,
			ToSyslog: true,
			Debug:    "off",
		},
		Vigil: Vigil{
			StateDir:        "/var/lib/vigil",
			PluginDir:       "/usr/lib/vigil/plugins",
			MessagingListen: "127.0.0.1:7441",
			QuorumListen:    "127.0.0.1:7442",
			CRMListen:       "127.0.0.1:7443",
			LRMListen:       "127.0.0.1:7444",
			FenceListen:     "127.0.0.1:7445",
			PeerPort:        5405,
		},
	}
}

// Load reads and decodes the file at path. See Decode.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Decode(path, data)
}

// Decode parses data (read from filename, which is only used in messages),
// maps it onto Default() and validates the result. On any problem it returns
// a nil Config and every problem found, joined with errors.Join and sorted by
// line: a *SyntaxError if the text does not parse, otherwise *FieldErrors.
// Keys without effect are not errors; they are listed in Config.Ignored.
func Decode(filename string, data []byte) (*Config, error) {
	root, err := Parse(filename, data)
	if err != nil {
		return nil, err
	}
	c := Default()
	c.File = filename
	d := newDecoder(&c)
	d.walk(root, "")
	d.finish()

	errs := d.errs
	if verr := c.Validate(); verr != nil {
		for _, e := range unjoin(verr) {
			var fe *FieldError
			if errors.As(e, &fe) {
				errs = append(errs, fe)
			}
		}
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return &c, nil
}

// TokenTimeout returns the token timeout in force: Totem.Token, plus
// Totem.TokenCoefficient for every node beyond two in the nodelist
// (corosync's token_coefficient rule).
func (c *Config) TokenTimeout() time.Duration {
	t := c.Totem.Token
	if n := len(c.Nodes); n > 2 {
		t += time.Duration(n-2) * c.Totem.TokenCoefficient
	}
	return t
}

// NodeByName returns the node with the given name.
func (c *Config) NodeByName(name string) (Node, bool) {
	for _, n := range c.Nodes {
		if n.Name == name && name != "" {
			return n, true
		}
	}
	return Node{}, false
}

// NodeByID returns the node with the given node ID.
func (c *Config) NodeByID(id uint32) (Node, bool) {
	for _, n := range c.Nodes {
		if n.ID == id && id != 0 {
			return n, true
		}
	}
	return Node{}, false
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func joinSorted(errs []*FieldError) error {
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(a.Line, b.Line) })
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
