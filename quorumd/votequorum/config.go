package votequorum

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
)

// ErrRefused is what every ConfigError matches with errors.Is: settings that
// contradict each other so that corosync's votequorum refuses to start.
var ErrRefused = errors.New("votequorum: contradictory quorum settings")

// ConfigError is one contradiction in the quorum settings that corosync's
// votequorum refuses to start with. Keys names the configuration keys
// involved, as written in corosync.conf.
type ConfigError struct {
	Keys   []string
	Reason string
}

func (e *ConfigError) Error() string {
	return strings.Join(e.Keys, ", ") + ": " + e.Reason
}

// Is makes every ConfigError match ErrRefused.
func (e *ConfigError) Is(target error) bool { return target == ErrRefused }

// Config is the quorum section of the configuration with the nodelist's
// votes: what votequorum reads at start. Build it with FromConfig, or by
// hand (tests); New applies corosync's adjustments (two_node switched off
// by auto_tie_breaker, and so on) and Validate reports what corosync
// refuses.
type Config struct {
	// Disabled is set when no quorum provider is configured
	// (quorum.provider absent): like corosync without a provider, the node
	// is always quorate and nothing is computed.
	Disabled bool

	Nodes []NodeConfig // the nodelist: ID and quorum_votes (FromConfig fills corosync's default of 1)
	// ExpectedVotes is quorum.expected_votes; 0 means the sum of the
	// nodelist's votes.
	ExpectedVotes uint32
	TwoNode       bool
	// WaitForAll is quorum.wait_for_all, already true when two_node
	// implies it (the config package does that).
	WaitForAll bool
	// WaitForAllAuto is set when wait_for_all was not written in the file,
	// so that it follows two_node, also when two_node changes at run time
	// (corosync 3). config.Config does not say whether the key was
	// written; FromConfig guesses it from WaitForAll == TwoNode
	// (docs/quorum.md).
	WaitForAllAuto bool
	// LastManStanding and LastManStandingWindow are quorum.last_man_standing
	// and its window (corosync's default is 10 s; 0 is taken literally).
	LastManStanding       bool
	LastManStandingWindow time.Duration
	AutoTieBreaker        bool
	// AutoTieBreakerNode is "lowest" (also when empty), "highest" or
	// space-separated node IDs in order of preference. corosync reads what
	// it can and switches auto_tie_breaker off when it can read nothing.
	AutoTieBreakerNode string
	// AllowDownscale is quorum.allow_downscale; like corosync it turns on
	// expected votes tracking.
	AllowDownscale bool
	// EVTrackingBarrier is the highest expected votes this node had seen
	// before it (re)started, which corosync keeps in
	// /var/lib/corosync/ev_tracking for expected votes tracking (implied by
	// allow_downscale). 0 when nothing is stored: a fresh node. With
	// tracking on it replaces quorum.expected_votes at start, as in
	// corosync. State.EVTrackingBarrier returns the value to store.
	EVTrackingBarrier uint32
}

// NodeConfig is one node of the nodelist.
type NodeConfig struct {
	ID    uint32
	Votes uint32
}

// FromConfig builds a Config from Vigil's parsed configuration and refuses,
// with a *ConfigError naming the keys, the settings corosync's votequorum
// refuses to start with (see Validate). Settings corosync tolerates but
// switches off stay as written; New applies corosync's adjustments and
// Warnings describes them.
func FromConfig(cfg *config.Config) (Config, error) {
	q := cfg.Quorum
	c := Config{
		Disabled:              q.Provider == "",
		ExpectedVotes:         uint32(max(q.ExpectedVotes, 0)),
		TwoNode:               q.TwoNode,
		WaitForAll:            q.WaitForAll,
		WaitForAllAuto:        q.WaitForAll == q.TwoNode,
		LastManStanding:       q.LastManStanding,
		LastManStandingWindow: q.LastManStandingWindow,
		AutoTieBreaker:        q.AutoTieBreaker,
		AutoTieBreakerNode:    q.AutoTieBreakerNode,
		AllowDownscale:        q.AllowDownscale,
	}
	for _, n := range cfg.Nodes {
		c.Nodes = append(c.Nodes, NodeConfig{ID: n.ID, Votes: uint32(max(n.QuorumVotes, 0))})
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate returns every contradiction that makes corosync's votequorum
// (3.1) refuse to start, each a *ConfigError, joined with errors.Join; nil
// when corosync would start. The checks about quorum devices are not here:
// Vigil does not read quorum.device.
func (c Config) Validate() error {
	if c.Disabled {
		return nil
	}
	var errs []error
	if len(c.Nodes) == 0 && c.ExpectedVotes == 0 {
		errs = append(errs, &ConfigError{
			Keys:   []string{"nodelist", "quorum.expected_votes"},
			Reason: "votequorum needs a nodelist or quorum.expected_votes to know how many votes to expect (corosync refuses to start)",
		})
	}
	// Stricter than corosync, which starts and applies two_node to any
	// partition of at most two members: with more than two nodes that
	// makes both sides of a 2+1 split quorate, a split brain.
	if c.TwoNode && (len(c.Nodes) > 2 || c.ExpectedVotes > 2) {
		errs = append(errs, &ConfigError{
			Keys: []string{"quorum.two_node", "nodelist"},
			Reason: fmt.Sprintf("two_node is for clusters of exactly two nodes, but %d nodes (expected votes %d) are configured: "+
				"with it, both sides of a split could be quorate; remove two_node (Vigil refuses this, corosync would start)", len(c.Nodes), c.ExpectedVotes),
		})
	}
	if c.atbOddConflict() && c.LastManStanding {
		errs = append(errs, &ConfigError{
			Keys: []string{"quorum.auto_tie_breaker", "quorum.last_man_standing", "quorum.wait_for_all"},
			Reason: fmt.Sprintf("auto_tie_breaker and last_man_standing are not available in a cluster with an odd number of votes (%d) "+
				"unless wait_for_all is on (corosync refuses to start; it suggests turning last_man_standing off and wait_for_all on)", c.nodelistVotes()),
		})
	}
	return errors.Join(errs...)
}

// Warnings describes the settings corosync starts with but switches off or
// calls meaningless, in the words of its log. The configuration package
// reports some of them too (config.Config.Warnings).
func (c Config) Warnings() []string {
	if c.Disabled {
		return nil
	}
	var out []string
	mode, _ := parseATB(c.AutoTieBreakerNode)
	if c.AutoTieBreaker && mode == atbNone {
		out = append(out, fmt.Sprintf("quorum.auto_tie_breaker_node: %q is not lowest, highest or a list of node IDs: auto_tie_breaker is disabled", c.AutoTieBreakerNode))
	}
	if !c.AutoTieBreaker && c.AutoTieBreakerNode != "" && c.AutoTieBreakerNode != "lowest" {
		out = append(out, "quorum.auto_tie_breaker_node: meaningless while auto_tie_breaker is off")
	}
	if c.TwoNode && c.AutoTieBreaker && mode != atbNone {
		out = append(out, "quorum.two_node, quorum.auto_tie_breaker: not compatible: two_node is disabled")
	}
	if c.atbOddConflict() && !c.LastManStanding {
		out = append(out, fmt.Sprintf("quorum.auto_tie_breaker, quorum.wait_for_all: the cluster has an odd number of votes (%d) and wait_for_all is off: auto_tie_breaker is disabled", c.nodelistVotes()))
	}
	if c.TwoNode && len(c.Nodes) > 2 {
		out = append(out, fmt.Sprintf("quorum.two_node: the nodelist has %d nodes: two_node sets quorum to 1 whenever at most 2 nodes are members, so two partitions of the cluster can both be quorate", len(c.Nodes)))
	}
	if c.LastManStanding {
		for _, n := range c.Nodes {
			if n.Votes > 1 {
				out = append(out, fmt.Sprintf("quorum.last_man_standing: node %d has %d votes: last_man_standing works only when every node has 1 vote and is disabled when that node joins", n.ID, n.Votes))
				break
			}
		}
	}
	return out
}

// atbOddConflict reports whether auto_tie_breaker is on in a cluster whose
// nodelist has an odd number of votes while wait_for_all is off: corosync
// then disables auto_tie_breaker, or refuses to start with
// last_man_standing.
func (c Config) atbOddConflict() bool {
	mode, _ := parseATB(c.AutoTieBreakerNode)
	return c.AutoTieBreaker && mode != atbNone && c.nodelistVotes()%2 == 1 && !c.waitForAll()
}

// waitForAll is wait_for_all as corosync has it at start.
func (c Config) waitForAll() bool {
	if c.WaitForAllAuto {
		return c.TwoNode
	}
	return c.WaitForAll
}

func (c Config) nodelistVotes() uint32 {
	var sum uint32
	for _, n := range c.Nodes {
		sum += n.Votes
	}
	return sum
}

type atbMode uint8

const (
	atbNone atbMode = iota
	atbLowest
	atbHighest
	atbList
)

// parseATB reads auto_tie_breaker_node as corosync does: "lowest",
// "highest", or node IDs read with strtol one after another until one is 0
// or is not a number (so "3 1 x 5" is the list 3 1). Anything else is
// atbNone: corosync then disables auto_tie_breaker.
func parseATB(s string) (atbMode, []uint32) {
	switch s {
	case "", "lowest":
		return atbLowest, nil
	case "highest":
		return atbHighest, nil
	}
	var ids []uint32
	rest := s
	for {
		rest = strings.TrimLeft(rest, " \t\n\v\f\r")
		end := 0
		if end < len(rest) && (rest[end] == '+' || rest[end] == '-') {
			end++
		}
		digits := end
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end == digits {
			break
		}
		var v int64
		for _, ch := range rest[digits:end] {
			v = min(v*10+int64(ch-'0'), 1<<40)
		}
		if rest[0] == '-' {
			v = -v
		}
		if v == 0 {
			break
		}
		// corosync stores what strtol read in an unsigned int: a negative
		// number becomes a large ID that no node has.
		ids = append(ids, uint32(v))
		rest = rest[end:]
	}
	if len(ids) == 0 {
		return atbNone, nil
	}
	return atbList, slices.Clip(ids)
}
