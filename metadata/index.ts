export { closeDatabases, type Database, MetadataError, migrate, openDatabase, type Schema } from './db.js';
export { resolveRoot } from './root.js';
