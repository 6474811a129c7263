// Package cibsvc is the replicated CIB of vigil-crmd: every crmd of the
// cluster joins the process group "vigil-crm", changes to the CIB travel as
// messages of that group, and every member applies them in the group's
// agreed order, so all members of a view hold the same CIB.
//
// Replica is the protocol as a deterministic state machine, in the style of
// go.etcd.io/raft: the runtime feeds it the group's configuration changes
// and deliveries in agreed order and carries out the Ready it returns
// (multicast these payloads, save this CIB, answer these clients), in that
// order. It has no goroutines, clocks or I/O.
//
// After every configuration change the members exchange offers (their CIB
// version and digest, and whom they hold to be the DC); once every member's
// offer is in, the member with the newest CIB (Pacemaker's version order;
// ties to the lowest node id) ends the round with one message, carrying its
// CIB unless all already hold the same, and everyone adopts it there.
// Changes delivered while a round is under way are refused with
// ErrSyncing, which the runtime retries.
// docs/crm-cib.md explains the protocol and why.
package cibsvc
