/** Flags and flag values several commands take: `--from`, whole numbers, host:port pairs, a port offset. */
import type { InputFormat } from '../config/model.js';
import { UsageError } from '../config/usage-error.js';
import { Option } from './commander.js';

const INPUT_FORMATS: readonly InputFormat[] = ['textproto', 'yaml', 'json', 'envoy'];

/** `--from FORMAT` (with `-f` for convert): commander refuses any other value with the list of choices. */
export function fromOption(flags = '--from <format>'): InstanceType<typeof Option> {
  return new Option(flags, 'input format (default: from the extension, then the content)').choices(INPUT_FORMATS);
}

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

/** commander's argument parser for a repeatable flag: each use adds its value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--listen-port-offset`: added to every non-zero listener port. */
export function listenPortOffset(v: string): number {
  return int('--listen-port-offset', v, -65535, 65535);
}
