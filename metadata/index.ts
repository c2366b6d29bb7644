export { closeDatabases, type Database, MetadataError, migrate, openDatabase, type Schema } from './db.js';
export { currentOwner, isOwnerAlive, type Owner, ownerToken, parseOwnerToken, pidAlive } from './owner.js';
export { resolveRoot } from './root.js';
