// Device certificate helpers against certificates minted per run: SAN parsing, SAN pattern compilation,
// CA verification, CA bundle splitting and every forwarded-header encoding.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, deviceUri } from '../../../test/support/certificates.ts';
import type { TestPki } from '../../../test/support/certificates.ts';
import { compileSanPattern } from '../../config/compile-san-pattern.ts';
import {
  loadCaBundle,
  parseSubjectAltName,
  uuidFromCertificate,
  verifyDeviceCertificate,
} from './device-certificate.ts';
import { certificateFromHeader } from './forwarded-certificate.ts';

const DEFAULT_PATTERN = '^urn:device:apple:uuid:(?<uuid>[0-9A-Fa-f-]{36})$';
const UUID = '0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9';
const OTHER_UUID = '11111111-2222-4333-8444-555555555555';

let pki: TestPki;
const pattern = compileSanPattern(DEFAULT_PATTERN);

beforeAll(async () => {
  pki = await createTestPki(UUID);
});

async function deviceCert(uris: string[], extra: { dnsNames?: string[]; commonName?: string } = {}): Promise<X509Certificate> {
  const pair = await pki.deviceCa.issue({ commonName: extra.commonName ?? 'device', uris, dnsNames: extra.dnsNames, usage: 'client' });
  return new X509Certificate(pair.cert);
}

describe('uuidFromCertificate', () => {
  it('reads the UUID from the device URI SAN', () => {
    expect(uuidFromCertificate(new X509Certificate(pki.device.cert), pattern)).toBe(UUID);
  });

  it('picks the first matching URI among several SANs of mixed types', async () => {
    const cert = await deviceCert(['https://mdm.example.test/enroll', deviceUri(UUID), deviceUri(OTHER_UUID)], {
      dnsNames: ['device.example.test'],
    });
    expect(uuidFromCertificate(cert, pattern)).toBe(UUID);
  });

  it('upper-cases a lower-case UUID', async () => {
    const cert = await deviceCert([deviceUri(UUID.toLowerCase())]);
    expect(uuidFromCertificate(cert, pattern)).toBe(UUID);
  });

  it('returns undefined when no URI SAN matches', async () => {
    const cert = await deviceCert(['urn:device:windows:id:1234', `${deviceUri(UUID)}/extra`], { dnsNames: ['x.test'] });
    expect(uuidFromCertificate(cert, pattern)).toBeUndefined();
  });

  it('ignores the subject CN even when it looks like a UUID', async () => {
    const cert = await deviceCert([], { commonName: UUID, dnsNames: [deviceUri(UUID)] });
    expect(cert.subject).toContain(UUID);
    expect(uuidFromCertificate(cert, pattern)).toBeUndefined();
  });

  it('cannot be fooled by a SAN value that embeds a second entry', async () => {
    // Node quotes values containing commas, so this stays one DNS entry rather than becoming a URI.
    const cert = await deviceCert(['https://a.test/x,y'], { dnsNames: [`x.test, URI:${deviceUri(UUID)}`] });
    expect(cert.subjectAltName).toContain('"');
    expect(uuidFromCertificate(cert, pattern)).toBeUndefined();
  });

  it('decodes URI values Node had to quote', async () => {
    const custom = compileSanPattern('^https://devices\\.test/(?<uuid>[0-9A-F-]{36}),v1$');
    const cert = await deviceCert([`https://devices.test/${UUID},v1`]);
    expect(uuidFromCertificate(cert, custom)).toBe(UUID);
  });
});

describe('parseSubjectAltName', () => {
  it('splits plain and JSON-quoted entries', () => {
    const text = 'DNS:a.test, URI:"https://x.test/a\\u002cb", IP Address:127.0.0.1, URI:urn:x';
    expect(parseSubjectAltName(text)).toEqual([
      { type: 'DNS', value: 'a.test' },
      { type: 'URI', value: 'https://x.test/a,b' },
      { type: 'IP Address', value: '127.0.0.1' },
      { type: 'URI', value: 'urn:x' },
    ]);
  });

  it('stops at a malformed quoted value', () => {
    expect(parseSubjectAltName('DNS:a, URI:"unterminated')).toEqual([{ type: 'DNS', value: 'a' }]);
    expect(parseSubjectAltName('')).toEqual([]);
  });
});

describe('compileSanPattern', () => {
  it('compiles the default pattern', () => {
    expect(compileSanPattern(DEFAULT_PATTERN).exec(deviceUri(UUID))?.groups?.['uuid']).toBe(UUID);
  });

  it('rejects a pattern that does not compile', () => {
    expect(() => compileSanPattern('^urn:(?<uuid>[0-9')).toThrow(/not a valid regular expression/);
  });

  it('rejects a pattern without a uuid group', () => {
    expect(() => compileSanPattern('^urn:device:apple:uuid:([0-9A-F-]{36})$')).toThrow(/\(\?<uuid>/);
    expect(() => compileSanPattern('^urn:(?<id>.+)$')).toThrow(/\(\?<uuid>/);
    expect(() => compileSanPattern('^urn:\\(\\?<uuid>x\\)$')).toThrow(/\(\?<uuid>/);
  });
});

describe('verifyDeviceCertificate', () => {
  const now = () => Date.now();
  const cas = () => [new X509Certificate(pki.serverCa.cert), new X509Certificate(pki.deviceCa.cert)];

  it('accepts a current certificate issued by a configured CA', () => {
    expect(verifyDeviceCertificate(new X509Certificate(pki.device.cert), cas(), now())).toEqual({ ok: true });
  });

  it('rejects an expired certificate', () => {
    expect(verifyDeviceCertificate(new X509Certificate(pki.expiredDevice.cert), cas(), now())).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects a certificate that is not yet valid', () => {
    const result = verifyDeviceCertificate(new X509Certificate(pki.notYetValidDevice.cert), cas(), now());
    expect(result).toEqual({ ok: false, reason: 'not-yet-valid' });
  });

  it('rejects a certificate from another CA', () => {
    const result = verifyDeviceCertificate(new X509Certificate(pki.otherCaDevice.cert), cas(), now());
    expect(result).toEqual({ ok: false, reason: 'untrusted-issuer' });
  });

  it('rejects everything when no CA is configured', () => {
    expect(verifyDeviceCertificate(new X509Certificate(pki.device.cert), [], now())).toEqual({ ok: false, reason: 'untrusted-issuer' });
  });

  it('rejects a certificate whose issuer name matches but whose signature does not', async () => {
    const impostor = await createTestPki(UUID);
    // Same CA name as ours, different key: the metadata matches, the signature must not.
    const result = verifyDeviceCertificate(new X509Certificate(impostor.device.cert), cas(), now());
    expect(new X509Certificate(impostor.device.cert).issuer).toBe(new X509Certificate(pki.deviceCa.cert).subject);
    expect(result).toEqual({ ok: false, reason: 'untrusted-issuer' });
  });
});

describe('loadCaBundle', () => {
  it('splits a bundle into its certificates, in order', () => {
    const bundle = `# device CAs\n${pki.deviceCa.cert}\n\n${pki.serverCa.cert}${pki.otherCa.cert}`;
    const subjects = loadCaBundle(bundle).map((cert) => cert.subject);
    expect(subjects).toEqual(['CN=Trustgate Test Device CA', 'CN=Trustgate Test Server CA', 'CN=Unrelated Test CA']);
  });

  it('throws on a bundle without certificates or with a broken one', () => {
    expect(() => loadCaBundle('nothing here')).toThrow(/no PEM certificates/);
    expect(() => loadCaBundle('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toThrow();
  });
});

describe('certificateFromHeader', () => {
  const fingerprint = () => new X509Certificate(pki.device.cert).fingerprint256;
  const decoded = (value: string) => certificateFromHeader(value)?.fingerprint256;

  it('decodes URL-encoded PEM (nginx $ssl_client_escaped_cert)', () => {
    expect(decoded(encodeURIComponent(pki.device.cert))).toBe(fingerprint());
  });

  it('decodes AWS ALB encoding, where "+", "=" and "/" are left as they are', () => {
    const alb = encodeURIComponent(pki.device.cert).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/');
    expect(alb).toContain('-----BEGIN%20CERTIFICATE-----%0A');
    expect(decoded(alb)).toBe(fingerprint());
  });

  it('decodes PEM whose newlines became spaces or tabs', () => {
    expect(decoded(pki.device.cert.replace(/\n/g, ' '))).toBe(fingerprint());
    expect(decoded(pki.device.cert.trim().replace(/\n/g, '\t'))).toBe(fingerprint());
  });

  it('decodes base64 DER without armour, plain or URL-encoded', () => {
    const der = Buffer.from(new X509Certificate(pki.device.cert).raw).toString('base64');
    expect(decoded(der)).toBe(fingerprint());
    expect(decoded(encodeURIComponent(der))).toBe(fingerprint());
  });

  it('takes the first certificate of a forwarded chain', () => {
    expect(decoded(encodeURIComponent(pki.device.cert + pki.deviceCa.cert))).toBe(fingerprint());
  });

  it.each([
    ['empty', ''],
    ['text', 'hello world'],
    ['broken escape', '%E0%A4%A'],
    ['armour only', '-----BEGIN CERTIFICATE----- -----END CERTIFICATE-----'],
    ['non-base64 body', '-----BEGIN CERTIFICATE----- not*base64! -----END CERTIFICATE-----'],
    ['base64 of junk', Buffer.from('definitely not DER').toString('base64')],
    ['private key', '-----BEGIN PRIVATE KEY----- MIGHAgEAMBMGByqGSM49AgEGCCqGSM49 -----END PRIVATE KEY-----'],
  ])('returns undefined for garbage: %s', (_name, value) => {
    expect(certificateFromHeader(value)).toBeUndefined();
  });

  it('refuses values over 16 KiB without decoding them', () => {
    const padded = pki.device.cert.replace(/\n/g, ' ') + ' '.repeat(17 * 1024);
    expect(certificateFromHeader(padded)).toBeUndefined();
  });
});
