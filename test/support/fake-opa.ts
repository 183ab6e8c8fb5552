// A stand-in for Open Policy Agent's data API on loopback (no OPA binary can run here): POST
// /v1/data/<path> with {input} answers {result: ...} from a JavaScript policy, records every input,
// and can fail or stall on demand.
import http from 'node:http';
import { closeServer, listen } from '../../src/http/listen.ts';

export interface FakeOpa {
  url: string;
  inputs: Record<string, unknown>[];
  paths: string[];
  set(options: { status?: number; delayMs?: number; body?: string }): void;
  close(): Promise<void>;
}

export async function startFakeOpa(policy: (input: Record<string, unknown>) => unknown): Promise<FakeOpa> {
  const inputs: Record<string, unknown>[] = [];
  const paths: string[] = [];
  let behaviour: { status?: number; delayMs?: number; body?: string } = {};
  async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { input } = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { input: Record<string, unknown> };
    inputs.push(input);
    paths.push(req.url ?? '');
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (res.destroyed) return;
    res.writeHead(behaviour.status ?? 200, { 'content-type': 'application/json' });
    res.end(behaviour.body ?? JSON.stringify(policy(input) === undefined ? {} : { result: policy(input) }));
  }
  // A request the fake cannot read is a 400, like OPA's, not an unhandled rejection.
  const server = http.createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'invalid_parameter', message: error instanceof Error ? error.message : 'unreadable request' }));
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    inputs,
    paths,
    set(options) {
      behaviour = options;
    },
    close: () => closeServer(server),
  };
}
