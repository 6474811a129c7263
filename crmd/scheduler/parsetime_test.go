package scheduler

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	for _, s := range []string{
		"2026-11-22 13:00:00 +00:00", // crm_resource --lifetime
		"2026-11-22T13:00:00Z",
		"2026-11-22 13:00:00Z",
		"2026-11-22T15:00:00+02:00",
		"2026-11-22T15:00:00+0200",
		"2026-11-22T10:30:00-02:30",
		"2026-326T13:00:00",
		"20261122T1300",
	} {
		got, ok := ParseTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "tomorrow", "2026-11-22T13:00:00+2", "2026-11-22T13:00:00+ab:cd"} {
		if got, ok := ParseTime(s); ok {
			t.Errorf("ParseTime(%q) = %v, want an error", s, got)
		}
	}
}
