/** Readers for flag values that several commands take (`run` and `demo`): whole numbers and host:port pairs. */
import { UsageError } from '../config/usage-error.js';

/** A whole number from `min` to `max`, or a usage error naming the flag. */
export function int(name: string, v: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name} expects a whole number from ${min} to ${max}, got \`${v}\``);
  return Number(v);
}

/** `host:port` or `[ipv6]:port`. */
export function hostPort(name: string, v: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v);
  if (!m) throw new UsageError(`${name} expects host:port, got \`${v}\``);
  return { address: m[1] ?? m[2]!, port: int(name, m[3]!, 0, 65535) };
}

/** `--listen-port-offset`: added to every non-zero listener port. */
export function listenPortOffset(v: string): number {
  return int('--listen-port-offset', v, -65535, 65535);
}
