package cib

import "fmt"

// Version is the CIB version tuple. Pacemaker compares admin_epoch first,
// then epoch, then num_updates: the CIB with the greater tuple is newer.
type Version struct {
	AdminEpoch int64
	Epoch      int64
	NumUpdates int64
}

// Compare returns -1 when v is older than w, 0 when they are equal and +1
// when v is newer.
func (v Version) Compare(w Version) int {
	for _, p := range [][2]int64{{v.AdminEpoch, w.AdminEpoch}, {v.Epoch, w.Epoch}, {v.NumUpdates, w.NumUpdates}} {
		switch {
		case p[0] < p[1]:
			return -1
		case p[0] > p[1]:
			return 1
		}
	}
	return 0
}

// Newer reports whether v is newer than w.
func (v Version) Newer(w Version) bool { return v.Compare(w) > 0 }

// String formats v as Pacemaker prints it: "admin_epoch:epoch:num_updates".
func (v Version) String() string {
	return fmt.Sprintf("%d:%d:%d", v.AdminEpoch, v.Epoch, v.NumUpdates)
}
