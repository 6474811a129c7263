package cib

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidDuration is returned by ParseDuration for a string that is not
// a Pacemaker duration.
var ErrInvalidDuration = errors.New("cib: invalid duration")

// durationUnits are the suffixes Pacemaker (crm_get_msec) accepts after a
// number; no suffix means seconds.
var durationUnits = map[string]time.Duration{
	"":     time.Second,
	"s":    time.Second,
	"sec":  time.Second,
	"ms":   time.Millisecond,
	"msec": time.Millisecond,
	"us":   time.Microsecond,
	"usec": time.Microsecond,
	"m":    time.Minute,
	"min":  time.Minute,
	"h":    time.Hour,
	"hr":   time.Hour,
}

// ParseDuration parses a duration as Pacemaker does for interval, timeout
// and the time-valued properties: a non-negative integer with an optional
// unit (ms msec us usec s sec m min h hr; none means seconds), spaces
// allowed around, or an ISO 8601 duration ("PT10S", "P1DT2H", "P2W"; a
// year counts 365 days and a month 30). The empty string is an error; the
// caller decides what absence means.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "P") {
		d, err := parseISODuration(t)
		if err != nil {
			return 0, fmt.Errorf("%w %q: %v", ErrInvalidDuration, s, err)
		}
		return d, nil
	}
	end := 0
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, fmt.Errorf("%w %q: want a number of seconds, a number with a unit (ms, s, m, h) or an ISO 8601 duration like PT10S", ErrInvalidDuration, s)
	}
	n, err := strconv.ParseInt(t[:end], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %q: number too large", ErrInvalidDuration, s)
	}
	unit, ok := durationUnits[strings.TrimSpace(t[end:])]
	if !ok {
		return 0, fmt.Errorf("%w %q: unknown unit %q (want ms, s, m or h)", ErrInvalidDuration, s, strings.TrimSpace(t[end:]))
	}
	if n > int64(1<<62)/int64(unit) {
		return 0, fmt.Errorf("%w %q: too long", ErrInvalidDuration, s)
	}
	return time.Duration(n) * unit, nil
}

// parseISODuration parses PnYnMnWnDTnHnMnS.
func parseISODuration(s string) (time.Duration, error) {
	rest := s[1:]
	if rest == "" {
		return 0, errors.New("no fields after P")
	}
	const day = 24 * time.Hour
	dateUnits := map[byte]time.Duration{'Y': 365 * day, 'M': 30 * day, 'W': 7 * day, 'D': day}
	timeUnits := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}
	var total time.Duration
	inTime := false
	fields := 0
	for len(rest) > 0 {
		if rest[0] == 'T' {
			if inTime {
				return 0, errors.New("T twice")
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return 0, errors.New("no fields after T")
			}
			continue
		}
		end := 0
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if end == 0 || end == len(rest) {
			return 0, errors.New("want a number followed by one of Y M W D, or H M S after T")
		}
		n, err := strconv.ParseInt(rest[:end], 10, 64)
		if err != nil || n > 1<<31 {
			return 0, errors.New("number too large")
		}
		units := dateUnits
		if inTime {
			units = timeUnits
		}
		unit, ok := units[rest[end]]
		if !ok {
			return 0, fmt.Errorf("unexpected %q", rest[end])
		}
		total += time.Duration(n) * unit
		fields++
		rest = rest[end+1:]
	}
	if fields == 0 {
		return 0, errors.New("no fields")
	}
	return total, nil
}
