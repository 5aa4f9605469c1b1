//go:build !strata_faultpoints

package faultpoint

import "time"

// Enabled reports whether this build has the fault points.
const Enabled = false

// Hit does nothing: this build has no fault points.
func Hit(string) {}

// Now is time.Now.
func Now() time.Time { return time.Now() }
