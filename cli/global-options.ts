/** Options every command accepts. */
export interface GlobalOptions {
  root?: string;
  debug?: boolean;
}
