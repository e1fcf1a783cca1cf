/** `npm run schemas`: regenerate the model types, the precompiled descriptor and the JSON Schema from the .proto. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { generateAll } from './schema-gen-lib.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const g = generateAll(join(repo, 'schemas', 'meshctl.proto'));
writeFileSync(join(repo, 'schemas', 'meshctl.descriptor.json'), g.descriptor);
writeFileSync(join(repo, 'src', 'config', 'model.generated.ts'), g.modelTs);
writeFileSync(join(repo, 'schemas', 'meshctl.schema.json'), g.jsonSchema);
process.stdout.write('wrote schemas/meshctl.descriptor.json, src/config/model.generated.ts, schemas/meshctl.schema.json\n');
