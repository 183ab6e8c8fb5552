// Writes an error answer straight onto a socket, for the cases with no ServerResponse: requests Node's
// parser refused, CONNECT, refused upgrades. Like every gateway error it names its request id (header
// and body) and a reason, then closes the connection.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors.ts';

export interface RawError {
  status: number;
  code: ErrorCode;
  requestId: string;
  message: string;
  reason?: string | undefined;
}

export function writeRawError(socket: Duplex, error: RawError): void {
  const body = JSON.stringify({
    error: error.code,
    title: ERROR_CATALOGUE[error.code].title,
    message: error.message,
    ...(error.reason === undefined ? {} : { reason: error.reason }),
    requestId: error.requestId,
  });
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${error.requestId}\r\n` +
      'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
      body,
  );
}
