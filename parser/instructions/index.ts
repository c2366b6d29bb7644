export type { InstructionInput } from './context.js';
export { parseDuration } from './duration.js';
export { CheckedFlags, checkFlags, type FlagType, INSTRUCTION_FLAGS } from './flags.js';
export { instructionKind, parseInstruction, unknownInstruction } from './parse-instruction.js';
export { parseRunMount } from './run-mount.js';
