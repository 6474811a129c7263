package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
	"github.com/vigil-ha/vigil/internal/pki"
)

// MaxLinks is the most links a node may have, as with knet.
const MaxLinks = 8

// LimitFrameSize is the largest MaxFrameSize accepted: a view change
// carries every message of the old view members still hold, which the
// core bounds well below it. The peer server accepts frames of this size
// plus the envelope.
const LimitFrameSize = 64 << 20

// Config says which node this is, whom it talks to and how. The tunables,
// PingInterval and below, take their defaults (see Default) when zero.
type Config struct {
	// ClusterName is totem.cluster_name; peers must say the same in their
	// hello.
	ClusterName string
	// Local is this node's nodelist entry. Local.Addrs[i] is the address of
	// link i: the transport listens there and dials peers from there.
	Local config.Node
	// Nodes is the whole nodelist, Local included. Every node needs a name:
	// peers are authenticated by the node name in their certificate.
	Nodes []config.Node
	// Port is the TCP port of peer messaging on every address (vigil.peer_port).
	Port int
	// TLS is this node's identity (a node certificate) and the cluster CA.
	TLS pki.Files
	// Incarnation identifies this start of the daemon; it is sent in every
	// hello. Zero means New picks the start time in nanoseconds.
	Incarnation uint64
	// Logger receives link state changes and refusals; nil discards them.
	Logger *slog.Logger

	// PingInterval is how often each outbound stream is pinged.
	PingInterval time.Duration
	// LinkTimeout is how long a link stays usable for sending without a
	// pong. It must span at least two ping intervals.
	LinkTimeout time.Duration
	// HandshakeTimeout bounds the TCP and TLS connection and the exchange of
	// hellos of a new stream.
	HandshakeTimeout time.Duration
	// ReconnectBackoff caps the delay between attempts to reopen a stream;
	// the delay starts at PingInterval and doubles after each failure.
	ReconnectBackoff time.Duration
	// QueueLen is how many frames may wait to be sent to one peer; Send drops
	// frames beyond it.
	QueueLen int
	// QueueBytes is how many bytes of frames may wait to be sent to one peer.
	QueueBytes int
	// RecvQueueLen is the capacity of the Recv channel; frames that arrive
	// while it is full are dropped and counted.
	RecvQueueLen int
	// MaxFrameSize is the largest frame Send accepts, at most LimitFrameSize.
	MaxFrameSize int
}

// Default returns a Config with every tunable at its default; the caller
// fills in the cluster, the nodes, the port and the certificates. The
// timings are explained in docs/messaging-transport.md: a link that stops
// answering is abandoned after 400 ms, well inside the membership's own
// token timeout of 1 s, so failover between links never shows as a
// membership change.
func Default() Config {
	return Config{
		PingInterval:     100 * time.Millisecond,
		LinkTimeout:      400 * time.Millisecond,
		HandshakeTimeout: 5 * time.Second,
		ReconnectBackoff: 1 * time.Second,
		QueueLen:         1024,
		QueueBytes:       64 << 20,
		RecvQueueLen:     4096,
		MaxFrameSize:     LimitFrameSize,
	}
}

// withDefaults returns c with every zero tunable set to its default.
func (c Config) withDefaults() Config {
	d := Default()
	if c.PingInterval == 0 {
		c.PingInterval = d.PingInterval
	}
	if c.LinkTimeout == 0 {
		c.LinkTimeout = d.LinkTimeout
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = d.HandshakeTimeout
	}
	if c.ReconnectBackoff == 0 {
		c.ReconnectBackoff = d.ReconnectBackoff
	}
	if c.QueueLen == 0 {
		c.QueueLen = d.QueueLen
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = d.QueueBytes
	}
	if c.RecvQueueLen == 0 {
		c.RecvQueueLen = d.RecvQueueLen
	}
	if c.MaxFrameSize == 0 {
		c.MaxFrameSize = d.MaxFrameSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate returns every problem of c, each naming the field, joined in
// one error; nil means New will accept c.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("transport: "+format, args...))
	}
	if c.Local.ID == 0 {
		bad("Local.ID: node id 0 is not valid")
	}
	if c.Local.Name == "" {
		bad("Local.Name: the local node needs a name (its certificate names it)")
	}
	if n := len(c.Local.Addrs); n == 0 || n > MaxLinks {
		bad("Local.Addrs: %d links; want 1 to %d", n, MaxLinks)
	}
	for i, a := range c.Local.Addrs {
		if a == "" {
			bad("Local.Addrs[%d]: empty address", i)
		}
	}
	ids := map[uint32]bool{}
	names := map[string]bool{}
	localListed := false
	for i, n := range c.Nodes {
		where := fmt.Sprintf("Nodes[%d] (id %d)", i, n.ID)
		if n.ID == 0 {
			bad("%s: node id 0 is not valid", where)
		}
		if ids[n.ID] {
			bad("%s: duplicate node id", where)
		}
		ids[n.ID] = true
		if n.Name == "" {
			bad("%s: every node needs a name: peers are authenticated by the node name in their certificate", where)
		} else if names[n.Name] {
			bad("%s: duplicate node name %q", where, n.Name)
		}
		names[n.Name] = true
		if len(n.Addrs) == 0 {
			bad("%s: node %q has no address", where, n.Name)
		}
		for j, a := range n.Addrs {
			if a == "" {
				bad("%s: Addrs[%d] is empty", where, j)
			}
		}
		if n.ID == c.Local.ID {
			localListed = true
			if n.Name != c.Local.Name {
				bad("%s: the local node id %d is named %q in Nodes but %q in Local", where, n.ID, n.Name, c.Local.Name)
			}
		}
	}
	if !localListed && c.Local.ID != 0 {
		bad("Nodes: the local node %d (%q) is not in the nodelist", c.Local.ID, c.Local.Name)
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("Port: %d is not a TCP port", c.Port)
	}
	if c.TLS.CA == "" || c.TLS.Cert == "" || c.TLS.Key == "" {
		bad("TLS: the CA, certificate and key files are all required")
	}
	if c.PingInterval <= 0 {
		bad("PingInterval: %v must be positive", c.PingInterval)
	}
	if c.LinkTimeout < 2*c.PingInterval {
		bad("LinkTimeout: %v must span at least two ping intervals (%v)", c.LinkTimeout, 2*c.PingInterval)
	}
	if c.HandshakeTimeout <= 0 {
		bad("HandshakeTimeout: %v must be positive", c.HandshakeTimeout)
	}
	if c.ReconnectBackoff <= 0 {
		bad("ReconnectBackoff: %v must be positive", c.ReconnectBackoff)
	}
	if c.QueueLen < 1 {
		bad("QueueLen: %d; want at least 1", c.QueueLen)
	}
	if c.QueueBytes < 1 {
		bad("QueueBytes: %d; want at least 1", c.QueueBytes)
	}
	if c.RecvQueueLen < 1 {
		bad("RecvQueueLen: %d; want at least 1", c.RecvQueueLen)
	}
	if c.MaxFrameSize < 1 || c.MaxFrameSize > LimitFrameSize {
		bad("MaxFrameSize: %d; want 1 to %d", c.MaxFrameSize, LimitFrameSize)
	}
	return errors.Join(errs...)
}

// linkAddr returns host:port of an address of the nodelist.
func (c *Config) linkAddr(host string) string {
	return net.JoinHostPort(host, fmt.Sprint(c.Port))
}
