import { openSnapshotter } from '../../../snapshotter/index.js';
import { snapshotterSuite } from './suite.js';

snapshotterSuite('naive', (root) => openSnapshotter(root, { driver: 'naive' }), { realMounts: false });
