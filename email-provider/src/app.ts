// The Express app: routes by role, then the one error handler.
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { ProviderContext } from './context.ts';
import { assertionRouter } from './endpoints/assertion.ts';
import { associationRouter } from './endpoints/association.ts';
import { discoveryRouter } from './endpoints/discovery.ts';
import { operationsRouter } from './endpoints/operations.ts';
import { verificationRouter } from './endpoints/verification.ts';
import { errorHandler, notFound } from './http/errors.ts';
import { apiHeaders } from './http/security-headers.ts';
import { metricsMiddleware } from './metrics.ts';
import { accountRouter } from './pages/account.ts';
import { consentRouter } from './pages/consent.ts';
import { passkeyRouter } from './pages/passkeys.ts';
import { signinRouter } from './pages/signin.ts';
import { signupRouter } from './pages/signup.ts';
import { webSigninRouter } from './pages/web-signin.ts';

function requestLog(ctx: ProviderContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.on('finish', () => {
      // The path only: queries may carry addresses (login_hint).
      ctx.config.logger.info('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
      });
    });
    next();
  };
}

/**
 * While draining, each answer ends its connection (decided when its headers are written,
 * so a request that began before shutdown counts too): keep-alive clients reconnect
 * elsewhere, and the server closes as soon as the requests in flight are done.
 */
function closeWhenDraining(lifecycle: ProviderContext['lifecycle']) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => Response;
    res.writeHead = ((...args: unknown[]) => {
      if (lifecycle.draining && !res.headersSent) res.setHeader('Connection', 'close');
      return writeHead(...args);
    }) as typeof res.writeHead;
    next();
  };
}

export function createApp(ctx: ProviderContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  app.set('query parser', 'simple');
  app.use(requestLog(ctx));
  app.use(metricsMiddleware(ctx.metrics, () => ctx.backend.type));
  app.use(closeWhenDraining(ctx.lifecycle));
  app.use(operationsRouter(ctx));
  app.use(['/bsso', '/.well-known'], apiHeaders);
  app.use(discoveryRouter(ctx));
  app.use(assertionRouter(ctx));
  app.use(associationRouter(ctx));
  app.use(verificationRouter(ctx));
  app.use(webSigninRouter(ctx));
  // Broker mode: its code sign-in page answers GET /signin (protocol-spec.md#fallback).
  if (ctx.broker) app.use(ctx.broker.router);
  app.use(signinRouter(ctx));
  app.use(signupRouter(ctx));
  app.use(accountRouter(ctx));
  app.use(consentRouter(ctx));
  app.use(passkeyRouter(ctx));
  app.use(notFound);
  app.use(errorHandler(ctx.config.logger));
  return app;
}
