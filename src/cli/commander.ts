/**
 * commander, loaded with require(). It is CommonJS: `import` would first run node's CJS export lexer over its sources,
 * about 12 ms of every start-up (measured), and `meshctl validate` runs many times in CI.
 */
import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof CommanderModule;

export const { Command, CommanderError, Option } = commander;
