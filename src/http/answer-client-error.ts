// Answers what Node's HTTP parser refused before any request existed (oversized headers, conflicting
// Content-Length, Transfer-Encoding with Content-Length, malformed lines) and CONNECT requests: a 4xx
// with a request id and a reason, never Node's bare close. Every refusal is logged once.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { writeRawError } from './raw-error.ts';

interface Refusal {
  status: number;
  reason: string;
  message: string;
}

// llhttp error codes (and Node's request timeout) → what the client is told.
const REFUSALS: Record<string, Refusal> = {
  HPE_HEADER_OVERFLOW: { status: 431, reason: 'headers-too-large', message: 'The request line and headers are too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, reason: 'request-timeout', message: 'The request did not arrive in time.' },
  ERR_HTTP_REQUEST_HEADERS_TIMEOUT: { status: 408, reason: 'request-timeout', message: 'The request headers did not arrive in time.' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { status: 400, reason: 'conflicting-framing', message: 'The request has several Content-Length headers, or Content-Length with Transfer-Encoding.' },
  HPE_INVALID_CONTENT_LENGTH: { status: 400, reason: 'invalid-content-length', message: 'The Content-Length header is invalid, or sent with Transfer-Encoding.' },
  HPE_INVALID_TRANSFER_ENCODING: { status: 400, reason: 'invalid-transfer-encoding', message: 'The Transfer-Encoding header is invalid, repeated, or sent with Content-Length.' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, reason: 'chunk-extensions-too-large', message: 'The chunk extensions are too large.' },
  HPE_INVALID_CHUNK_SIZE: { status: 400, reason: 'invalid-chunk', message: 'The chunked body is malformed.' },
  HPE_INVALID_METHOD: { status: 400, reason: 'invalid-method', message: 'The request method is not valid.' },
  HPE_INVALID_VERSION: { status: 400, reason: 'invalid-http-version', message: 'The request line is malformed.' },
  HPE_INVALID_HEADER_TOKEN: { status: 400, reason: 'invalid-header', message: 'A header name or value holds characters HTTP does not allow.' },
};
const MALFORMED: Refusal = { status: 400, reason: 'malformed-request', message: 'The request is not valid HTTP/1.1.' };

/** The server's clientError handler. */
export function answerClientError(error: Error & { code?: string }, socket: Duplex, log: Logger): void {
  // Nothing to answer on a socket that is gone, or that already carries (part of) a response.
  const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
  if (error.code === 'ECONNRESET' || !socket.writable || written > 0) {
    socket.destroy();
    return;
  }
  refuse(socket, REFUSALS[error.code ?? ''] ?? MALFORMED, log, error.code);
}

/** The server's connect handler: the gateway is not a forward proxy. */
export function refuseConnect(socket: Duplex, log: Logger): void {
  socket.on('error', () => socket.destroy());
  refuse(socket, { status: 405, reason: 'connect-not-supported', message: 'This gateway does not tunnel CONNECT requests.' }, log, 'CONNECT');
}

function refuse(socket: Duplex, refusal: Refusal, log: Logger, parserCode: string | undefined): void {
  const requestId = randomUUID();
  const peer = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
  log.info({ requestId, status: refusal.status, reason: refusal.reason, parserCode, client: peer }, 'malformed request refused');
  writeRawError(socket, { status: refusal.status, code: 'TG_ERR_BAD_REQUEST', requestId, message: refusal.message, reason: refusal.reason });
}
