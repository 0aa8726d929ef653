// `req.bsso`: the signed-in address of the request, set by the BSSO router on every request.
export interface BssoRequestState {
  /** The signed-in email address, or null. */
  email: string | null;
}

declare module 'express-serve-static-core' {
  interface Request {
    bsso: BssoRequestState;
  }
}
