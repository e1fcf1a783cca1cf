/**
 * Whether a command colours what it writes to a stream, decided here for every command: never with `--no-color` or a
 * non-empty NO_COLOR (https://no-color.org); otherwise when the stream is a terminal, or when FORCE_COLOR asks for it
 * (a CI log that renders colour). NO_COLOR wins over FORCE_COLOR.
 */
export function useColor(stream: NodeJS.WriteStream, flag?: boolean): boolean {
  if (flag === false) return false;
  const no = process.env.NO_COLOR;
  if (no !== undefined && no !== '') return false;
  return stream.isTTY === true || forced();
}

function forced(): boolean {
  const f = process.env.FORCE_COLOR;
  return f !== undefined && f !== '' && f !== '0' && f !== 'false';
}
