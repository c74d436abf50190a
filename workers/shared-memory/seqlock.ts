// Sequence lock over one Int32 word of shared memory: one writer thread
// publishes batches, readers on other threads copy what they need and keep
// the copy only if no batch overlapped it. Readers never block the writer,
// and the writer never waits for readers.
//
//   writer:  seq -> odd   (Atomics.store)   ...plain writes...   seq -> even
//   reader:  s1 = load(seq)  ...plain reads...  s2 = load(seq)
//            keep the reads iff s1 is even and s2 === s1, else retry
//
// Why the plain reads stay between the two loads: Atomics operations are
// sequentially consistent, and V8 treats them as effectful operations it
// does not move plain memory accesses across; x86 does not reorder loads
// with loads. A read that raced a write may see torn values (Float64 is not
// tear-free by the ECMAScript spec); the sequence check throws it away.
// The word wraps after 2^31 batches; parity survives the wrap, and a reader
// would have to straddle exactly 2^31 batches to be fooled.

/** Opens a write batch: the word becomes odd. Throws on a nested begin. */
export function seqlockWriteBegin(i32: Int32Array, at: number): void {
  const s = i32[at]!;
  if ((s & 1) !== 0) throw new Error('seqlock: write batch already open (missing end?)');
  Atomics.store(i32, at, s + 1);
}

/** Closes the write batch: the word becomes even again, one step past the start. */
export function seqlockWriteEnd(i32: Int32Array, at: number): void {
  const s = i32[at]!;
  if ((s & 1) === 0) throw new Error('seqlock: no write batch open');
  Atomics.store(i32, at, (s + 1) | 0);
}

/** True while the writer is inside a batch (for the writer's own checks). */
export function seqlockWriting(i32: Int32Array, at: number): boolean {
  return (i32[at]! & 1) !== 0;
}

/**
 * The plain reads done since Atomics.load(seq) returned `version` saw one
 * whole batch state. (Readers load the version themselves, so they can wait
 * for it to turn even on their own time budget; see BookReader.)
 */
export function seqlockReadOk(i32: Int32Array, at: number, version: number): boolean {
  return (version & 1) === 0 && Atomics.load(i32, at) === version;
}
