package faulty

// Match reports whether path matches the glob pattern, in which '*' matches
// any run of characters (slashes included) and '?' any one character.
func Match(pattern, path string) bool {
	// The classic greedy match with one backtrack point: the last '*'.
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case star >= 0:
			mark++
			p, s = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
