/**
 * Deadlines without a timer per request: every request has a route timeout (Envoy's default 15 s), and a setTimeout
 * per request costs a Timeout object, node's timer-list insert and a clearTimeout when the response comes first,
 * which it nearly always does. Here the request record itself is the list node: one intrusive FIFO list per distinct
 * duration (entries of one duration expire in the order they were added, so each list is sorted by deadline as it
 * grows, the idea node's own timer lists use), and one unref'd node timer per list, armed for the deadline at its
 * head. Starting a deadline is a Map lookup and a link; stopping one is an unlink. The timer is not moved when its
 * head leaves: when it fires it expires what is due and re-arms for the new head.
 *
 * Precision: a deadline fires no earlier than `ms` after it started (measured with performance.now(), not the event
 * loop's cached clock), and as soon after as node's timers allow (ms resolution, like setTimeout's and Envoy's own
 * timers); a timer that node fires a fraction of a millisecond early re-arms for the rest.
 */

/** A request record with a deadline; the dl* fields belong to this module. */
export interface Deadline {
  dlAt: number;
  dlPrev: Deadline | null;
  dlNext: Deadline | null;
  dlList: DeadlineList | null;
  deadlineFired(): void;
}

export class DeadlineList {
  head: Deadline | null = null;
  tail: Deadline | null = null;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Expiring what is due: a deadline started meanwhile (by a callback) does not arm the timer for itself. */
  firing = false;
  constructor(readonly ms: number) {}
}

/** Lists by duration; a list leaves the map when its timer finds it empty, so client-chosen durations (grpc-timeout)
 * do not accumulate. */
const lists = new Map<number, DeadlineList>();

function arm(l: DeadlineList, ms: number): void {
  l.timer = setTimeout(fire, ms < 1 ? 1 : Math.ceil(ms), l);
  // The request's own sockets keep the process alive while it is in flight; a timer left armed for a list that has
  // emptied must not.
  l.timer.unref();
}

function fire(l: DeadlineList): void {
  l.timer = undefined;
  const now = performance.now();
  l.firing = true;
  try {
    for (let d = l.head; d !== null && d.dlAt <= now; d = l.head) {
      stopDeadline(d);
      d.deadlineFired();
    }
  } finally {
    l.firing = false;
    if (l.head !== null) arm(l, l.head.dlAt - now);
    else if (lists.get(l.ms) === l) lists.delete(l.ms);
  }
}

/** Starts `d`'s deadline `ms` (> 0) from `now` (performance.now()). A running one is stopped first. */
export function startDeadline(d: Deadline, ms: number, now: number): void {
  if (d.dlList !== null) stopDeadline(d);
  let l = lists.get(ms);
  if (l === undefined) {
    l = new DeadlineList(ms);
    lists.set(ms, l);
  }
  d.dlAt = now + ms;
  d.dlList = l;
  d.dlNext = null;
  d.dlPrev = l.tail;
  if (l.tail !== null) l.tail.dlNext = d;
  else l.head = d;
  l.tail = d;
  if (l.timer === undefined && !l.firing) arm(l, ms);
}

/** Stops `d`'s deadline, if it has one running. */
export function stopDeadline(d: Deadline): void {
  const l = d.dlList;
  if (l === null) return;
  d.dlList = null;
  if (d.dlPrev !== null) d.dlPrev.dlNext = d.dlNext;
  else l.head = d.dlNext;
  if (d.dlNext !== null) d.dlNext.dlPrev = d.dlPrev;
  else l.tail = d.dlPrev;
  d.dlPrev = d.dlNext = null;
}
