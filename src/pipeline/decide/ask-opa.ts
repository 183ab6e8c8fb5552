// The Open Policy Agent hook: POSTs the decision input to OPA's data API
// (https://www.openpolicyagent.org/docs/latest/rest-api/#get-a-document-with-input) and reads
// `result.allow` (and `result.reasons`). OPA can only turn the gateway's allow into a deny.
import { request } from 'undici';
import { z } from 'zod';
import { GatewayError } from '../../errors.ts';
import type { OpaRule } from '../../config/schema.ts';

export interface OpaAnswer {
  readonly allow: boolean;
  readonly reasons: readonly string[];
}

const answerSchema = z.object({
  result: z.union([
    z.boolean(),
    z.object({ allow: z.boolean(), reasons: z.array(z.string()).optional() }).loose(),
  ]),
});

const MAX_BODY_BYTES = 256 * 1024;

export async function askOpa(rule: OpaRule, input: Record<string, unknown>): Promise<OpaAnswer> {
  const url = new URL(`v1/data/${rule.path}`, rule.url.endsWith('/') ? rule.url : `${rule.url}/`);
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
      headersTimeout: rule.timeout,
      bodyTimeout: rule.timeout,
      signal: AbortSignal.timeout(rule.timeout),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (cause) {
    // undici errors carry a string code (UND_ERR_…); AbortSignal.timeout throws a DOMException (numeric code).
    const code = (cause as { code?: unknown }).code;
    const reason = typeof code === 'string' ? code : (cause as Error).name;
    const timedOut = /Timeout/i.test(reason);
    throw new GatewayError('TG_ERR_OPA_UNAVAILABLE', timedOut ? 'OPA did not answer in time.' : 'OPA cannot be reached.', { details: { reason } });
  }
  if (status !== 200 || text.length > MAX_BODY_BYTES) {
    throw new GatewayError('TG_ERR_OPA_UNAVAILABLE', `OPA answered ${status}.`, { details: { status } });
  }
  return parseAnswer(text);
}

function parseAnswer(text: string): OpaAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GatewayError('TG_ERR_OPA_UNAVAILABLE', 'OPA sent a body that is not JSON.');
  }
  // An undefined document (no rule matched) comes back as {} — that is "no allow", i.e. deny.
  if (json && typeof json === 'object' && !('result' in json)) return { allow: false, reasons: ['opa-undefined'] };
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) throw new GatewayError('TG_ERR_OPA_UNAVAILABLE', 'OPA sent a result without a boolean "allow".');
  const result = parsed.data.result;
  return typeof result === 'boolean' ? { allow: result, reasons: [] } : { allow: result.allow, reasons: result.reasons ?? [] };
}
