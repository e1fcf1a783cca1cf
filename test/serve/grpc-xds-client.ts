/**
 * A proxyless gRPC client in its own process (the xDS resolver registers itself globally): @grpc/grpc-js-xds
 * resolves `xds:///<target>` through the control plane named by GRPC_XDS_BOOTSTRAP_CONFIG, then makes `calls` unary
 * calls and prints, as one JSON line on stdout, how many each backend answered. Arguments: target, calls.
 */
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';

const require = createRequire(import.meta.url);
(require('@grpc/grpc-js-xds') as { register(): void }).register();

const [target, callsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? '100');
const client = new grpc.Client(`xds:///${target}`, grpc.credentials.createInsecure());
const call = (): Promise<string> =>
  new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/meshctl.test.Echo/Who',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + 10_000 },
      (err, res) => (err ? reject(err) : resolve(res!.toString())),
    );
  });

const counts: Record<string, number> = {};
try {
  for (let i = 0; i < calls; i++) {
    const who = await call();
    counts[who] = (counts[who] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify({ counts }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ error: (err as Error).message, counts }) + '\n');
  process.exitCode = 1;
} finally {
  client.close();
  // The xDS client keeps its control-plane channel open; this process has said all it had to.
  process.exit();
}
