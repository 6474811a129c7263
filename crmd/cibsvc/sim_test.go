package cibsvc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// TestSimulation drives four replicas through seeded random partitions,
// merges, crmd restarts (from the last saved CIB) and conditional and
// unconditional changes, and checks after every step: the members of each
// side hold the same CIB, no node's version goes back except by a restart,
// every acknowledged change is in its side's CIB, and after the final
// merge everyone holds the newest CIB any side had.
func TestSimulation(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { simulate(t, seed) })
	}
}

func simulate(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	const nodes = 4
	b := newBus(t, fresh(nodes))
	disk := map[uint32]*cib.CIB{}
	last := map[uint32]cib.Version{}
	value := 0
	for step := range 60 {
		switch k := rng.IntN(10); {
		case k < 2: // a new partition
			perm := rng.Perm(nodes)
			cut := 1 + rng.IntN(nodes)
			var a, c []uint32
			for i, p := range perm {
				if i < cut {
					a = append(a, uint32(p+1))
				} else {
					c = append(c, uint32(p+1))
				}
			}
			sides := [][]uint32{slices.Sorted(slices.Values(a))}
			if len(c) > 0 {
				sides = append(sides, slices.Sorted(slices.Values(c)))
			}
			b.partition(sides...)
		case k < 3: // a crmd restarts from its disk
			n := uint32(1 + rng.IntN(nodes))
			c := disk[n]
			if c == nil {
				c = Empty()
			}
			b.handles[n] += 10
			b.replicas[n] = NewReplica(n, c)
			b.replicas[n].Joined(b.handles[n])
			last[n] = c.Version
			b.partition(b.parts...)
		default: // a change
			n := uint32(1 + rng.IntN(nodes))
			value++
			ch := Change{Patch: &Patch{Ops: []Op{{Kind: OpSetNVPair, Target: "opts", Parent: "/cib/configuration/crm_config",
				SetElement: "cluster_property_set", Name: fmt.Sprint("p", rng.IntN(3)), Value: fmt.Sprint(value)}}}}
			cur := b.replicas[n].CIB().Version
			stale := rng.IntN(4) == 0 && cur.Epoch > 0
			switch {
			case stale:
				v := cur
				v.Epoch--
				ch.Expected = &v
			case rng.IntN(2) == 0:
				ch.Expected = &cur
			}
			res := b.propose(n, ch)
			switch {
			case stale && !errors.Is(res.Err, ErrVersionMismatch):
				t.Fatalf("step %d: stale change from %d: %+v", step, n, res)
			case !stale && res.Err != nil:
				t.Fatalf("step %d: change from %d: %v", step, n, res.Err)
			case !stale:
				for _, m := range b.side(n) {
					if b.replicas[m].CIB().Version.Compare(res.Version) < 0 {
						t.Fatalf("step %d: node %d at %s after %d's change was acknowledged at %s", step, m, b.replicas[m].CIB().Version, n, res.Version)
					}
				}
			}
		}
		for _, side := range b.parts {
			b.requireSame(side...)
		}
		for n := uint32(1); n <= nodes; n++ {
			v := b.replicas[n].CIB().Version
			if v.Compare(last[n]) < 0 {
				t.Fatalf("step %d: node %d went back from %s to %s", step, n, last[n], v)
			}
			last[n] = v
			disk[n] = b.replicas[n].CIB()
		}
	}
	newest := cib.Version{}
	for n := uint32(1); n <= nodes; n++ {
		if v := b.replicas[n].CIB().Version; v.Newer(newest) {
			newest = v
		}
	}
	b.partition([]uint32{1, 2, 3, 4})
	b.requireSame(1, 2, 3, 4)
	if v := b.replicas[1].CIB().Version; v != newest {
		t.Fatalf("after the final merge at %s, the newest was %s", v, newest)
	}
}
