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
  private now = 0;
  private counter = 0;

  /** `weights[i]` > 0 for each entry; `weightOf(i)` gives the weight used when entry i is put back after a pick. */
  constructor(
    weights: ArrayLike<number>,
    private readonly weightOf: (index: number) => number = (i) => weights[i]!,
  ) {
    const n = weights.length;
    this.size = n;
    this.deadline = new Float64Array(n);
    this.order = new Float64Array(n);
    this.heap = new Int32Array(n);
    for (let i = 0; i < n; i++) {
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
    this.deadline[top] = this.now + 1 / this.weightOf(top);
    this.order[top] = this.counter++;
    this.siftDown(0);
    return top;
  }

  /** The index the next pick would return, without picking. */
  peek(): number {
    return this.heap[0]!;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.order[a]! < this.order[b]!);
  }

  private siftDown(k: number): void {
    const heap = this.heap;
    const n = this.size;
    const item = heap[k]!;
    for (;;) {
      let child = 2 * k + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.less(heap[right]!, heap[child]!)) child = right;
      if (!this.less(heap[child]!, item)) break;
      heap[k] = heap[child]!;
      k = child;
    }
    heap[k] = item;
  }
}
