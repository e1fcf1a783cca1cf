/** A generic walk over every model node (plain objects reachable through fields and arrays). */

/** Visit every object node once, with the field it hangs from. `unmodeled` data is not model and is skipped. */
export function walkNodes(
  root: object,
  visit: (node: Record<string, unknown>, parent: object | undefined, field: string | undefined, index: number | undefined) => void,
): void {
  const stack: { node: unknown; parent: object | undefined; field: string | undefined; index: number | undefined }[] = [
    { node: root, parent: undefined, field: undefined, index: undefined },
  ];
  while (stack.length > 0) {
    const { node, parent, field, index } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const obj = node as Record<string, unknown>;
    visit(obj, parent, field, index);
    for (const key of Object.keys(obj)) {
      if (key === 'unmodeled') continue;
      const v = obj[key];
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ node: v[i], parent: obj, field: key, index: i });
      } else if (v !== null && typeof v === 'object') {
        stack.push({ node: v, parent: obj, field: key, index: undefined });
      }
    }
  }
}

export function isDurationShape(v: unknown): v is { seconds: number; nanos: number } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  return keys.length === 2 && typeof o.seconds === 'number' && typeof o.nanos === 'number';
}
