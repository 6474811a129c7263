package scheduler

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/crmd/cib"
)

// ruleEnv evaluates Pacemaker rules at a fixed time.
type ruleEnv struct {
	now time.Time
}

// setHolds reports whether every rule of a name/value block holds; blocks
// of meta attributes for resource r may use rsc_expression.
func (ev *ruleEnv) setHolds(s *cib.NVSet, r *cib.Resource) bool {
	for _, rule := range s.Rules {
		if !ev.ruleHolds(rule, nil, r, nil) {
			return false
		}
	}
	return true
}

// ruleHolds evaluates a rule against node attributes attrs (nil outside a
// location constraint), resource r and regexp submatches for %N.
func (ev *ruleEnv) ruleHolds(rule *cib.Rule, attrs map[string]string, r *cib.Resource, sub []string) bool {
	or := strings.EqualFold(rule.BooleanOp, "or")
	if len(rule.Conditions) == 0 {
		return true
	}
	for _, c := range rule.Conditions {
		var ok bool
		switch {
		case c.Expression != nil:
			ok = exprHolds(c.Expression, attrs, sub)
		case c.Date != nil:
			ok = ev.dateHolds(c.Date)
		case c.Rule != nil:
			ok = ev.ruleHolds(c.Rule, attrs, r, sub)
		case c.Resource != nil:
			ok = r != nil && (c.Resource.Class == "" || c.Resource.Class == r.Class) &&
				(c.Resource.Provider == "" || c.Resource.Provider == r.Provider) &&
				(c.Resource.Type == "" || c.Resource.Type == r.Type)
		case c.Op != nil:
			ok = false
		}
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
}

func expandSub(s string, sub []string) string {
	if len(sub) == 0 || !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			k := int(s[i+1] - '0')
			if k < len(sub) {
				b.WriteString(sub[k])
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func exprHolds(e *cib.Expression, attrs map[string]string, sub []string) bool {
	attr := expandSub(e.Attribute, sub)
	val, ok := attrs[attr]
	want := expandSub(e.Value, sub)
	switch e.Operation {
	case "defined":
		return ok
	case "not_defined":
		return !ok
	}
	if !ok {
		return false
	}
	typ := e.Type
	if typ == "" {
		// Pacemaker compares as numbers when both look like numbers and
		// the operation is an ordering.
		typ = "string"
		switch e.Operation {
		case "lt", "gt", "lte", "gte":
			if isNumber(val) && isNumber(want) {
				typ = "number"
			}
		}
	}
	cmp := 0
	switch typ {
	case "integer":
		a, err1 := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(want), 10, 64)
		if err1 != nil || err2 != nil {
			fa, e1 := strconv.ParseFloat(val, 64)
			fb, e2 := strconv.ParseFloat(want, 64)
			if e1 != nil || e2 != nil {
				return false
			}
			a, b = int64(fa), int64(fb)
		}
		cmp = cmpInt(a, b)
	case "number":
		a, err1 := strconv.ParseFloat(strings.TrimSpace(val), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(want), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		switch {
		case a < b:
			cmp = -1
		case a > b:
			cmp = 1
		}
	case "version":
		cmp = cmpVersion(val, want)
	default:
		cmp = strings.Compare(strings.ToLower(val), strings.ToLower(want))
		if e.Operation == "eq" || e.Operation == "ne" {
			cmp = strings.Compare(val, want)
			if strings.EqualFold(val, want) {
				cmp = 0
			}
		}
	}
	switch e.Operation {
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpVersion(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int64
		if i < len(as) {
			x, _ = strconv.ParseInt(as[i], 10, 64)
		}
		if i < len(bs) {
			y, _ = strconv.ParseInt(bs[i], 10, 64)
		}
		if c := cmpInt(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// ParseTime parses the ISO 8601 forms Pacemaker accepts for dates:
// "2005-02-01", "2005-02-01 12:30:00", "2005-02-01T12:30", ordinal
// "2005-020T12:30" and week dates are not supported beyond these.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	s = strings.Replace(s, " ", "T", 1)
	date, clock, _ := strings.Cut(s, "T")
	var t time.Time
	if d, err := time.Parse("2006-01-02", date); err == nil {
		t = d
	} else if len(date) == 8 && !strings.Contains(date, "-") {
		d, err := time.Parse("20060102", date)
		if err != nil {
			return time.Time{}, false
		}
		t = d
	} else if y, doy, ok := strings.Cut(date, "-"); ok && len(doy) == 3 {
		yy, err1 := strconv.Atoi(y)
		dd, err2 := strconv.Atoi(doy)
		if err1 != nil || err2 != nil {
			return time.Time{}, false
		}
		t = time.Date(yy, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, dd-1)
	} else {
		return time.Time{}, false
	}
	var offset time.Duration
	if clock != "" {
		// The offset from UTC: Z, +hh, +hh:mm or +hhmm, also after a
		// space, as crm_resource --lifetime writes "2026-11-22 13:00:00
		// +00:00". Times are compared in UTC.
		clock = strings.TrimSpace(strings.TrimSuffix(clock, "Z"))
		if i := strings.IndexAny(clock, "+-"); i >= 0 {
			off, ok := parseUTCOffset(clock[i:])
			if !ok {
				return time.Time{}, false
			}
			offset = off
			clock = strings.TrimSpace(clock[:i])
		}
		parts := strings.Split(clock, ":")
		mult := []time.Duration{time.Hour, time.Minute, time.Second}
		for i, p := range parts {
			if i >= 3 {
				break
			}
			if len(p) >= 4 && i == 0 && len(parts) == 1 {
				// hhmm or hhmmss
				h, _ := strconv.Atoi(p[:2])
				m, _ := strconv.Atoi(p[2:4])
				t = t.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				break
			}
			n, err := strconv.Atoi(p)
			if err != nil {
				return time.Time{}, false
			}
			t = t.Add(time.Duration(n) * mult[i])
		}
	}
	return t.Add(-offset), true
}

// parseUTCOffset reads "+hh", "+hh:mm" or "+hhmm" (or with "-").
func parseUTCOffset(s string) (time.Duration, bool) {
	sign := time.Duration(1)
	if s[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(s[1:], ":", "")
	if len(digits) != 2 && len(digits) != 4 {
		return 0, false
	}
	h, err := strconv.Atoi(digits[:2])
	if err != nil {
		return 0, false
	}
	m := 0
	if len(digits) == 4 {
		if m, err = strconv.Atoi(digits[2:]); err != nil {
			return 0, false
		}
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), true
}

func addDuration(t time.Time, d *cib.DateSpec) time.Time {
	if d == nil {
		return t
	}
	for _, f := range d.Fields {
		n, _ := strconv.Atoi(f.Value)
		switch f.Name {
		case "years":
			t = t.AddDate(n, 0, 0)
		case "months":
			t = t.AddDate(0, n, 0)
		case "weeks":
			t = t.AddDate(0, 0, 7*n)
		case "days":
			t = t.AddDate(0, 0, n)
		case "hours":
			t = t.Add(time.Duration(n) * time.Hour)
		case "minutes":
			t = t.Add(time.Duration(n) * time.Minute)
		case "seconds":
			t = t.Add(time.Duration(n) * time.Second)
		}
	}
	return t
}

func (ev *ruleEnv) dateHolds(d *cib.DateExpression) bool {
	now := ev.now
	switch d.Operation {
	case "gt":
		s, ok := ParseTime(d.Start)
		return ok && now.After(s)
	case "lt":
		e, ok := ParseTime(d.End)
		return ok && now.Before(e)
	case "date_spec":
		return dateSpecHolds(d.DateSpec, now)
	default: // in_range
		if d.Start != "" {
			s, ok := ParseTime(d.Start)
			if !ok || now.Before(s) {
				return false
			}
		}
		if d.End != "" {
			e, ok := ParseTime(d.End)
			if !ok || now.After(e) {
				return false
			}
		} else if d.Duration != nil {
			s, _ := ParseTime(d.Start)
			if now.After(addDuration(s, d.Duration)) {
				return false
			}
		}
		return d.Start != "" || d.End != ""
	}
}

func inRange(spec string, v int) bool {
	lo, hi, isRange := strings.Cut(spec, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return false
	}
	if !isRange {
		return v == a
	}
	b, err := strconv.Atoi(strings.TrimSpace(hi))
	if err != nil {
		return false
	}
	return v >= a && v <= b
}

func dateSpecHolds(ds *cib.DateSpec, now time.Time) bool {
	if ds == nil {
		return false
	}
	yw, wk := now.ISOWeek()
	wd := int(now.Weekday())
	if wd == 0 {
		wd = 7
	}
	for _, f := range ds.Fields {
		var v int
		switch f.Name {
		case "hours":
			v = now.Hour()
		case "minutes":
			v = now.Minute()
		case "seconds":
			v = now.Second()
		case "monthdays":
			v = now.Day()
		case "weekdays":
			v = wd
		case "yeardays":
			v = now.YearDay()
		case "months":
			v = int(now.Month())
		case "weeks":
			v = wk
		case "years":
			v = now.Year()
		case "weekyears":
			v = yw
		case "moon":
			continue
		default:
			continue
		}
		if !inRange(f.Value, v) {
			return false
		}
	}
	return true
}

// matchPattern matches a rsc-pattern against an id; it returns the
// submatches or nil.
func matchPattern(pat, id string) []string {
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil
	}
	return re.FindStringSubmatch(id)
}
