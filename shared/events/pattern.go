package events

import "strings"

// MatchPattern matches a document path such as
// "users/abc/daily_insights/2026-11-21" against a path pattern as used in
// Firestore trigger filters, segment by segment:
//
//   - a literal segment must be equal;
//   - "{name}" matches one segment and captures it as name;
//   - "*" matches one segment without capturing;
//   - "{name=**}" or "**", allowed only as the last segment, matches one or
//     more remaining segments ("{name=**}" captures them joined by '/').
//
// Leading and trailing slashes are ignored. It returns the captured
// parameters (an empty, non-nil map when there are none) and whether the path
// matched; a malformed pattern never matches.
func MatchPattern(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range ps {
		if p == "" {
			return nil, false
		}
		name, isParam := paramName(p)
		if isParam && name == "" {
			return nil, false
		}
		if rest, ok := strings.CutSuffix(name, "=**"); ok || p == "**" {
			if i != len(ps)-1 || i >= len(xs) || (ok && (rest == "" || !isParam)) {
				return nil, false
			}
			for _, x := range xs[i:] {
				if x == "" {
					return nil, false
				}
			}
			if ok {
				params[rest] = strings.Join(xs[i:], "/")
			}
			return params, true
		}
		if i >= len(xs) || xs[i] == "" {
			return nil, false
		}
		switch {
		case isParam:
			if strings.ContainsAny(name, "{}=*/") {
				return nil, false
			}
			params[name] = xs[i]
		case p == "*":
		case strings.ContainsAny(p, "{}"):
			return nil, false
		case p != xs[i]:
			return nil, false
		}
	}
	if len(xs) != len(ps) {
		return nil, false
	}
	return params, true
}

// paramName returns the text inside "{…}" and whether p is so enclosed.
func paramName(p string) (string, bool) {
	if len(p) >= 2 && p[0] == '{' && p[len(p)-1] == '}' {
		return p[1 : len(p)-1], true
	}
	return p, false
}
