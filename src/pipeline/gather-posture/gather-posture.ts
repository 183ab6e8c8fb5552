// Stage 3: what does Fleet (and later the trust score) say about the device? Without a device
// requirement on the route there is nothing to gather; the Fleet source and posture cache plug in here.
import type { RequestContext } from '../request-context.ts';
import type { DeviceResult } from '../identify-device/identify-device.ts';

export type PostureResult = { readonly kind: 'not-required' };

export async function gatherPosture(_ctx: RequestContext, _device: DeviceResult): Promise<PostureResult> {
  return { kind: 'not-required' };
}
