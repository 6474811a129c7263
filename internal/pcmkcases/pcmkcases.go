// Package pcmkcases finds Pacemaker's scheduler regression cases that the
// tests compare Vigil's scheduler with: ../shared/pcmk-scheduler beside
// the repository, or /work/shared/pcmk-scheduler where a clone lives
// elsewhere (CI clones the repository into a directory of its own).
package pcmkcases

import (
	"errors"
	"os"
	"path/filepath"
)

// Dir returns the directory of the cases (holding xml/, summary/, exp/
// and score.py), starting the search for the module root at the working
// directory.
func Dir() (string, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pcmkcases: module root (go.mod) not found above the working directory")
		}
		dir = parent
	}
	beside := filepath.Join(filepath.Dir(dir), "shared", "pcmk-scheduler")
	if _, err := os.Stat(beside); err != nil {
		if _, err := os.Stat("/work/shared/pcmk-scheduler"); err == nil {
			return "/work/shared/pcmk-scheduler", nil
		}
	}
	return beside, nil
}
