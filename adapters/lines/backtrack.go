// Derived from Go's regexp/backtrack.go: Copyright 2015 The Go Authors.
// All rights reserved. Use of that source code is governed by a BSD-style
// license that can be found at https://go.dev/LICENSE.

package lines

import (
	"bytes"
	"regexp/syntax"
	"sync"
	"unicode/utf8"
)

// backtracker runs a compiled regular expression the way package regexp's
// bounded backtracker does (regexp/backtrack.go, which this follows), for
// programs of any size.
//
// regexp backtracks only for programs of at most 500 instructions and
// otherwise runs its NFA, which steps every live thread in parallel and
// copies capture arrays between them. An expanded grok expression has
// thousands (IPORHOST and IP carry all of IPv6), so an access-log line
// would always take the NFA. The backtracker explores alternatives in
// priority order and stops at the first match: the leftmost-first match
// regexp returns, with the same submatches (regexp itself switches
// between the two engines freely). It visits each (instruction, position)
// pair at most once, so it stays linear in the line's length.
//
// What it adds to regexp's backtracker only skips paths that fail, so the
// first path that matches, and its submatches, stay the same:
//   - a branch of an alternation whose first byte cannot be the next one
//     is not taken (firsts), so a loop like \S+ or .*? pushes no
//     backtracking job per byte, only where its exit could match;
//   - only instructions with more than one way in are recorded as visited
//     (visit): the others are reached again only through their one
//     predecessor, which is recorded, and every cycle has a recorded entry;
//   - ASCII bytes are matched against a bitmap, not the rune ranges;
//   - a loop over one character class (\S+, [^ ]*, .*?) runs in one
//     tight loop (repeat), and literal text is compared at once (lit);
//   - an unanchored search starts only where the program's first byte fits.
//
// The visited bitmap is instruction-major, so a loop's positions share
// words; it is cleared word by word where it was written, not whole.
type backtracker struct {
	prog   *syntax.Prog
	insts  []btInst
	lits   []literal
	sets   []byteSet // the firsts, each once
	start  uint32
	anchor bool // the program can only match at the start of the text
	ncap   int
	nvisit int // instructions with a visited bit per position
	states sync.Pool
}

// btInst is a program instruction as the backtracker runs it, kept small
// (32 bytes): an expanded grok program has thousands, visited in jumps.
type btInst struct {
	op       syntax.InstOp
	loop     loopKind // set on an InstAlt that repeats one rune instruction: see backtracker.repeat
	visit    int32    // index among the visited instructions; -1 when there is one way in
	out, arg uint32
	// first is the index in sets of what a path from here can read
	// first (for a rune instruction: exactly its ASCII bytes); outFirst
	// and argFirst are those of an InstAlt's branches.
	first, outFirst, argFirst uint32
	// lit, on an InstRune1 that starts a run of ASCII InstRune1s (the
	// later ones with one way in), is 1 + the index of the run in
	// backtracker.lits: the run reads its text or fails as a whole.
	lit uint32
}

// literal is a run of ASCII InstRune1s: its text and the instruction after.
type literal struct {
	text []byte
	out  uint32
}

// loopKind says which branch of a loop's InstAlt repeats the body.
type loopKind uint8

const (
	noLoop loopKind = iota
	greedy
	lazy
)

// byteSet holds symbols 0–255 (bytes) and endOfText.
type byteSet [5]uint64

const endOfText = 256

func (b *byteSet) has(sym int) bool { return b[sym>>6]&(1<<(sym&63)) != 0 }
func (b *byteSet) add(sym int)      { b[sym>>6] |= 1 << (sym & 63) }
func (b *byteSet) union(o *byteSet) { // reports nothing; callers compare
	for i := range b {
		b[i] |= o[i]
	}
}

// maxVisited bounds a backtracker's bitmap (visited instructions ×
// (len(line)+1) bits) for one line; a longer line goes to regexp.
const maxVisited = 8 << 20

// newBacktracker compiles re (already parsed; it is simplified here as
// regexp.Compile does); nil when the program uses an instruction the
// backtracker does not know.
func newBacktracker(re *syntax.Regexp) *backtracker {
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	for _, inst := range prog.Inst {
		switch inst.Op {
		case syntax.InstAlt, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL,
			syntax.InstCapture, syntax.InstEmptyWidth, syntax.InstNop, syntax.InstMatch, syntax.InstFail:
		default:
			return nil
		}
	}
	bt := &backtracker{
		start:  uint32(prog.Start),
		anchor: prog.StartCond()&syntax.EmptyBeginText != 0,
		ncap:   prog.NumCap,
		insts:  make([]btInst, len(prog.Inst)),
		prog:   prog,
	}
	for pc := range prog.Inst {
		in := &prog.Inst[pc]
		bt.insts[pc] = btInst{op: in.Op, out: in.Out, arg: in.Arg}
	}
	bt.markVisited(prog)
	bt.internFirsts(firsts(prog))
	bt.markLoops()
	bt.markLiterals()
	return bt
}

// markVisited numbers the instructions with more than one way in (the
// start counting as one): only they need a visited bit.
func (bt *backtracker) markVisited(prog *syntax.Prog) {
	ways := make([]int, len(prog.Inst))
	ways[prog.Start]++
	for _, in := range prog.Inst {
		switch in.Op {
		case syntax.InstMatch, syntax.InstFail:
			continue
		case syntax.InstAlt:
			ways[in.Arg]++
		}
		ways[in.Out]++
	}
	for pc := range bt.insts {
		bt.insts[pc].visit = -1
		if ways[pc] > 1 {
			bt.insts[pc].visit = int32(bt.nvisit)
			bt.nvisit++
		}
	}
}

// asciiMatches is the bitmap of ASCII bytes a rune instruction matches.
func asciiMatches(in *syntax.Inst) [2]uint64 {
	var m [2]uint64
	for c := range rune(utf8.RuneSelf) {
		if isRuneOp(in.Op) && matchRune(in, c) {
			m[c>>6] |= 1 << (c & 63)
		}
	}
	return m
}

func isRuneOp(op syntax.InstOp) bool {
	return op == syntax.InstRune || op == syntax.InstRune1 || op == syntax.InstRuneAny || op == syntax.InstRuneAnyNotNL
}

// matchRune is regexp's test of a rune instruction on r (never -1 here).
func matchRune(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune:
		return in.MatchRune(r)
	case syntax.InstRune1:
		return r == in.Rune[0]
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return true // InstRuneAny
}

// firsts computes, for every instruction, the symbols a path from it can
// read first: a superset (an empty-width test counts as passing, any
// non-ASCII byte as fitting a rune instruction), so that a symbol outside
// it proves every path from there fails at once. It iterates to a fixed
// point because empty-width paths can loop.
func firsts(prog *syntax.Prog) []byteSet {
	sets := make([]byteSet, len(prog.Inst))
	for pc := range prog.Inst {
		sets[pc] = ownFirsts(&prog.Inst[pc])
	}
	for changed := true; changed; {
		changed = false
		for pc := len(prog.Inst) - 1; pc >= 0; pc-- {
			in := &prog.Inst[pc]
			next := sets[pc]
			switch in.Op {
			case syntax.InstAlt:
				next.union(&sets[in.Out])
				next.union(&sets[in.Arg])
			case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
				next.union(&sets[in.Out])
			}
			if next != sets[pc] {
				sets[pc], changed = next, true
			}
		}
	}
	return sets
}

// ownFirsts is what an instruction reads itself: a rune instruction its
// bytes, Match anything and the end of the text.
func ownFirsts(in *syntax.Inst) byteSet {
	var s byteSet
	switch {
	case in.Op == syntax.InstMatch:
		for i := range s {
			s[i] = ^uint64(0)
		}
	case isRuneOp(in.Op):
		m := asciiMatches(in)
		s[0], s[1] = m[0], m[1]
		if in.Op != syntax.InstRune1 || in.Rune[0] >= utf8.RuneSelf {
			s[2], s[3] = ^uint64(0), ^uint64(0) // a multi-byte rune, or an invalid byte read as U+FFFD
		}
	}
	return s
}

// internFirsts stores each distinct set once and points the instructions
// at theirs.
func (bt *backtracker) internFirsts(sets []byteSet) {
	index := map[byteSet]uint32{}
	id := func(s byteSet) uint32 {
		i, ok := index[s]
		if !ok {
			i = uint32(len(bt.sets))
			index[s] = i
			bt.sets = append(bt.sets, s)
		}
		return i
	}
	for pc := range bt.insts {
		in := &bt.insts[pc]
		in.first = id(sets[pc])
		if in.op == syntax.InstAlt {
			in.outFirst, in.argFirst = id(sets[in.out]), id(sets[in.arg])
		}
	}
}

// markLoops finds the InstAlts that repeat a single rune instruction.
func (bt *backtracker) markLoops() {
	loopsTo := func(pc, body uint32) bool {
		return isRuneOp(bt.insts[body].op) && bt.insts[body].out == pc
	}
	for pc := range bt.insts {
		in := &bt.insts[pc]
		switch {
		case in.op != syntax.InstAlt:
		case loopsTo(uint32(pc), in.out):
			in.loop = greedy
		case loopsTo(uint32(pc), in.arg):
			in.loop = lazy
		}
	}
}

// markLiterals finds the runs of ASCII InstRune1s (literal text) that
// need no visited bit past their first instruction.
func (bt *backtracker) markLiterals() {
	ascii1 := func(pc uint32) bool {
		in := &bt.insts[pc]
		return in.op == syntax.InstRune1 && bt.prog.Inst[pc].Rune[0] < utf8.RuneSelf
	}
	for pc := range bt.insts {
		if !ascii1(uint32(pc)) {
			continue
		}
		in := &bt.insts[pc]
		lit, next := []byte{byte(bt.prog.Inst[pc].Rune[0])}, in.out
		for ascii1(next) && bt.insts[next].visit < 0 && len(lit) < len(bt.insts) {
			lit = append(lit, byte(bt.prog.Inst[next].Rune[0]))
			next = bt.insts[next].out
		}
		if len(lit) > 1 {
			bt.lits = append(bt.lits, literal{lit, next})
			in.lit = uint32(len(bt.lits))
		}
	}
}

// fits says whether a line of n bytes stays within maxVisited.
func (bt *backtracker) fits(n int) bool {
	return bt.nvisit*(n+1) <= maxVisited
}

// btJob is a path to resume: at pc from pos, or (restore) putting
// register insts[pc].arg back to pos.
type btJob struct {
	pc      uint32
	restore bool
	pos     int
}

// btState is one match's working memory, pooled.
type btState struct {
	visited  []uint32
	touched  []int // words of visited written since the last reset
	jobs     []btJob
	cap      []int
	matchcap []int
	stride   int // len(input)+1: bits per visited instruction
	input    []byte
}

func (bt *backtracker) state(input []byte) *btState {
	s, _ := bt.states.Get().(*btState)
	if s == nil {
		s = &btState{cap: make([]int, bt.ncap), matchcap: make([]int, bt.ncap)}
	}
	words := (bt.nvisit*(len(input)+1) + 31) / 32
	if len(s.visited) < words {
		s.visited = make([]uint32, words)
		s.touched = s.touched[:0]
	}
	for _, w := range s.touched {
		s.visited[w] = 0
	}
	s.touched = s.touched[:0]
	s.jobs = s.jobs[:0]
	s.input, s.stride = input, len(input)+1
	for i := range s.cap {
		s.cap[i], s.matchcap[i] = -1, -1
	}
	return s
}

// release returns s to the pool; the caller no longer reads s.matchcap.
func (bt *backtracker) release(s *btState) {
	s.input = nil
	bt.states.Put(s)
}

// find returns the state holding the submatch positions of the leftmost
// match in s.matchcap (as regexp.FindSubmatchIndex), or nil for none; the
// caller releases it.
func (bt *backtracker) find(input []byte) *btState {
	s := bt.state(input)
	if bt.anchor {
		s.cap[0] = 0
		if bt.try(s, 0) {
			return s
		}
		bt.release(s)
		return nil
	}
	first := &bt.sets[bt.insts[bt.start].first]
	for pos, width := 0, -1; pos <= len(input) && width != 0; pos += width {
		if first.has(s.symbol(pos)) {
			s.cap[0] = pos
			if bt.try(s, pos) {
				return s
			}
		}
		width = 1
		if pos == len(input) {
			width = 0
		} else if input[pos] >= utf8.RuneSelf {
			_, width = utf8.DecodeRune(input[pos:])
		}
	}
	bt.release(s)
	return nil
}

// symbol is the byte at pos, or endOfText.
func (s *btState) symbol(pos int) int {
	if pos < len(s.input) {
		return int(s.input[pos])
	}
	return endOfText
}

// shouldVisit records (visit, pos) and says whether it was new.
func (s *btState) shouldVisit(visit int32, pos int) bool {
	n := uint(int(visit)*s.stride + pos) // an instruction's positions side by side, as a loop reads them
	w, bit := n/32, uint32(1)<<(n&31)
	if s.visited[w]&bit != 0 {
		return false
	}
	if s.visited[w] == 0 {
		s.touched = append(s.touched, int(w))
	}
	s.visited[w] |= bit
	return true
}

// context is the empty-width context at pos (^ $ \A \z \b \B).
func (s *btState) context(pos int) syntax.EmptyOp {
	r1, r2 := rune(-1), rune(-1)
	if uint(pos-1) < uint(len(s.input)) {
		r1, _ = utf8.DecodeLastRune(s.input[:pos])
	}
	if uint(pos) < uint(len(s.input)) {
		r2, _ = utf8.DecodeRune(s.input[pos:])
	}
	return syntax.EmptyOpContext(r1, r2)
}

// readRune matches the rune instruction at pc at pos and returns the
// position after the rune, or -1.
func (bt *backtracker) readRune(s *btState, pc uint32, pos int) int {
	if pos >= len(s.input) {
		return -1
	}
	if c := s.input[pos]; c < utf8.RuneSelf {
		if !bt.sets[bt.insts[pc].first].has(int(c)) {
			return -1
		}
		return pos + 1
	}
	r, width := utf8.DecodeRune(s.input[pos:])
	if !matchRune(&bt.prog.Inst[pc], r) {
		return -1
	}
	return pos + width
}

// alt takes the branches of an InstAlt at pos that can read the symbol
// there: in.out first, with a job to come back for in.arg (unless in.out's
// path reaches it first). false when neither can.
func (bt *backtracker) alt(s *btState, in *btInst, pos int) (uint32, bool) {
	sym := s.symbol(pos)
	out, arg := bt.sets[in.outFirst].has(sym), bt.sets[in.argFirst].has(sym)
	switch {
	case out && arg:
		s.jobs = append(s.jobs, btJob{pc: in.arg, pos: pos})
		return in.out, true
	case out:
		return in.out, true
	}
	return in.arg, arg
}

// repeat runs the loop at in (past its visited check at pos) over ASCII
// bytes without going through its instructions one by one: it takes the
// steps alt and the body would, with their visited checks, as long as the
// body reads the next byte and (lazy) the exit cannot, pushing the greedy
// loop's exit jobs. It returns the position, checked at in, where alt
// takes over, or false when the loop reaches a state visited before.
func (bt *backtracker) repeat(s *btState, in *btInst, pos int) (int, bool) {
	body, exit, exitPC := &bt.insts[in.out], &bt.sets[in.argFirst], in.arg
	if in.loop == lazy {
		body, exit, exitPC = &bt.insts[in.arg], &bt.sets[in.outFirst], in.out
	}
	reads := &bt.sets[body.first]
	for pos < len(s.input) {
		c := s.input[pos]
		if c >= utf8.RuneSelf || !reads.has(int(c)) {
			return pos, true
		}
		if exit.has(int(c)) {
			if in.loop == lazy {
				return pos, true
			}
			s.jobs = append(s.jobs, btJob{pc: exitPC, pos: pos})
		}
		// x+ enters at the body, so the body is the one visited
		if body.visit >= 0 && !s.shouldVisit(body.visit, pos) {
			return pos, false
		}
		pos++
		if in.visit >= 0 && !s.shouldVisit(in.visit, pos) {
			return pos, false
		}
	}
	return pos, true
}

// try runs the backtracker from pos: regexp's tryBacktrack for a
// leftmost-first match.
func (bt *backtracker) try(s *btState, pos int) bool {
	insts := bt.insts
	s.jobs = append(s.jobs, btJob{pc: bt.start, pos: pos})
	for len(s.jobs) > 0 {
		l := len(s.jobs) - 1
		job := s.jobs[l]
		s.jobs = s.jobs[:l]
		pc, pos := job.pc, job.pos
		if job.restore {
			s.cap[insts[pc].arg] = pos
			continue
		}
		// In the switch, break ends the path (a failed test or a
		// position visited before) and continue takes the next step.
		for {
			in := &insts[pc]
			if in.visit >= 0 && !s.shouldVisit(in.visit, pos) {
				break
			}
			switch in.op {
			case syntax.InstAlt:
				if in.loop != noLoop {
					var ok bool
					if pos, ok = bt.repeat(s, in, pos); !ok {
						break
					}
				}
				next, ok := bt.alt(s, in, pos)
				if !ok {
					break
				}
				pc = next
				continue
			case syntax.InstRune1:
				if in.lit == 0 {
					if pos = bt.readRune(s, pc, pos); pos < 0 {
						break
					}
					pc = in.out
					continue
				}
				lit := &bt.lits[in.lit-1]
				if !bytes.HasPrefix(s.input[pos:], lit.text) {
					break
				}
				pos += len(lit.text)
				pc = lit.out
				continue
			case syntax.InstRune, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				if pos = bt.readRune(s, pc, pos); pos < 0 {
					break
				}
				pc = in.out
				continue
			case syntax.InstCapture:
				if in.arg < uint32(len(s.cap)) {
					s.jobs = append(s.jobs, btJob{pc: pc, restore: true, pos: s.cap[in.arg]})
					s.cap[in.arg] = pos
				}
				pc = in.out
				continue
			case syntax.InstEmptyWidth:
				if op := syntax.EmptyOp(in.arg); op&^s.context(pos) != 0 {
					break
				}
				pc = in.out
				continue
			case syntax.InstNop:
				pc = in.out
				continue
			case syntax.InstMatch:
				if len(s.cap) > 1 {
					s.cap[1] = pos
				}
				copy(s.matchcap, s.cap)
				return true
			}
			break // InstFail, or a test failed
		}
	}
	return false
}
