/** `npm run envoy-api`: regenerate schemas/envoy-api/ (Envoy's descriptors) from @grpc/grpc-js-xds's protos. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { envoyApiDeps, generateEnvoyApi } from './envoy-api-gen-lib.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(repo, 'schemas', 'envoy-api');
const { deps, source } = envoyApiDeps();
const files = generateEnvoyApi(deps, source);
mkdirSync(out, { recursive: true });
// Packages that left the API leave no stale file behind.
for (const name of readdirSync(out)) if (!files.has(name)) rmSync(join(out, name));
let bytes = 0;
for (const [name, text] of files) {
  writeFileSync(join(out, name), text);
  bytes += Buffer.byteLength(text);
}
process.stdout.write(`wrote ${files.size} files (${(bytes / 1024).toFixed(0)} KiB) to schemas/envoy-api/\n`);
