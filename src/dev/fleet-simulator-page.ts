// The Fleet simulator's HTML control page (GET /_sim/): each host's policy results with buttons that set
// a pending result (as if the user fixed the device), latency/outage knobs, and the form-post glue.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorPolicyResponse } from './fleet-simulator-data.ts';
import type { SimulatedHost, SimulatorState } from './fleet-simulator-state.ts';
import { hostPolicies } from './fleet-simulator-wire.ts';
import { escapeHtml } from '../http/format-text.ts';

export const CONTROL_PAGE_PATHS: ReadonlySet<string> = new Set(['/_sim', '/_sim/']);
export const CONTROL_PAGE_LOCATION = '/_sim/';

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // Not no-referrer: with it Chromium sends `Origin: null` on the page's own form posts.
  'referrer-policy': 'same-origin',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** True for the urlencoded posts this page's forms send (the JSON control API keeps working as before). */
export function isFormPost(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return req.method === 'POST' && type === 'application/x-www-form-urlencoded';
}

/** Form posts from another site (a page the developer happens to open) must not flip results. */
export function isCrossSiteForm(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${req.headers.host ?? ''}`;
}

function numberField(value: string | null): number | undefined {
  return value === null || value.trim() === '' ? undefined : Number(value);
}

function booleanField(value: string | null): boolean | undefined {
  return value === null ? undefined : value === 'true' || value === 'on';
}

/** Turns a form post into the JSON body the control route validates, so both share one schema. */
export function formToControlBody(path: string, form: URLSearchParams): Record<string, unknown> {
  if (path === '/_sim/knobs') {
    const body: Record<string, unknown> = {
      latencyMs: numberField(form.get('latencyMs')),
      errorRate: numberField(form.get('errorRate')),
      outage: booleanField(form.get('outage')),
      outageMode: form.get('outageMode') ?? undefined,
    };
    return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
  }
  const immediate = booleanField(form.get('immediate'));
  return { response: form.get('response'), ...(immediate === undefined ? {} : { immediate }) };
}

export function sendControlPage(res: ServerResponse, state: SimulatorState): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(200, PAGE_HEADERS);
  res.end(renderControlPage(state));
}

const RESULT_LABEL: Record<SimulatorPolicyResponse, string> = { pass: 'pass', fail: 'fail', '': 'no result' };

function result(response: SimulatorPolicyResponse | undefined, testId: string): string {
  if (response === undefined) return `<span class="none" data-testid="${testId}">—</span>`;
  const css = response === '' ? 'empty' : response;
  return `<span class="result ${css}" data-testid="${testId}">${RESULT_LABEL[response]}</span>`;
}

function ago(ms: number, now: number): string {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

function time(ms: number, now: number): string {
  const iso = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<time datetime="${iso}" title="${iso}">${ago(ms, now)}</time>`;
}

function policyRow(host: SimulatedHost, policy: ReturnType<typeof hostPolicies>[number]): string {
  const action = `/_sim/hosts/${host.data.id}/policies/${policy.id}`;
  return `<tr data-testid="policy" data-host-id="${host.data.id}" data-policy-id="${policy.id}">
  <td>${escapeHtml(policy.name)}${policy.critical ? ' <span class="badge">critical</span>' : ''}</td>
  <td class="result-cell">${result(policy.response, 'current-result')}</td>
  <td class="result-cell">${result(host.pending.get(policy.id), 'pending-result')}</td>
  <td class="actions"><form method="post" action="${escapeHtml(action)}" class="inline">
    <button name="response" value="pass">Mark fixed (pending until refetch)</button>
    <button name="response" value="fail" class="secondary">Mark failing</button>
    <button name="response" value="" class="secondary">Clear result</button>
  </form></td>
</tr>`;
}

function hostSection(state: SimulatorState, host: SimulatedHost): string {
  const now = state.now();
  const { data } = host;
  const emails = data.emails.length === 0
    ? '<em>none</em>'
    : data.emails.map((entry) => `${escapeHtml(entry.email)} <span class="muted">(${escapeHtml(entry.source)})</span>`).join(', ');
  const policies = hostPolicies(state, host).sort((a, b) => a.id - b.id);
  const refetch = host.refetchRequested
    ? host.status === 'online'
      ? `<span class="pill wait">refetch requested — agent checks in ${state.refetchDelayMs} ms after the request</span>`
      : '<span class="pill wait">refetch requested — the agent is not online, so it waits</span>'
    : '';
  return `<section class="host" id="host-${data.id}" data-testid="host" data-host-id="${data.id}">
<h2>${escapeHtml(data.computer_name ?? data.hostname)} <span class="muted">#${data.id}</span></h2>
<dl>
  <dt>Hostname</dt><dd data-testid="hostname">${escapeHtml(data.hostname)}</dd>
  <dt>Owner emails</dt><dd data-testid="emails">${emails}</dd>
  <dt>Status</dt><dd><span class="pill ${escapeHtml(host.status)}" data-testid="status">${escapeHtml(host.status)}</span> ${refetch}</dd>
  <dt>Seen</dt><dd>${time(host.seenTimeMs, now)} · policies reported ${time(host.policyUpdatedAtMs, now)}</dd>
  <dt>Device</dt><dd>${escapeHtml(data.platform)} · ${escapeHtml(data.os_version)}${data.team_id === null ? '' : ` · team ${data.team_id}`}</dd>
</dl>
<table>
<thead><tr><th>Policy</th><th>Current</th><th>Pending</th><th>Set the pending result</th></tr></thead>
<tbody>
${policies.map((policy) => policyRow(host, policy)).join('\n')}
</tbody>
</table>
</section>`;
}

function knobsSection(state: SimulatorState): string {
  const { knobs, stats } = state;
  const mode = (value: string, label: string) => `<option value="${value}"${knobs.outageMode === value ? ' selected' : ''}>${label}</option>`;
  const counts = Object.entries(stats.requestCount).filter(([, count]) => count > 0).map(([endpoint, count]) => `${escapeHtml(endpoint)} ${count}`).join(' · ');
  return `<section class="knobs" data-testid="knobs">
<h2>Fleet API knobs</h2>
<form method="post" action="/_sim/knobs" class="inline">
  <label>Latency <input type="number" name="latencyMs" min="0" max="120000" step="100" value="${knobs.latencyMs}"> ms</label>
  <button>Set latency</button>
</form>
<form method="post" action="/_sim/knobs" class="inline">
  <label>Error rate <input type="number" name="errorRate" min="0" max="1" step="0.05" value="${knobs.errorRate}"></label>
  <button>Set error rate</button>
</form>
<form method="post" action="/_sim/knobs" class="inline">
  Outage: <strong data-testid="outage">${knobs.outage ? 'Fleet is down' : 'off'}</strong>
  <label>as <select name="outageMode">${mode('reset', 'connection reset')}${mode('unavailable', '503 unavailable')}</select></label>
  <button name="outage" value="true">Start outage</button>
  <button name="outage" value="false" class="secondary">End outage</button>
</form>
<p class="muted">Requests: ${stats.totalRequests}${counts ? ` (${counts})` : ''} · in flight now ${stats.inFlight}, at most ${stats.maxInFlight}</p>
<form method="post" action="/_sim/reset" class="inline"><button class="secondary">Reset hosts, results and knobs</button></form>
</section>`;
}

const STYLE = `
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f4f5f7; color: #1d1f23; }
  main { max-width: 64rem; margin: 2rem auto; padding: 0 1.5rem; }
  h1 { font-size: 1.5rem; margin-bottom: .2rem; }
  h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
  section { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.12); padding: 1rem 1.3rem; margin: 1rem 0; }
  .muted { color: #666; font-weight: normal; font-size: .9em; }
  dl { display: grid; grid-template-columns: 8rem 1fr; gap: .15rem .8rem; margin: 0 0 .8rem; font-size: .92rem; }
  dt { color: #666; } dd { margin: 0; }
  table { width: 100%; border-collapse: collapse; font-size: .92rem; }
  th, td { text-align: left; padding: .35rem .5rem; border-top: 1px solid #e3e5e8; vertical-align: middle; }
  th { color: #666; font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; border-top: 0; }
  form.inline { display: inline-flex; gap: .4rem; flex-wrap: wrap; align-items: center; margin: .2rem 1rem .2rem 0; }
  button { background: #3b5bdb; color: #fff; border: 0; border-radius: 5px; padding: .3rem .7rem; font: inherit; font-size: .85rem; cursor: pointer; }
  button.secondary { background: #e9ecef; color: #1d1f23; }
  td.result-cell { white-space: nowrap; }
  td.actions form.inline { flex-wrap: nowrap; margin: 0; }
  input, select { font: inherit; font-size: .9rem; padding: .15rem .3rem; }
  input[type=number] { width: 6rem; }
  .result { font-weight: 600; } .result.pass { color: #2b8a3e; } .result.fail { color: #c92a2a; } .result.empty { color: #868e96; }
  .none { color: #adb5bd; }
  .badge { font-size: .72rem; background: #c92a2a; color: #fff; border-radius: 4px; padding: .05rem .35rem; vertical-align: middle; }
  .pill { font-size: .8rem; border-radius: 999px; padding: .05rem .55rem; background: #e9ecef; }
  .pill.online { background: #d3f9d8; color: #2b8a3e; } .pill.offline, .pill.mia { background: #ffe3e3; color: #c92a2a; }
  .pill.wait { background: #fff4e6; color: #d9480f; }
  .warning { background: #fff4e6; border-left: 4px solid #f08c00; padding: .5rem .9rem; }
`;

export function renderControlPage(state: SimulatorState): string {
  const hosts = [...state.hosts.values()].sort((a, b) => a.data.id - b.data.id);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Fleet simulator</title><style>${STYLE}</style></head>
<body><main>
<h1>Fleet simulator</h1>
<p>A stand-in for a Fleet server, for development only. A result set here is <strong>pending</strong>: the
host's agent reports it at its next check-in, ${state.refetchDelayMs} ms after someone asks Fleet to refetch
the host (the gateway does when the user presses “I fixed it — check again”), as if the user had fixed the device.</p>
<p class="warning">This control page needs no token and can rewrite results: never expose it beyond your own machine.</p>
${hosts.map((host) => hostSection(state, host)).join('\n')}
${knobsSection(state)}
</main></body></html>`;
}
