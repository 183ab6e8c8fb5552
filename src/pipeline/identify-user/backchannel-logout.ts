// POST /.trustgate/backchannel-logout: the IdP tells us an IdP session (sid) or a user (sub) has signed
// out (OpenID Connect Back-Channel Logout 1.0, https://openid.net/specs/openid-connect-backchannel-1_0.html#BCRequest).
// Every matching session goes on the revocation list. Answers are JSON with Cache-Control: no-store:
// 200 on success, 400 with invalid_request and a reason for a bad token, 503 when we cannot act on it.
import { isGatewayError } from '../../errors.ts';
import type { RequestContext } from '../request-context.ts';
import { LogoutTokenError, verifyLogoutToken } from './logout-token.ts';
import { readForm } from '../../http/read-form.ts';
import { sendJson } from '../../http/respond.ts';

export async function backchannelLogout(ctx: RequestContext): Promise<void> {
  const { oidc, revocation, config, now, log } = ctx.runtime;
  try {
    const form = await readForm(ctx.req).catch((error: unknown) => {
      throw new LogoutTokenError('malformed', isGatewayError(error) ? error.message : 'The request body could not be read.');
    });
    const token = form.get('logout_token');
    if (!token) throw new LogoutTokenError('malformed', 'The logout_token parameter is missing.');
    const { issuer, keys } = await oidc.signingKeys();
    const verified = await verifyLogoutToken(token, { keys, issuer, clientId: config.oidc.clientId, nowMs: now() });
    if (!(await revocation.claimOnce(verified.replayKey, verified.rememberUntilMs))) {
      throw new LogoutTokenError('replayed', 'This logout token was already used.');
    }
    const made = { by: 'idp', user: verified.sub };
    if (verified.sid) await revocation.revokeIdpSession(verified.sid, config.session.lifetime, made);
    else await revocation.revokeUser({ sub: verified.sub }, config.session.lifetime, made);
    log.info({ requestId: ctx.id, sid: verified.sid, sub: verified.sub }, 'back-channel logout: sessions revoked');
    // The IdP cannot act on an audit failure (and the revocation stands): it is logged as an error instead.
    await ctx.runtime.audit
      .record({ event: 'session.backchannel-logout', user: verified.sub ?? verified.sid ?? '-', sub: verified.sub, sid: verified.sid, by: 'idp', requestId: ctx.id, sourceAddress: ctx.clientAddress }, { notify: false })
      .catch((error: unknown) => log.error({ requestId: ctx.id, sid: verified.sid, sub: verified.sub, err: String(error) }, 'back-channel logout could not be audited'));
    sendJson(ctx, 200, { status: 'ok' });
  } catch (error) {
    if (error instanceof LogoutTokenError) {
      log.info({ requestId: ctx.id, reason: error.reason }, 'back-channel logout refused');
      // Protocol error strings, not catalogue codes: Back-Channel Logout 1.0 §2.8 has the RP answer 400 with an
      // OAuth 2.0 error response (RFC 6749 §5.2), which the IdP reads; `error` must be one of OAuth's codes.
      sendJson(ctx, 400, { error: 'invalid_request', error_description: error.message, reason: error.reason });
      return;
    }
    log.warn({ requestId: ctx.id, err: String((error as Error).cause ?? error) }, 'back-channel logout could not be processed');
    // Also OAuth's vocabulary (RFC 6749 §4.1.2.1): the IdP, not a person, reads this answer and may retry.
    sendJson(ctx, 503, { error: 'temporarily_unavailable', error_description: 'The logout could not be processed right now. Retry later.' });
  }
}
