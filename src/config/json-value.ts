/** JSON values as the model keeps them (a field meshctl does not model is kept verbatim, as JSON). */
type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
