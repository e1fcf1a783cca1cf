/** Every command, registered in help order. Each module only declares its options; its action imports the work. */
import type { Command } from 'commander';
import { register as registerConvert } from './convert.js';
import { register as registerValidate } from './validate.js';
import { register as registerSimulate } from './simulate.js';
import { register as registerRun } from './run.js';
import { register as registerDemo } from './demo.js';
import { register as registerPrometheusConfig } from './prometheus-config.js';

export function registerCommands(program: Command): void {
  void program;
  registerValidate(program);
  registerConvert(program);
  registerSimulate(program);
  registerRun(program);
  registerDemo(program);
  registerPrometheusConfig(program);
}
