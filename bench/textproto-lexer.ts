/**
 * Speed of the text-proto reader alone (tokens → syntax tree, no decoding): generates configs in the article's dialect
 * with 100, 1,000 and 10,000 clusters (one listener route per cluster), then times the lexer by itself and the whole
 * parse. Run: `npx tsc -p . && node dist/bench/textproto-lexer.js [--runs N]`.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SourceFile } from '../src/config/source.js';
import { Lexer, Tok } from '../src/config/textproto/lexer.js';
import { parseTextproto } from '../src/config/textproto/parser.js';

function cluster(i: number): string {
  return `  clusters {
    cluster {
      # cluster ${i}
      name: "service-${i}"
      connect_timeout: 0.25s
      lb_policy: ROUND_ROBIN
      load_assignment {
        cluster_name: "service-${i}"
        endpoints {
          address { socket_address { address: "10.0.${(i >> 8) & 255}.${i & 255}" port_value: 8080 } }
          weight: 100
        }
        endpoints {
          address { socket_address { address: "10.1.${(i >> 8) & 255}.${i & 255}" port_value: 8080 } }
          weight: 200
        }
      }
    }
  }
`;
}

function route(i: number): string {
  return `                  routes {
                    match { prefix: "/svc/${i}/" }
                    route { cluster: "service-${i}" timeout: 15s }
                  }
`;
}

export function generate(n: number): string {
  const parts = ['static_resources {\n'];
  for (let i = 0; i < n; i++) parts.push(cluster(i));
  parts.push(`  listeners {
    listener {
      name: "edge"
      address { socket_address { address: "0.0.0.0" port_value: 80 } }
      filter_chains {
        filter_chain {
          filters {
            name: "envoy.http_connection_manager"
            typed_config {
              codec: "http2"
              route_config {
                name: "routes"
                virtual_hosts {
                  name: "all"
                  domains: ["*"]
`);
  for (let i = 0; i < n; i++) parts.push(route(i));
  parts.push(`                }
              }
            }
          }
        }
      }
    }
  }
}
`);
  return parts.join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median wall time and median CPU time (all threads, so GC helpers count) of `runs` calls, after one warm-up. */
function time(runs: number, fn: () => void): { wall: number; cpu: number } {
  fn();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

const ms = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(0)} ms (cpu ${t.cpu.toFixed(0)})`;

if (process.argv[1]?.endsWith('textproto-lexer.js')) main();

function main(): void {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
  console.log(`text-proto reader, median of ${runs} runs (Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`);
  console.log('Reference: V8\'s native JSON.parse building the same object graph (the tree with its offsets) from its JSON.');
  console.log('| clusters | size | tokens | lexer only | parse (lex + tree) | JSON.parse of the same tree (JSON size) |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const n of [100, 1_000, 10_000]) {
    const text = generate(n);
    const source = new SourceFile(`gen-${n}.textproto`, text);
    let tokens = 0;
    const lex = time(runs, () => {
      tokens = 0;
      const lx = new Lexer(text, () => undefined);
      while (lx.kind !== Tok.EOF) {
        tokens++;
        lx.advance();
      }
    });
    const parse = time(runs, () => {
      const r = parseTextproto(source);
      if (r.tree === undefined || r.diagnostics.length > 0) throw new Error('generated config did not parse');
    });
    // Syntax nodes point at their SourceFile (spans are built from offsets on demand): leave it out of the JSON.
    const json = JSON.stringify(parseTextproto(source).tree, (k, v: unknown) => (k === 'src' ? undefined : v));
    const floor = time(runs, () => JSON.parse(json));
    console.log(
      `| ${n.toLocaleString('en-US')} | ${(text.length / 1e6).toFixed(2)} MB | ${tokens.toLocaleString('en-US')} | ${ms(lex)} | ${ms(parse)} | ${ms(floor)} (${(json.length / 1e6).toFixed(1)} MB) |`,
    );
  }
}
