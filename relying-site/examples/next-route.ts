// A Next.js route handler (App Router), e.g. app/bsso/[[...signout]]/route.ts: the
// web-standard handler answers GET (challenge) and POST (delivery, /bsso/signout) itself.
// Elsewhere: `await bsso.email(request)` is the signed-in address, or null.
import { bssoWeb } from '@bsso/relying-site/web';

const bsso = bssoWeb({
  endpoint: 'https://site.example/bsso',
  // The address your platform's proxy forwards, for the per-client limit.
  clientAddress: (request) => request.headers.get('x-real-ip') ?? undefined,
});

export const GET = bsso;
export const POST = bsso;
