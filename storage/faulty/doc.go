// Package faulty wraps any storage.Storage (memory, local disk, S3) and
// injects faults into chosen calls, for tests of what a flaky object store, a
// full disk or a lost response does to the layers above.
//
// A Rule picks calls by operation, by path pattern (PatternSnapshot,
// PatternData, ... or any glob) and by when they come (the nth matching
// call, or with a probability drawn from a seeded generator), and says what
// happens to them:
//
//	Fail        the call returns an error and has no effect
//	Slow        the call waits (or until its context ends), then runs
//	Truncate    a read returns only a prefix of the bytes, without error;
//	            a write stores only a prefix and returns an error (a torn
//	            write, what a non-atomic store leaves; an ObjectWriter's
//	            Write writes a prefix and reports the short count)
//	LoseAnswer  the call takes effect but its caller gets an error, as when
//	            an S3 response is lost after the PUT landed
//
// Every injected fault is counted by kind (Storage.Counts), and can be
// switched off at once (Storage.Heal) to check what the faults left behind
// on the same, now healthy, storage.
package faulty
