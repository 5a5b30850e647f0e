package lines

import (
	"bytes"
	"errors"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vjeantet/grok"
)

// pattern is one configured grok expression, compiled for matching.
//
// grok's ParseToMultiMap runs the expanded expression and builds a map of
// every capture per line, the unnamed ones of built-in patterns included
// (an nginx combined line has 104). A pattern here is the same expression
// with only the captures that set a field left capturing, matched on the
// line's bytes; captures do not change what a regular expression matches,
// so the match and the fields' text are those grok gives.
type pattern struct {
	re       *regexp.Regexp // nil when grok matches this pattern itself
	bt       *backtracker   // runs re faster; nil when it cannot
	captures []capture      // in grok's key order (by capture name)
	literals [][]byte       // text every line an unanchored pattern matches contains
	grok     string         // the expression as handed to grok
	never    bool           // grok could never report a match (see compilePattern)
}

// capture is one field a pattern sets.
type capture struct {
	field  string
	groups []int // submatch numbers; the first non-empty one is the value
}

// compilePattern turns the grok expression expr, already compiled by g,
// into a pattern matched without grok. It reports false when it cannot
// reproduce grok exactly; grok then matches the pattern itself.
//
// keys holds the capture name each regexp group gets in grok's result map:
// grok turns a dotted name (request.client_ip) into a group name
// (request_client_ip) and back, across all the patterns it compiled.
func compilePattern(g *grok.Grok, expr string) (pattern, bool) {
	p := pattern{grok: expr}
	expanded, ok := expand(g, expr)
	if !ok {
		return p, false
	}
	full, err := regexp.Compile(expanded)
	if err != nil {
		return p, false
	}
	byKey := map[string][]int{} // grok key → original group numbers, in order
	for i, name := range full.SubexpNames() {
		if name == "" {
			continue
		}
		key, ok := grokKey(g, name)
		if !ok {
			return p, false
		}
		byKey[key] = append(byKey[key], i)
	}
	// ParseToMultiMap's result holds the marker's key exactly when the
	// expression matched; a pattern_definitions capture can rename it away.
	if _, ok := byKey[matched]; !ok {
		p.never = true
		return p, true
	}
	keep, kept := make([]bool, full.NumSubexp()+1), 0
	for _, key := range sortedKeys(byKey) {
		f := fieldOf(key)
		if f == "" {
			continue
		}
		p.captures = append(p.captures, capture{field: f, groups: byKey[key]})
		for _, i := range byKey[key] {
			keep[i] = true
			kept++
		}
	}
	rewritten, renumber, ok := stripCaptures(expanded, full.SubexpNames(), keep)
	if !ok {
		return pattern{grok: expr}, false
	}
	if p.re, err = regexp.Compile(rewritten); err != nil || p.re.NumSubexp() != kept {
		return pattern{grok: expr}, false
	}
	for i := range p.captures {
		for j, group := range p.captures[i].groups {
			p.captures[i].groups[j] = renumber[group]
		}
	}
	if tree, err := syntax.Parse(rewritten, syntax.Perl); err == nil {
		p.bt = newBacktracker(tree)
		if p.bt == nil || !p.bt.anchor {
			// An anchored search fails at the first byte no path can
			// read, mostly well before a search for the literals ends.
			p.literals = requiredLiterals(tree, nil)
		}
	}
	return p, true
}

// expand returns the regular expression grok compiles expr into. grok has
// no API for it, but regexp's syntax error for an unbalanced ")" quotes
// the whole expression: expr with ")" appended fails just there, after
// grok expanded every %{NAME} (an expansion never ends inside a %{…}).
func expand(g *grok.Grok, expr string) (string, bool) {
	_, err := g.ParseToMultiMap(expr+")", "")
	var se *syntax.Error
	if !errors.As(err, &se) || se.Code != syntax.ErrUnexpectedParen || !strings.HasSuffix(se.Expr, ")") {
		return "", false
	}
	return se.Expr[:len(se.Expr)-1], true
}

// grokKey returns the name grok reports a group's captures under: an
// expression made of just that (empty) group matches "", so its result
// has exactly that key.
func grokKey(g *grok.Grok, group string) (string, bool) {
	caps, err := g.ParseToMultiMap("(?P<"+group+">)", "")
	if err != nil || len(caps) != 1 {
		return "", false
	}
	for k := range caps {
		return k, true
	}
	return "", false
}

// stripCaptures rewrites the capturing groups of expr that keep does not
// mark as non-capturing ones, "(" or "(?P<name>" to "(?:". renumber maps
// an old group number to its new one. names (the regexp's SubexpNames)
// checks that the scan found each group: false if it did not.
func stripCaptures(expr string, names []string, keep []bool) (string, []int, bool) {
	var b strings.Builder
	b.Grow(len(expr) + len(names))
	renumber := make([]int, len(names))
	group, kept := 0, 0
	for i := 0; i < len(expr); {
		switch c := expr[i]; {
		case c == '\\' && strings.HasPrefix(expr[i:], `\Q`):
			end := strings.Index(expr[i+2:], `\E`)
			if end < 0 {
				end = len(expr) - i - 2
			} else {
				end += 2
			}
			b.WriteString(expr[i : i+2+end])
			i += 2 + end
		case c == '\\':
			n := min(2, len(expr)-i)
			b.WriteString(expr[i : i+n])
			i += n
		case c == '[':
			n := classLen(expr[i:])
			b.WriteString(expr[i : i+n])
			i += n
		case c == '(':
			name, n, capturing := groupOpen(expr[i:])
			if !capturing {
				b.WriteString(expr[i : i+n])
				i += n
				continue
			}
			group++
			if group >= len(names) || names[group] != name {
				return "", nil, false
			}
			if keep[group] {
				kept++
				renumber[group] = kept
				b.WriteString(expr[i : i+n])
			} else {
				b.WriteString("(?:")
			}
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
	if group != len(names)-1 {
		return "", nil, false
	}
	return b.String(), renumber, true
}

// groupOpen reads the opening of a group at s[0] == '(': the capture's
// name ("" for a plain "("), the opening's length, and whether it
// captures.
func groupOpen(s string) (name string, n int, capturing bool) {
	rest := s[1:]
	if !strings.HasPrefix(rest, "?") {
		return "", 1, true
	}
	for _, open := range []string{"?P<", "?<"} {
		if strings.HasPrefix(rest, open) {
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return "", 1, false
			}
			return rest[len(open):end], end + 2, true
		}
	}
	return "", 1, false
}

// classLen is the length of the character class at s[0] == '[', as
// regexp/syntax reads it: a "]" first (after "^") is a literal, "\" escapes
// the next byte, "[:name:]" is a named class.
func classLen(s string) int {
	i := 1
	if i < len(s) && s[i] == '^' {
		i++
	}
	for first := true; i < len(s); first = false {
		switch {
		case s[i] == ']' && !first:
			return i + 1
		case s[i] == '\\':
			i += 2
		case strings.HasPrefix(s[i:], "[:"):
			if end := strings.Index(s[i+2:], ":]"); end >= 0 {
				i += end + 4
			} else {
				i++
			}
		default:
			i++
		}
	}
	return len(s)
}

// requiredLiterals appends the literal texts that every match of re
// contains: a line lacking one of them cannot match, and bytes.Contains
// says so far sooner than the regexp engine.
func requiredLiterals(re *syntax.Regexp, dst [][]byte) [][]byte {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) < 2 || slices.Contains(re.Rune, utf8.RuneError) {
			return dst // case-folded, too short to pay off, or matching invalid UTF-8
		}
		lit := []byte(string(re.Rune))
		for _, have := range dst {
			if bytes.Contains(have, lit) {
				return dst
			}
		}
		return append(dst, lit)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			dst = requiredLiterals(sub, dst)
		}
	case syntax.OpCapture, syntax.OpPlus:
		dst = requiredLiterals(re.Sub[0], dst)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			dst = requiredLiterals(re.Sub[0], dst)
		}
	}
	return dst
}

// fieldValue is one captured value of a field, in the order grok's keys
// sort.
type fieldValue struct{ field, value string }

// values appends the fields a match of p sets. text is the line.
func (p *pattern) values(dst []fieldValue, text string, loc []int) []fieldValue {
	for _, c := range p.captures {
		v := ""
		for _, g := range c.groups {
			if a, b := loc[2*g], loc[2*g+1]; a >= 0 && b > a {
				v = text[a:b]
				break
			}
		}
		dst = append(dst, fieldValue{c.field, v})
	}
	return dst
}
