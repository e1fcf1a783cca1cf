/** Every command, registered in help order. Each module only declares its options; its action imports the work. */
import type { Command } from 'commander';
import { register as registerConvert } from './convert.js';
import { register as registerValidate } from './validate.js';

export function registerCommands(program: Command): void {
  void program;
  registerValidate(program);
  registerConvert(program);
}
