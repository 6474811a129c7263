package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ha/vigil/crmd/cib"
	"github.com/vigil-ha/vigil/crmd/cibclient"
	"github.com/vigil-ha/vigil/crmd/cibsvc"
)

// errNoChange is returned by a mutation that finds nothing to do.
var errNoChange = errors.New("nothing to change")

// liveRetries bounds how often a live change is redone because the CIB
// moved on between the read and the commit (the DC writes the status all
// the time).
const liveRetries = 50

// changeLive reads the cluster's CIB, lets mutate change a copy and
// commits the sections it changed as one patch, conditional on the
// version read. When the CIB moved on meanwhile, it reads it again and
// redoes mutate, so the change is never made on a stale copy. A mutate
// that returns errNoChange commits nothing and is not an error. It
// returns the version committed (or read).
func changeLive(ctx context.Context, g *globalFlags, what string, mutate func(*cib.CIB) error) (cib.Version, error) {
	var out cib.Version
	err := withCIB(ctx, g, func(ctx context.Context, cl *cibclient.Client) error {
		for attempt := 0; ; attempt++ {
			cur, err := cl.Query(ctx)
			if err != nil {
				return err
			}
			next, err := cib.Unmarshal(cib.Marshal(cur))
			if err != nil {
				return err
			}
			if err := mutate(next); errors.Is(err, errNoChange) {
				out = cur.Version
				return nil
			} else if err != nil {
				return err
			}
			p := sectionPatch(cur, next)
			if len(p.Ops) == 0 {
				out = cur.Version
				return nil
			}
			v, err := cl.Patch(ctx, p, &cur.Version)
			if cibclient.IsVersionMismatch(err) && attempt < liveRetries {
				continue
			}
			out = v
			return err
		}
	})
	if err != nil {
		return cib.Version{}, userError(what, err)
	}
	return out, nil
}

// userError words an error of a mutation or of vigil-crmd.
func userError(what string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return &exitError{code: 1, err: fmt.Errorf("%s: %w", what, err)}
	}
	return crmdError(what, err)
}

// usageError is a mutation's refusal that names the user's mistake (an
// unknown resource or node).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// sectionPatch is the patch that replaces the sections of cur that differ
// in next (configuration, status).
func sectionPatch(cur, next *cib.CIB) cibsvc.Patch {
	var p cibsvc.Patch
	for _, name := range []string{"configuration", "status"} {
		a, b := sectionOf(cur, name), sectionOf(next, name)
		if !bytes.Equal(a, b) && b != nil {
			p.Ops = append(p.Ops, cibsvc.Op{Kind: cibsvc.OpReplace, Target: "/cib/" + name, XML: b})
		}
	}
	return p
}

func sectionOf(c *cib.CIB, name string) []byte {
	for _, e := range c.Tree().Children {
		if e.Name == name {
			return cib.MarshalElement(e)
		}
	}
	return nil
}

// setNVPair sets name=value in the first block of sets, creating the
// block with id setID when there is none; ids follow crm_attribute
// (SETID-NAME).
func setNVPair(sets *[]*cib.NVSet, setID, name, value string) {
	if len(*sets) == 0 {
		*sets = append(*sets, &cib.NVSet{ID: setID})
	}
	for _, s := range *sets {
		for _, p := range s.Pairs {
			if p.Name == name {
				p.Value = value
				return
			}
		}
	}
	s := (*sets)[0]
	s.Pairs = append(s.Pairs, &cib.NVPair{ID: s.ID + "-" + name, Name: name, Value: value})
}
