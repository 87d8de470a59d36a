import { adapterSuite } from './support/adapter-suite.js';
import { mountFetch } from './support/adapter-apps.js';

adapterSuite('fetch', mountFetch);
