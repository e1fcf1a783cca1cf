/** `--check-files`: the TLS key and certificate files exist, parse, belong together and have not expired. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { spanOf } from '../../config/node-meta.js';
import type { DataSource } from '../../config/model.js';
import type { Span } from '../../config/source.js';
import { defineRule, type RuleContext } from '../rule.js';

const DAY_MS = 86_400_000;

/** node:crypto is loaded only under --check-files (it is the slowest builtin to initialise). */
let cryptoModule: typeof import('node:crypto') | undefined;
function crypto(): typeof import('node:crypto') {
  cryptoModule ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return cryptoModule;
}
/** Certificates expiring within this many days get a warning. */
const EXPIRY_WARNING_DAYS = 30;

interface Loaded {
  readonly data: Buffer;
  readonly label: string;
  readonly at: Span | undefined;
}

type Ids = 'missing' | 'unreadable';

/** The bytes a DataSource points at; reports a missing or unreadable file. */
function load(ctx: RuleContext<Ids>, ds: DataSource | undefined, what: string): Loaded | undefined {
  if (ds === undefined) return undefined;
  if (ds.inline_string !== undefined) return { data: Buffer.from(ds.inline_string), label: `inline ${what}`, at: spanOf(ds, 'inline_string') };
  if (ds.inline_bytes !== undefined) return { data: Buffer.from(ds.inline_bytes, 'base64'), label: `inline ${what}`, at: spanOf(ds, 'inline_bytes') };
  if (ds.filename === undefined || ds.filename === '') return undefined;
  const at = spanOf(ds, 'filename');
  const path = isAbsolute(ds.filename) ? ds.filename : resolve(ctx.filesBase, ds.filename);
  try {
    return { data: readFileSync(path), label: ds.filename, at };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    ctx.report({
      messageId: code === 'ENOENT' ? 'missing' : 'unreadable',
      data: { what, file: ds.filename, reason: code ?? 'error' },
      at,
      hint: isAbsolute(ds.filename) ? undefined : `relative paths are resolved against ${ctx.filesBase}`,
    });
    return undefined;
  }
}

export const tlsFileMissing = defineRule({
  id: 'tls-file-missing',
  severity: 'error',
  category: 'files',
  needsFiles: true,
  description: 'A TLS key, certificate or CA file does not exist or cannot be read (`--check-files`).',
  messages: {
    missing: '{{what}} file `{{file}}` does not exist',
    unreadable: '{{what}} file `{{file}}` cannot be read ({{reason}})',
  },
  check(ctx) {
    forEachTlsFile(ctx, () => undefined);
  },
});

/** Walk every certificate/key pair; the file rule reports I/O problems, the others the contents. */
function forEachTlsFile(
  ctx: RuleContext<Ids>,
  visit: (cert: Loaded | undefined, key: Loaded | undefined, kind: 'pair' | 'ca') => void,
): void {
  for (const { tls } of ctx.index.tlsContexts) {
    const common = tls.common_tls_context;
    for (const tc of common?.tls_certificates ?? []) {
      visit(load(ctx, tc.certificate_chain, 'certificate chain'), load(ctx, tc.private_key, 'private key'), 'pair');
    }
    const ca = load(ctx, common?.validation_context?.trusted_ca, 'trusted CA');
    if (ca !== undefined) visit(ca, undefined, 'ca');
  }
}

/** The same walk without reporting I/O problems (tls-file-missing does that). */
function quietly<M extends string>(ctx: RuleContext<M>): RuleContext<Ids> {
  return { ...ctx, report: () => undefined };
}

function parseCert(l: Loaded): X509Certificate | string {
  try {
    return new (crypto().X509Certificate)(l.data);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function parseKey(l: Loaded): KeyObject | string {
  try {
    return crypto().createPrivateKey(l.data);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const tlsFileInvalid = defineRule({
  id: 'tls-file-invalid',
  severity: 'error',
  category: 'files',
  needsFiles: true,
  description: 'A TLS certificate or key file that is not a PEM certificate / private key (`--check-files`).',
  messages: {
    cert: '`{{file}}` is not a PEM certificate: {{reason}}',
    key: '`{{file}}` is not a PEM private key: {{reason}}',
  },
  check(ctx) {
    forEachTlsFile(quietly(ctx), (cert, key) => {
      if (cert !== undefined) {
        const c = parseCert(cert);
        if (typeof c === 'string') ctx.report({ messageId: 'cert', data: { file: cert.label, reason: c }, at: cert.at });
      }
      if (key !== undefined) {
        const k = parseKey(key);
        if (typeof k === 'string') ctx.report({ messageId: 'key', data: { file: key.label, reason: k }, at: key.at });
      }
    });
  },
});

export const tlsKeyMismatch = defineRule({
  id: 'tls-key-mismatch',
  severity: 'error',
  category: 'files',
  needsFiles: true,
  description: 'The private key does not belong to the certificate (`--check-files`).',
  messages: {
    mismatch: 'private key `{{key}}` does not match certificate `{{cert}}`',
  },
  check(ctx) {
    forEachTlsFile(quietly(ctx), (cert, key, kind) => {
      if (kind !== 'pair' || cert === undefined || key === undefined) return;
      const c = parseCert(cert);
      const k = parseKey(key);
      if (typeof c === 'string' || typeof k === 'string') return;
      if (!c.checkPrivateKey(k)) {
        ctx.report({
          messageId: 'mismatch',
          data: { key: key.label, cert: cert.label },
          at: key.at,
          related: cert.at === undefined ? undefined : [{ message: 'the certificate', span: cert.at }],
        });
      }
    });
  },
});

export const tlsCertExpired = defineRule({
  id: 'tls-cert-expired',
  severity: 'error',
  category: 'files',
  needsFiles: true,
  description: 'The certificate has expired, or is not valid yet (`--check-files`).',
  messages: {
    expired: 'certificate `{{file}}` expired on {{date}}',
    notYet: 'certificate `{{file}}` is not valid until {{date}}',
  },
  check(ctx) {
    forEachTlsFile(quietly(ctx), (cert) => {
      if (cert === undefined) return;
      const c = parseCert(cert);
      if (typeof c === 'string') return;
      const to = new Date(c.validTo);
      const from = new Date(c.validFrom);
      if (to.getTime() < ctx.now.getTime()) {
        ctx.report({ messageId: 'expired', data: { file: cert.label, date: to.toISOString() }, at: cert.at, hint: 'renew the certificate' });
      } else if (from.getTime() > ctx.now.getTime()) {
        ctx.report({ messageId: 'notYet', data: { file: cert.label, date: from.toISOString() }, at: cert.at });
      }
    });
  },
});

export const tlsCertExpiring = defineRule({
  id: 'tls-cert-expiring',
  severity: 'warning',
  category: 'files',
  needsFiles: true,
  description: `The certificate expires within ${EXPIRY_WARNING_DAYS} days (\`--check-files\`).`,
  messages: {
    soon: 'certificate `{{file}}` expires in {{days}} days ({{date}})',
  },
  check(ctx) {
    forEachTlsFile(quietly(ctx), (cert) => {
      if (cert === undefined) return;
      const c = parseCert(cert);
      if (typeof c === 'string') return;
      const left = new Date(c.validTo).getTime() - ctx.now.getTime();
      if (left >= 0 && left < EXPIRY_WARNING_DAYS * DAY_MS) {
        ctx.report({
          messageId: 'soon',
          data: { file: cert.label, days: Math.floor(left / DAY_MS), date: new Date(c.validTo).toISOString() },
          at: cert.at,
          hint: 'renew the certificate',
        });
      }
    });
  },
});
