/** Every command, registered in help order. Each module only declares its options; its action imports the work. */
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
