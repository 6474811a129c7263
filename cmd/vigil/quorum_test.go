package main

import (
	"strings"
	"testing"
	"time"

	quorumv1 "github.com/vigil-ha/vigil/proto/vigil/quorum/v1"
)

// TestQuorumStatusLayout compares with corosync-quorumtool -s on a 3-node
// cluster (../shared/reference/corosync-tools.md, tools3node).
func TestQuorumStatusLayout(t *testing.T) {
	st := &quorumv1.Status{
		Quorate: true, LocalNodeId: 1, ViewCoordinator: 1, ViewEpoch: 9,
		ExpectedVotes: 3, HighestExpected: 3, TotalVotes: 3, Quorum: 2,
		Flags: []quorumv1.Flag{quorumv1.Flag_FLAG_QUORATE},
		Members: []*quorumv1.NodeVotes{
			{NodeId: 1, Votes: 1, Name: "node1", Local: true},
			{NodeId: 2, Votes: 1, Name: "node2"},
			{NodeId: 3, Votes: 1, Name: "node3"},
		},
	}
	var b strings.Builder
	writeQuorumStatus(&b, st, time.Date(2026, 11, 22, 3, 2, 55, 0, time.UTC))
	want := `Quorum information
------------------
Date:             Sun Nov 22 03:02:55 2026
Quorum provider:  corosync_votequorum
Nodes:            3
Node ID:          1
Ring ID:          1.9
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      3
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
         1          1 node1 (local)
         2          1 node2
         3          1 node3
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestQuorumFlagsOrder follows corosync's order: 2Node first.
func TestQuorumFlagsOrder(t *testing.T) {
	st := &quorumv1.Status{Quorum: 2, Flags: []quorumv1.Flag{
		quorumv1.Flag_FLAG_WAIT_FOR_ALL, quorumv1.Flag_FLAG_QUORATE, quorumv1.Flag_FLAG_TWO_NODE,
	}}
	var b strings.Builder
	writeQuorumStatus(&b, st, time.Now())
	if !strings.Contains(b.String(), "Flags:            2Node Quorate WaitForAll \n") {
		t.Errorf("flags line wrong:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "Quorum:           2 Activity blocked\n") {
		t.Errorf("not quorate must say Activity blocked:\n%s", b.String())
	}
}
