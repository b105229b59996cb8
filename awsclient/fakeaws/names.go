package fakeaws

import "strings"

// The shapes of the names the fake checks, as plain functions rather than
// regular expressions: every process that links the fake (every command)
// would compile those at start-up, and loading the state checks every key
// and alias with them.

// isKeyID reports whether s is a key ID: a UUID in lower-case hex,
// ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$.
func isKeyID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// isAliasName reports whether s is an alias name:
// ^alias/[a-zA-Z0-9/_-]+$.
func isAliasName(s string) bool {
	rest, ok := strings.CutPrefix(s, aliasPrefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isRegionName reports whether s has the shape of a region name,
// "us-east-1" or "us-gov-west-1": ^[a-z]+(-[a-z0-9]+)+$.
func isRegionName(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 2 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if !('a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
				return false
			}
		}
	}
	return true
}
