// Package scheduler is Vigil's policy engine: Pacemaker's scheduler as a pure
// function from a CIB (configuration and status) and a time to a transition
// graph. Schedule unpacks the CIB into a working state (nodes, resources and
// what runs where), places every resource, creates the actions that move the
// cluster from where it is to where it should be with the orderings between
// them, and returns them as a Graph. Summary and Simulate format that result
// the way crm_simulate -S does.
//
// The package reads no clock and does no I/O: the time rules are evaluated
// against is Input.Now. It never panics on a CIB the codec accepted, and it
// terminates on colocation and ordering loops.
package scheduler
