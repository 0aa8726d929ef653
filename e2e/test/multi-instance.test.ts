// Two provider processes and two site processes sharing PostgreSQL and Redis; a load client
// acting as many extension browsers signs in across them while one provider and one site
// instance are killed (SIGKILL) and restarted mid-run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cluster, startCluster } from '../src/cluster.ts';
import { runLoad, summary } from '../src/load.ts';

describe('several instances sharing Redis and PostgreSQL', () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster({ providers: 2, sites: 2, accounts: 4 });
  });
  after(() => cluster?.close());

  it('200 sign-ins across instances, through a crash and restart of each kind', async () => {
    const [, provider] = cluster.providers;
    const [site] = cluster.sites;
    assert.ok(provider && site);
    const result = await runLoad(cluster, {
      signIns: 200,
      concurrency: 8,
      replayEvery: 10,
      events: [
        // Each restart happens while sign-ins go on; the last ones wait for it, so the
        // restarted instances take part again.
        { after: 40, before: 120, action: () => cluster.restart(provider, 'SIGKILL') },
        { after: 80, before: 160, action: () => cluster.restart(site, 'SIGKILL') },
      ],
    });
    const report = summary(result);
    assert.deepEqual(result.errors, [], report);
    assert.equal(result.completed, 200, report);
    // Every nonce accepted exactly once (a second acceptance is an error above).
    assert.equal(result.nonces.size, 200);
    // One association for the provider/site pair, shared by both site instances.
    assert.equal(result.handles.size, 1, report);
    assert.equal(result.replays.tried, 20);
    assert.equal(result.replays.rejected, 20);
    assert.ok(result.crossInstance >= 50, report);
    assert.equal(provider.restarts, 1);
    assert.equal(site.restarts, 1);
    assert.ok(provider.served > 0 && site.served > 0, 'restarted instances served again');
  });
});
