package cibsvc

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// Sections are the names Replace accepts besides "" (the whole CIB): the
// element a replacement must be, and where it lives.
var Sections = []string{"configuration", "status", "crm_config", "nodes", "resources", "constraints", "rsc_defaults", "op_defaults", "fencing-topology", "acls", "alerts", "tags"}

// ValidateWith is the schema of the empty CIB a fresh node starts with, the
// same as `vigil configure` writes.
const ValidateWith = "pacemaker-3.7"

// Empty returns the CIB of a node that has none: no configuration, version
// 0:0:0. Any CIB a member of the group holds is newer and replaces it.
func Empty() *cib.CIB { return &cib.CIB{ValidateWith: ValidateWith} }

// Replacement replaces the whole CIB (Section "") or one section with XML.
type Replacement struct {
	Section string `json:"section,omitempty"`
	XML     []byte `json:"xml"`
	// Force accepts a whole CIB older than the current one (its version is
	// then the current one with the epoch bumped).
	Force bool `json:"force,omitempty"`
}

// Change is what a client asks of the CIB: a replacement or a patch,
// optionally conditional on the version it read.
type Change struct {
	// Expected, when set, makes the change fail with ErrVersionMismatch
	// unless the CIB is at exactly this version when the change is applied
	// in the group's order.
	Expected *cib.Version `json:"expected,omitempty"`
	Replace  *Replacement `json:"replace,omitempty"`
	Patch    *Patch       `json:"patch,omitempty"`
	// Stamp, when set, is written on the <cib> of a version the change
	// makes, as Pacemaker does; the member a client asked fills it in, so
	// that every member writes the same.
	Stamp *Stamp `json:"stamp,omitempty"`
}

// Stamp is who changed the CIB, when, through what and where: the
// cib-last-written, update-user, update-client and update-origin
// attributes crm_mon prints as "Last change: WHEN by USER via CLIENT on
// ORIGIN".
type Stamp struct {
	When   string `json:"when"`
	User   string `json:"user,omitempty"`
	Client string `json:"client,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// Describe is a short account of the change for logs and watchers.
func (c Change) Describe() string {
	switch {
	case c.Replace != nil && c.Replace.Section == "":
		return "replace cib"
	case c.Replace != nil:
		return "replace " + c.Replace.Section
	case c.Patch != nil:
		kinds := make([]string, 0, len(c.Patch.Ops))
		for _, op := range c.Patch.Ops {
			kinds = append(kinds, string(op.Kind)+" "+op.Target)
		}
		return "patch: " + strings.Join(kinds, ", ")
	}
	return "nothing"
}

// Apply computes the CIB that change makes of cur, with Pacemaker's version
// rules: a change of the configuration bumps epoch and
// resets num_updates; a change of anything else (the status) bumps
// num_updates; a change that changes nothing keeps the version. A whole CIB
// replacement that is newer keeps its own version (what was exported is
// what is imported). A result that does not decode, or that has a Verify
// error cur does not have, is refused with ErrInvalid. cur is not modified.
//
// Apply is deterministic: members holding the same CIB compute the same
// result, which is what keeps them identical.
func Apply(cur *cib.CIB, change Change) (*cib.CIB, error) {
	if change.Expected != nil && *change.Expected != cur.Version {
		return nil, fmt.Errorf("%w: the CIB is at version %s, the change expected %s (it changed since it was read; read it again)",
			ErrVersionMismatch, cur.Version, *change.Expected)
	}
	var next *cib.CIB
	var err error
	switch {
	case change.Replace != nil && change.Patch != nil:
		return nil, fmt.Errorf("%w: a change is a replacement or a patch, not both", ErrBadPatch)
	case change.Replace != nil && change.Replace.Section == "":
		next, err = replaceWhole(cur, *change.Replace)
	case change.Replace != nil:
		next, err = edit(cur, func(root *cib.Element) error { return replaceSection(root, change.Replace.Section, change.Replace.XML) })
	case change.Patch != nil:
		next, err = edit(cur, change.Patch.apply)
	default:
		return nil, fmt.Errorf("%w: an empty change", ErrBadPatch)
	}
	if err != nil {
		return nil, err
	}
	if err := newErrors(cur, next); err != nil {
		return nil, err
	}
	if st := change.Stamp; st != nil && next.Version != cur.Version {
		next.CIBLastWritten, next.UpdateUser, next.UpdateClient, next.UpdateOrigin = st.When, st.User, st.Client, st.Origin
	}
	return next, nil
}

func replaceWhole(cur *cib.CIB, r Replacement) (*cib.CIB, error) {
	next, err := cib.Unmarshal(r.XML)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch next.Version.Compare(cur.Version) {
	case 1:
		return next, nil
	case -1:
		if !r.Force {
			return nil, fmt.Errorf("%w: the replacement is at version %s, the cluster's CIB at %s; export the current CIB and edit that, or force",
				ErrOlder, next.Version, cur.Version)
		}
	}
	next.Version = cur.Version
	next.Version.Epoch++
	next.Version.NumUpdates = 0
	return next, nil
}

// edit applies f to a copy of cur's tree and versions the result.
func edit(cur *cib.CIB, f func(root *cib.Element) error) (*cib.CIB, error) {
	before := cur.Tree()
	root := cur.Tree()
	if err := f(root); err != nil {
		return nil, err
	}
	next, err := cib.FromTree(root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// Patches and section replacements cannot touch the version
	// attributes (applyOp refuses them), so the version is the service's.
	next.Version = cur.Version
	switch {
	case !bytes.Equal(sectionXML(before, "configuration"), sectionXML(root, "configuration")):
		next.Version.Epoch++
		next.Version.NumUpdates = 0
	case !bytes.Equal(cib.MarshalElement(before), cib.MarshalElement(root)):
		next.Version.NumUpdates++
	}
	return next, nil
}

func sectionXML(root *cib.Element, name string) []byte {
	for _, c := range root.Children {
		if c.Name == name {
			return cib.MarshalElement(c)
		}
	}
	return nil
}

// replaceSection puts the element in xml in place of the section of that
// name, creating it when missing.
func replaceSection(root *cib.Element, section string, xml []byte) error {
	if !slices.Contains(Sections, section) {
		return fmt.Errorf("%w: unknown section %q (known: %s)", ErrBadPatch, section, strings.Join(Sections, ", "))
	}
	e, err := parseOpXML(xml)
	if err != nil {
		return err
	}
	if e.Name != section {
		return fmt.Errorf("%w: replacing section %s needs a <%s> element, not <%s>", ErrInvalid, section, section, e.Name)
	}
	parent := root
	if section != "configuration" && section != "status" {
		parent = nil
		for _, c := range root.Children {
			if c.Name == "configuration" {
				parent = c
			}
		}
		if parent == nil {
			parent = &cib.Element{Name: "configuration"}
			root.Children = append(root.Children, parent)
		}
	}
	for i, c := range parent.Children {
		if c.Name == section {
			parent.Children[i] = e
			return nil
		}
	}
	parent.Children = append(parent.Children, e)
	return nil
}

// newErrors refuses next when Verify finds an error in it that cur does not
// have: a change may not make the CIB worse, but a CIB that already has an
// error (stonith-enabled without a device, say) can still be worked on.
func newErrors(cur, next *cib.CIB) error {
	old := map[string]bool{}
	for _, p := range cib.Verify(cur) {
		if p.Severity == cib.SeverityError {
			old[p.String()] = true
		}
	}
	var added []string
	for _, p := range cib.Verify(next) {
		if p.Severity == cib.SeverityError && !old[p.String()] {
			added = append(added, p.String())
		}
	}
	if len(added) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(added, "; "))
}
