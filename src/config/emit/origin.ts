/**
 * Where a value of an emitted tree came from, for judging the Envoy form of a dialect file and reporting at the
 * dialect's line and column (src/config/envoy-api/envoy-form.ts). An emitted JSON object made from a model node
 * carries that node under ORIGIN, an enumerable symbol key: JSON.stringify, Object.keys and Object.entries skip it,
 * and an object spread (`{ ...l, name }`, the way the Envoy mapper copies and edits) keeps it. Only emitted with
 * `origins: true`; a conversion's output has none.
 */

export const ORIGIN: unique symbol = Symbol('meshctl.origin');

/**
 * An emitted object that stands for a model node's `field` (the resolver config made of dns_query's nameservers), or
 * for its element `index` (a nameserver string → an Envoy Address).
 */
export class ItemOrigin {
  constructor(
    readonly node: object,
    readonly field: string,
    readonly index: number | undefined,
  ) {}
}

/** An emitted object; ORIGIN holds the model node it was made from, or an ItemOrigin. */
export interface WithOrigin {
  [ORIGIN]?: object;
}

/** `to` stands for what `from` stood for (an object rebuilt rather than spread). */
export function sameOrigin<T extends object>(from: object, to: T): T {
  const o = (from as WithOrigin)[ORIGIN];
  if (o !== undefined) (to as WithOrigin)[ORIGIN] = o;
  return to;
}
