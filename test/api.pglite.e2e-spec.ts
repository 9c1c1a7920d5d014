import { describeApiContract } from './support/api-contract.js';

describeApiContract('pglite');
