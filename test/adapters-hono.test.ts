import { adapterSuite } from './support/adapter-suite.js';
import { mountHono } from './support/adapter-apps.js';

adapterSuite('hono', mountHono);
