export { type CheckConfig, parseCheckDirective } from './check-directive.js';
export { findEmptyContinuations } from './empty-continuation.js';
export { type LintOptions, type LintResult, lintDockerfile } from './lint-dockerfile.js';
export { type LintRule, MESSAGES, RULES, type RuleName } from './rules.js';
