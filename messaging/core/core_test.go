package core

import (
	"testing"
)

// TestThreeNodesFormOneView is the simplest history: no faults, three
// nodes start alone and must merge into one view, then order messages.
func TestThreeNodesFormOneView(t *testing.T) {
	s := newSim(t, 1, 3)
	for range 200 {
		s.step()
	}
	for i := range 30 {
		s.step()
		if i%3 == 0 {
			s.multicast()
		}
	}
	for range 100 {
		s.step()
	}
	if err := s.hist.check(); err != nil {
		s.fail("%v", err)
	}
	s.checkConverged()
}
