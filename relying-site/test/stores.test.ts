import { createMemoryStores } from '../src/core/index.ts';
import { storeContract } from './helpers/store-contract.ts';

storeContract('memory', (now) => createMemoryStores(now));
