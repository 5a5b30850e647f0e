// Derived from Go's regexp/backtrack.go: Copyright 2015 The Go Authors.
// All rights reserved. Use of that source code is governed by a BSD-style
// license that can be found at https://go.dev/LICENSE.

package lines

import (
	"regexp/syntax"
	"sync"
	"unicode/utf8"
)

// backtracker runs a compiled regular expression the way package regexp's
// bounded backtracker does (regexp/backtrack.go, which this follows step
// by step), for programs of any size.
//
// regexp backtracks only for programs of at most 500 instructions and
// otherwise runs its NFA, which steps every live thread in parallel and
// copies capture arrays between them. An expanded grok expression has
// thousands (IPORHOST and IP carry all of IPv6), so an access-log line
// would always take the NFA. The backtracker explores alternatives in
// priority order and stops at the first match: the leftmost-first match
// regexp returns, with the same submatches (regexp itself switches
// between the two engines freely). It visits each (instruction, position)
// pair at most once, so it stays linear in the line's length; visited is a
// bitmap that is cleared word by word where it was written, not whole.
type backtracker struct {
	prog   *syntax.Prog
	anchor bool // the program can only match at the start of the text
	ncap   int
	states sync.Pool // *btState
}

// maxVisited bounds a backtracker's bitmap (len(prog.Inst) × (len(line)+1)
// bits) for one line; a longer line goes to regexp.
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
	return &backtracker{prog: prog, anchor: prog.StartCond()&syntax.EmptyBeginText != 0, ncap: prog.NumCap}
}

// fits says whether a line of n bytes stays within maxVisited.
func (bt *backtracker) fits(n int) bool {
	return len(bt.prog.Inst)*(n+1) <= maxVisited
}

type btJob struct {
	pc  uint32
	arg bool
	pos int
}

// btState is one match's working memory, pooled.
type btState struct {
	visited  []uint32
	touched  []int // words of visited written since the last reset
	jobs     []btJob
	cap      []int
	matchcap []int
	end      int
	insts    int // len(prog.Inst)
	input    []byte
}

func (bt *backtracker) state(input []byte) *btState {
	s, _ := bt.states.Get().(*btState)
	if s == nil {
		s = &btState{cap: make([]int, bt.ncap), matchcap: make([]int, bt.ncap)}
	}
	words := (len(bt.prog.Inst)*(len(input)+1) + 31) / 32
	if len(s.visited) < words {
		s.visited = make([]uint32, words)
		s.touched = s.touched[:0]
	}
	for _, w := range s.touched {
		s.visited[w] = 0
	}
	s.touched = s.touched[:0]
	s.jobs = s.jobs[:0]
	s.end, s.input, s.insts = len(input), input, len(bt.prog.Inst)
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
	for pos, width := 0, -1; pos <= s.end && width != 0; pos += width {
		s.cap[0] = pos
		if bt.try(s, pos) {
			return s
		}
		_, width = s.step(pos)
	}
	bt.release(s)
	return nil
}

func (s *btState) shouldVisit(pc uint32, pos int) bool {
	n := uint(pos*s.insts + int(pc)) // a position's instructions side by side
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

func (s *btState) push(pc uint32, pos int, arg bool) {
	// Capture instructions come back with arg set to restore a register
	// even when (pc, pos) was visited; regexp does the same.
	if arg || s.shouldVisit(pc, pos) {
		s.jobs = append(s.jobs, btJob{pc: pc, arg: arg, pos: pos})
	}
}

// step decodes the rune at pos as regexp's byte input does: -1 and 0 at
// the end.
func (s *btState) step(pos int) (rune, int) {
	if pos < len(s.input) {
		if c := s.input[pos]; c < utf8.RuneSelf {
			return rune(c), 1
		}
		return utf8.DecodeRune(s.input[pos:])
	}
	return -1, 0
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

// try runs the backtracker from pos: regexp's tryBacktrack for a
// leftmost-first match.
func (bt *backtracker) try(s *btState, pos int) bool {
	inst := bt.prog.Inst
	s.push(uint32(bt.prog.Start), pos, false)
	for len(s.jobs) > 0 {
		l := len(s.jobs) - 1
		pc, pos, arg := s.jobs[l].pc, s.jobs[l].pos, s.jobs[l].arg
		s.jobs = s.jobs[:l]
		// A popped job was checked when pushed; each step after it moves
		// to a new (pc, pos), checked here. In the switch, break ends the
		// path (a failed test) and continue takes the next step.
		for checked := true; ; checked = false {
			if !checked && !s.shouldVisit(pc, pos) {
				break
			}
			in := &inst[pc]
			switch in.Op {
			case syntax.InstAlt:
				if arg {
					// finished in.Out; now in.Arg
					arg = false
					pc = in.Arg
					continue
				}
				// come back for in.Arg after in.Out, unless in.Out's
				// path reaches it first
				s.jobs = append(s.jobs, btJob{pc: pc, arg: true, pos: pos})
				pc = in.Out
				continue
			case syntax.InstRune:
				r, width := s.step(pos)
				if !in.MatchRune(r) {
					break
				}
				pos += width
				pc = in.Out
				continue
			case syntax.InstRune1:
				r, width := s.step(pos)
				if r != in.Rune[0] {
					break
				}
				pos += width
				pc = in.Out
				continue
			case syntax.InstRuneAnyNotNL:
				r, width := s.step(pos)
				if r == '\n' || r == -1 {
					break
				}
				pos += width
				pc = in.Out
				continue
			case syntax.InstRuneAny:
				r, width := s.step(pos)
				if r == -1 {
					break
				}
				pos += width
				pc = in.Out
				continue
			case syntax.InstCapture:
				if arg {
					// finished in.Out; restore the register
					s.cap[in.Arg] = pos
					break
				}
				if in.Arg < uint32(len(s.cap)) {
					s.jobs = append(s.jobs, btJob{pc: pc, arg: true, pos: s.cap[in.Arg]})
					s.cap[in.Arg] = pos
				}
				pc = in.Out
				continue
			case syntax.InstEmptyWidth:
				if op := syntax.EmptyOp(in.Arg); op&^s.context(pos) != 0 {
					break
				}
				pc = in.Out
				continue
			case syntax.InstNop:
				pc = in.Out
				continue
			case syntax.InstMatch:
				if len(s.cap) > 1 {
					s.cap[1] = pos
				}
				copy(s.matchcap, s.cap)
				return true
			}
			break // InstFail, or a rune or empty-width test failed
		}
	}
	return false
}
