import { CstParser, type IToken } from './chevrotain.js';
import { allTokenTypes, HeredocBody } from './lexer.js';
import {
  ArgText,
  Comment,
  Continuation,
  categoryTokens,
  InstructionText,
  LeadingContinuation,
  LineEnd,
  Newline,
} from './tokens.js';

/**
 * The Dockerfile grammar: a file is blank lines, comments and instructions; an
 * instruction is its text segments and continuations up to the line end,
 * followed by its heredoc bodies. The meaning of the text (keyword, flags,
 * arguments) is read by `to-ast` from the joined logical line.
 */
export class DockerfileParser extends CstParser {
  /** Chevrotain's grammar checks cost start-up time: they run only with `validate` (the grammar's unit test sets it). */
  constructor(options: { validate?: boolean } = {}) {
    super([...categoryTokens, HeredocBody, ...allTokenTypes()], {
      recoveryEnabled: false,
      maxLookahead: 1,
      skipValidations: options.validate !== true,
    });
    this.performSelfAnalysis();
  }

  public dockerfile = this.RULE('dockerfile', () => {
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(Newline) },
        { ALT: () => this.CONSUME(Comment) },
        { ALT: () => this.SUBRULE(this.instruction) },
      ]);
    });
  });

  public instruction = this.RULE('instruction', () => {
    this.OR([{ ALT: () => this.CONSUME(InstructionText) }, { ALT: () => this.CONSUME(LeadingContinuation) }]);
    this.MANY(() => {
      this.OR2([{ ALT: () => this.CONSUME(ArgText) }, { ALT: () => this.CONSUME(Continuation) }]);
    });
    this.OPTION(() => this.CONSUME(LineEnd));
    this.OPTION2(() => this.CONSUME(HeredocBody));
  });
}

let instance: DockerfileParser | undefined;

/** The one parser instance, reset for each input by assigning `input`. */
export function dockerfileParser(): DockerfileParser {
  instance ??= new DockerfileParser();
  return instance;
}

/** The CST shapes `to-ast` reads (Chevrotain groups children by token or rule name). */
export interface DockerfileCstChildren {
  Newline?: IToken[];
  Comment?: IToken[];
  instruction?: InstructionCstNode[];
}

export interface InstructionCstNode {
  name: 'instruction';
  children: InstructionCstChildren;
}

export interface InstructionCstChildren {
  InstructionText?: IToken[];
  LeadingContinuation?: IToken[];
  ArgText?: IToken[];
  Continuation?: IToken[];
  LineEnd?: IToken[];
  HeredocBody?: IToken[];
}
