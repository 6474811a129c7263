package crmd

import (
	"context"
	"maps"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/transition"
	fencev1 "github.com/vigil-ha/vigil/proto/vigil/fence/v1"
)

// Fencing devices are stonith-class primitives of the CIB, as in
// Pacemaker: `primitive fence-all stonith:fence_ipmilan params ...`. Every
// crmd registers them with its node's fenced, whatever node the scheduler
// "starts" them on, so that any node with a device can fence any other
// (Pacemaker's fenced reads them from the CIB the same way); a device
// banned from a node by a -INFINITY location is not registered there. The
// type names a fence agent (fence_*) or a STONITH plugin (anything else,
// registered as plugin:TYPE).

// stonithDevice is the fenced device of a stonith primitive on node. The
// fence group keeps one table of devices, each hosted by the node that
// registered it, so every node's copy gets its own id, PRIMITIVE@NODE (the
// fence history names it so).
func stonithDevice(r *cib.Resource, node string) *fencev1.Device {
	driver := r.Type
	if !strings.HasPrefix(driver, "fence_") {
		driver = "plugin:" + driver
	}
	return &fencev1.Device{Id: r.ID + "@" + node, Driver: driver, Parameters: cib.Effective(nil, r.InstanceAttributes, "", nil)}
}

// wantedDevices are the devices of the stonith primitives of c this node
// may run, by device id.
func wantedDevices(c *cib.CIB, node string) map[string]*fencev1.Device {
	out := map[string]*fencev1.Device{}
	var walk func(rs []*cib.Resource)
	walk = func(rs []*cib.Resource) {
		for _, r := range rs {
			if r.Kind == cib.KindPrimitive && r.Class == "stonith" && !bannedFrom(c, r.ID, node) {
				d := stonithDevice(r, node)
				out[d.Id] = d
			}
			walk(r.Children)
		}
	}
	walk(c.Configuration.Resources)
	return out
}

// bannedFrom reports a plain location constraint of -INFINITY for rsc on
// node.
func bannedFrom(c *cib.CIB, rsc, node string) bool {
	for _, k := range c.Configuration.Constraints {
		if l := k.Location; l != nil && l.Rsc == rsc && l.Node == node {
			if s, err := cib.ParseScore(l.Score, nil); err == nil && s <= -cib.Infinity {
				return true
			}
		}
	}
	return false
}

// syncStonithDevices keeps the local fenced's devices in step with the
// CIB's stonith primitives, at every change of the replica. Only devices it
// registered itself are unregistered: ones registered by hand (vigil
// stonith register) stay.
func (s *Server) syncStonithDevices(ctx context.Context) {
	mine := map[string]*fencev1.Device{}
	for ctx.Err() == nil {
		s.mu.Lock()
		ready := s.rep.Synced()
		c := s.rep.CIB()
		changed := s.changed
		s.mu.Unlock()
		if ready {
			want := wantedDevices(c, s.node.Name)
			for id, d := range want {
				if cur, ok := mine[id]; ok && cur.Driver == d.Driver && maps.Equal(cur.Parameters, d.Parameters) {
					continue
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := s.fence.RegisterDevice(cctx, &fencev1.RegisterDeviceRequest{Device: d})
				cancel()
				if err != nil {
					s.log.Warn("could not register a fencing device with vigil-fenced", "device", id, "err", err)
					continue
				}
				s.log.Info("fencing device registered from the CIB", "device", id, "driver", d.Driver)
				mine[id] = d
			}
			for id := range mine {
				if _, ok := want[id]; ok {
					continue
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := s.fence.UnregisterDevice(cctx, &fencev1.UnregisterDeviceRequest{Id: id})
				cancel()
				if err == nil {
					s.log.Info("fencing device unregistered: gone from the CIB", "device", id)
					delete(mine, id)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-time.After(time.Minute):
			// In case fenced restarted under us: register again.
			mine = map[string]*fencev1.Device{}
		}
	}
}

// stonithOp runs an operation of a stonith primitive on this node: the
// device itself lives in fenced (registered from the CIB on every node), so
// start and stop only say where the scheduler placed it, and a monitor
// answers whether it was started here.
func (s *Server) stonithOp(m execMsg) resultMsg {
	res := resultMsg{TransitionKey: m.TransitionKey, Rsc: m.Rsc, Class: m.Class, Provider: m.Provider, Type: m.Type,
		Task: m.Task, IntervalMS: m.IntervalMS, OpStatus: transition.OpStatusDone}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Task {
	case "start":
		s.stonithStarted[m.Rsc] = true
	case "stop":
		delete(s.stonithStarted, m.Rsc)
	case "monitor":
		if !s.stonithStarted[m.Rsc] {
			res.RC = 7 // not running
		}
	}
	return res
}
