import { adapterSuite } from './support/adapter-suite.js';
import { mountFastify } from './support/adapter-apps.js';

adapterSuite('fastify', mountFastify);
