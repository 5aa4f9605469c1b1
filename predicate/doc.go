// Package predicate holds typed row filters: a Predicate tree over named
// columns (built with Equal, LessThan, In, IsNull, StartsWith, And, Or, Not
// ..., or parsed from SQL-like text with Parse), and its Bound form,
// resolved against a schema's fields with literals in the column's Go value
// model (see package spec).
//
// A Bound predicate answers three questions with SQL's three-valued logic
// (a comparison with null is unknown, and a row is kept only when the
// predicate is true):
//
//   - Eval: does this row match?
//   - MayMatch: may any row of a file, row group or page with these
//     statistics match? It answers false only when none can.
//   - Filter: which rows of this Arrow record batch match? Vectorised per
//     column type.
//
// Binding rewrites the tree into negation normal form (NOT pushed down to
// the leaves, which SQL's logic permits), folds constants and normalises
// numeric literals to the column's domain (x < 2.5 on an INT column is
// x <= 2), so the three agree exactly.
package predicate
