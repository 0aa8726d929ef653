// @bsso/email-provider: a BSSO email provider as an Express app (protocol-spec.md#provider-processing).
import { mkdir } from 'node:fs/promises';
import { BssoError } from '@bsso/protocol';
import type { Express } from 'express';
import { createAccountService } from './accounts.ts';
import { createApp } from './app.ts';
import { createAccountBackend } from './backends/index.ts';
import { createBroker } from './broker/index.ts';
import { type ProviderOptions, resolveProviderOptions } from './config.ts';
import type { ProviderContext } from './context.ts';
import { createSessionManager } from './http/sessions.ts';
import { createKeyRing } from './keys.ts';
import { createMetrics } from './metrics.ts';
import { createBatchedIssuedLog } from './storage/batched-log.ts';
import { instrumentLimiters, instrumentStores } from './storage/instrument.ts';
import { openProviderStores } from './storage/select.ts';

export type {
  AccountBackendOptions,
  ImapBackendOptions,
  LdapBackendOptions,
  OidcBackendOptions,
} from './backends/options.ts';
export {
  createUpstreamOidc,
  type UpstreamIdentity,
  type UpstreamOidc,
  UpstreamOidcError,
  type UpstreamOidcOptions,
  type UpstreamTransaction,
} from './backends/upstream-oidc.ts';
export type { BrokerOptions } from './broker/options.ts';
export { BROKER_MESSAGES, brokerPaths, CODE_COOKIE } from './broker/router.ts';
export type { ProviderOptions } from './config.ts';
export { CSRF_COOKIE, CSRF_FIELD } from './http/csrf.ts';
export { SESSION_COOKIE } from './http/sessions.ts';
export { rotateSigningKey, SIGNING_KEYS_FILE } from './keys.ts';
export type { Logger } from './log.ts';
export { createJsonLogger, silentLogger } from './log.ts';
export { operationsPaths } from './metrics.ts';
export { paths } from './paths.ts';

export { dropPostgresSchema } from './storage/postgres-database.ts';
export { DATABASE_FILE } from './storage/select.ts';

export interface Provider {
  /** Mount on any https server. */
  app: Express;
  accounts: {
    create(email: string, password: string): Promise<void>;
    remove(email: string): Promise<boolean>;
    list(): Promise<string[]>;
    setPassword(email: string, password: string): Promise<void>;
  };
  associations: {
    invalidate(handle: string): Promise<boolean>;
    /** Deletes expired associations now (the periodic sweep does it too). */
    sweep(): Promise<number>;
  };
  /** Deletes every expired record: associations, sessions, used assertion ids, old log. */
  sweep(): Promise<void>;
  /**
   * Writes the issued-assertion log rows still in memory (they are written in batches, at
   * the latest 200 ms after they were recorded, and on close()).
   */
  flushIssuedLog(): Promise<void>;
  /**
   * Reads the signing keys from dataDir again (after `rotateSigningKey` or the CLI's
   * rotate-keys): new assertions are signed with the new current key, and assertions of
   * retired keys still verify. Returns the current key id; on error the keys in use stay.
   */
  reloadKeys(): Promise<string>;
  /**
   * Shutdown begins: /readyz answers 503 and every answer closes its connection. Requests
   * in flight go on; call close() once the server has drained them.
   */
  drain(): void;
  /**
   * Stops the sweep (waiting for one that runs), closes the back-end and the stores (the
   * issued-assertion log's last batch is written first).
   */
  close(): Promise<void>;
}

const LOG_RETENTION_MS = 90 * 86_400_000;

export async function createProvider(options: ProviderOptions): Promise<Provider> {
  const config = resolveProviderOptions(options);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await createKeyRing(config.dataDir, config.now());
  const metrics = createMetrics({ processMetrics: config.metricsToken !== undefined });
  const opened = await openProviderStores(config);
  const storeError = (store: string, operation: string) =>
    metrics.storeErrors.inc({ store, operation });
  // The issued-assertion log is written in batches, off the request path (batched-log.ts);
  // closing the stores flushes it first.
  const issuedLog = createBatchedIssuedLog(opened.stores.issuedLog, {
    logger: config.logger,
    onError: () => storeError('issued_log', 'recordMany'),
  });
  const stores = instrumentStores(
    {
      ...opened.stores,
      issuedLog,
      async close() {
        try {
          await issuedLog.close();
        } finally {
          await opened.stores.close();
        }
      },
    },
    storeError,
  );
  const limiters = instrumentLimiters(opened.limiters, storeError);
  const lifecycle = { draining: false };
  const accounts = createAccountService({ stores, domains: config.domains, now: config.now });
  const ctx: ProviderContext = {
    config,
    stores,
    keys,
    sessions: createSessionManager(stores.sessions, config),
    accounts,
    backend: createAccountBackend(config.accountBackend, {
      accounts,
      domains: config.domains,
      issuer: config.issuer,
    }),
    limiters,
    metrics,
    lifecycle,
  };
  if (config.broker) {
    ctx.broker = createBroker(config.broker, {
      sessions: ctx.sessions,
      logger: config.logger,
      now: config.now,
      issuer: config.issuer,
    });
  }
  const external = config.accountBackend.type !== 'builtin';
  /** Accounts of an external back-end are made and changed where they live. */
  const builtinOnly = (what: string) => {
    if (external) {
      throw new BssoError(
        'invalid_request',
        `${what}: accounts live in the ${config.accountBackend.type} back-end; manage them there.`,
      );
    }
  };
  const sweepAssociations = () => stores.associations.removeExpired(config.now());
  const sweep = async () => {
    const now = config.now();
    await sweepAssociations();
    await stores.usedAssertions.removeExpired(now);
    await stores.ceremonies.removeExpired(now);
    await stores.sessions.removeExpired(now - config.sessionIdleMs, now - config.sessionAbsoluteMs);
    await stores.issuedLog.removeOlderThan(now - LOG_RETENTION_MS);
  };
  // The sweep in progress, so close() waits for it instead of closing the stores under it.
  let sweeping: Promise<void> | undefined;
  const timer =
    config.sweepIntervalMs > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = sweep()
            .catch(() => config.logger.error('sweep_failed', {}))
            .finally(() => {
              sweeping = undefined;
            });
        }, config.sweepIntervalMs)
      : undefined;
  timer?.unref();
  config.logger.info('provider_started', { issuer: config.issuer, kid: keys.current.kid });
  return {
    app: createApp(ctx),
    accounts: {
      create: async (email, password) => {
        builtinOnly('create');
        await ctx.accounts.create(email, password);
      },
      remove: (email) => ctx.accounts.remove(email),
      list: () => ctx.accounts.list(),
      setPassword: async (email, password) => {
        builtinOnly('setPassword');
        await ctx.accounts.setPassword(email, password);
      },
    },
    associations: {
      invalidate: (handle) => stores.associations.invalidate(handle),
      sweep: sweepAssociations,
    },
    sweep,
    flushIssuedLog: () => issuedLog.flush(),
    async reloadKeys() {
      const kid = await keys.reload();
      config.logger.info('keys_reloaded', { kid });
      return kid;
    },
    drain() {
      lifecycle.draining = true;
    },
    async close() {
      if (timer) clearInterval(timer);
      await sweeping;
      await ctx.backend.close();
      await ctx.broker?.close();
      await stores.close();
    },
  };
}
