// Ring allocator over one rank's region of a group arena. Only its owner writes the region; an
// allocation is reclaimed, oldest first, once every reader is done with it (a shared-memory predicate).

interface Allocation {
  readonly off: number;
  readonly len: number;
  readonly freed: () => boolean;
}

export class RingArena {
  private live: Allocation[] = [];

  constructor(readonly capacity: number) {}

  /** Drop allocations whose readers are all done, oldest first (FIFO: a slow reader holds later space). */
  reclaim(): void {
    let k = 0;
    while (k < this.live.length && this.live[k]!.freed()) k++;
    if (k > 0) this.live = this.live.slice(k);
  }

  /** Element offset of `len` free elements, or null when the region is full right now. len must be > 0. */
  tryAlloc(len: number, freed: () => boolean): number | null {
    this.reclaim();
    const off = this.fit(len);
    if (off !== null) this.live.push({ off, len, freed });
    return off;
  }

  inFlight(): { count: number; elements: number } {
    return { count: this.live.length, elements: this.live.reduce((s, a) => s + a.len, 0) };
  }

  private fit(len: number): number | null {
    const first = this.live[0];
    const last = this.live[this.live.length - 1];
    // Empty: restart at 0 so a steady start/wait rhythm keeps touching the same few pages.
    if (first === undefined || last === undefined) return len <= this.capacity ? 0 : null;
    const lastEnd = last.off + last.len;
    if (last.off >= first.off) {
      if (this.capacity - lastEnd >= len) return lastEnd;
      return first.off >= len ? 0 : null;
    }
    return first.off - lastEnd >= len ? lastEnd : null;
  }
}
