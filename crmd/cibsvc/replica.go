package cibsvc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Group is the process group the crmds of a cluster share.
const Group = "vigil-crm"

// ChunkSize bounds one payload the replica multicasts. A larger message (a
// big CIB) is split into chunks that members reassemble. The messaging
// daemon splits further for its own frames; this bound keeps every gRPC
// message between crmd and its messaging daemon far below gRPC's 4 MiB
// default.
const ChunkSize = 1 << 20

// Member is one crmd in the group: its node and its handle there.
type Member struct {
	Node   uint32 `json:"node"`
	Handle uint64 `json:"handle"`
}

func (m Member) String() string { return fmt.Sprintf("%d/%d", m.Node, m.Handle) }

// Result is the outcome of one of this member's own changes, known when the
// change was delivered back to it in the group's order and applied (or
// refused) there, as by every other member.
type Result struct {
	Req     uint64
	Version cib.Version
	Err     error
}

// Applied is a new CIB version this member installed.
type Applied struct {
	Version cib.Version
	// Origin is the member whose change it was, or the member whose CIB
	// everyone adopted in a sync.
	Origin Member
	// What is Change.Describe for changes, "sync" for a sync.
	What string
	// Req is the origin's request number of a change (0 for a sync): the
	// origin tells its own changes apart by it.
	Req uint64
}

// Ready is what the runtime must do after an input, in this order: Save
// (when set) the CIB to stable storage, then answer Results and publish
// Applied, then multicast Send in order. Saving first means a client
// learns of its change only once this node has it on disk.
type Ready struct {
	Save    *cib.CIB
	Results []Result
	Applied []Applied
	Send    [][]byte
}

func (r *Ready) merge(o Ready) {
	if o.Save != nil {
		r.Save = o.Save
	}
	r.Results = append(r.Results, o.Results...)
	r.Applied = append(r.Applied, o.Applied...)
	r.Send = append(r.Send, o.Send...)
}

// message is one thing members tell each other. JSON: it is internal to one
// version of Vigil; the CIB XML inside is the bulk.
type message struct {
	Change  *changeMsg  `json:"change,omitempty"`
	Offer   *offerMsg   `json:"offer,omitempty"`
	Full    *fullMsg    `json:"full,omitempty"`
	Applied *appliedMsg `json:"applied,omitempty"`
}

// appliedMsg tells a change's origin that the sender applied (and saved)
// it. The origin acknowledges a change to its client only once every
// other member has: the group delivers in agreed order, not safe order, so
// a change delivered at its origin may not yet have reached anyone else,
// and would be lost if the origin died right after the acknowledgement.
type appliedMsg struct {
	Origin Member `json:"origin"`
	Req    uint64 `json:"req"`
}

// awaiting is an own change applied here, waiting for the other members
// to say they applied it.
type awaiting struct {
	version cib.Version
	need    map[Member]bool
}

// changeMsg is a client's change; the origin is the delivery's sender.
type changeMsg struct {
	Req    uint64 `json:"req"`
	Change Change `json:"change"`
}

// offerMsg is a member's state after a configuration change.
type offerMsg struct {
	Round   string      `json:"round"`
	Version cib.Version `json:"version"`
	Digest  string      `json:"digest"`
	// DC is the node this member holds to be the DC, 0 for none.
	DC uint32 `json:"dc"`
	// Own is this member's own node_state (a CIB holding only it), from a
	// member that was in a synchronised group before: after a merge, the
	// round's CIB takes every member's own node_state from that member,
	// whichever side's CIB wins. Empty from a crmd that just started (its
	// saved history is stale; it erases it and is probed again).
	Own []byte `json:"own,omitempty"`
}

// fullMsg is the CIB everyone adopts at the end of a round.
type fullMsg struct {
	Round string `json:"round"`
	XML   []byte `json:"xml"`
}

// Frame kinds: a whole message, or one chunk of a large one.
const (
	frameWhole = 'M'
	frameChunk = 'C'
)

// chunkHeader: kind, message id (8 bytes), index (4), count (4).
const chunkHeader = 1 + 8 + 4 + 4

type assembly struct {
	id    uint64
	next  uint32
	count uint32
	data  []byte
}

// Replica is one member's copy of the CIB and its view of the group. It is
// not safe for concurrent use: the runtime feeds it from one goroutine (or
// under one lock).
type Replica struct {
	node uint32
	// uname is this node's name: its node_state's uname.
	uname  string
	self   Member
	cib    *cib.CIB
	digest string

	joined  bool
	members []Member
	round   string
	synced  bool
	// wasSynced is set at the end of this replica's first round: from
	// then on its own node_state is current, not a stale saved copy.
	wasSynced bool
	// offers holds the latest offer of every sender, whatever its round:
	// members see a merge as configuration changes at different places of
	// the order, so an offer for a round can arrive before this member has
	// reached that round.
	offers map[Member]offerMsg
	dc     uint32

	nextMsg uint64
	partial map[Member]*assembly
	// waiting are this member's applied changes by request, until every
	// other member applied them too (appliedMsg).
	waiting map[uint64]*awaiting
}

// NewReplica returns the replica of node starting from c (loaded from disk,
// or Empty). It is not a member of the group until Joined.
func NewReplica(node uint32, c *cib.CIB) *Replica {
	r := &Replica{node: node, partial: map[Member]*assembly{}, waiting: map[uint64]*awaiting{}}
	r.install(c)
	return r
}

// SetNodeName names this node as its node_state's uname, so that a merge
// of partitions takes this node's own status from it (see offerMsg.Own).
func (r *Replica) SetNodeName(uname string) { r.uname = uname }

func (r *Replica) install(c *cib.CIB) {
	r.cib = c
	sum := sha256.Sum256(cib.Marshal(c))
	r.digest = hex.EncodeToString(sum[:])
}

// CIB returns the current CIB. The caller must not modify it.
func (r *Replica) CIB() *cib.CIB { return r.cib }

// Digest is the SHA-256 of the current CIB's XML.
func (r *Replica) Digest() string { return r.digest }

// Members returns the members of the current group view, by node id.
func (r *Replica) Members() []Member { return slices.Clone(r.members) }

// DC returns the DC's node id, 0 while there is none (between the
// departure of the DC and the end of the following round, or while this
// member is not in the group).
func (r *Replica) DC() uint32 { return r.dc }

// Synced reports whether this member holds the CIB agreed in the current
// view, so that changes are being applied.
func (r *Replica) Synced() bool { return r.synced }

// Self is this member's identity while joined.
func (r *Replica) Self() (Member, bool) { return r.self, r.joined }

// Joined starts a membership of the group with the handle the messaging
// daemon gave; configuration changes follow.
func (r *Replica) Joined(handle uint64) {
	r.self = Member{Node: r.node, Handle: handle}
	r.joined = true
	r.members, r.round, r.synced, r.offers, r.dc = nil, "", false, map[Member]offerMsg{}, 0
	clear(r.partial)
	clear(r.waiting) // the runtime fails its waiters: applied or not is unknown
}

// Left ends the membership (the stream to the messaging daemon broke): the
// member sees no group, no DC, and refuses changes until it joins again.
func (r *Replica) Left() {
	r.joined = false
	r.members, r.round, r.synced, r.offers, r.dc = nil, "", false, map[Member]offerMsg{}, 0
	clear(r.partial)
	clear(r.waiting) // the runtime fails its waiters: applied or not is unknown
}

// ConfigurationChange installs a new member list of the group; view
// identifies the messaging view it came in. A sync round begins: this
// member offers its version.
func (r *Replica) ConfigurationChange(view string, members []Member) Ready {
	members = slices.Clone(members)
	slices.SortFunc(members, compareMembers)
	members = slices.Compact(members)
	// Forget what members that left had half sent; keep what senders not
	// yet seen as members sent (they are joining, see offers).
	for _, m := range r.members {
		if !slices.Contains(members, m) {
			delete(r.partial, m)
			delete(r.offers, m)
		}
	}
	r.members = members
	// Changes waiting for others' word are durable now: the members that
	// move with this one into the new view delivered the same messages in
	// the old one (virtual synchrony), so they applied them; the others
	// are gone.
	var done []Result
	for req, w := range r.waiting {
		done = append(done, Result{Req: req, Version: w.version})
	}
	clear(r.waiting)
	slices.SortFunc(done, func(a, b Result) int { return int(int64(a.Req) - int64(b.Req)) })
	var key strings.Builder
	key.WriteString(view)
	for _, m := range members {
		key.WriteString(" " + m.String())
	}
	r.round = key.String()
	r.synced = false
	if !r.hasNode(r.dc) {
		r.dc = 0
	}
	o := offerMsg{Round: r.round, Version: r.cib.Version, Digest: r.digest, DC: r.dc}
	if r.wasSynced && r.uname != "" {
		if ns := r.cib.Status.NodeState(r.uname); ns != nil {
			o.Own = cib.Marshal(&cib.CIB{Status: cib.Status{NodeStates: []*cib.NodeState{ns}}})
		}
	}
	return Ready{Send: r.encode(message{Offer: &o}), Results: done}
}

func compareMembers(a, b Member) int {
	if a.Node != b.Node {
		return int(int64(a.Node) - int64(b.Node))
	}
	switch {
	case a.Handle < b.Handle:
		return -1
	case a.Handle > b.Handle:
		return 1
	}
	return 0
}

func (r *Replica) hasNode(node uint32) bool {
	return node != 0 && slices.ContainsFunc(r.members, func(m Member) bool { return m.Node == node })
}

// Propose checks change against the current CIB (so that a change that
// cannot apply is refused before it is sent) and returns the payloads to
// multicast. The answer comes as a Result with req once the change is
// delivered back. The check is repeated when the change is applied in the
// group's order, where it decides.
func (r *Replica) Propose(req uint64, change Change) ([][]byte, error) {
	if err := r.Ready(); err != nil {
		return nil, err
	}
	if _, err := Apply(r.cib, change); err != nil {
		return nil, err
	}
	return r.Encode(req, change)
}

// Ready returns nil when this member takes changes: it is in the group and
// holds the group's CIB. Before, ErrNotMember or ErrSyncing (the CIB here
// may be older than the group's: checking a change against it could
// refuse a good one; the caller waits for Synced).
func (r *Replica) Ready() error {
	switch {
	case !r.joined:
		return ErrNotMember
	case !r.synced:
		return ErrSyncing
	}
	return nil
}

// Encode is Propose without the check, for a runtime that ran Apply on
// CIB() itself (outside its lock: an installed CIB is never modified).
func (r *Replica) Encode(req uint64, change Change) ([][]byte, error) {
	if err := r.Ready(); err != nil {
		return nil, err
	}
	return r.encode(message{Change: &changeMsg{Req: req, Change: change}}), nil
}

// Deliver handles one delivery of the group, in agreed order.
func (r *Replica) Deliver(from Member, payload []byte) (Ready, error) {
	msg, done, err := r.reassemble(from, payload)
	if err != nil || !done {
		return Ready{}, err
	}
	var m message
	if err := json.Unmarshal(msg, &m); err != nil {
		return Ready{}, fmt.Errorf("cibsvc: a malformed message from %s: %w", from, err)
	}
	switch {
	case m.Change != nil:
		return r.change(from, m.Change), nil
	case m.Offer != nil:
		return r.offer(from, *m.Offer), nil
	case m.Full != nil:
		return r.full(from, *m.Full)
	case m.Applied != nil:
		return r.applied(from, *m.Applied), nil
	}
	return Ready{}, fmt.Errorf("cibsvc: an empty message from %s", from)
}

func (r *Replica) change(from Member, m *changeMsg) Ready {
	var out Ready
	result := func(v cib.Version, err error) {
		if from == r.self {
			out.Results = append(out.Results, Result{Req: m.Req, Version: v, Err: err})
		}
	}
	if !r.synced {
		result(r.cib.Version, ErrSyncing)
		return out
	}
	next, err := Apply(r.cib, m.Change)
	if err != nil {
		result(r.cib.Version, err)
		return out
	}
	if next.Version == r.cib.Version {
		result(r.cib.Version, nil)
		return out
	}
	r.install(next)
	out.Save = next
	out.Applied = append(out.Applied, Applied{Version: next.Version, Origin: from, What: m.Change.Describe(), Req: m.Req})
	if from != r.self {
		// Saved before this is sent (the runtime saves first).
		out.Send = r.encode(message{Applied: &appliedMsg{Origin: from, Req: m.Req}})
		return out
	}
	w := &awaiting{version: next.Version, need: map[Member]bool{}}
	for _, mb := range r.members {
		if mb != r.self {
			w.need[mb] = true
		}
	}
	if len(w.need) == 0 {
		result(next.Version, nil)
	} else {
		r.waiting[m.Req] = w
	}
	return out
}

// applied counts a member's word that it applied one of this member's
// changes; the change is acknowledged once all others have.
func (r *Replica) applied(from Member, m appliedMsg) Ready {
	if m.Origin != r.self {
		return Ready{}
	}
	w := r.waiting[m.Req]
	if w == nil {
		return Ready{}
	}
	delete(w.need, from)
	if len(w.need) > 0 {
		return Ready{}
	}
	delete(r.waiting, m.Req)
	return Ready{Results: []Result{{Req: m.Req, Version: w.version}}}
}

func (r *Replica) offer(from Member, o offerMsg) Ready {
	r.offers[from] = o
	if o.Round != r.round || r.synced {
		return Ready{}
	}
	best, ok := r.decide()
	if !ok || best != r.self {
		return Ready{}
	}
	// Every member's offer for this round is in and this member has the
	// newest CIB: it ends the round for everyone with one message, so
	// that all members end it at the same place of the order. It carries
	// the CIB only when some member holds another.
	f := fullMsg{Round: r.round}
	if merged := r.withOwnStates(); merged != nil {
		f.XML = cib.Marshal(merged)
	} else {
		for _, m := range r.members {
			if of := r.offers[m]; of.Version != r.cib.Version || of.Digest != r.digest {
				f.XML = cib.Marshal(r.cib)
				break
			}
		}
	}
	return Ready{Send: r.encode(message{Full: &f})}
}

// withOwnStates returns this (winning) member's CIB with every other
// member's node_state replaced by the one that member offered, or nil when
// none differs. Each node knows best what ran on it: when partitions
// merge, the losing side's DC recorded what its nodes did (resources they
// stopped for want of quorum, failures), which the winning side's CIB
// cannot know; taking its status whole would show resources running where
// they stopped, and the DC would stop and restart them. Pacemaker gets the
// same from its join protocol, where each node sends its history. The
// version's num_updates grows by one so that the new content has a new
// version.
func (r *Replica) withOwnStates() *cib.CIB {
	var merged *cib.CIB
	for _, m := range r.members {
		of := r.offers[m]
		if m.Node == r.node || len(of.Own) == 0 {
			continue
		}
		own, err := cib.Unmarshal(of.Own)
		if err != nil || len(own.Status.NodeStates) != 1 || own.Status.NodeStates[0].Uname == "" {
			continue // a bad offer: keep what the winner has for that node
		}
		ns := own.Status.NodeStates[0]
		cur := r.cib.Status.NodeState(ns.Uname)
		if cur != nil && string(cib.Marshal(&cib.CIB{Status: cib.Status{NodeStates: []*cib.NodeState{cur}}})) == string(of.Own) {
			continue
		}
		if merged == nil {
			var err error
			if merged, err = cib.Unmarshal(cib.Marshal(r.cib)); err != nil {
				return nil
			}
			merged.Version.NumUpdates++
		}
		replaced := false
		for i, old := range merged.Status.NodeStates {
			if old.Uname == ns.Uname {
				merged.Status.NodeStates[i] = ns
				replaced = true
			}
		}
		if !replaced {
			merged.Status.NodeStates = append(merged.Status.NodeStates, ns)
		}
	}
	return merged
}

// decide returns the member whose CIB the round adopts: the newest
// version, ties to the lowest node id; ok is false until every member's
// offer for the current round is in.
func (r *Replica) decide() (best Member, ok bool) {
	for i, m := range r.members {
		of, has := r.offers[m]
		if !has || of.Round != r.round {
			return Member{}, false
		}
		if i == 0 || of.Version.Newer(r.offers[best].Version) {
			best = m
		}
	}
	return best, len(r.members) > 0
}

// full ends a round: every member adopts the CIB it carries (or keeps its
// own, when all were the same) and agrees on the DC.
func (r *Replica) full(from Member, f fullMsg) (Ready, error) {
	if f.Round != r.round || r.synced {
		return Ready{}, nil
	}
	best, ok := r.decide()
	if !ok || best != from {
		// Cannot happen when the group keeps its order; refuse rather
		// than adopt a CIB the rules did not choose.
		return Ready{}, fmt.Errorf("cibsvc: %s ended round %q, which it does not win here", from, f.Round)
	}
	r.synced = true
	r.wasSynced = true
	r.dc = r.chooseDC()
	for m, of := range r.offers {
		if of.Round == r.round {
			delete(r.offers, m)
		}
	}
	if len(f.XML) == 0 {
		return Ready{}, nil
	}
	c, err := cib.Unmarshal(f.XML)
	if err != nil {
		// Every member decodes the same bytes, so all keep their own CIB
		// alike; the next change of view tries again.
		return Ready{}, fmt.Errorf("cibsvc: the CIB of %s does not decode; keeping ours: %w", from, err)
	}
	before := r.digest
	r.install(c)
	if r.digest == before {
		return Ready{}, nil
	}
	return Ready{Save: c, Applied: []Applied{{Version: c.Version, Origin: from, What: "sync"}}}, nil
}

// chooseDC applies the DC rule to the offers of the round: the lowest of
// the DCs members held that is still a member (so the DC stays unless it
// left; after a merge of partitions the lower of their DCs), else the
// lowest node id.
func (r *Replica) chooseDC() uint32 {
	var dc uint32
	for _, m := range r.members {
		if of := r.offers[m]; r.hasNode(of.DC) && (dc == 0 || of.DC < dc) {
			dc = of.DC
		}
	}
	if dc == 0 {
		dc = r.members[0].Node
	}
	return dc
}

// encode returns the payloads of one message: whole, or in chunks.
func (r *Replica) encode(m message) [][]byte {
	body, err := json.Marshal(m)
	if err != nil {
		panic("cibsvc: encoding a message: " + err.Error()) // only plain data inside
	}
	if len(body) < ChunkSize {
		return [][]byte{append([]byte{frameWhole}, body...)}
	}
	r.nextMsg++
	n := (len(body) + ChunkSize - 1) / ChunkSize
	out := make([][]byte, 0, n)
	for i := range n {
		part := body[i*ChunkSize : min((i+1)*ChunkSize, len(body))]
		b := make([]byte, chunkHeader, chunkHeader+len(part))
		b[0] = frameChunk
		binary.BigEndian.PutUint64(b[1:], r.nextMsg)
		binary.BigEndian.PutUint32(b[9:], uint32(i))
		binary.BigEndian.PutUint32(b[13:], uint32(n))
		out = append(out, append(b, part...))
	}
	return out
}

// reassemble returns the message a payload completes, if any. A member's
// chunks arrive in its sending order (the runtime sends one message's
// chunks without interleaving, and the group keeps each sender's order).
func (r *Replica) reassemble(from Member, p []byte) ([]byte, bool, error) {
	if len(p) == 0 {
		return nil, false, fmt.Errorf("cibsvc: an empty payload from %s", from)
	}
	switch p[0] {
	case frameWhole:
		return p[1:], true, nil
	case frameChunk:
	default:
		return nil, false, fmt.Errorf("cibsvc: a payload of unknown kind %q from %s", p[0], from)
	}
	if len(p) < chunkHeader {
		return nil, false, fmt.Errorf("cibsvc: a short chunk from %s", from)
	}
	id := binary.BigEndian.Uint64(p[1:])
	i := binary.BigEndian.Uint32(p[9:])
	n := binary.BigEndian.Uint32(p[13:])
	a := r.partial[from]
	if i == 0 {
		a = &assembly{id: id, count: n}
		r.partial[from] = a
	}
	if a == nil || a.id != id || a.next != i || a.count != n {
		delete(r.partial, from)
		return nil, false, fmt.Errorf("cibsvc: chunk %d/%d of message %d from %s out of sequence", i, n, id, from)
	}
	a.data = append(a.data, p[chunkHeader:]...)
	a.next++
	if a.next < a.count {
		return nil, false, nil
	}
	delete(r.partial, from)
	return a.data, true, nil
}

// ViewKey formats a messaging view id for ConfigurationChange.
func ViewKey(epoch uint64, coordinator uint32) string {
	return strconv.FormatUint(epoch, 10) + "." + strconv.FormatUint(uint64(coordinator), 10)
}
