/**
 * Splits a keep-alive HTTP/1.1 byte stream into responses and reports each one's status (pure: bytes in,
 * statuses out).
 *
 * Hand-rolled on purpose: the load generator needs only the status and the end of each response, for bodies framed
 * by `Content-Length` (what the model server and HAProxy send here), at a few µs per response. Node's `http`
 * client costs several times more CPU per request on the same 2 cores the measured processes use, and the
 * parser autocannon uses is not one of our dependencies. Anything else (chunked bodies, no length) is rejected
 * with an error instead of guessed.
 */

export class HttpFramingError extends Error {}

const HEADER_END = Buffer.from("\r\n\r\n");
/** Longest header block accepted before giving up (a sane response head is far smaller). */
const MAX_HEAD_BYTES = 64 * 1024;

/** A response that ended; `close` when the server said it closes the connection after it. */
export interface FramedResponse {
  readonly status: number;
  readonly close: boolean;
}

export class Http1ResponseFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Body bytes still to skip for the current response; -1 while reading a head. */
  private bodyLeft = -1;
  private current: FramedResponse | undefined;

  /** Feeds received bytes; returns the responses that ended within them, in order. */
  feed(chunk: Buffer): FramedResponse[] {
    const done: FramedResponse[] = [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.bodyLeft < 0) {
        const end = this.buf.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buf.length > MAX_HEAD_BYTES) throw new HttpFramingError(`response head is over ${MAX_HEAD_BYTES} bytes`);
          return done;
        }
        const head = parseHead(this.buf.subarray(0, end).toString("latin1"));
        this.current = { status: head.status, close: head.close };
        this.bodyLeft = head.contentLength;
        this.buf = this.buf.subarray(end + HEADER_END.length);
      }
      if (this.buf.length < this.bodyLeft) {
        this.bodyLeft -= this.buf.length;
        this.buf = Buffer.alloc(0);
        return done;
      }
      this.buf = this.buf.subarray(this.bodyLeft);
      this.bodyLeft = -1;
      done.push(this.current as FramedResponse);
      this.current = undefined;
    }
  }
}

function parseHead(head: string): { status: number; contentLength: number; close: boolean } {
  const lines = head.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!m) throw new HttpFramingError(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? "").slice(0, 80))}`);
  const status = Number(m[1]);
  let contentLength = -1;
  let close = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^\d+$/.test(value)) throw new HttpFramingError(`bad content-length: ${JSON.stringify(value)}`);
      contentLength = Number(value);
    } else if (name === "transfer-encoding") {
      throw new HttpFramingError(`transfer-encoding ${JSON.stringify(value)} is not supported; only content-length bodies`);
    } else if (name === "connection" && value.toLowerCase().includes("close")) {
      close = true;
    }
  }
  // RFC 9112 §6.3: 1xx, 204 and 304 have no body.
  if (contentLength < 0) {
    if (status < 200 || status === 204 || status === 304) contentLength = 0;
    else throw new HttpFramingError(`status ${status} response without content-length is not supported`);
  }
  return { status, contentLength, close };
}
