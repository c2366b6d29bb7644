import { beforeAll } from 'vitest';
import { openSnapshotter } from '../../../snapshotter/index.js';
import { requireRoot } from '../../helpers/prereqs.js';
import { snapshotterSuite } from '../../unit/snapshotter/suite.js';

beforeAll(() => requireRoot());

snapshotterSuite('overlay', (root) => openSnapshotter(root, { driver: 'overlay' }), { realMounts: true });
snapshotterSuite('naive, mounted', (root) => openSnapshotter(root, { driver: 'naive' }), { realMounts: true });
