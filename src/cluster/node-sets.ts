/**
 * Sets of nodes by slot number (see NodeIndex): a short list while small, a bitset beyond, so that the label-value
 * index costs little for kubelet's one-node-per-value hostname label and set operations over thousands of nodes
 * cost a few hundred word operations, never a visit per node.
 */

/** A read-only set of slots: `slots` (unordered, no duplicates) or `bits` (bit i of word i>>5 is slot i). */
export type Members = { readonly slots: readonly number[] } | { readonly bits: Uint32Array };

/** Above this many members a set is kept as a bitset. */
const SPARSE_MAX = 32;

export const NO_MEMBERS: Members = { slots: [] };

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function bitHas(bits: Uint32Array, slot: number): boolean {
  return (((bits[slot >>> 5] ?? 0) >>> (slot & 31)) & 1) === 1;
}

export function has(m: Members, slot: number): boolean {
  return 'bits' in m ? bitHas(m.bits, slot) : m.slots.includes(slot);
}

function toBits(slots: Iterable<number>, words: number): Uint32Array {
  const bits = new Uint32Array(words);
  for (const s of slots) bits[s >>> 5]! |= 1 << (s & 31);
  return bits;
}

function wordsFor(slots: readonly number[]): number {
  let max = 0;
  for (const s of slots) if (s > max) max = s;
  return (max >>> 5) + 1;
}

export function intersect(a: Members, b: Members): Members {
  if (!('bits' in a)) return { slots: a.slots.filter((s) => has(b, s)) };
  if (!('bits' in b)) return { slots: b.slots.filter((s) => bitHas(a.bits, s)) };
  const [x, y] = [a.bits, b.bits];
  const out = new Uint32Array(Math.min(x.length, y.length));
  for (let i = 0; i < out.length; i++) out[i] = x[i]! & y[i]!;
  return { bits: out };
}

function isEmpty(m: Members): boolean {
  return 'slots' in m && m.slots.length === 0;
}

export function union(a: Members, b: Members): Members {
  // Members are never written to, so an operand can be the answer.
  if (isEmpty(a)) return b;
  if (isEmpty(b)) return a;
  if (!('bits' in a) && !('bits' in b)) {
    const slots = [...new Set([...a.slots, ...b.slots])];
    return slots.length <= SPARSE_MAX ? { slots } : { bits: toBits(slots, wordsFor(slots)) };
  }
  const [x, y] = 'bits' in a ? [a, b] : [b, a];
  const xb = (x as { bits: Uint32Array }).bits;
  if (!('bits' in y)) {
    const out = new Uint32Array(Math.max(xb.length, wordsFor(y.slots)));
    out.set(xb);
    for (const s of y.slots) out[s >>> 5]! |= 1 << (s & 31);
    return { bits: out };
  }
  const yb = y.bits;
  const out = new Uint32Array(Math.max(xb.length, yb.length));
  for (let i = 0; i < out.length; i++) out[i] = (xb[i] ?? 0) | (yb[i] ?? 0);
  return { bits: out };
}

/** `a` without the members of `b`. */
export function minus(a: Members, b: Members): Members {
  if (!('bits' in a)) return { slots: a.slots.filter((s) => !has(b, s)) };
  const out = a.bits.slice();
  if ('bits' in b) {
    const bb = b.bits;
    for (let i = 0; i < out.length; i++) out[i]! &= ~(bb[i] ?? 0);
  } else for (const s of b.slots) if (s >>> 5 < out.length) out[s >>> 5]! &= ~(1 << (s & 31));
  return { bits: out };
}

/** |a ∩ b| without building the intersection. */
export function intersectionSize(a: Members, b: Members): number {
  if (!('bits' in a)) return a.slots.reduce((n, s) => n + (has(b, s) ? 1 : 0), 0);
  if (!('bits' in b)) return b.slots.reduce((n, s) => n + (bitHas(a.bits, s) ? 1 : 0), 0);
  // Hoisted: a property read per word on the two shapes of Members costs more than the popcount.
  const [x, y] = [a.bits, b.bits];
  let n = 0;
  const words = Math.min(x.length, y.length);
  for (let i = 0; i < words; i++) n += popcount(x[i]! & y[i]!);
  return n;
}

/**
 * Up to `limit` slots of `a ∩ within`, without those of `without`, in ascending order: a word at a time over
 * bitsets, so a sample of five costs what finding five costs.
 */
export function firstSlots(a: Members, within: Members, without: Members | undefined, limit: number): number[] {
  const keep = (s: number) => has(within, s) && !(without && has(without, s));
  if (!('bits' in a))
    return a.slots
      .filter(keep)
      .sort((x, y) => x - y)
      .slice(0, limit);
  if (!('bits' in within)) return firstSlots(within, a, without, limit);
  const out: number[] = [];
  const [x, y] = [a.bits, within.bits];
  const words = Math.min(x.length, y.length);
  const ex = without && 'bits' in without ? without.bits : undefined;
  for (let i = 0; i < words && out.length < limit; i++) {
    let w = x[i]! & y[i]! & ~(ex?.[i] ?? 0);
    while (w !== 0 && out.length < limit) {
      const low = w & -w;
      const slot = i * 32 + (31 - Math.clz32(low));
      if (ex || !without || !has(without, slot)) out.push(slot);
      w ^= low;
    }
  }
  return out;
}

/** A mutable set of slots, as the index keeps it: switches to a bitset past SPARSE_MAX members, never back. */
export class NodeSet {
  private slots: number[] | undefined = [];
  private bits: Uint32Array | undefined;
  size = 0;

  has(slot: number): boolean {
    return this.slots ? this.slots.includes(slot) : bitHas(this.bits!, slot);
  }

  add(slot: number): void {
    if (this.has(slot)) return;
    this.size++;
    if (this.slots && this.slots.length < SPARSE_MAX) {
      this.slots.push(slot);
      return;
    }
    if (this.slots) {
      this.bits = toBits(this.slots, wordsFor(this.slots));
      this.slots = undefined;
    }
    if (slot >>> 5 >= this.bits!.length) {
      const grown = new Uint32Array(Math.max((slot >>> 5) + 1, this.bits!.length * 2));
      grown.set(this.bits!);
      this.bits = grown;
    }
    this.bits![slot >>> 5]! |= 1 << (slot & 31);
  }

  delete(slot: number): void {
    if (!this.has(slot)) return;
    this.size--;
    if (this.slots) this.slots.splice(this.slots.indexOf(slot), 1);
    else this.bits![slot >>> 5]! &= ~(1 << (slot & 31));
  }

  /** The current members, for set operations (valid until the next change: queries run synchronously). */
  members(): Members {
    return this.slots ? { slots: this.slots } : { bits: this.bits! };
  }
}
