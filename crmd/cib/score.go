package cib

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Score is a Pacemaker score: an integer clamped to [-Infinity, +Infinity].
// Pacemaker's INFINITY is not a real infinity but 1000000, and arithmetic on
// scores saturates there; use Add, never +.
type Score int

// Infinity is Pacemaker's INFINITY (CRM_SCORE_INFINITY).
const Infinity Score = 1000000

// ErrInvalidScore is returned by ParseScore for a string that is not a
// score.
var ErrInvalidScore = errors.New("cib: invalid score")

// NodeScoreColors holds the values of the node-score-red, -yellow and -green
// cluster properties, which Pacemaker lets a score be written as. Their zero
// value is Pacemaker's default (all 0).
type NodeScoreColors struct {
	Red, Yellow, Green Score
}

// ParseScore parses a score strictly: "INFINITY", "+INFINITY", "-INFINITY"
// or a decimal integer with an optional sign, clamped to ±Infinity. The
// colour names "red", "yellow" and "green" (any case) give the values in
// colors (nil means all 0). Anything else, including trailing characters, is
// ErrInvalidScore; Verify reports such scores, and ScoreOf says what
// Pacemaker makes of them.
func ParseScore(s string, colors *NodeScoreColors) (Score, error) {
	switch s {
	case "INFINITY", "+INFINITY":
		return Infinity, nil
	case "-INFINITY":
		return -Infinity, nil
	}
	switch strings.ToLower(s) {
	case "red", "yellow", "green":
		if colors == nil {
			return 0, nil
		}
		return map[string]Score{"red": colors.Red, "yellow": colors.Yellow, "green": colors.Green}[strings.ToLower(s)], nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			if strings.HasPrefix(s, "-") {
				return -Infinity, nil
			}
			return Infinity, nil
		}
		return 0, fmt.Errorf("%w %q: want an integer, INFINITY, +INFINITY or -INFINITY", ErrInvalidScore, s)
	}
	return clamp(n), nil
}

// ScoreOf is what Pacemaker (char2score) makes of s: "" is 0, the infinity
// words and colours as in ParseScore, otherwise the leading integer (leading
// whitespace allowed, trailing characters ignored) clamped to ±Infinity, and
// 0 when there is no leading integer.
func ScoreOf(s string, colors *NodeScoreColors) Score {
	if v, err := ParseScore(s, colors); err == nil {
		return v
	}
	t := strings.TrimLeft(s, " \t\n\r\v\f")
	end := 0
	if end < len(t) && (t[end] == '+' || t[end] == '-') {
		end++
	}
	digits := end
	for end < len(t) && t[end] >= '0' && t[end] <= '9' {
		end++
	}
	if end == digits {
		return 0
	}
	if v, err := ParseScore(t[:end], nil); err == nil {
		return v
	}
	return 0
}

func clamp(n int64) Score {
	switch {
	case n >= int64(Infinity):
		return Infinity
	case n <= -int64(Infinity):
		return -Infinity
	}
	return Score(n)
}

// Add adds two scores as Pacemaker does (pcmk__add_scores): -Infinity wins
// over everything, including +Infinity; otherwise +Infinity wins; otherwise
// the sum clamped to ±Infinity.
func (s Score) Add(t Score) Score {
	switch {
	case s <= -Infinity || t <= -Infinity:
		return -Infinity
	case s >= Infinity || t >= Infinity:
		return Infinity
	}
	return clamp(int64(s) + int64(t))
}

// IsInfinite reports whether s is +Infinity or -Infinity (or beyond).
func (s Score) IsInfinite() bool { return s >= Infinity || s <= -Infinity }

// String formats s as Pacemaker writes it: "INFINITY", "-INFINITY" or the
// integer.
func (s Score) String() string {
	switch {
	case s >= Infinity:
		return "INFINITY"
	case s <= -Infinity:
		return "-INFINITY"
	}
	return strconv.Itoa(int(s))
}
