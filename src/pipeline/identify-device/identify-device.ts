// Stage 2: which device is this request from? Routes do not require device posture yet, so this stage
// reports "not-required"; client certificates, trusted certificate headers and Fleet's email mapping
// plug in here.
import type { RequestContext } from '../request-context.ts';

export type DeviceResult = { readonly kind: 'not-required' };

export async function identifyDevice(_ctx: RequestContext): Promise<DeviceResult> {
  return { kind: 'not-required' };
}
