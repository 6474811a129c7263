// Package cib is Pacemaker's Cluster Information Base as typed Go: the
// configuration (cluster properties, nodes, resources, constraints, defaults,
// fencing topology) and the status (node states, transient attributes,
// operation history), its version tuple, Pacemaker's score arithmetic, a codec
// for Pacemaker's CIB XML (pacemaker-3.x schemas) and Verify, the checks of
// crm_verify.
//
// The model is plain data with no I/O. Attribute values are kept as the
// strings the XML carries (so that a configuration round-trips exactly and an
// invalid value can be reported by Verify rather than lost at decode); typed
// accessors (Score, Duration, IntervalMS, RCCode ...) interpret them with
// Pacemaker's rules. What the model does not know is kept, never dropped:
// unknown attributes in Extra, unknown child elements in Unknown, and whole
// sections the model keeps opaque (bundles, templates, tags, tickets, ACLs,
// alerts) as *Element trees.
package cib
