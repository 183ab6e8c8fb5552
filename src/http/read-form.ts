// Reads a small urlencoded form body from the gateway's own pages; anything else or anything too big is
// a clear 400/413, never a hang (the body is read with a size limit).
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.ts';

const MAX_FORM_BYTES = 16 * 1024;

export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new GatewayError('TG_ERR_BAD_REQUEST', 'Send this form as application/x-www-form-urlencoded.', { status: 415 });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new GatewayError('TG_ERR_BAD_REQUEST', 'The form is too large.', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
