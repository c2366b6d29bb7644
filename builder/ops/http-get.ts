import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';

/** Redirects followed before giving up (Go's http.Client, which BuildKit uses, stops after 10). */
const MAX_REDIRECTS = 10;

let extraCa: string[] | undefined | null = null;

/**
 * The trust store when `bin/tsbuild` started Node: it moves NODE_EXTRA_CA_CERTS
 * to TSBUILD_EXTRA_CA_CERTS (Node 20 parses the whole file at start-up, and most
 * commands make no TLS connection), so these certificates are added here, when a
 * connection first needs them, to Node's own roots, as Node would have. A file
 * that cannot be read is ignored, as Node ignores it (with a warning it prints).
 */
function trustedCertificates(): string[] | undefined {
  if (extraCa !== null) return extraCa;
  const file = process.env.TSBUILD_EXTRA_CA_CERTS;
  extraCa = undefined;
  if (file) {
    try {
      extraCa = [...rootCertificates, readFileSync(file, 'utf8')];
    } catch {}
  }
  return extraCa;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`invalid response status ${status}`);
  }
}

/**
 * GETs an http or https URL and follows redirects; resolves to the final
 * response (2xx), its body unread. Other statuses reject with HttpStatusError,
 * network failures with Node's error (its `code`, e.g. ECONNREFUSED).
 */
export async function httpGet(url: string, signal?: AbortSignal): Promise<IncomingMessage> {
  let current = new URL(url);
  for (let redirects = 0; ; redirects++) {
    const res = await request(current, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      res.resume();
      if (redirects >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
      current = new URL(location, current);
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw new Error(`redirect to unsupported URL scheme ${current.protocol.slice(0, -1)}`);
      }
      continue;
    }
    if (status < 200 || status > 299) {
      res.resume();
      throw new HttpStatusError(status);
    }
    return res;
  }
}

function request(url: URL, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  const secure = url.protocol === 'https:';
  const ca = secure ? trustedCertificates() : undefined;
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).get(url, { ...(signal ? { signal } : {}), ...(ca ? { ca } : {}) }, resolve);
    req.on('error', reject);
  });
}
