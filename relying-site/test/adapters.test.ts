// The shared adapter suite (helpers/adapter-suite.ts) against every adapter.
import { adapterSuite } from './helpers/adapter-suite.ts';
import { adapters } from './helpers/adapters.ts';

for (const adapter of adapters) adapterSuite(adapter);
