// POST /bsso/verify (protocol-spec.md#direct-verification; threats 13, 14). Only assertions
// signed with the provider's own key are verified here, each jti at most once.
import {
  type AssertionClaims,
  BssoError,
  checkAssertionClaims,
  type DecodedAssertion,
  decodeAssertion,
  limits,
  parseVerificationRequest,
  type VerificationAnswer,
  verifyProviderSignature,
} from '@bsso/protocol';
import { type Request, type Response, Router } from 'express';
import type { ProviderContext } from '../context.ts';
import { jsonBody } from '../http/json-body.ts';
import { paths } from '../paths.ts';

/** 3. Association-signed assertions are the site's to verify; they are never checked here. */
function requireProviderSigned(decoded: DecodedAssertion): void {
  if (decoded.header.alg !== 'EdDSA') {
    throw new BssoError(
      'invalid_assertion',
      'Association-signed assertions are verified by the site.',
    );
  }
}

/** 4. The provider's own key for `kid`, and the signature. */
async function verifySignature(ctx: ProviderContext, token: string, kid: string): Promise<void> {
  const key = ctx.keys.publicKey(kid);
  if (!key) throw new BssoError('invalid_signature', 'The assertion was not signed here.');
  await verifyProviderSignature(token, key);
}

/** 5. The claims; `aud` is the site's to check against its endpoint, here it only must exist. */
function checkClaims(ctx: ProviderContext, claims: AssertionClaims, now: number): void {
  checkAssertionClaims(claims, { issuer: ctx.config.issuer, audience: claims.aud, now });
}

/** 6. Records the jti until the assertion can no longer pass the time checks. */
async function consumeOnce(ctx: ProviderContext, claims: AssertionClaims): Promise<void> {
  const keepUntil = (claims.exp + limits.clockSkewSeconds) * 1000;
  if (!(await ctx.stores.usedAssertions.markUsed(claims.jti, keepUntil))) {
    throw new BssoError('assertion_replayed', 'The assertion was already verified.');
  }
}

export function verificationRouter(ctx: ProviderContext): Router {
  const router = Router();
  router.post(paths.verification, ...jsonBody(), async (req: Request, res: Response) => {
    // 1. Body (content type, size, strict members); 2. decode, before any cryptography.
    const { assertion } = parseVerificationRequest(req.body);
    const decoded = decodeAssertion(assertion);
    requireProviderSigned(decoded);
    await verifySignature(ctx, assertion, decoded.header.kid);
    checkClaims(ctx, decoded.claims, ctx.config.now());
    await consumeOnce(ctx, decoded.claims);
    // 7. The verified claims.
    res.json({ valid: true, claims: decoded.claims } satisfies VerificationAnswer);
  });
  return router;
}
