package votequorum

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/internal/config"
)

// vigilConfig is a configuration as config.Decode returns it: provider
// corosync_votequorum and n nodes of 1 vote.
func vigilConfig(n int, edit func(*config.Config)) *config.Config {
	c := config.Default()
	c.Quorum.Provider = "corosync_votequorum"
	for i := range n {
		c.Nodes = append(c.Nodes, config.Node{ID: uint32(i + 1), QuorumVotes: 1})
	}
	if edit != nil {
		edit(&c)
	}
	return &c
}

func TestFromConfig(t *testing.T) {
	got, err := FromConfig(vigilConfig(3, func(c *config.Config) {
		c.Nodes[2].QuorumVotes = 2
		c.Quorum.ExpectedVotes = 5
		c.Quorum.WaitForAll = true
		c.Quorum.LastManStanding = true
		c.Quorum.LastManStandingWindow = 3 * time.Second
		c.Quorum.AutoTieBreakerNode = "highest"
		c.Quorum.AllowDownscale = true
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Nodes:                 []NodeConfig{{1, 1}, {2, 1}, {3, 2}},
		ExpectedVotes:         5,
		WaitForAll:            true,
		LastManStanding:       true,
		LastManStandingWindow: 3 * time.Second,
		AutoTieBreakerNode:    "highest",
		AllowDownscale:        true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromConfig =\n%+v\nwant\n%+v", got, want)
	}
}

// TestFromConfigRefusals lists what corosync's votequorum (3.1) refuses to
// start with, and the contradictions it starts with anyway.
func TestFromConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   *config.Config
		keys  [][]string // one list of keys per refusal; none: it starts
		flags string     // when it starts: the flags of a node alone
	}{{
		name: "no quorum provider needs nothing",
		cfg: vigilConfig(0, func(c *config.Config) {
			c.Quorum.Provider = ""
		}),
		flags: "Quorate",
	}, {
		name: "neither nodelist nor expected_votes",
		cfg:  vigilConfig(0, nil),
		keys: [][]string{{"nodelist", "quorum.expected_votes"}},
	}, {
		name: "expected_votes without nodelist",
		cfg: vigilConfig(0, func(c *config.Config) {
			c.Quorum.ExpectedVotes = 3
		}),
	}, {
		name: "auto_tie_breaker and last_man_standing, odd votes, no wait_for_all",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Quorum.AutoTieBreaker = true
			c.Quorum.LastManStanding = true
		}),
		keys: [][]string{{"quorum.auto_tie_breaker", "quorum.last_man_standing", "quorum.wait_for_all"}},
	}, {
		name: "the same with wait_for_all",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Quorum.AutoTieBreaker = true
			c.Quorum.LastManStanding = true
			c.Quorum.WaitForAll = true
		}),
		flags: "WaitForAll LastManStanding AutoTieBreaker",
	}, {
		// Vigil refuses two_node with more than two nodes, stricter than
		// corosync (see Config.Validate).
		name: "the same with two_node, which implies wait_for_all",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Quorum.AutoTieBreaker = true
			c.Quorum.LastManStanding = true
			c.Quorum.TwoNode = true
			c.Quorum.WaitForAll = true
		}),
		keys: [][]string{{"quorum.two_node", "nodelist"}},
	}, {
		name: "the same with an even number of votes",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Nodes[2].QuorumVotes = 2
			c.Quorum.AutoTieBreaker = true
			c.Quorum.LastManStanding = true
		}),
		flags: "LastManStanding AutoTieBreaker",
	}, {
		name: "auto_tie_breaker alone, odd votes, no wait_for_all: switched off",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Quorum.AutoTieBreaker = true
		}),
		flags: "",
	}, {
		name: "two_node with auto_tie_breaker: two_node switched off",
		cfg: vigilConfig(2, func(c *config.Config) {
			c.Quorum.TwoNode = true
			c.Quorum.WaitForAll = true
			c.Quorum.AutoTieBreaker = true
		}),
		flags: "WaitForAll AutoTieBreaker",
	}, {
		// corosync starts; two_node applies whenever at most two nodes are
		// members (docs/quorum.md).
		name: "two_node with three nodes",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Quorum.TwoNode = true
			c.Quorum.WaitForAll = true
		}),
		keys: [][]string{{"quorum.two_node", "nodelist"}},
	}, {
		name: "two_node with expected_votes 3",
		cfg: vigilConfig(2, func(c *config.Config) {
			c.Quorum.TwoNode = true
			c.Quorum.WaitForAll = true
			c.Quorum.ExpectedVotes = 3
		}),
		keys: [][]string{{"quorum.two_node", "nodelist"}},
	}, {
		// corosync does not check the listed IDs (Vigil's config does).
		name: "auto_tie_breaker_node naming an unknown node",
		cfg: vigilConfig(4, func(c *config.Config) {
			c.Quorum.AutoTieBreaker = true
			c.Quorum.AutoTieBreakerNode = "9 1"
		}),
		flags: "AutoTieBreaker",
	}, {
		name: "last_man_standing with a node of 2 votes",
		cfg: vigilConfig(3, func(c *config.Config) {
			c.Nodes[0].QuorumVotes = 2
			c.Quorum.LastManStanding = true
		}),
		flags: "LastManStanding",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromConfig(tc.cfg)
			if len(tc.keys) == 0 {
				if err != nil {
					t.Fatalf("FromConfig: %v", err)
				}
				if got := New(c, 1).Status().Flags.String(); got != tc.flags {
					t.Errorf("flags %q, want %q", got, tc.flags)
				}
				return
			}
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("FromConfig: %v, want ErrRefused", err)
			}
			var got [][]string
			for _, e := range unjoin(err) {
				var ce *ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("%v is not a *ConfigError", e)
				}
				got = append(got, ce.Keys)
				if !strings.HasPrefix(ce.Error(), strings.Join(ce.Keys, ", ")+": ") {
					t.Errorf("%q does not start with its keys", ce.Error())
				}
			}
			if !reflect.DeepEqual(got, tc.keys) {
				t.Errorf("refused keys %v, want %v", got, tc.keys)
			}
		})
	}
}

func TestValidateReportsEveryRefusal(t *testing.T) {
	err := Config{ExpectedVotes: 0, AutoTieBreaker: true, LastManStanding: true, Nodes: nodes(3)}.Validate()
	if n := len(unjoin(err)); n != 1 {
		t.Fatalf("%v: %d refusals, want 1 (a nodelist is there)", err, n)
	}
	err = Config{AutoTieBreaker: true, LastManStanding: true}.Validate()
	if n := len(unjoin(err)); n != 1 {
		t.Fatalf("%v: %d refusals, want 1 (no nodelist: 0 votes are even)", err, n)
	}
}

func TestFromConfigWaitForAllAuto(t *testing.T) {
	for _, tc := range []struct {
		twoNode, wfa, auto bool
	}{
		{false, false, true},
		{true, true, true},
		{true, false, false},
		{false, true, false},
	} {
		c, err := FromConfig(vigilConfig(2, func(c *config.Config) {
			c.Quorum.TwoNode, c.Quorum.WaitForAll = tc.twoNode, tc.wfa
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.WaitForAllAuto != tc.auto {
			t.Errorf("two_node %v wait_for_all %v: auto %v, want %v", tc.twoNode, tc.wfa, c.WaitForAllAuto, tc.auto)
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want []string // a word of each warning
	}{
		{Config{Nodes: ones(3)}, nil},
		{Config{Disabled: true, TwoNode: true, Nodes: ones(3)}, nil},
		{Config{Nodes: ones(3), AutoTieBreaker: true, AutoTieBreakerNode: "x"}, []string{"disabled"}},
		{Config{Nodes: ones(3), AutoTieBreakerNode: "2"}, []string{"meaningless"}},
		{Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, AutoTieBreaker: true}, []string{"two_node is disabled"}},
		{Config{Nodes: ones(3), AutoTieBreaker: true}, []string{"auto_tie_breaker is disabled"}},
		{Config{Nodes: ones(3), TwoNode: true, WaitForAll: true}, []string{"both be quorate"}},
		{Config{Nodes: nodes(1, 2), LastManStanding: true}, []string{"node 2 has 2 votes"}},
	} {
		got := tc.cfg.Warnings()
		if len(got) != len(tc.want) {
			t.Errorf("%+v: warnings %q, want %d", tc.cfg, got, len(tc.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%+v: warning %q lacks %q", tc.cfg, got[i], tc.want[i])
			}
		}
	}
}

func TestParseATB(t *testing.T) {
	for _, tc := range []struct {
		in   string
		mode atbMode
		ids  []uint32
	}{
		{"", atbLowest, nil},
		{"lowest", atbLowest, nil},
		{"highest", atbHighest, nil},
		{"1 3 5", atbList, []uint32{1, 3, 5}},
		{" 2\t4 ", atbList, []uint32{2, 4}},
		{"+3", atbList, []uint32{3}},
		{"3 x 5", atbList, []uint32{3}},
		{"3,5", atbList, []uint32{3}},
		{"3 0 5", atbList, []uint32{3}},
		{"-1", atbList, []uint32{1<<32 - 1}},
		{"0 1", atbNone, nil},
		{"x", atbNone, nil},
		{"highest 3", atbNone, nil},
		{" lowest", atbNone, nil},
	} {
		mode, ids := parseATB(tc.in)
		if mode != tc.mode || !slices.Equal(ids, tc.ids) {
			t.Errorf("parseATB(%q) = %v %v, want %v %v", tc.in, mode, ids, tc.mode, tc.ids)
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
