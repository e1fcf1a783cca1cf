/**
 * Text format's Any expansion, `typed_config { [type.googleapis.com/pkg.Msg] { … } }`, read as the JSON form
 * `{ "@type": "type.googleapis.com/pkg.Msg", … }` (protobuf text format's expanded Any; Envoy's `.pb_text` files and
 * the decoder both read it).
 */
import { SField, SMessage, SScalar } from './syntax.js';

export function expandAny(msg: SMessage): SMessage {
  if (msg.fields.length !== 1) return msg;
  const f = msg.fields[0]!;
  if (f.name.charCodeAt(0) !== 0x5b /* [ */) return msg;
  const m = /^\[(.+)\]$/.exec(f.name);
  if (m === null || f.value.kind !== 'message' || !m[1]!.includes('/')) return msg;
  const { src, keyStart, keyEnd } = f;
  const url = new SField('@type', new SScalar('string', m[1]!, JSON.stringify(m[1]), src, keyStart, keyEnd), src, keyStart, keyEnd, keyStart, keyEnd);
  const expanded = new SMessage([url, ...f.value.fields], msg.src, msg.start, msg.end);
  expanded.trailingComments = f.value.trailingComments;
  return expanded;
}
