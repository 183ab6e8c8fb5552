// Test PKI made at test time: a device CA, a separate server CA, an unrelated CA and the certificates
// they issue, as PEM strings (and files on request), so no key material is ever checked in.
// @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect metadata polyfill
// loaded before it; keep this import first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// The library defaults to globalThis.crypto; naming Node's implementation keeps that explicit.
x509.cryptoProvider.set(webcrypto);

// P-256 keys are generated in milliseconds, which keeps a whole PKI per test file cheap.
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export const TEST_DEVICE_UUID = '6F1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D';

export interface PemPair {
  cert: string;
  key: string;
}

export interface IssueOptions {
  commonName: string;
  /** URI SANs, e.g. urn:device:apple:uuid:<UUID>. */
  uris?: string[];
  dnsNames?: string[];
  ips?: string[];
  usage: 'client' | 'server';
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestAuthority extends PemPair {
  issue(options: IssueOptions): Promise<PemPair>;
}

export interface TestPki {
  deviceCa: TestAuthority;
  serverCa: TestAuthority;
  /** A CA nobody trusts, for "issued by someone else" cases. */
  otherCa: TestAuthority;
  /** For 127.0.0.1 and localhost, issued by serverCa. */
  server: PemPair;
  uuid: string;
  device: PemPair;
  expiredDevice: PemPair;
  notYetValidDevice: PemPair;
  otherCaDevice: PemPair;
  /** A device certificate from deviceCa carrying `urn:device:apple:uuid:<uuid>`. */
  issueDevice(uuid: string, overrides?: Partial<IssueOptions>): Promise<PemPair>;
}

export async function createAuthority(commonName: string): Promise<TestAuthority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    notBefore: new Date(Date.now() - HOUR),
    notAfter: new Date(Date.now() + 30 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: certificate.toString('pem'),
    key: await privateKeyPem(keys.privateKey),
    issue: (options) => issueCertificate(certificate, keys.privateKey, options),
  };
}

async function issueCertificate(issuer: x509.X509Certificate, signingKey: CryptoKey, options: IssueOptions): Promise<PemPair> {
  const keys = await generateKeys();
  const names: x509.JsonGeneralName[] = [
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([options.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const certificate = await x509.X509CertificateGenerator.create({
    subject: `CN=${options.commonName}`,
    issuer: issuer.subject,
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: ALGORITHM,
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + 7 * DAY),
    extensions,
  });
  return { cert: certificate.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

export async function createTestPki(uuid: string = TEST_DEVICE_UUID): Promise<TestPki> {
  const [deviceCa, serverCa, otherCa] = await Promise.all([
    createAuthority('Trustgate Test Device CA'),
    createAuthority('Trustgate Test Server CA'),
    createAuthority('Unrelated Test CA'),
  ]);
  const issueDevice = (deviceUuid: string, overrides: Partial<IssueOptions> = {}) =>
    deviceCa.issue({ commonName: deviceUuid, uris: [deviceUri(deviceUuid)], usage: 'client', ...overrides });
  const now = Date.now();
  return {
    deviceCa,
    serverCa,
    otherCa,
    server: await serverCa.issue({ commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' }),
    uuid,
    device: await issueDevice(uuid),
    expiredDevice: await issueDevice(uuid, { notBefore: new Date(now - 2 * DAY), notAfter: new Date(now - DAY) }),
    notYetValidDevice: await issueDevice(uuid, { notBefore: new Date(now + DAY), notAfter: new Date(now + 2 * DAY) }),
    otherCaDevice: await otherCa.issue({ commonName: uuid, uris: [deviceUri(uuid)], usage: 'client' }),
    issueDevice,
  };
}

export function deviceUri(uuid: string): string {
  return `urn:device:apple:uuid:${uuid}`;
}

/** Writes every certificate and key of `pki` into a fresh temporary directory; returns the file paths. */
export async function writeTestPki(pki: TestPki): Promise<{ dir: string; files: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-pki-'));
  const pairs: Record<string, PemPair> = {
    'device-ca': pki.deviceCa,
    'server-ca': pki.serverCa,
    'other-ca': pki.otherCa,
    server: pki.server,
    device: pki.device,
    'expired-device': pki.expiredDevice,
    'not-yet-valid-device': pki.notYetValidDevice,
    'other-ca-device': pki.otherCaDevice,
  };
  const files: Record<string, string> = {};
  for (const [name, pair] of Object.entries(pairs)) {
    files[`${name}.crt`] = join(dir, `${name}.crt`);
    files[`${name}.key`] = join(dir, `${name}.key`);
    await writeFile(join(dir, `${name}.crt`), pair.cert);
    await writeFile(join(dir, `${name}.key`), pair.key, { mode: 0o600 });
  }
  return { dir, files };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
}
