package query

import "strings"

// analyzeWhere finds the WHERE conjuncts (from i) of a SELECT that involve
// only one table's partition keys and records them on that reference, so
// that only matching partitions are read. A conjunct that is not provably
// about partition keys alone is left to DuckDB.
func (r *rewriter) analyzeWhere(blk *block, i, end int) {
	if blk.unsafe || len(blk.refs) == 0 {
		return
	}
	toks := r.toks
	// The clause ends at the next clause keyword at this level.
	stop := i
	for stop < end {
		t := toks[stop]
		if t.is("(") || t.is("[") {
			j, err := matching(toks, stop)
			if err != nil {
				return
			}
			stop = j + 1
			continue
		}
		if t.kind == tIdent && clauseEnd[t.lower()] {
			break
		}
		stop++
	}
	// Split at top-level ANDs (not BETWEEN's).
	var conj [][2]int
	start, between := i, false
	for k := i; k <= stop; k++ {
		if k < stop && (toks[k].is("(") || toks[k].is("[")) {
			j, _ := matching(toks, k)
			k = j
			continue
		}
		if k < stop && toks[k].is("between") {
			between = true
		}
		if k < stop && toks[k].is("or") {
			// An OR at the top level joins everything: the clause is one
			// conjunct.
		}
		if k == stop || toks[k].is("and") {
			if k < stop && between {
				between = false
				continue
			}
			conj = append(conj, [2]int{start, k})
			start = k + 1
		}
	}
	// A top-level OR means the split above is wrong: "a AND b OR c".
	for k := i; k < stop; k++ {
		if toks[k].is("(") || toks[k].is("[") {
			j, _ := matching(toks, k)
			k = j
			continue
		}
		if toks[k].is("or") {
			conj = [][2]int{{i, stop}}
			break
		}
	}
	for _, c := range conj {
		ref, ok := r.partitionConjunct(blk, c[0], c[1])
		if !ok {
			continue
		}
		sub := &rewriter{toks: r.toks, resolve: r.resolve, params: r.params, nparam: r.countParams(c[0]),
			views: map[string]string{}, ctes: r.ctes, labelled: true, strip: ref.alias, viewPrefix: r.viewPrefix}
		var e emitter
		if err := sub.walk(&e, c[0], c[1], false, true); err != nil {
			continue
		}
		ref.filters = append(ref.filters, e.b.String())
		ref.conjuncts = append(ref.conjuncts, r.toks[c[0]:c[1]])
		ref.pruned = true
	}
}

// countParams is the index of the first ? at or after from, for a
// conjunct rewritten on its own.
func (r *rewriter) countParams(from int) int {
	n := 0
	for k := 0; k < from; k++ {
		if r.toks[k].kind == tParam {
			n++
		}
	}
	return n
}

// partitionConjunct reports the one reference whose partition keys are
// the only columns tokens [i, end) use.
func (r *rewriter) partitionConjunct(blk *block, i, end int) (*tableRef, bool) {
	toks := r.toks
	var ref *tableRef
	used := false
	for k := i; k < end; k++ {
		t := toks[k]
		switch {
		case t.is("select"):
			return nil, false
		case t.kind == tIdent && (t.lower() == "random" || t.lower() == "rand" || t.lower() == "uuid"):
			return nil, false
		case t.kind != tIdent && t.kind != tQIdent:
			continue
		case k+1 < end && toks[k+1].is("("):
			continue // a function's name
		case t.kind == tIdent && keyword(t):
			continue
		case k > i && toks[k-1].is("as"):
			continue // CAST's type
		case k > i && toks[k-1].kind == tString && t.kind == tIdent:
			continue // INTERVAL's unit, after its string
		case t.kind == tIdent && typedLiteral[t.lower()] != "" && k+1 < end && toks[k+1].kind == tString:
			continue // DATE '...'
		case t.kind == tIdent && t.lower() == "interval":
			continue
		case k > i && toks[k-1].is("("):
			if k+1 < end && toks[k+1].is("from") && k > i+1 && toks[k-2].is("extract") {
				continue // EXTRACT's field
			}
		}
		// A column: a, or q.a.
		var qual, col string
		if k+2 < end && toks[k+1].is(".") && (toks[k+2].kind == tIdent || toks[k+2].kind == tQIdent) {
			qual, col = identName(t), identName(toks[k+2])
			k += 2
		} else {
			col = identName(t)
		}
		var owner *tableRef
		for n, rf := range blk.refs {
			if qual != "" && qual != rf.alias {
				continue
			}
			if qual == "" && len(blk.refs) != 1 {
				return nil, false
			}
			if blk.outer && n > 0 {
				return nil, false
			}
			owner = rf
		}
		if owner == nil || !isPartitionKey(owner, col) {
			return nil, false
		}
		if ref != nil && ref != owner {
			return nil, false
		}
		ref, used = owner, true
	}
	return ref, used
}

func isPartitionKey(ref *tableRef, col string) bool {
	for _, k := range ref.table.PartitionKeys {
		if strings.EqualFold(k.Name, col) {
			return true
		}
	}
	return false
}
