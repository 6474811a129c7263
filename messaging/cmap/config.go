package cmap

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
)

// configPrefixes are the parts of the key space read from the file: a
// reload replaces everything under them. runtime.config.totem.* is derived
// afterwards and always has the same keys.
var configPrefixes = []string{"totem.", "nodelist.", "quorum.", "logging."}

// LoadConfig fills the configuration keys from cfg as corosync fills them
// from corosync.conf, with the types corosync gives them, and derives
// runtime.config.totem.* (the timeouts in force). localNodeID is this
// node's ID; nodelist.local_node_pos is its position in the nodelist.
//
// Unlike corosync, whose totem.* and quorum.* keys exist only when the file
// sets them, the keys hold the decoded configuration: a setting the file
// leaves out shows its default (totem.token = 1000, Vigil's), and a key is
// absent only when its setting is empty or unset (totem.cluster_name
// without a name, quorum.expected_votes 0, totem.consensus when it is
// derived from the token). A zero that is a value, such as Vigil's default
// totem.token_coefficient of 0, is shown. runtime.config.totem.* is always complete, as in corosync.
//
// Calling LoadConfig again (a reload) replaces every key under totem.,
// nodelist., quorum., logging. and runtime.config.totem.: watchers see only
// the keys that were added, changed or removed. Runtime changes made with
// Set are overwritten by the file's values.
func (s *Store) LoadConfig(cfg *config.Config, localNodeID uint32) error {
	pos := -1
	for i, n := range cfg.Nodes {
		if n.ID == localNodeID {
			pos = i
		}
	}
	if pos < 0 {
		return fmt.Errorf("cmap: load %s: the local node ID %d is not in the nodelist", cfg.File, localNodeID)
	}
	want := configEntries(cfg)
	want[keyLocalNodePos] = U32(uint32(pos))
	for k, v := range want {
		if err := checkDeclared(k, v); err != nil {
			return fmt.Errorf("cmap: load %s: %w", cfg.File, err) // a bug in configEntries
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var gone []string
	for k := range s.data {
		if _, keep := want[k]; !keep && hasAnyPrefix(k, configPrefixes) {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		s.deleteLocked(k)
	}
	for _, e := range sortedEntries(want) {
		s.setLocked(e.Key, e.Value)
	}
	s.nodes = len(cfg.Nodes)
	s.deriveLocked()
	return nil
}

// configEntries maps the decoded configuration onto cmap keys.
func configEntries(cfg *config.Config) map[string]Value {
	m := map[string]Value{}
	str := func(key, v string) {
		if v != "" {
			m[key] = Str(v)
		}
	}
	yesNo := func(b bool) Value { return Str(choose(b, "yes", "no")) }
	flag := func(b bool) Value { return U8(b2u8(b)) }

	t := cfg.Totem
	m["totem.version"] = U32(uint32(t.Version))
	str("totem.cluster_name", t.ClusterName)
	str("totem.transport", t.Transport)
	m[keyToken] = U32(millis(t.Token))
	// Always present: 0 (Vigil's default) is a coefficient, not "unset".
	m[keyTokenCoefficient] = U32(millis(t.TokenCoefficient))
	if derived := deriveConsensus(millis(cfg.TokenTimeout())); millis(t.Consensus) != derived {
		m[keyConsensus] = U32(millis(t.Consensus))
	}
	m[keyJoin] = U32(millis(t.Join))
	for _, in := range t.Interfaces {
		// corosync keys an interface by its link number, not its position.
		p := fmt.Sprintf("totem.interface.%d.", in.Link)
		str(p+"bindnetaddr", in.BindNetAddr)
		str(p+"mcastaddr", in.McastAddr)
		m[p+"mcastport"] = U16(uint16(in.McastPort))
		m[p+"knet_link_priority"] = U8(uint8(in.Priority))
	}

	for i, n := range cfg.Nodes {
		p := fmt.Sprintf("nodelist.node.%d.", i)
		m[p+"nodeid"] = U32(n.ID)
		str(p+"name", n.Name)
		for link, a := range n.Addrs {
			str(fmt.Sprintf("%sring%d_addr", p, link), a)
		}
		m[p+"quorum_votes"] = U32(uint32(n.QuorumVotes))
	}

	q := cfg.Quorum
	str("quorum.provider", q.Provider)
	if q.ExpectedVotes != 0 {
		m["quorum.expected_votes"] = U32(uint32(q.ExpectedVotes))
	}
	m["quorum.two_node"] = flag(q.TwoNode)
	m["quorum.wait_for_all"] = flag(q.WaitForAll)
	m["quorum.last_man_standing"] = flag(q.LastManStanding)
	m["quorum.last_man_standing_window"] = U32(millis(q.LastManStandingWindow))
	m["quorum.auto_tie_breaker"] = flag(q.AutoTieBreaker)
	str("quorum.auto_tie_breaker_node", q.AutoTieBreakerNode)
	m["quorum.allow_downscale"] = flag(q.AllowDownscale)

	l := cfg.Logging
	m["logging.to_stderr"] = yesNo(l.ToStderr)
	m["logging.to_logfile"] = yesNo(l.ToLogfile)
	m["logging.to_syslog"] = yesNo(l.ToSyslog)
	str("logging.logfile", l.Logfile)
	str(keyLoggingDebug, l.Debug)
	m["logging.timestamp"] = Str(choose(l.Timestamp, "on", "off"))
	return m
}

// timeouts are the totem settings runtime.config.totem.* derives from, in
// milliseconds. consensus 0 means "derive from the token".
type timeouts struct {
	token, coefficient, consensus, join uint32
	nodes                               int
}

// derived are the timeouts in force, runtime.config.totem.*.
type derived struct {
	token, retransmit, hold, join, consensus uint32
}

// tokenRetransmitsBeforeLoss is corosync's default
// token_retransmits_before_loss_const; Vigil does not read the key.
const tokenRetransmitsBeforeLoss = 4

// derive computes the timeouts in force as corosync's totemconfig.c does:
// the token grows by token_coefficient for every node beyond two;
// consensus, unless set, is 1.2 times that token; the token is
// retransmitted after token/(retransmits+0.2) and held for 0.8 times that
// less one 10 ms tick.
func (t timeouts) derive() derived {
	d := derived{token: t.token, join: t.join, consensus: t.consensus}
	if t.nodes > 2 {
		d.token += uint32(t.nodes-2) * t.coefficient
	}
	if d.consensus == 0 {
		d.consensus = deriveConsensus(d.token)
	}
	d.retransmit = uint32(uint64(d.token) * 10 / (tokenRetransmitsBeforeLoss*10 + 2))
	d.hold = uint32(max(int64(d.retransmit)*8/10-10, 0))
	return d
}

func deriveConsensus(token uint32) uint32 { return uint32(uint64(token) * 12 / 10) }

// timeoutsLocked reads the totem settings from the store; mu is held.
func (s *Store) timeoutsLocked() timeouts {
	return timeouts{
		token:       uint32(s.data[keyToken].Uint()),
		coefficient: uint32(s.data[keyTokenCoefficient].Uint()),
		consensus:   uint32(s.data[keyConsensus].Uint()),
		join:        uint32(s.data[keyJoin].Uint()),
		nodes:       s.nodes,
	}
}

// deriveLocked rewrites runtime.config.totem.* from the totem settings;
// mu is held.
func (s *Store) deriveLocked() {
	d := s.timeoutsLocked().derive()
	s.setLocked(runtimeTotem+"token", U32(d.token))
	s.setLocked(runtimeTotem+"token_retransmit", U32(d.retransmit))
	s.setLocked(runtimeTotem+"hold", U32(d.hold))
	s.setLocked(runtimeTotem+"token_retransmits_before_loss_const", U32(tokenRetransmitsBeforeLoss))
	s.setLocked(runtimeTotem+"join", U32(d.join))
	s.setLocked(runtimeTotem+"consensus", U32(d.consensus))
}

func choose(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func millis(d time.Duration) uint32 { return uint32(d.Milliseconds()) }

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func sortedEntries(m map[string]Value) []Entry {
	out := make([]Entry, 0, len(m))
	for k, v := range m {
		out = append(out, Entry{Key: k, Value: v})
	}
	sortEntries(out)
	return out
}
