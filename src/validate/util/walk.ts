/** Recognising model values while walking the model. */

export function isDurationShape(v: unknown): v is { seconds: number; nanos: number } {
  // An absent field (retry_back_off without base_interval) reaches here as undefined.
  if (v === null || typeof v !== 'object') return false;
  // No model message has both a `seconds` and a `nanos` field, so these two identify a Duration.
  const o = v as { seconds?: unknown; nanos?: unknown };
  return typeof o.seconds === 'number' && typeof o.nanos === 'number' && !Array.isArray(v);
}
