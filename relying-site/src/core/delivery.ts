// The delivery POST (protocol-spec.md#delivery): checks that need no crypto and no network,
// in order: content type (415), size (413), form shape (400). Step 1 of
// protocol-spec.md#site-verification; verify.ts runs steps 2 to 6, the session is step 7.
import {
  BssoError,
  DELIVERY_ASSERTION_FIELD,
  DELIVERY_RETURN_TO_FIELD,
  limits,
  mediaType,
  safeReturnPath,
} from '@bsso/protocol';

export interface DeliveryForm {
  assertion: string;
  /** A same-origin path; '/' when absent or unsafe. */
  returnTo: string;
}

export function checkContentType(header: string | undefined): void {
  if (mediaType(header) !== 'application/x-www-form-urlencoded') {
    throw new BssoError('unsupported_media_type', 'Send the assertion as a form.');
  }
}

/** Refuses a body announced larger than the limit before reading any of it. */
export function checkDeclaredLength(header: string | undefined, maxBytes: number): void {
  if (header !== undefined && Number(header) > maxBytes) {
    throw new BssoError('payload_too_large');
  }
}

/** Reads a body stream up to `maxBytes`; past that, stops and refuses. */
export async function readBody(
  stream: AsyncIterable<Uint8Array | string>,
  maxBytes: number = limits.maxRequestBodyBytes,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buf.byteLength;
    if (size > maxBytes) throw new BssoError('payload_too_large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the form: exactly one assertion; any other field (an `email`, say) is ignored. */
export function parseDeliveryForm(body: string): DeliveryForm {
  const form = new URLSearchParams(body);
  const assertions = form.getAll(DELIVERY_ASSERTION_FIELD);
  if (assertions.length !== 1 || !assertions[0]) {
    throw new BssoError('invalid_request', 'The form must carry one assertion.');
  }
  return {
    assertion: assertions[0],
    returnTo: safeReturnPath(form.get(DELIVERY_RETURN_TO_FIELD) ?? undefined),
  };
}
