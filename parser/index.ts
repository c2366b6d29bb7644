export * from './ast.js';
export * from './errors.js';
