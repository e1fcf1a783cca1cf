/**
 * Small integer ids for the cluster names routes use, so a caller can keep its per-cluster state in an array indexed
 * by id and skip a string-keyed lookup per request. Names are interned once, when the router is compiled.
 */
export class ClusterIds {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];
  /** The id of `name`, assigning the next one if new. */
  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(Object.keys({ [name]: 0 })[0]!);
    }
    return id;
  }
  /** The id of `name`, or -1 when no route names it. */
  get(name: string): number {
    return this.ids.get(name) ?? -1;
  }
}
