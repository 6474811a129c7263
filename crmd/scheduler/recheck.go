package scheduler

import (
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// NextDateBoundary is the earliest time after now at which a date
// expression of a location rule changes its value (the start or end of a
// gt, lt or in_range, such as a constraint of `resource move --lifetime`),
// so that the DC runs the scheduler then rather than at the next
// cluster-recheck-interval, as Pacemaker 2.x does. ok is false when no
// rule has a boundary ahead. date_spec expressions (recurring windows) are
// left to cluster-recheck-interval.
func NextDateBoundary(c *cib.CIB, now time.Time) (next time.Time, ok bool) {
	consider := func(s string) {
		if t, good := ParseTime(s); good && t.After(now) && (!ok || t.Before(next)) {
			next, ok = t, true
		}
	}
	var walk func(r *cib.Rule)
	walk = func(r *cib.Rule) {
		for _, cond := range r.Conditions {
			switch {
			case cond.Rule != nil:
				walk(cond.Rule)
			case cond.Date != nil:
				d := cond.Date
				consider(d.Start)
				consider(d.End)
				if d.Operation == "in_range" && d.End == "" && d.Duration != nil {
					if s, good := ParseTime(d.Start); good {
						if e := addDuration(s, d.Duration); e.After(now) && (!ok || e.Before(next)) {
							next, ok = e, true
						}
					}
				}
			}
		}
	}
	for _, k := range c.Configuration.Constraints {
		if k.Location == nil {
			continue
		}
		for _, r := range k.Location.Rules {
			walk(r)
		}
	}
	return next, ok
}
