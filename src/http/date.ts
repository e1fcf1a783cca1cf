/**
 * The Date header's value (RFC 9110 §5.6.7, IMF-fixdate), made at most once a second and shared by every response
 * of both codecs: per request it is one clock read and a compare.
 */
let dateValue = '';
let dateSecond = 0;

export function httpDate(): string {
  const now = Date.now();
  const s = (now / 1000) | 0;
  if (s !== dateSecond) {
    dateSecond = s;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}
