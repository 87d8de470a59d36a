import { adapterSuite } from './support/adapter-suite.js';
import { mountExpress } from './support/adapter-apps.js';

adapterSuite('express', mountExpress);
