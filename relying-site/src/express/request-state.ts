// `req.bsso`: the signed-in address of the request, set by the BSSO router on every request.
import type { BssoRequestState } from '../core/endpoint.ts';

export type { BssoRequestState };

declare module 'express-serve-static-core' {
  interface Request {
    bsso: BssoRequestState;
  }
}
