package votequorum

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type w = map[uint32]string

// TestReference replays the situations captured from corosync 3.1.7 in
// /work/shared/reference/corosync-tools.md (block names in the comments)
// and expects the same Votequorum information.
func TestReference(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
	}{{
		// tools3node, then tools_inquorate (node2 and node3 SIGSTOPped).
		name: "three nodes, then one alone",
		cfg:  Config{Nodes: ones(3), WaitForAllAuto: true},
		steps: []step{
			{do: "start 1 2 3", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags="}},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate"}},
			{do: "view 1 | 2 | 3", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags="}},
		},
	}, {
		// tools1.
		name: "one node",
		cfg:  Config{Nodes: ones(1), WaitForAllAuto: true},
		steps: []step{
			{do: "start 1", want: w{1: "yes exp=1 high=1 total=1 quorum=1 flags=Quorate"}},
			{do: "view 1", want: w{1: "yes exp=1 high=1 total=1 quorum=1 flags=Quorate"}},
		},
	}, {
		// tools_twonode: node2 SIGSTOPped.
		name: "two_node, one left",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
		steps: []step{
			{do: "start 1 2", want: w{1: "no exp=2 high=2 total=1 quorum=1 flags=2Node WaitForAll"}},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=1 flags=2Node Quorate WaitForAll"}},
			{do: "view 1 | 2", want: w{
				1: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate WaitForAll",
				2: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate WaitForAll",
			}},
		},
	}, {
		// tools_wfa (node1 restarted alone), then tools_vq_flags.
		name: "wait_for_all, last_man_standing, auto_tie_breaker",
		cfg: Config{Nodes: ones(3), WaitForAll: true, LastManStanding: true, LastManStandingWindow: 3 * time.Second,
			AutoTieBreaker: true, AutoTieBreakerNode: "lowest"},
		steps: []step{
			{do: "start 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags=WaitForAll LastManStanding AutoTieBreaker"}},
			{do: "view 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags=WaitForAll LastManStanding AutoTieBreaker"}},
			{do: "start 2 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate WaitForAll LastManStanding AutoTieBreaker"}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) { newSim(t, tc.cfg, nil).run(tc.steps) })
	}
}

func TestReferenceMembers(t *testing.T) {
	s := newSim(t, Config{Nodes: ones(3)}, nil)
	s.run([]step{{do: "start 1 2 3"}, {do: "view 1 2 3"}})
	want := []MemberStatus{{1, 1, 3}, {2, 1, 3}, {3, 1, 3}}
	if got := s.nodes[1].Status().Members; !reflect.DeepEqual(got, want) {
		t.Errorf("members %+v, want %+v", got, want)
	}
}

func TestScenarios(t *testing.T) {
	lms := func(n int) Config {
		return Config{Nodes: ones(n), LastManStanding: true, LastManStandingWindow: 10 * time.Second}
	}
	atb := func(node string) Config {
		return Config{Nodes: ones(4), AutoTieBreaker: true, AutoTieBreakerNode: node}
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		own   map[uint32]Config
		steps []step
	}{{
		name: "wait_for_all after a cold start",
		cfg:  Config{Nodes: ones(3), WaitForAll: true},
		steps: []step{
			{do: "start 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags=WaitForAll"}},
			{do: "view 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags=WaitForAll"}},
			// Two of three would be quorate, but not all have been seen.
			{do: "start 2"},
			{do: "view 1 2", want: w{1: "no exp=3 high=3 total=2 quorum=2 flags=WaitForAll"}},
			{do: "start 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate WaitForAll"}},
			// Then the usual rules.
			{do: "stop 3"},
			{do: "view 1 2", want: w{1: "yes exp=3 high=3 total=2 quorum=2 flags=Quorate WaitForAll"}},
			// Losing quorum makes the survivors wait for all again.
			{do: "stop 2"},
			{do: "view 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags=WaitForAll"}},
			{do: "start 2"},
			{do: "view 2 1", want: w{
				1: "no exp=3 high=3 total=2 quorum=2 flags=WaitForAll",
				2: "no exp=3 high=3 total=2 quorum=2 flags=WaitForAll",
			}},
			{do: "start 3"},
			{do: "view 3 2 1", want: w{
				1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate WaitForAll",
				3: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate WaitForAll",
			}},
		},
	}, {
		name: "cancel_wait_for_all",
		cfg:  Config{Nodes: ones(3), WaitForAll: true},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "no exp=3 high=3 total=2 quorum=2 flags=WaitForAll"}},
			{do: "cancelwfa 1", want: w{
				1: "yes exp=3 high=3 total=2 quorum=2 flags=Quorate WaitForAll",
				2: "yes exp=3 high=3 total=2 quorum=2 flags=Quorate WaitForAll",
			}},
		},
	}, {
		name: "wait_for_all: a node joining a quorate partition has seen all",
		cfg:  Config{Nodes: ones(5), WaitForAll: true},
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5", want: w{1: "yes exp=5 high=5 total=5 quorum=3 flags=Quorate WaitForAll"}},
			{do: "stop 4 5"},
			{do: "view 1 2 3", want: w{1: "yes exp=5 high=5 total=3 quorum=3 flags=Quorate WaitForAll"}},
			{do: "start 4"},
			{do: "view 4 | 1 2 3", want: w{4: "no exp=5 high=5 total=1 quorum=3 flags=WaitForAll"}},
			// 4 of 5 votes: not all, but 1, 2 and 3 are quorate and not
			// waiting, so node 4 stops waiting.
			{do: "view 4 1 2 3", want: w{
				4: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate WaitForAll",
				1: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate WaitForAll",
			}},
		},
	}, {
		name: "two_node: a cold start alone waits for the other node",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
		steps: []step{
			{do: "start 1"},
			{do: "view 1", want: w{1: "no exp=2 high=2 total=1 quorum=1 flags=2Node WaitForAll"}},
			{do: "start 2"},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=1 flags=2Node Quorate WaitForAll"}},
			{do: "stop 2"},
			{do: "view 1", want: w{1: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate WaitForAll"}},
		},
	}, {
		name: "two_node without wait_for_all: either node alone is quorate from the start",
		cfg:  Config{Nodes: ones(2), TwoNode: true},
		steps: []step{
			{do: "start 1", want: w{1: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate"}},
		},
	}, {
		// The two nodes have two_node; the third brings a three-node
		// nodelist. Above two members two_node has no effect, and it
		// takes effect again when the third leaves.
		name: "two_node with a third node joining",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
		own:  map[uint32]Config{3: {Nodes: ones(3), WaitForAllAuto: true}},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=1 flags=2Node Quorate WaitForAll"}},
			{do: "start 3"},
			{do: "view 1 2 3", want: w{
				1: "yes exp=3 high=3 total=3 quorum=2 flags=2Node Quorate WaitForAll",
				3: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate",
			}},
			{do: "view 1 2 | 3", want: w{
				1: "yes exp=3 high=3 total=2 quorum=1 flags=2Node Quorate WaitForAll",
				3: "no exp=3 high=3 total=1 quorum=2 flags=",
			}},
			{do: "stop 3"},
			{do: "view 1 | 2", want: w{1: "yes exp=3 high=3 total=1 quorum=1 flags=2Node Quorate WaitForAll"}},
		},
	}, {
		// corosync starts with this (a warning in Vigil's config): any
		// partition of at most two nodes gets quorum 1.
		name: "two_node in a three-node nodelist",
		cfg:  Config{Nodes: ones(3), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "no exp=3 high=3 total=2 quorum=1 flags=2Node WaitForAll"}},
			{do: "start 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=2Node Quorate WaitForAll"}},
			{do: "view 1 2 | 3", want: w{
				1: "yes exp=3 high=3 total=2 quorum=1 flags=2Node Quorate WaitForAll",
				3: "yes exp=3 high=3 total=1 quorum=1 flags=2Node Quorate WaitForAll",
			}},
		},
	}, {
		name: "last_man_standing steps down 5, 4, 3, 2 after each window",
		cfg:  lms(5),
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5", want: w{1: "yes exp=5 high=5 total=5 quorum=3 flags=Quorate LastManStanding"}},
			{do: "stop 5"},
			{do: "view 1 2 3 4", want: w{1: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate LastManStanding"}},
			{do: "tick 9999ms", want: w{1: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate LastManStanding"}},
			{do: "tick 1ms", want: w{
				1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate LastManStanding",
				4: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate LastManStanding",
			}},
			{do: "stop 4"},
			{do: "view 1 2 3", want: w{1: "yes exp=4 high=4 total=3 quorum=3 flags=Quorate LastManStanding"}},
			{do: "tick 10s", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate LastManStanding"}},
			{do: "stop 3"},
			{do: "view 1 2", want: w{1: "yes exp=3 high=3 total=2 quorum=2 flags=Quorate LastManStanding"}},
			{do: "tick 10s", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate LastManStanding"}},
			// Without auto_tie_breaker, 2 is the end.
			{do: "stop 2"},
			{do: "view 1", want: w{1: "no exp=2 high=2 total=1 quorum=2 flags=LastManStanding"}},
			{do: "tick 10s", want: w{1: "no exp=2 high=2 total=1 quorum=2 flags=LastManStanding"}},
		},
	}, {
		name: "last_man_standing: a new loss restarts the window",
		cfg:  lms(5),
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5"},
			{do: "stop 5"},
			{do: "view 1 2 3 4"},
			{do: "tick 5s"},
			{do: "stop 4"},
			{do: "view 1 2 3", want: w{1: "yes exp=5 high=5 total=3 quorum=3 flags=Quorate LastManStanding"}},
			{do: "tick 5s", want: w{1: "yes exp=5 high=5 total=3 quorum=3 flags=Quorate LastManStanding"}},
			{do: "tick 5s", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate LastManStanding"}},
		},
	}, {
		name: "last_man_standing: only a quorate partition steps down",
		cfg:  lms(5),
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5"},
			{do: "view 1 2 | 3 4 5"},
			{do: "tick 10s", want: w{
				1: "no exp=5 high=5 total=2 quorum=3 flags=LastManStanding",
				3: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate LastManStanding",
			}},
		},
	}, {
		name: "last_man_standing with auto_tie_breaker goes down to one node",
		cfg: Config{Nodes: ones(4), LastManStanding: true, LastManStandingWindow: 10 * time.Second,
			AutoTieBreaker: true, AutoTieBreakerNode: "lowest"},
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "stop 4"},
			{do: "view 1 2 3"},
			{do: "tick 10s", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate LastManStanding AutoTieBreaker"}},
			{do: "stop 3"},
			{do: "view 1 2"},
			{do: "tick 10s", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate LastManStanding AutoTieBreaker"}},
			// An even split of 2: the side with the lowest node id keeps
			// quorum at once, then steps down to 1.
			{do: "view 1 | 2", want: w{
				1: "yes exp=2 high=2 total=1 quorum=2 flags=Quorate LastManStanding AutoTieBreaker",
				2: "no exp=2 high=2 total=1 quorum=2 flags=LastManStanding AutoTieBreaker",
			}},
			{do: "tick 10s", want: w{
				1: "yes exp=1 high=1 total=1 quorum=1 flags=Quorate LastManStanding AutoTieBreaker",
				2: "no exp=2 high=2 total=1 quorum=2 flags=LastManStanding AutoTieBreaker",
			}},
		},
	}, {
		name: "last_man_standing is switched off by a node with more than 1 vote",
		cfg:  Config{Nodes: nodes(1, 1, 2), LastManStanding: true, LastManStandingWindow: time.Second},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "no exp=4 high=4 total=2 quorum=3 flags=LastManStanding"}},
			{do: "start 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate"}},
		},
	}, {
		name: "auto_tie_breaker lowest on a 2+2 split",
		cfg:  atb("lowest"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4", want: w{1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate AutoTieBreaker"}},
			{do: "view 1 2 | 3 4", want: w{
				1: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
				3: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker",
			}},
			{do: "view 1 2 3 4", want: w{3: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate AutoTieBreaker"}},
			// One node after the other: the lowest side still wins.
			{do: "view 1 2 3 | 4", want: w{1: "yes exp=4 high=4 total=3 quorum=3 flags=Quorate AutoTieBreaker"}},
			{do: "view 1 2 | 3 | 4", want: w{
				1: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
				3: "no exp=4 high=4 total=1 quorum=3 flags=AutoTieBreaker",
			}},
		},
	}, {
		name: "auto_tie_breaker highest on a 2+2 split",
		cfg:  atb("highest"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "view 1 2 | 3 4", want: w{
				1: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker",
				3: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
			}},
		},
	}, {
		name: "auto_tie_breaker list: the first listed node decides",
		cfg:  atb("3 1"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "view 1 2 | 3 4", want: w{
				1: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker",
				3: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
			}},
		},
	}, {
		name: "auto_tie_breaker list: a listed node that is not in the cluster is skipped",
		cfg:  atb("7 2"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "view 1 2 | 3 4", want: w{
				1: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
				3: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker",
			}},
		},
	}, {
		name: "auto_tie_breaker list: an earlier listed node on the other side denies it",
		cfg:  atb("1 3"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "view 1 2 | 3 4", want: w{
				1: "yes exp=4 high=4 total=2 quorum=3 flags=Quorate AutoTieBreaker",
				3: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker",
			}},
		},
	}, {
		// corosync knows the tie-breaker only once a partition has been
		// quorate: half the nodes after a cold start are not enough.
		name: "auto_tie_breaker needs a quorate partition first",
		cfg:  atb("lowest"),
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "no exp=4 high=4 total=2 quorum=3 flags=AutoTieBreaker"}},
		},
	}, {
		name: "auto_tie_breaker is switched off in an odd cluster without wait_for_all",
		cfg:  Config{Nodes: ones(3), AutoTieBreaker: true},
		steps: []step{
			{do: "start 1", want: w{1: "no exp=3 high=3 total=1 quorum=2 flags="}},
		},
	}, {
		name: "two_node is switched off by auto_tie_breaker",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true, AutoTieBreaker: true},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate WaitForAll AutoTieBreaker"}},
			{do: "view 1 | 2", want: w{
				1: "yes exp=2 high=2 total=1 quorum=2 flags=Quorate WaitForAll AutoTieBreaker",
				2: "no exp=2 high=2 total=1 quorum=2 flags=WaitForAll AutoTieBreaker",
			}},
		},
	}, {
		// The stored barrier (3) is the floor: nodes leaving cleanly
		// lower expected votes down to it, not below.
		name: "allow_downscale",
		cfg:  Config{Nodes: ones(5), AllowDownscale: true, EVTrackingBarrier: 3},
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5", want: w{1: "yes exp=5 high=5 total=5 quorum=3 flags=Quorate AllowDownscale"}},
			{do: "leave 5", want: w{1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate AllowDownscale"}},
			{do: "view 1 2 3 4", want: w{1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate AllowDownscale"}},
			{do: "leave 4", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate AllowDownscale"}},
			{do: "view 1 2 3"},
			{do: "leave 3", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate AllowDownscale"}},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate AllowDownscale"}},
			{do: "leave 2", want: w{1: "no exp=1 high=1 total=1 quorum=2 flags=AllowDownscale"}},
		},
	}, {
		name: "without allow_downscale a clean shutdown lowers nothing",
		cfg:  Config{Nodes: ones(5)},
		steps: []step{
			{do: "start 1 2 3 4 5"},
			{do: "view 1 2 3 4 5"},
			{do: "leave 5"},
			{do: "leave 4"},
			{do: "view 1 2 3", want: w{1: "yes exp=5 high=5 total=3 quorum=3 flags=Quorate"}},
			{do: "leave 3"},
			{do: "view 1 2", want: w{1: "no exp=5 high=5 total=2 quorum=3 flags="}},
		},
	}, {
		// corosync: with tracking, the stored barrier replaces
		// quorum.expected_votes; a fresh node has none, so the nodelist
		// counts.
		name: "allow_downscale on a fresh node ignores expected_votes",
		cfg:  Config{Nodes: ones(5), ExpectedVotes: 3, AllowDownscale: true},
		steps: []step{
			{do: "start 1", want: w{1: "no exp=5 high=5 total=1 quorum=3 flags=AllowDownscale"}},
		},
	}, {
		name: "expected_votes overrides the nodelist",
		cfg:  Config{Nodes: ones(3), ExpectedVotes: 5},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=5 high=5 total=3 quorum=3 flags=Quorate"}},
		},
	}, {
		name: "expected_votes below the votes present is raised",
		cfg:  Config{Nodes: ones(3), ExpectedVotes: 2},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate"}},
		},
	}, {
		name: "corosync-quorumtool -e",
		cfg:  Config{Nodes: ones(3)},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3"},
			{do: "expected 1 2", err: "lower than the 3 votes present"},
			{do: "expected 1 9", err: "would lose quorum"},
			{do: "expected 1 0", err: "at least 1"},
			{do: "expected 1 4", want: w{
				1: "yes exp=4 high=4 total=3 quorum=3 flags=Quorate",
				3: "yes exp=4 high=4 total=3 quorum=3 flags=Quorate",
			}},
			{do: "view 1 | 2 3", want: w{
				1: "no exp=4 high=4 total=1 quorum=3 flags=",
				2: "no exp=4 high=4 total=2 quorum=3 flags=",
			}},
			// An inquorate partition may go up, and down to its votes.
			{do: "expected 2 6", want: w{2: "no exp=6 high=6 total=2 quorum=4 flags="}},
			{do: "expected 2 2", want: w{2: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate"}},
			{do: "expected 1 1", want: w{1: "yes exp=1 high=1 total=1 quorum=1 flags=Quorate"}},
		},
	}, {
		name: "corosync-quorumtool -v",
		cfg:  Config{Nodes: ones(3)},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3"},
			{do: "votes 1 9 1", err: "node 9 has not been seen"},
			{do: "votes 1 1 3", want: w{2: "yes exp=5 high=5 total=5 quorum=3 flags=Quorate"}},
			{do: "votes 1 3 0", want: w{2: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate"}},
			// A node may be given votes while it is away.
			{do: "view 1 2 | 3"},
			{do: "votes 1 3 1", want: w{1: "yes exp=5 high=5 total=4 quorum=3 flags=Quorate"}},
		},
	}, {
		name: "corosync-quorumtool -v: quorum above the votes present",
		cfg:  Config{Nodes: ones(1)},
		steps: []step{
			{do: "start 1"},
			{do: "view 1"},
			{do: "votes 1 1 0", err: "quorum would be 1 of 0 votes present"},
		},
	}, {
		name: "two_node switched on and off at run time",
		cfg:  Config{Nodes: ones(2), WaitForAllAuto: true},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate"}},
			{do: "view 1 | 2", want: w{1: "no exp=2 high=2 total=1 quorum=2 flags="}},
			// wait_for_all follows two_node, without making the node wait.
			{do: "twonode on", want: w{1: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate WaitForAll"}},
			{do: "twonode off", want: w{1: "no exp=2 high=2 total=1 quorum=2 flags="}},
		},
	}, {
		name: "two_node switched off at run time keeps a wait_for_all that was set",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true},
		steps: []step{
			{do: "start 1 2"},
			{do: "view 1 2"},
			{do: "twonode off", want: w{1: "yes exp=2 high=2 total=2 quorum=2 flags=Quorate WaitForAll"}},
		},
	}, {
		name: "two_node at run time next to auto_tie_breaker stays off",
		cfg:  atb("lowest"),
		steps: []step{
			{do: "start 1 2 3 4"},
			{do: "view 1 2 3 4"},
			{do: "twonode on", err: "two_node and auto_tie_breaker cannot be combined",
				want: w{1: "yes exp=4 high=4 total=4 quorum=3 flags=Quorate AutoTieBreaker"}},
		},
	}, {
		// At run time corosync stops applying the reload there and keeps
		// auto_tie_breaker.
		name: "two_node switched off under auto_tie_breaker and last_man_standing in an odd cluster",
		cfg: Config{Nodes: ones(3), TwoNode: true, WaitForAll: true, WaitForAllAuto: true,
			LastManStanding: true, LastManStandingWindow: time.Second, AutoTieBreaker: true},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3", want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate WaitForAll LastManStanding AutoTieBreaker"}},
			{do: "twonode off", err: "not available in a cluster with an odd number of votes",
				want: w{1: "yes exp=3 high=3 total=3 quorum=2 flags=Quorate LastManStanding AutoTieBreaker"}},
		},
	}, {
		// wait_for_all that followed two_node goes with it, and does not
		// come back as waiting.
		name: "two_node switched off and on by a node waiting for all",
		cfg:  Config{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
		steps: []step{
			{do: "start 1"},
			{do: "view 1", want: w{1: "no exp=2 high=2 total=1 quorum=1 flags=2Node WaitForAll"}},
			{do: "twonode off", want: w{1: "no exp=2 high=2 total=1 quorum=2 flags="}},
			{do: "twonode on", want: w{1: "yes exp=2 high=2 total=1 quorum=1 flags=2Node Quorate WaitForAll"}},
		},
	}, {
		// With expected votes tracking a node keeps at least the highest
		// expected votes it has seen.
		name: "corosync-quorumtool -e with allow_downscale",
		cfg:  Config{Nodes: ones(3), AllowDownscale: true},
		steps: []step{
			{do: "start 1 2 3"},
			{do: "view 1 2 3"},
			{do: "expected 1 4", want: w{1: "yes exp=4 high=4 total=3 quorum=3 flags=Quorate AllowDownscale"}},
			{do: "view 1 2 | 3"},
			{do: "expected 1 2", want: w{
				1: "no exp=4 high=4 total=2 quorum=3 flags=AllowDownscale",
			}},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) { newSim(t, tc.cfg, tc.own).run(tc.steps) })
	}
}

// TestDeliveryOrder checks that the result of view changes does not depend
// on the order in which the partition delivers the announcements.
func TestDeliveryOrder(t *testing.T) {
	for _, cfg := range []Config{
		{Nodes: ones(5), WaitForAll: true},
		{Nodes: ones(4), AutoTieBreaker: true},
		{Nodes: ones(5), LastManStanding: true, LastManStandingWindow: time.Second},
		{Nodes: ones(2), TwoNode: true, WaitForAll: true, WaitForAllAuto: true},
	} {
		n := len(cfg.Nodes)
		var first map[uint32]string
		for _, order := range orders(n) {
			without := strings.Join(strings.Fields(strings.ReplaceAll(" "+order+" ", fmt.Sprintf(" %d ", n), " ")), " ")
			s := newSim(t, cfg, nil)
			s.run([]step{
				{do: "start " + order},
				{do: "view " + order},
				{do: fmt.Sprintf("stop %d", n)},
				{do: "view " + without},
				{do: "tick 1s"},
				{do: fmt.Sprintf("start %d", n)},
				{do: fmt.Sprintf("view %d | %s", n, without)},
				{do: "view " + order},
			})
			got := map[uint32]string{}
			for id, st := range s.nodes {
				got[id] = summary(st.Status())
			}
			if first == nil {
				first = got
			} else if !reflect.DeepEqual(got, first) {
				t.Errorf("%+v, order %s: %v, want %v", cfg, order, got, first)
			}
		}
	}
}

// orders returns a few delivery orders of nodes 1..n.
func orders(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i + 1)
	}
	var out []string
	for r := range n {
		rot := append(slices.Clone(ids[r:]), ids[:r]...)
		out = append(out, strings.Join(rot, " "))
		slices.Reverse(rot)
		out = append(out, strings.Join(rot, " "))
	}
	return out
}

func TestViewAndAnnouncements(t *testing.T) {
	now := time.Unix(0, 0)
	s := New(Config{Nodes: ones(3)}, 2)
	if got, want := s.Status().Members, []MemberStatus{{2, 1, 3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("before any view: members %+v, want %+v", got, want)
	}
	if got, want := s.Local(), (NodeInfo{Votes: 1, ExpectedVotes: 3, WaitForAllDone: true, First: true}); got != want {
		t.Errorf("Local() = %+v, want %+v", got, want)
	}

	// The local node is added to a view that lacks it.
	s.ViewChanged([]uint32{3, 1}, now)
	st := s.Status()
	if want := []MemberStatus{{1, 0, 0}, {2, 1, 3}, {3, 0, 0}}; !reflect.DeepEqual(st.Members, want) {
		t.Errorf("members %+v, want %+v", st.Members, want)
	}
	if !st.Syncing {
		t.Error("not syncing before the members announced themselves")
	}
	if s.Local().First {
		t.Error("still First in a view with other nodes")
	}

	// Announcements from outside the view change nothing.
	s.NodeInfoReceived(9, NodeInfo{Votes: 5, ExpectedVotes: 3, Quorate: true, WaitForAllDone: true}, now)
	s.NodeInfoReceived(1, NodeInfo{Votes: 1, ExpectedVotes: 3, WaitForAllDone: true}, now)
	if got := summary(s.Status()); got != "yes exp=3 high=3 total=2 quorum=2 flags=Quorate" {
		t.Errorf("after node 1: %s", got)
	}
	if !s.Status().Syncing {
		t.Error("done syncing before node 3 announced itself")
	}
	s.NodeInfoReceived(3, NodeInfo{Votes: 1, ExpectedVotes: 3, WaitForAllDone: true}, now)
	if st := s.Status(); st.Syncing || st.TotalVotes != 3 {
		t.Errorf("after all: syncing %v, total %d", st.Syncing, st.TotalVotes)
	}
	if got := s.Local(); !got.Quorate || !got.WaitForAllDone {
		t.Errorf("Local() = %+v, want quorate and not waiting", got)
	}

	// A view of the node alone (quorumd lost its messaging daemon) needs no
	// announcement.
	s.ViewChanged([]uint32{2}, now)
	if st := s.Status(); st.Syncing || st.Quorate || st.TotalVotes != 1 {
		t.Errorf("alone: %s, syncing %v", summary(st), st.Syncing)
	}
}

func TestNewCorners(t *testing.T) {
	// corosync refuses to start with this; New switches auto_tie_breaker
	// off.
	refused := Config{Nodes: ones(3), AutoTieBreaker: true, LastManStanding: true}
	if got := New(refused, 1).Status().Flags.String(); got != "LastManStanding" {
		t.Errorf("refused configuration: flags %q", got)
	}
	// A node outside the nodelist has 1 vote and expects the nodelist's
	// votes (corosync refuses to start without expected_votes).
	if got := summary(New(Config{Nodes: ones(3)}, 9).Status()); got != "no exp=3 high=3 total=1 quorum=2 flags=" {
		t.Errorf("outside the nodelist: %s", got)
	}
	if got := summary(New(Config{Nodes: ones(3), ExpectedVotes: 5}, 9).Status()); got != "no exp=5 high=5 total=1 quorum=3 flags=" {
		t.Errorf("outside the nodelist with expected_votes: %s", got)
	}
}

func TestLeave(t *testing.T) {
	if _, ok := New(Config{Nodes: ones(3)}, 1).Leave(); ok {
		t.Error("Leave without allow_downscale asks for an announcement")
	}
	info, ok := New(Config{Nodes: ones(3), AllowDownscale: true}, 1).Leave()
	if !ok || !info.Leaving {
		t.Errorf("Leave with allow_downscale = %+v, %v", info, ok)
	}
}

func TestEVTrackingBarrier(t *testing.T) {
	s := newSim(t, Config{Nodes: ones(3), AllowDownscale: true, EVTrackingBarrier: 2}, nil)
	s.run([]step{{do: "start 1 2 3"}, {do: "view 1 2 3"}})
	if got := s.nodes[1].EVTrackingBarrier(); got != 3 {
		t.Errorf("barrier %d, want 3 (the highest expected votes seen)", got)
	}
	if got := New(Config{Nodes: ones(3)}, 1).EVTrackingBarrier(); got != 0 {
		t.Errorf("barrier without allow_downscale %d, want 0", got)
	}
}

func TestDisabled(t *testing.T) {
	s := New(Config{Disabled: true, Nodes: nodes(1, 2)}, 1)
	now := time.Unix(0, 0)
	s.ViewChanged([]uint32{1, 2}, now)
	s.NodeInfoReceived(2, NodeInfo{Votes: 2}, now)
	want := Status{Quorate: true, Flags: Flags{Quorate: true}, Members: []MemberStatus{{ID: 1, Votes: 1}, {ID: 2, Votes: 2}}}
	if got := s.Status(); !reflect.DeepEqual(got, want) {
		t.Errorf("Status() = %+v, want %+v", got, want)
	}
	for name, err := range map[string]error{
		"CancelWaitForAll": s.CancelWaitForAll(now),
		"SetExpectedVotes": s.SetExpectedVotes(3, now),
		"SetVotes":         s.SetVotes(1, 3, now),
		"SetTwoNode":       s.SetTwoNode(true, now),
	} {
		if !errors.Is(err, ErrDisabled) {
			t.Errorf("%s: %v, want ErrDisabled", name, err)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	s := newSim(t, Config{Nodes: ones(4), AutoTieBreaker: true}, nil)
	s.run([]step{{do: "start 1 2 3 4"}, {do: "view 1 2 3 4"}})
	n := s.nodes[1]
	now := time.Unix(0, 0)
	if err := n.SetExpectedVotes(1, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetExpectedVotes: %v, want ErrInvalid", err)
	}
	if err := n.SetVotes(8, 1, now); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("SetVotes: %v, want ErrUnknownNode", err)
	}
	if err := n.SetTwoNode(true, now); !errors.Is(err, ErrIncompatible) {
		t.Errorf("SetTwoNode: %v, want ErrIncompatible", err)
	}
}

func TestFlagsString(t *testing.T) {
	all := Flags{true, true, true, true, true, true}
	if got, want := all.String(), "2Node Quorate WaitForAll LastManStanding AutoTieBreaker AllowDownscale"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := (Flags{}).String(); got != "" {
		t.Errorf("no flags: %q", got)
	}
}
