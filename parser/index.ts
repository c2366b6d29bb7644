export * from './ast.js';
export * from './errors.js';
export * from './shell/index.js';
