/**
 * A sliding window of admissions (requests and tokens) in bounded memory: admissions are grouped into
 * slots of `slotMs`, and a slot leaves the window when its latest admission does. A slot holding one
 * admission is exact; one holding several keeps them all until the last expires, so the window can only
 * ever count too much, never too little, and never by more than one slot's width. A window of `spanMs`
 * holds at most spanMs / slotMs + 1 slots, however many requests pass through it.
 */
export class SlotWindow {
  readonly #spanMs: number;
  readonly #slotMs: number;
  readonly #capacity: number;
  // A ring of slots: `#head` is the sequence number of the oldest live slot, `#next` of the next new one.
  readonly #slot: Float64Array;
  readonly #lastAt: Float64Array;
  readonly #count: Float64Array;
  readonly #slotTokens: Float64Array;
  #head = 0;
  #next = 0;
  #requests = 0;
  #tokens = 0;

  constructor(spanMs: number, slotMs: number) {
    this.#spanMs = spanMs;
    this.#slotMs = slotMs;
    this.#capacity = Math.ceil(spanMs / slotMs) + 2;
    this.#slot = new Float64Array(this.#capacity);
    this.#lastAt = new Float64Array(this.#capacity);
    this.#count = new Float64Array(this.#capacity);
    this.#slotTokens = new Float64Array(this.#capacity);
  }

  /** Requests in the window as of the last expire() or add(). */
  get requests(): number {
    return this.#requests;
  }

  /** Tokens in the window as of the last expire() or add(). */
  get tokens(): number {
    return this.#tokens;
  }

  /** Drops the slots whose admissions have all left the window by `now`. */
  expire(now: number): void {
    while (this.#head < this.#next) {
      const i = this.#head % this.#capacity;
      if ((this.#lastAt[i] as number) + this.#spanMs > now) return;
      this.#requests -= this.#count[i] as number;
      this.#tokens -= this.#slotTokens[i] as number;
      this.#head++;
    }
  }

  /** Counts one admission at `at`; returns its slot's sequence number, for adjust(). */
  add(at: number, tokens: number): number {
    this.expire(at);
    const slot = Math.floor(at / this.#slotMs);
    let seq = this.#next - 1;
    let i = seq % this.#capacity;
    // Live slots have distinct indices within one span, so a new one always fits in the ring. A clock that
    // steps back joins the newest slot rather than breaking the ring's order.
    if (seq < this.#head || (this.#slot[i] as number) < slot) {
      seq = this.#next++;
      i = seq % this.#capacity;
      this.#slot[i] = slot;
      this.#lastAt[i] = at;
      this.#count[i] = 0;
      this.#slotTokens[i] = 0;
    } else {
      this.#lastAt[i] = Math.max(this.#lastAt[i] as number, at);
    }
    this.#count[i] = (this.#count[i] as number) + 1;
    this.#slotTokens[i] = (this.#slotTokens[i] as number) + tokens;
    this.#requests++;
    this.#tokens += tokens;
    return seq;
  }

  /** Changes the tokens an admission counted, if its slot is still in the window. */
  adjust(seq: number, delta: number): void {
    if (seq < this.#head || seq >= this.#next) return;
    const i = seq % this.#capacity;
    this.#slotTokens[i] = (this.#slotTokens[i] as number) + delta;
    this.#tokens += delta;
  }

  /**
   * How long until `need` requests (or tokens) have left the window: 0 if `need` ≤ 0, the whole span if
   * the window does not hold that many.
   */
  waitFor(now: number, need: number, byTokens: boolean): number {
    if (need <= 0) return 0;
    let freed = 0;
    for (let seq = this.#head; seq < this.#next; seq++) {
      const i = seq % this.#capacity;
      freed += (byTokens ? this.#slotTokens[i] : this.#count[i]) as number;
      if (freed >= need) return (this.#lastAt[i] as number) + this.#spanMs - now;
    }
    return this.#spanMs;
  }
}
