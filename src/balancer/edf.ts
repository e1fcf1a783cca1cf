/**
 * Envoy's earliest-deadline-first scheduler (`source/common/upstream/edf_scheduler.h`): each entry has a deadline
 * `now + 1/weight`; a pick takes the earliest deadline (ties: first inserted), moves `now` to it and puts the entry back
 * with a new deadline from its current weight. Weights 100 and 200 therefore interleave (B A B B A B …) instead of
 * bunching. A binary heap over typed arrays: O(log n) per pick, no allocation.
 */
export class EdfScheduler {
  private readonly deadline: Float64Array;
  private readonly order: Float64Array;
  /** heap[k] = entry index */
  private readonly heap: Int32Array;
  private readonly size: number;
  /** 1/weight of each entry when weights are fixed. */
  private readonly inverse: Float64Array;
  private now = 0;
  private counter = 0;

  /**
   * `weights[i]` > 0 for each entry. `weightOf(i)`, when given, supplies the weight used when entry i is put back after
   * a pick (least request's load-dependent weight); otherwise the initial weights stay.
   */
  constructor(
    weights: ArrayLike<number>,
    private readonly weightOf?: (index: number) => number,
  ) {
    const n = weights.length;
    this.size = n;
    this.deadline = new Float64Array(n);
    this.order = new Float64Array(n);
    this.heap = new Int32Array(n);
    this.inverse = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.inverse[i] = 1 / weights[i]!;
      this.deadline[i] = 1 / weights[i]!;
      this.order[i] = this.counter++;
      this.heap[i] = i;
    }
    for (let k = (n >> 1) - 1; k >= 0; k--) this.siftDown(k);
  }

  /** The index of the entry picked now; the entry is rescheduled. */
  pick(): number {
    const heap = this.heap;
    const top = heap[0]!;
    this.now = this.deadline[top]!;
    this.deadline[top] = this.now + (this.weightOf === undefined ? this.inverse[top]! : 1 / this.weightOf(top));
    this.order[top] = this.counter++;
    this.siftDown(0);
    return top;
  }

  /** The index the next pick would return, without picking. */
  peek(): number {
    return this.heap[0]!;
  }

  private siftDown(k: number): void {
    const heap = this.heap;
    const deadline = this.deadline;
    const order = this.order;
    const n = this.size;
    const item = heap[k]!;
    const itemD = deadline[item]!;
    const itemO = order[item]!;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= n) break;
      let c = heap[child]!;
      const right = child + 1;
      if (right < n) {
        const r = heap[right]!;
        const dr = deadline[r]!;
        const dc = deadline[c]!;
        if (dr < dc || (dr === dc && order[r]! < order[c]!)) {
          child = right;
          c = r;
        }
      }
      const dc = deadline[c]!;
      if (!(dc < itemD || (dc === itemD && order[c]! < itemO))) break;
      heap[k] = c;
      k = child;
    }
    heap[k] = item;
  }
}
