/**
 * The resources being served and their versions. Each type has its own version, a counter that moves only when that
 * type's resources changed (a name added or removed, or a resource's content), so an edit of one cluster pushes CDS
 * and EDS and leaves LDS alone. Streams register here and are told after every change.
 */
import { RESOURCE_TYPES, type ResourceSets, type ResourceType } from './resources.js';

export interface Subscriber {
  /** The snapshot changed: send what changed for this stream's subscriptions. */
  push(): void;
}

export class Snapshot {
  private sets: ResourceSets | undefined;
  private readonly versions = new Map<ResourceType, number>();
  private nonce = 0;
  /** Concatenated resource entries by the list they hold (streams with one subscription share one buffer). */
  private readonly blocks = new Map<string, Buffer>();
  readonly subscribers = new Set<Subscriber>();

  /** Install a new set; returns the types whose version moved. Subscribers are told. */
  update(next: ResourceSets): ResourceType[] {
    const changed: ResourceType[] = [];
    for (const t of RESOURCE_TYPES) {
      if (this.sets === undefined || !sameSet(this.sets[t], next[t])) {
        this.versions.set(t, (this.versions.get(t) ?? 0) + 1);
        changed.push(t);
      }
    }
    this.sets = next;
    this.blocks.clear();
    if (changed.length > 0) for (const s of this.subscribers) s.push();
    return changed;
  }

  /** The concatenation of `parts`, made once per snapshot for each `key` (what the parts are). */
  block(key: string, parts: () => Uint8Array[]): Buffer {
    let b = this.blocks.get(key);
    if (b === undefined) {
      b = Buffer.concat(parts());
      this.blocks.set(key, b);
    }
    return b;
  }

  /** The resources being served now. */
  current(): ResourceSets | undefined {
    return this.sets;
  }

  resources(t: ResourceType): ResourceSets[ResourceType] {
    return this.sets?.[t] ?? new Map();
  }

  version(t: ResourceType): string {
    return String(this.versions.get(t) ?? 0);
  }

  /** A nonce unique within this server's life. */
  nextNonce(): string {
    return String(++this.nonce);
  }
}

function sameSet(a: ResourceSets[ResourceType], b: ResourceSets[ResourceType]): boolean {
  if (a.size !== b.size) return false;
  for (const [name, r] of a) if (b.get(name)?.version !== r.version) return false;
  return true;
}
