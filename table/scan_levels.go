package table

// WithAllLevels makes the scan merge every level, level 0 included, even for
// tables whose batch scans skip level 0 (deletion vectors, first-row; see
// skipLevel0). Such a scan returns the table's state at the snapshot as a
// full compaction would leave it, rather than what Paimon's batch reader
// returns; deletion vectors still apply to the files they mark. Other
// tables read the same with or without it.
func WithAllLevels() ScanOption { return func(s *Scan) { s.allLevels = true } }

// skipsLevel0 reports whether this scan leaves level-0 files out.
func (s *Scan) skipsLevel0() bool { return s.t.skipLevel0() && !s.allLevels }
