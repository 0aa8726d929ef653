// `npm run load -w @bsso/e2e [-- --sign-ins 5000 --concurrency 32 --seconds 60]`: two
// provider and two site processes over PostgreSQL and Redis, a provider instance crashed
// and restarted halfway, and a report of sign-ins per second, latency percentiles, errors.
import { parseArgs } from 'node:util';
import { startCluster } from './cluster.ts';
import { runLoad, summary } from './load.ts';

const { values } = parseArgs({
  options: {
    'sign-ins': { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '60' },
  },
});
const signIns = Number(values['sign-ins']);
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);

const cluster = await startCluster({ providers: 2, sites: 2, accounts: 8 });
try {
  const [, provider] = cluster.providers;
  console.log(
    `load: ${signIns} sign-ins (at most ${seconds} s), ${concurrency} browsers, 2 providers + 2 sites`,
  );
  const result = await runLoad(cluster, {
    signIns,
    concurrency,
    maxDurationMs: seconds * 1000,
    events: provider
      ? [{ after: Math.floor(signIns / 2), action: () => cluster.restart(provider, 'SIGKILL') }]
      : [],
  });
  console.log(summary(result));
  console.log(`provider 1 restarts: ${provider?.restarts ?? 0}`);
  for (const e of result.errors.slice(0, 10)) console.log(`  ${e}`);
  process.exitCode = result.errors.length === 0 ? 0 : 1;
} finally {
  await cluster.close();
}
