package fenced

import (
	"context"
	"testing"

	"github.com/vigil-ha/vigil/fenced/fencing"
	"github.com/vigil-ha/vigil/internal/config"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
)

// A fence request that could not be sent leaves no waiter behind: nothing
// would ever finish it, and the map would grow with every failed call.
func TestFenceNotSentLeavesNoWaiter(t *testing.T) {
	s := &Server{node: config.Node{Name: "n1"}, st: fencing.New("n1", []string{"n1", "n2"}),
		applied: map[uint64]chan struct{}{}, waiters: map[string][]chan fencing.Entry{}}
	if _, err := s.Fence(context.Background(), &fencev1.FenceRequest{Target: "n2"}); err == nil {
		t.Fatal("Fence succeeded without a fence group")
	}
	if len(s.waiters) != 0 || len(s.applied) != 0 {
		t.Errorf("after a failed send: %d waiters, %d applied channels left", len(s.waiters), len(s.applied))
	}
}
