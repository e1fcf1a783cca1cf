/**
 * A field's proto3 JSON name: its lowerCamelCase form, as protoc derives it when a field declares no `json_name`
 * (none of Envoy's do). protobuf's JSON parser accepts a field under either name, so Envoy reads `load_assignment`
 * and `loadAssignment` alike (https://protobuf.dev/programming-guides/json/: "the lowerCamelCase name, or the
 * original proto field name").
 */
export function jsonName(protoName: string): string {
  if (!protoName.includes('_')) return protoName;
  let out = '';
  let upper = false;
  for (const c of protoName) {
    if (c === '_') {
      upper = true;
    } else if (upper) {
      out += c.toUpperCase();
      upper = false;
    } else {
      out += c;
    }
  }
  return out;
}
