// readDeviceCertificate behind a real HTTPS listener: OpenSSL does the mTLS verification against the device
// CA, and the forwarded-header path is re-verified against the configured CA bundle.
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { createServer, request } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSanPattern } from '../../src/config/compile-san-pattern.ts';
import { readDeviceCertificate } from '../../src/pipeline/identify-device/read-device-certificate.ts';
import type { DeviceIdentityMethod } from '../../src/pipeline/identify-device/read-device-certificate.ts';
import { createTestPki } from '../support/certificates.ts';
import type { PemPair, TestPki } from '../support/certificates.ts';

const sanPattern = compileSanPattern('^urn:device:apple:uuid:(?<uuid>[0-9A-Fa-f-]{36})$');

let pki: TestPki;
let server: Server;
let port: number;

beforeAll(async () => {
  pki = await createTestPki();
  const headerCas = [new X509Certificate(pki.deviceCa.cert)];
  server = createServer(
    { ...pki.server, ca: pki.deviceCa.cert, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      // The test tells the handler what the gateway would have worked out: trust and configured methods.
      const url = new URL(req.url ?? '/', 'https://localhost');
      const header = req.headers['x-client-cert'];
      const identity = readDeviceCertificate({
        socket: req.socket,
        headerValue: typeof header === 'string' ? header : undefined,
        fromTrustedProxy: url.searchParams.get('trusted') === '1',
        methods: (url.searchParams.get('methods') ?? 'certificate,header,email').split(',') as DeviceIdentityMethod[],
        sanPattern,
        headerCas,
        nowMs: Date.now(),
      });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(identity));
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

interface Call {
  client?: PemPair;
  query?: string;
  forwarded?: string;
}

async function identify({ client, query = '', forwarded }: Call): Promise<Record<string, unknown>> {
  const req = request({
    host: '127.0.0.1',
    port,
    path: `/${query}`,
    ca: pki.serverCa.cert,
    servername: 'localhost',
    // A fresh connection per call: a pooled or resumed TLS session would carry another call's certificate.
    agent: false,
    ...(client ?? {}),
    headers: forwarded === undefined ? {} : { 'x-client-cert': forwarded },
  });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return JSON.parse(body) as Record<string, unknown>;
}

describe('client certificate on the TLS handshake', () => {
  it('identifies a device whose certificate the device CA issued', async () => {
    const identity = await identify({ client: pki.device });
    expect(identity).toEqual({
      kind: 'certificate',
      source: 'mtls',
      uuid: pki.uuid,
      fingerprint: new X509Certificate(pki.device.cert).fingerprint256,
    });
  });

  it('does not trust a certificate from another CA', async () => {
    const identity = await identify({ client: pki.otherCaDevice });
    expect(identity.kind).toBe('none');
    expect(identity['problems']).toEqual([expect.stringMatching(/^client certificate not trusted: /)]);
  });

  it('does not trust an expired certificate', async () => {
    const identity = await identify({ client: pki.expiredDevice });
    expect(identity['problems']).toEqual(['client certificate not trusted: CERT_HAS_EXPIRED']);
  });

  it('reports no device when no certificate is presented', async () => {
    expect(await identify({})).toEqual({ kind: 'none', problems: ['no client certificate presented'] });
  });

  it('ignores the handshake when the certificate method is not configured', async () => {
    expect(await identify({ client: pki.device, query: '?methods=header,email' })).toEqual({ kind: 'none', problems: [] });
  });
});

describe('certificate forwarded by a front proxy', () => {
  const forwarded = (pair: PemPair) => encodeURIComponent(pair.cert);

  it('identifies the device when the request comes from a trusted proxy', async () => {
    const identity = await identify({ query: '?trusted=1', forwarded: forwarded(pki.device) });
    expect(identity).toMatchObject({ kind: 'certificate', source: 'header', uuid: pki.uuid });
  });

  it('ignores the header from anyone else', async () => {
    const identity = await identify({ forwarded: forwarded(pki.device) });
    expect(identity).toEqual({
      kind: 'none',
      problems: ['no client certificate presented', 'certificate header ignored: request did not come from a trusted proxy'],
    });
  });

  it('re-verifies the forwarded certificate against the configured CAs', async () => {
    const identity = await identify({ query: '?trusted=1', forwarded: forwarded(pki.otherCaDevice) });
    expect(identity).toMatchObject({ kind: 'none', problems: expect.arrayContaining(['forwarded client certificate rejected: untrusted-issuer']) });
  });

  it('rejects an expired forwarded certificate', async () => {
    const identity = await identify({ query: '?trusted=1', forwarded: forwarded(pki.expiredDevice) });
    expect(identity).toMatchObject({ kind: 'none', problems: expect.arrayContaining(['forwarded client certificate rejected: expired']) });
  });

  it('prefers the handshake certificate when "certificate" comes first', async () => {
    const other = await pki.issueDevice('AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE');
    const identity = await identify({ client: pki.device, query: '?trusted=1', forwarded: forwarded(other) });
    expect(identity).toMatchObject({ kind: 'certificate', source: 'mtls', uuid: pki.uuid });
  });

  it('follows the configured order when "header" comes first', async () => {
    const other = await pki.issueDevice('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const identity = await identify({ client: pki.device, query: '?trusted=1&methods=header,certificate', forwarded: forwarded(other) });
    expect(identity).toMatchObject({ kind: 'certificate', source: 'header', uuid: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE' });
  });
});
