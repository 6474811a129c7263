package scheduler

import (
	"github.com/vigil-ha/vigil/crmd/cib"
)

// ticketDep is one rsc_ticket: resource Rsc (in role Role, when set) may
// run only while Ticket is granted and not in standby; Loss says what
// happens to it where it runs when the ticket is revoked.
type ticketDep struct {
	id, ticket string
	rsc        *Resource
	role       string
	loss       string
}

// ticketState is a ticket's state from the status section (a ticket the
// status does not mention is not granted).
type ticketState struct {
	granted, standby bool
}

// ticketStates reads <status><tickets><ticket_state .../></tickets>.
func (cl *Cluster) ticketStates() map[string]ticketState {
	out := map[string]ticketState{}
	for _, e := range cl.CIB.Status.Unknown {
		if e.Name != "tickets" {
			continue
		}
		for _, t := range e.Children {
			if t.Name != "ticket_state" {
				continue
			}
			id, _ := t.Attr("id")
			g, _ := t.Attr("granted")
			s, _ := t.Attr("standby")
			out[id] = ticketState{granted: cib.IsTrue(g), standby: cib.IsTrue(s)}
		}
	}
	return out
}

// ticketDeps reads the rsc_ticket constraints (kept opaque by the CIB
// model), with their resource sets. The loss-policy defaults as
// Pacemaker's: demote for the Promoted role, stop otherwise; fence
// without fencing enabled becomes stop.
func (cl *Cluster) ticketDeps() []ticketDep {
	var out []ticketDep
	for _, c := range cl.CIB.Configuration.Constraints {
		e := c.Raw
		if e == nil || e.Name != "rsc_ticket" {
			continue
		}
		id, _ := e.Attr("id")
		ticket, _ := e.Attr("ticket")
		loss, _ := e.Attr("loss-policy")
		add := func(rscID, role string) {
			r := cl.byID[rscID]
			if r == nil || ticket == "" {
				return
			}
			role = cib.NormalizeRole(role)
			l := loss
			switch l {
			case "fence":
				if !cl.Options.StonithEnabled {
					l = "stop"
				}
			case "freeze", "demote", "stop":
			default:
				l = "stop"
				if role == RolePromoted {
					l = "demote"
				}
			}
			out = append(out, ticketDep{id: id, ticket: ticket, rsc: r, role: role, loss: l})
		}
		if rsc, ok := e.Attr("rsc"); ok {
			role, _ := e.Attr("rsc-role")
			add(rsc, role)
		}
		for _, set := range e.Children {
			if set.Name != "resource_set" {
				continue
			}
			role, _ := set.Attr("role")
			for _, ref := range set.Children {
				if ref.Name == "resource_ref" {
					rid, _ := ref.Attr("id")
					add(rid, role)
				}
			}
		}
	}
	return out
}

// applyTickets bans, freezes or fences what depends on a ticket that is
// not granted or in standby, as Pacemaker's rsc_ticket_constraint does for
// each primitive: a revoked ticket with the resource active applies the
// loss-policy (stop: ban everywhere; demote: ban unless the dependency is
// on the Promoted role, whose promotion is refused in promote; fence: ban
// and fence the nodes it runs on; freeze: leave it where it is, blocked);
// a resource not active, or a ticket in standby, is banned unless the
// dependency is on the Promoted role with a policy other than stop.
func (p *placement) applyTickets() {
	cl := p.cl
	deps := cl.ticketDeps()
	if len(deps) == 0 {
		return
	}
	states := cl.ticketStates()
	ban := func(q *Resource) {
		for _, n := range cl.Nodes {
			q.Allowed[n.Name] = -cib.Infinity
		}
	}
	for _, d := range deps {
		st := states[d.ticket]
		if st.granted && !st.standby {
			continue
		}
		p.revokedTickets = append(p.revokedTickets, d)
		for _, q := range d.rsc.primitives() {
			matches := d.role == "" || d.role == q.Role ||
				d.role == RoleUnpromoted && q.Role == RoleStarted
			switch {
			case !st.granted && len(q.Running) > 0:
				switch d.loss {
				case "stop":
					ban(q)
				case "demote":
					if d.role != RolePromoted {
						ban(q)
					}
				case "fence":
					if !matches {
						continue
					}
					ban(q)
					for _, n := range q.Running {
						cl.fenceNode(n, "deadman ticket was lost")
					}
				case "freeze":
					if matches {
						q.Managed = false
						q.Blocked = true
					}
				}
			case d.role != RolePromoted || d.loss == "stop":
				ban(q)
			}
		}
	}
}

// promotionRevoked reports whether a ticket the clone's Promoted role
// depends on is not granted or in standby: then nothing is promoted
// (pcmk__require_promotion_tickets).
func (p *placement) promotionRevoked(cl *Resource) bool {
	for _, d := range p.revokedTickets {
		if d.role == RolePromoted && (d.rsc == cl || d.rsc == cl.Parent) {
			return true
		}
	}
	return false
}
