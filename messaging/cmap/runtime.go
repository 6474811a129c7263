package cmap

import (
	"fmt"
	"strings"

	"github.com/vigil-ha/vigil/internal/config"
)

// Member statuses, the values of runtime.members.<id>.status.
const (
	MemberJoined = "joined"
	MemberLeft   = "left"
)

// SetMember records the membership state of node id as corosync does under
// runtime.members.<id>.: ip ("r(0) ip(10.0.0.1) r(1) ip(fd00::1) ", one
// r(N) per link, with corosync's trailing blank), status (MemberJoined or
// MemberLeft), join_count (incremented each time the node joins, 1 at its
// first join) and config_version (0: Vigil does not compare configuration
// versions). addrs are the node's link addresses by link number; nil keeps
// the recorded ones, so a node that left can be marked left with only its
// ID. Watchers see status written last.
func (s *Store) SetMember(id uint32, addrs []string, status string) error {
	if id == 0 {
		return fmt.Errorf("%w: node ID 0 is reserved", ErrInvalidValue)
	}
	if status != MemberJoined && status != MemberLeft {
		return fmt.Errorf("%w: member status %q: want %q or %q", ErrInvalidValue, status, MemberJoined, MemberLeft)
	}
	p := fmt.Sprintf("runtime.members.%d.", id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.data[p+"config_version"]; !ok {
		s.setLocked(p+"config_version", U64(0))
	}
	if addrs != nil {
		s.setLocked(p+"ip", Str(memberIP(addrs)))
	}
	if status == MemberJoined && s.data[p+"status"].Str() != MemberJoined {
		s.setLocked(p+"join_count", U32(uint32(s.data[p+"join_count"].Uint())+1))
	}
	s.setLocked(p+"status", Str(status))
	return nil
}

// memberIP formats a member's addresses as corosync's runtime.members.*.ip.
func memberIP(addrs []string) string {
	var b strings.Builder
	for link, a := range addrs {
		fmt.Fprintf(&b, "r(%d) ip(%s) ", link, a)
	}
	return b.String()
}

// LinkStats are the statistics of the link to one node, published under
// stats.knet.node<ID>.link<N>. with the names and types corosync uses for
// knet (cmap_keys(7)); latencies are in microseconds, as knet reports them.
type LinkStats struct {
	Enabled   bool
	Connected bool
	MTU       uint32

	TxDataPackets, RxDataPackets   uint64
	TxDataBytes, RxDataBytes       uint64
	TxPingPackets, RxPingPackets   uint64
	TxPingBytes, RxPingBytes       uint64
	TxPongPackets, RxPongPackets   uint64
	TxPongBytes, RxPongBytes       uint64
	TxTotalPackets, RxTotalPackets uint64
	TxTotalBytes, RxTotalBytes     uint64

	LatencyMin, LatencyMax, LatencyAve, LatencySamples uint32
	UpCount, DownCount                                 uint32
}

// linkStatFields is the one list of the stats.knet key names and types;
// the schema declares its keys from it and SetLinkStats writes them.
var linkStatFields = []struct {
	name string
	typ  Type
	get  func(*LinkStats) Value
}{
	{"enabled", TypeU8, func(l *LinkStats) Value { return U8(b2u8(l.Enabled)) }},
	{"connected", TypeU8, func(l *LinkStats) Value { return U8(b2u8(l.Connected)) }},
	{"mtu", TypeU32, func(l *LinkStats) Value { return U32(l.MTU) }},
	{"tx_data_packets", TypeU64, func(l *LinkStats) Value { return U64(l.TxDataPackets) }},
	{"rx_data_packets", TypeU64, func(l *LinkStats) Value { return U64(l.RxDataPackets) }},
	{"tx_data_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.TxDataBytes) }},
	{"rx_data_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.RxDataBytes) }},
	{"tx_ping_packets", TypeU64, func(l *LinkStats) Value { return U64(l.TxPingPackets) }},
	{"rx_ping_packets", TypeU64, func(l *LinkStats) Value { return U64(l.RxPingPackets) }},
	{"tx_ping_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.TxPingBytes) }},
	{"rx_ping_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.RxPingBytes) }},
	{"tx_pong_packets", TypeU64, func(l *LinkStats) Value { return U64(l.TxPongPackets) }},
	{"rx_pong_packets", TypeU64, func(l *LinkStats) Value { return U64(l.RxPongPackets) }},
	{"tx_pong_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.TxPongBytes) }},
	{"rx_pong_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.RxPongBytes) }},
	{"tx_total_packets", TypeU64, func(l *LinkStats) Value { return U64(l.TxTotalPackets) }},
	{"rx_total_packets", TypeU64, func(l *LinkStats) Value { return U64(l.RxTotalPackets) }},
	{"tx_total_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.TxTotalBytes) }},
	{"rx_total_bytes", TypeU64, func(l *LinkStats) Value { return U64(l.RxTotalBytes) }},
	{"latency_min", TypeU32, func(l *LinkStats) Value { return U32(l.LatencyMin) }},
	{"latency_max", TypeU32, func(l *LinkStats) Value { return U32(l.LatencyMax) }},
	{"latency_ave", TypeU32, func(l *LinkStats) Value { return U32(l.LatencyAve) }},
	{"latency_samples", TypeU32, func(l *LinkStats) Value { return U32(l.LatencySamples) }},
	{"up_count", TypeU32, func(l *LinkStats) Value { return U32(l.UpCount) }},
	{"down_count", TypeU32, func(l *LinkStats) Value { return U32(l.DownCount) }},
}

// SetLinkStats publishes the statistics of link to node nodeID under
// stats.knet.node<nodeID>.link<link>.*, in one step: a watcher sees the
// keys that changed, together. Remove a node's statistics with
// DeletePrefix("stats.knet.node<ID>.").
func (s *Store) SetLinkStats(nodeID uint32, link int, st LinkStats) error {
	if link < 0 || link >= config.MaxLinks {
		return fmt.Errorf("%w: link %d is out of range 0..%d", ErrInvalidValue, link, config.MaxLinks-1)
	}
	p := fmt.Sprintf("stats.knet.node%d.link%d.", nodeID, link)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range linkStatFields {
		s.setLocked(p+f.name, f.get(&st))
	}
	return nil
}

func b2u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
